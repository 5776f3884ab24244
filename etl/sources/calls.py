"""Call handling: one row per 999 or 101 call, with its grade and attendance.

999 answered within 10 seconds against the 90% standard, 101 answer times, abandoned calls,
grade 1-3 attendance against their standards (urban/rural). Declares: the input schema, the
staging shape, the measures and the demo generator.
"""


from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.demo.common import (
    FORCE_ID,
    DemoContext,
    DemoUnits,
    daily_counts,
    days_of,
    frame_of,
    month_start,
    nullable_int,
    progress,
    seconds,
    times_of_day,
)
from etl.measures.model import Measure, share_sql
from etl.sources.base import Dataset, TabularSource
from etl.sources.tabular import (
    FORCE_COLUMN,
    Check,
    Column,
    Schema,
    later,
    month_sql,
)

# ------------------------------------------------------------------------ staging shape

# One row per call. Exactly one of answered / abandoned. grade NULL = no incident followed.
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month the call was received
    "call_ref": "VARCHAR",
    "received": "TIMESTAMP",
    "answered": "TIMESTAMP",
    "abandoned": "TIMESTAMP",
    "channel": "VARCHAR",           # '999' | '101'
    "grade": "INTEGER",             # 1 emergency | 2 priority | 3 scheduled | NULL
    "area": "VARCHAR",              # 'urban' | 'rural' | NULL
    "arrived": "TIMESTAMP",         # first officer at the scene; NULL = not attended
    "npu_ref": "VARCHAR",           # the NPU the call came from (NULL: not known)
    "npu_id": "VARCHAR",
    "line": "BIGINT",
}


# ------------------------------------------------------------------------ input schema

CHANNELS = ("999", "101")

GRADES: dict[int, str] = {1: "emergency", 2: "priority", 3: "scheduled"}

# Attendance targets by grade (and area for grade 1): minutes from the call being received.
ATTENDANCE_MINUTES: dict[tuple[int, str | None], int] = {
    (1, "urban"): 15, (1, "rural"): 20, (2, None): 60, (3, None): 72 * 60,
}

SCHEMA = Schema(
    name="calls",
    columns=(
        Column("call_ref", "text", required=False, blank=True,
               doc="Call id. Unique within a force when given."),
        Column("received", "datetime", doc="When the call reached the control room, `YYYY-MM-DD HH:MM:SS`."),
        Column("answered", "datetime", blank=True, doc="When a call handler answered. Blank if abandoned."),
        Column("abandoned", "datetime", blank=True,
               doc="When the caller hung up before an answer. Blank if answered."),
        Column("channel", "enum", values={"999": "999", "emergency": "999", "101": "101",
                                          "non emergency": "101", "nonemergency": "101"},
               expected="999 or 101", doc="`999` (emergency line) or `101` (non-emergency line)."),
        Column("grade", "enum", required=False, blank=True,
               values={"1": 1, "grade 1": 1, "g1": 1, "emergency": 1, "immediate": 1,
                       "2": 2, "grade 2": 2, "g2": 2, "priority": 2,
                       "3": 3, "grade 3": 3, "g3": 3, "scheduled": 3},
               expected="1 (emergency), 2 (priority) or 3 (scheduled), or blank when no incident followed",
               doc="Grade of the incident that followed: 1 emergency, 2 priority, 3 scheduled; "
                   "blank if none."),
        Column("area", "enum", required=False, blank=True, values={"urban": "urban", "rural": "rural"},
               expected="urban or rural",
               doc="`urban` or `rural` (decides the grade 1 target). Required for grade 1."),
        Column("arrived", "datetime", required=False, blank=True,
               doc="When the first officer arrived. Blank if not attended."),
        FORCE_COLUMN,
        Column("npu", "text", required=False, blank=True,
               doc="The NPU the call came from: where the incident was, or, when no incident "
                   "followed (an abandoned call, advice given), where the caller was. Blank if not "
                   "known: such a call counts only at force level."),
    ),
    checks=(
        Check("t.answered IS NOT NULL AND t.abandoned IS NOT NULL",
              "'a call is answered or abandoned, not both: give one of answered and abandoned'"),
        Check("t.answered IS NULL AND t.abandoned IS NULL",
              "'neither answered nor abandoned: give the time of one'"),
        later("answered", "received", ": a call cannot be answered before it is received"),
        later("abandoned", "received", ": a call cannot be abandoned before it is received"),
        later("arrived", "received", ": attendance cannot come before the call"),
        Check("t.arrived IS NOT NULL AND t.grade IS NULL",
              "'arrived is given but grade is blank: an attendance needs the incident''s grade'"),
        Check("t.grade = 1 AND t.area IS NULL",
              "'grade 1 incident without area: urban or rural decides its 15 or 20 minute target'"),
    ),
    unique=(("call_ref",),),
)


# ------------------------------------------------------------------------ measures

CALLS = "Call handling"

_CALLS = "call handling data (python -m etl load calls), or the synthetic demo"

_NO_ATTENDANCE_TARGET = (
    "the time is the standard; the percentage to attend within it is not given in the seed "
    "('targets for grade 1 and 2 incidents', HMIC L663)")


def measures() -> list[Measure]:
    out: list[Measure] = []
    answered_secs = "date_diff('millisecond', received, answered) / 1000.0"
    for channel, name in (("999", "Emergency (999) calls"), ("101", "Non-emergency (101) calls")):
        out.append(Measure(
            id=f"calls_{channel}", label=f"{name} received", domain=CALLS,
            description=f"{name} received, answered or abandoned.",
            numerator=f"{channel} calls received", denominator=None, unit="calls",
            polarity="neutral", kind="count", source=_CALLS, dataset="calls",
            num_sql=f"count(*) FILTER (WHERE channel = '{channel}')",
        ))
    num, den = share_sql("answered <= received + INTERVAL 10 SECOND", "channel = '999'")
    out.append(Measure(
        id="calls_999_answered_10s", label="999 calls answered within 10 seconds", domain=CALLS,
        description=("Emergency calls answered within 10 seconds of reaching the control room, "
                     "as a share of all 999 calls received (abandoned calls count as not answered)."),
        numerator="999 calls answered within 10 seconds of being received",
        denominator="999 calls received (answered or abandoned)",
        unit="%", polarity="up", kind="proportion", source=_CALLS, scale=100.0, target=90.0,
        headline=True, dataset="calls", num_sql=num, den_sql=den,
        target_source="national call handling standard: 90% of 999 calls answered within 10 seconds",
    ))
    num, den = share_sql("abandoned IS NOT NULL")
    out.append(Measure(
        id="calls_abandoned_rate", label="Abandoned calls", domain=CALLS,
        description="Calls (999 and 101) on which the caller hung up before being answered.",
        numerator="calls abandoned before an answer", denominator="calls received",
        unit="%", polarity="down", kind="proportion", source=_CALLS, scale=100.0,
        dataset="calls", num_sql=num, den_sql=den,
        target_source="none in the seed or the national standards used here",
    ))
    num, den = share_sql("abandoned IS NOT NULL", "channel = '101'")
    out.append(Measure(
        id="calls_101_abandoned_rate", label="Non-emergency (101) calls abandoned", domain=CALLS,
        description=("Non-emergency calls abandoned before an answer: the 'non-emergency "
                     "call-handling data' flagged at the force PIM (HMIC L659)."),
        numerator="101 calls abandoned before an answer", denominator="101 calls received",
        unit="%", polarity="down", kind="proportion", source=_CALLS, scale=100.0,
        dataset="calls", num_sql=num, den_sql=den,
        target_source="none in the seed or the national standards used here",
    ))
    answered_101 = "channel = '101' AND answered IS NOT NULL"
    out.append(Measure(
        id="calls_101_answer_time", label="Average time to answer a non-emergency (101) call",
        domain=CALLS,
        description="Mean seconds from a 101 call reaching the control room to its answer.",
        numerator="seconds from received to answered, summed over answered 101 calls",
        denominator="101 calls answered",
        unit="seconds", polarity="down", kind="mean", source=_CALLS, dataset="calls",
        num_sql=f"sum({answered_secs}) FILTER (WHERE {answered_101})",
        den_sql=f"count(*) FILTER (WHERE {answered_101})",
        num2_sql=f"sum(({answered_secs}) * ({answered_secs})) FILTER (WHERE {answered_101})",
        target_source="none in the seed or the national standards used here",
    ))
    for mid, label, cond, minutes, words in (
        ("grade1_urban_15min", "Grade 1 (emergency) incidents attended within 15 minutes: urban",
         "grade = 1 AND area = 'urban'", 15, "15 minutes"),
        ("grade1_rural_20min", "Grade 1 (emergency) incidents attended within 20 minutes: rural",
         "grade = 1 AND area = 'rural'", 20, "20 minutes"),
        ("grade2_60min", "Grade 2 (priority) incidents attended within 60 minutes",
         "grade = 2", 60, "60 minutes"),
        ("grade3_72h", "Grade 3 calls attended within the 72-hour target time",
         "grade = 3", 72 * 60, "72 hours"),
    ):
        num, den = share_sql(f"arrived <= received + INTERVAL {minutes} MINUTE", cond)
        out.append(Measure(
            id=mid, label=label, domain=CALLS,
            description=(f"Incidents of this grade with an officer at the scene within {words} "
                         "of the call being received; not attended counts as not in time."),
            numerator=f"incidents attended within {words} of the call",
            denominator="incidents of this grade",
            unit="%", polarity="up", kind="proportion", source=_CALLS, scale=100.0,
            headline=mid == "grade1_urban_15min", dataset="calls", num_sql=num, den_sql=den,
            target_source=(_NO_ATTENDANCE_TARGET if mid != "grade3_72h" else
                           "the 72 hours is the target time (HMIC L508); no percentage is given"),
        ))
    return out


# ------------------------------------------------------------------------ demo

# Calls: a day's 999 and 101 calls; answering; grades and attendance (lognormal minutes).
CALLS_999_PER_DAY = 380

CALLS_101_PER_DAY = 800

_ATTEND = {(1, "urban"): (9.0, 0.45, 0.005), (1, "rural"): (13.0, 0.45, 0.005),
           (2, None): (35.0, 0.6, 0.02), (3, None): (20 * 60.0, 1.0, 0.06)}


def _calls(seed: int, start: date, end: date, u: DemoUnits) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 21])
    days = days_of(start, end)
    n999 = daily_counts(rng, days, CALLS_999_PER_DAY, weekend=1.15)
    n101 = daily_counts(rng, days, CALLS_101_PER_DAY, weekend=0.85)
    day = np.concatenate([np.repeat(days, n999), np.repeat(days, n101)])
    is999 = np.concatenate([np.ones(n999.sum(), bool), np.zeros(n101.sum(), bool)])
    n = day.size
    received = times_of_day(rng, day)
    order = np.argsort(received, kind="stable")
    received, is999 = received[order], is999[order]
    t = progress(received)

    # 999: answered after 1 s + an exponential wait with P(<= 10 s) near the 90% standard,
    # improving from 87% to 92% over the period; about 1% abandoned.
    p10 = np.clip(0.87 + 0.05 * t + rng.normal(0, 0.01, n), 0.5, 0.995)
    wait999 = 1 + rng.exponential(-9.0 / np.log(1 - p10))
    # 101: mean wait falling from 70 s to 30 s; callers give up after an exponential patience.
    wait101 = rng.exponential(70 - 40 * t)
    patience = rng.exponential(600.0, n)
    abandoned = np.where(is999, rng.random(n) < 0.011, patience < wait101)
    wait = np.where(is999, wait999, wait101)
    hang_up = np.where(is999, rng.uniform(3, 30, n), patience)
    rec = received.astype("datetime64[ms]")
    answered = np.where(abandoned, np.datetime64("NaT"), rec + seconds(wait))
    abandoned_at = np.where(abandoned, rec + seconds(hang_up), np.datetime64("NaT"))

    # Incidents: grade by channel; every call comes from an NPU, in proportion to its crime
    # (an abandoned call or one with no incident still has a caller somewhere); urban or rural.
    r = rng.random(n)
    grade = np.where(is999, np.select([r < 0.55, r < 0.85, r < 0.90], [1, 2, 3], 0),
                     np.select([r < 0.08, r < 0.48], [2, 3], 0))
    grade[abandoned] = 0
    has = grade > 0
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.crime_weight)
    urban = rng.random(n) < u.urban_share[npu_idx]
    minutes = np.full(n, np.nan)
    for (g, area), (median, sigma, missed) in _ATTEND.items():
        rows = (grade == g) & ((urban if area == "urban" else ~urban) if area else True)
        k = int(rows.sum())
        m = median * np.exp(sigma * rng.normal(size=k))
        m[rng.random(k) < missed] = np.nan
        minutes[rows] = m
    arrived = np.where(np.isnan(minutes), np.datetime64("NaT"),
                       rec + seconds(np.nan_to_num(minutes) * 60))

    # Millions of rows: low-cardinality text as categoricals (DuckDB casts them back to text).
    def coded(codes: np.ndarray, categories: np.ndarray | list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(categories))

    return frame_of(COLUMNS, {
        "force_id": coded(np.zeros(n, dtype=np.int8), [FORCE_ID]),
        "month": month_start(received),
        "received": rec.astype("datetime64[ns]"),
        "answered": answered.astype("datetime64[ns]"),
        "abandoned": abandoned_at.astype("datetime64[ns]"),
        "channel": coded(np.where(is999, 0, 1), ["999", "101"]),
        "grade": nullable_int(grade, has),
        "area": coded(np.where(has, np.where(urban, 0, 1), -1), ["urban", "rural"]),
        "arrived": arrived.astype("datetime64[ns]"),
        "npu_ref": coded(npu_idx, u.npu_names),
        "npu_id": coded(npu_idx, u.npu_ids),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"calls": _calls(ctx.seed, ctx.start, ctx.end, ctx.structure)}


SOURCE = TabularSource(
    name="calls",
    summary="Load call handling data: one row per 999 or 101 call (docs/input-formats.md).",
    datasets=(Dataset("calls", COLUMNS, "calls", day_sql="CAST(received AS DATE)"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": month_sql("received"), "call_ref": "t.call_ref",
     "received": "t.received", "answered": "t.answered", "abandoned": "t.abandoned",
     "channel": "t.channel", "grade": "t.grade", "area": "t.area", "arrived": "t.arrived",
     "npu_ref": "t.npu"},
)
