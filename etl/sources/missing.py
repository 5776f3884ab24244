"""Missing person reports (protecting vulnerable people): one row per report.

Reports by risk and reviews overdue as of the extract date (`as_at`): the reviews due are
derived from the risk and the time missing (REVIEWS_DUE_SQL). Declares: the input schema,
the staging shape, the measures and the demo generator.
"""


from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.demo.common import (
    FORCE_ID,
    DemoContext,
    DemoUnits,
    add_months,
    daily_counts,
    days_of,
    derive,
    frame_of,
    month_start,
    times_of_day,
)
from etl.measures.model import Measure
from etl.sources.base import Dataset, TabularSource
from etl.sources.tabular import (
    FORCE_COLUMN,
    NPU_COLUMN,
    Check,
    Column,
    Schema,
    month_sql,
    risk_column,
    says,
)

# ------------------------------------------------------------------------ staging shape

# One row per missing person report. reviews_due is derived (REVIEWS_DUE_SQL) at load time.
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month reported
    "report_ref": "VARCHAR",
    "reported": "TIMESTAMP",
    "found": "TIMESTAMP",           # NULL = still missing at as_at
    "risk": "VARCHAR",              # 'low' | 'medium' | 'high'
    "reviews_done": "INTEGER",
    "reviews_due": "INTEGER",
    "as_at": "DATE",                # the date the extract was taken
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "line": "BIGINT",
}

# Missing person reviews (HMIC 2007, L1562): medium and high risk cases reviewed "on at least
# a weekly basis"; long-term cases at 28 days, then three months, six months and annually.
# Reviews due = (medium/high: whole weeks missing) + long-term milestones passed, counted up
# to the time found, or to the end of as_at for a person still missing. Columns: risk,
# reported, found, as_at.
_UNTIL = "coalesce(found, CAST(as_at AS TIMESTAMP) + INTERVAL 1 DAY)"

REVIEWS_DUE_SQL = (
    "CAST(greatest(0, "
    f"(CASE WHEN risk IN ('medium', 'high') THEN floor(date_diff('second', reported, {_UNTIL}) "
    "/ 604800) ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 28 DAY <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 3 MONTH <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 6 MONTH <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + date_sub('year', reported, {_UNTIL})"
    ") AS INTEGER)"
)


# ------------------------------------------------------------------------ input schema

MISSING_RISKS = ("low", "medium", "high")

SCHEMA = Schema(
    name="missing",
    columns=(
        Column("report_ref", "text", doc="Missing person report id. Unique within a force."),
        Column("reported", "datetime", date_only=True, doc="When the person was reported missing."),
        Column("found", "datetime", blank=True, date_only=True,
               doc="When found; blank if still missing at as_at."),
        risk_column(MISSING_RISKS, "Risk category: low, medium or high."),
        FORCE_COLUMN,
        NPU_COLUMN,
        Column("reviews_done", "int", minimum=0, doc="Number of reviews of the case done so far."),
        Column("as_at", "date", doc="The date the extract was taken, `YYYY-MM-DD`."),
    ),
    checks=(
        Check("t.found < date_trunc('day', t.reported)", says("found", "is before reported", "reported")),
        Check("CAST(t.reported AS DATE) > t.as_at", says("reported", "is after as_at", "as_at")),
        Check("CAST(t.found AS DATE) > t.as_at", says("found", "is after as_at", "as_at")),
    ),
    unique=(("report_ref",),),
)


# ------------------------------------------------------------------------ measures

PVP = "Protecting vulnerable people"

_MISSING = "missing person reports (python -m etl load missing), or the synthetic demo"


def measures() -> list[Measure]:
    out: list[Measure] = []
    out.append(Measure(
        id="missing_reports", label="Missing persons reported", domain=PVP,
        description="Missing person reports, by the month reported.",
        numerator="missing person reports", denominator=None, unit="reports",
        polarity="neutral", kind="count", source=_MISSING, dataset="missing", num_sql="count(*)",
    ))
    for risk in ("high", "medium", "low"):
        out.append(Measure(
            id=f"missing_{risk}_risk", label=f"Missing persons reported: {risk} risk", domain=PVP,
            description=f"Missing person reports assessed {risk} risk ('by risk category', HMIC L1514).",
            numerator=f"missing person reports assessed {risk} risk", denominator=None,
            unit="reports", polarity="neutral", kind="count", source=_MISSING,
            dataset="missing", num_sql=f"count(*) FILTER (WHERE risk = '{risk}')",
        ))
    out.append(Measure(
        id="missing_reviews_overdue", label="Missing person cases with reviews overdue", domain=PVP,
        description=("Cases with fewer reviews done than due: medium and high risk weekly; long-term "
                     "cases at 28 days, three months, six months and then annually (HMIC L1562)."),
        numerator="cases with fewer reviews done than due",
        denominator="cases with at least one review due",
        unit="%", polarity="down", kind="proportion", source=_MISSING, scale=100.0,
        dataset="missing", num_sql="count(*) FILTER (WHERE reviews_done < reviews_due)",
        den_sql="count(*) FILTER (WHERE reviews_due > 0)",
        target_source="none in the seed; every review is due, so the aim is 0%",
    ))
    out.append(Measure(
        id="missing_high_reviews_overdue", label="High risk missing person cases with reviews overdue",
        domain=PVP,
        description=("High risk cases with fewer reviews done than due as of the extract date "
                     "(reviews weekly, and at 28 days, three months, six months and then annually; "
                     "HMIC L1562): the cases a PIM asks about first."),
        numerator="high risk cases with fewer reviews done than due",
        denominator="high risk cases with at least one review due",
        unit="%", polarity="down", kind="proportion", source=_MISSING, scale=100.0,
        dataset="missing",
        num_sql="count(*) FILTER (WHERE risk = 'high' AND reviews_done < reviews_due)",
        den_sql="count(*) FILTER (WHERE risk = 'high' AND reviews_due > 0)",
        target_source="none in the seed; every review is due, so the aim is 0%",
    ))
    return out


# ------------------------------------------------------------------------ demo

# Missing persons.
MISSING_PER_MONTH = 250

MISSING_RISK_MIX: dict[str, float] = {"low": 0.55, "medium": 0.35, "high": 0.10}


def _missing(seed: int, start: date, end: date, u: DemoUnits) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 23])
    days = days_of(start, end)
    counts = daily_counts(rng, days, MISSING_PER_MONTH * 12 / 365.25, weekend=1.1)
    day = np.repeat(days, counts)
    n = day.size
    reported = times_of_day(rng, day).astype("datetime64[s]")
    risks = np.array(list(MISSING_RISK_MIX), dtype=object)
    risk = rng.choice(risks, size=n, p=np.array(list(MISSING_RISK_MIX.values())))
    # Most are found within hours; about 3% are long-term cases of weeks or months.
    hours = np.where(rng.random(n) < 0.03, rng.gamma(1.2, 40 * 24, n),
                     np.exp(np.log(10) + 1.3 * rng.normal(size=n)))
    found = reported + (hours * 3600).astype("timedelta64[s]")
    as_at = np.datetime64(add_months(end, 1), "D") - np.timedelta64(1, "D")
    still = found > as_at + np.timedelta64(1, "D")
    found = np.where(still, np.datetime64("NaT"), found)
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.pop_weight)
    frame = pd.DataFrame({"risk": risk, "reported": reported.astype("datetime64[ns]"),
                          "found": found.astype("datetime64[ns]"),
                          "as_at": np.full(n, as_at).astype("datetime64[ns]")})
    due = derive(frame, REVIEWS_DUE_SQL).astype(np.int64)
    # Reviews are sometimes missed, more often on low-risk long-term cases (HMIC L1604).
    missed = rng.binomial(due, np.where(risk == "low", 0.25, 0.12))
    return frame_of(COLUMNS, {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": month_start(reported),
        "report_ref": np.array([f"MP-{i:06d}" for i in range(1, n + 1)], dtype=object),
        "reported": frame["reported"].to_numpy(),
        "found": frame["found"].to_numpy(),
        "risk": risk,
        "reviews_done": (due - missed).astype(np.int32),
        "reviews_due": due.astype(np.int32),
        "as_at": np.full(n, as_at).astype("datetime64[ns]"),
        "npu_ref": u.npu_names[npu_idx].astype(object),
        "npu_id": u.npu_ids[npu_idx].astype(object),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"missing": _missing(ctx.seed, ctx.start, ctx.end, ctx.structure)}


SOURCE = TabularSource(
    name="missing",
    summary="Load missing person reports: one row per report (docs/input-formats.md).",
    datasets=(Dataset("missing", COLUMNS, "reports", day_sql="CAST(reported AS DATE)"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": month_sql("reported"), "report_ref": "t.report_ref",
     "reported": "t.reported", "found": "t.found", "risk": "t.risk",
     "reviews_done": "t.reviews_done", "reviews_due": REVIEWS_DUE_SQL, "as_at": "t.as_at",
     "npu_ref": "t.npu"},
)
