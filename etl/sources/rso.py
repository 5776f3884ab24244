"""Registered sex offenders under management (protecting vulnerable people): one row per
offender per snapshot date, a stock.

Home visits due by risk (VISIT_DUE_SQL) and overdue, MAPPA levels, caseload per SOLO against
the notional 1:50. Declares: the input schema, the staging shape, the measures and the demo
generator.
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
    derive,
    frame_of,
)
from etl.measures.model import Measure, share_sql
from etl.sources.base import Dataset, TabularSource
from etl.sources.tabular import (
    FORCE_COLUMN,
    NPU_COLUMN,
    Check,
    Column,
    Schema,
    month_sql,
    quoted,
    risk_column,
    says,
)

# ------------------------------------------------------------------------ staging shape

# One row per registered sex offender under management at a snapshot date (as_at). A stock:
# each month holds at most one snapshot per force. visit_due is derived (VISIT_DUE_SQL).
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month of as_at
    "as_at": "DATE",
    "offender_ref": "VARCHAR",
    "risk": "VARCHAR",              # 'low' | 'medium' | 'high' | 'very high'
    "mappa_level": "INTEGER",       # 1 | 2 | 3
    "managed_from": "DATE",
    "last_visit": "DATE",
    "next_visit": "DATE",           # the 'date of next visit' field as recorded (often blank)
    "visit_due": "DATE",            # last visit (or managed_from) + 12/6/3/1 months by risk
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "officer_ref": "VARCHAR",       # the SOLO (sex offender liaison officer)
    "officer_id": "VARCHAR",
    "line": "BIGINT",
}

# Home visits of registered sex offenders: "low risk - 12 monthly; medium - six monthly;
# high - three monthly; and very high - every month" (HMIC 2007, L1462).
VISIT_INTERVAL_MONTHS: dict[str, int] = {"low": 12, "medium": 6, "high": 3, "very high": 1}

# The next visit is due one interval after the last visit, or after management began when
# there has been no visit yet. A visit is overdue when as_at is after the date it was due;
# a record with neither date (visit_due NULL) counts as overdue: nothing shows a visit.
# Columns: risk, last_visit, managed_from.
VISIT_DUE_SQL = (
    "CAST(coalesce(last_visit, managed_from) + to_months(CASE risk "
    + " ".join(f"WHEN '{k}' THEN {v}" for k, v in VISIT_INTERVAL_MONTHS.items())
    + " END) AS DATE)"
)


# ------------------------------------------------------------------------ input schema

RSO_RISKS = ("low", "medium", "high", "very high")

_SECOND_SNAPSHOT = ("(SELECT min(o._line) FROM _tab_typed o WHERE o.force = t.force "
                    "AND date_trunc('month', o.as_at) = date_trunc('month', t.as_at) "
                    "AND o.as_at <> t.as_at AND o._rn < t._rn)")

SCHEMA = Schema(
    name="rso",
    columns=(
        Column("offender_ref", "text",
               doc="The offender's reference (e.g. ViSOR id). Unique within a snapshot."),
        Column("as_at", "date", doc="The snapshot date. One snapshot per force per month."),
        FORCE_COLUMN,
        NPU_COLUMN,
        Column("officer", "text", required=False, blank=True,
               doc="The SOLO (sex offender liaison officer) managing the offender; blank if unallocated."),
        risk_column(RSO_RISKS, "Risk level: low, medium, high or very high."),
        Column("mappa_level", "enum",
               values={"1": 1, "level 1": 1, "2": 2, "level 2": 2, "3": 3, "level 3": 3},
               expected="1, 2 or 3", doc="MAPPA management level, 1-3."),
        Column("managed_from", "date", required=False, blank=True,
               doc="When management began; counts as the last visit when there has been none."),
        Column("last_visit", "date", blank=True, doc="Date of the last home visit; blank if none."),
        Column("next_visit", "date", required=False, blank=True,
               doc="The 'date of next visit' field as recorded; blank if not filled in."),
    ),
    checks=(
        Check("t.last_visit > t.as_at", says("last_visit", "is after as_at", "as_at")),
        Check("t.managed_from > t.as_at", says("managed_from", "is after as_at", "as_at")),
        Check(f"{_SECOND_SNAPSHOT} IS NOT NULL",
              f"'as_at ' || {quoted('t.as_at__raw')} || ' is a second snapshot in its month (line ' || "
              f"CAST({_SECOND_SNAPSHOT} AS VARCHAR) || ' has another date): one snapshot per month'"),
    ),
    unique=(("offender_ref", "as_at"),),
)


# ------------------------------------------------------------------------ measures

PVP = "Protecting vulnerable people"

_RSO = "registered sex offenders under management (python -m etl load rso), or the synthetic demo"


def measures() -> list[Measure]:
    out: list[Measure] = []
    out.append(Measure(
        id="rso_managed", label="Registered sex offenders managed", domain=PVP,
        description="RSOs under management at the month's snapshot (603, 730, 816 in the three "
                    "quarters to Q1 2007, HMIC L1305).",
        numerator="RSOs under management", denominator=None, unit="offenders",
        polarity="neutral", kind="count", source=_RSO, dataset="rso", num_sql="count(*)",
        aggregate="latest",
    ))
    for level in (1, 2, 3):
        out.append(Measure(
            id=f"rso_mappa_level_{level}", label=f"RSOs managed at MAPPA level {level}", domain=PVP,
            description=f"RSOs under management at MAPPA level {level} at the month's snapshot.",
            numerator=f"RSOs at MAPPA level {level}", denominator=None, unit="offenders",
            polarity="neutral", kind="count", source=_RSO, dataset="rso",
            num_sql=f"count(*) FILTER (WHERE mappa_level = {level})", aggregate="latest",
        ))
    overdue = "visit_due IS NULL OR visit_due < as_at"
    out.append(Measure(
        id="rso_visits_overdue", label="RSO home visits overdue", domain=PVP,
        description=("RSOs whose next home visit was due before the snapshot: visits every 12, 6, 3 "
                     "and 1 months for low, medium, high and very high risk (HMIC L1462)."),
        numerator="RSOs with a home visit overdue", denominator="RSOs under management",
        unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0, headline=True,
        dataset="rso", num_sql=f"count(*) FILTER (WHERE {overdue})", den_sql="count(*)",
        aggregate="latest", target_source="none in the seed; every visit is due, so the aim is 0%",
    ))
    for risk in ("low", "medium", "high", "very high"):
        key = risk.replace(" ", "_")
        num, den = share_sql(overdue, f"risk = '{risk}'")
        out.append(Measure(
            id=f"rso_visits_overdue_{key}", label=f"RSO home visits overdue: {risk} risk", domain=PVP,
            description=f"{risk.capitalize()} risk RSOs whose home visit is overdue.",
            numerator=f"{risk} risk RSOs with a home visit overdue",
            denominator=f"{risk} risk RSOs under management",
            unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0,
            dataset="rso", num_sql=num, den_sql=den, aggregate="latest",
        ))
    out.append(Measure(
        id="rso_next_visit_missing", label="RSO records without a 'date of next visit'", domain=PVP,
        description="RSO records whose 'date of next visit' field is not filled in (HMIC L1459).",
        numerator="RSOs with no date of next visit recorded", denominator="RSOs under management",
        unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0, dataset="rso",
        num_sql="count(*) FILTER (WHERE next_visit IS NULL)", den_sql="count(*)", aggregate="latest",
    ))
    out.append(Measure(
        id="solo_caseload", label="RSOs managed per SOLO", domain=PVP,
        description=("Registered sex offenders under management per sex offender liaison officer "
                     "(SOLOs named in the records, counted once each). SOLOs work across a BCU, so "
                     "the figure is meaningful at force and BCU level."),
        numerator="RSOs under management", denominator="SOLOs managing them",
        unit="RSOs per SOLO", polarity="down", kind="rate", source=_RSO, target=50.0,
        dataset="rso", num_sql="count(*)",
        den_sql="count(DISTINCT coalesce(officer_id, 'ref:' || officer_ref))", aggregate="latest",
        target_source="'notional constabulary target ratio of 1:50' (HMIC L1429)",
    ))
    return out


# ------------------------------------------------------------------------ demo

# Registered sex offenders under management: anchors of the total (HMIC L1305 for 2006/07).
RSO_ANCHORS: tuple[tuple[date, int], ...] = (
    (date(1998, 1, 1), 250), (date(2006, 9, 1), 603), (date(2006, 12, 1), 730),
    (date(2007, 3, 1), 816), (date(2008, 3, 1), 905), (date(2020, 3, 1), 1900),
)

RSO_RISK_MIX: dict[str, float] = {"low": 0.40, "medium": 0.35, "high": 0.20, "very high": 0.05}

RSO_LATENESS: dict[str, float] = {"low": 1.25, "medium": 1.2, "high": 1.07, "very high": 1.04}

SOLOS_PER_BCU = (3, 3, 2)   # seven full-time and one part-time SOLO (L1395)


def rso_total(month: date) -> float:
    """RSOs under management at the end of `month`: through HMIC's 603, 730 and 816."""
    x = [a.toordinal() for a, _ in RSO_ANCHORS]
    y = [v for _, v in RSO_ANCHORS]
    return float(np.interp(month.toordinal(), x, y))


def _solos(u: DemoUnits, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """SOLOs per BCU: detectives from the BCU's CID teams (response officers if none)."""
    out = {}
    for bcu, n in zip(u.bcu_ids, SOLOS_PER_BCU, strict=False):
        npus = [x for x, b in zip(u.npu_ids, u.npu_bcu, strict=True) if b == bcu]
        pool = np.concatenate([u.by_npu[(x, "cid")] for x in npus])
        if pool.size < n:
            pool = np.concatenate([pool, *[u.by_npu[(x, "response")] for x in npus]])
        out[bcu] = np.sort(rng.choice(pool, size=n, replace=False))
    return out


def _rso(seed: int, start: date, end: date, u: DemoUnits) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 24])
    months = []
    m = start
    while m <= end:
        months.append(m)
        m = add_months(m, 1)
    solos = _solos(u, rng)
    risks = np.array(list(RSO_RISK_MIX), dtype=object)

    # The offender register: each offender's NPU, SOLO, risk, MAPPA level, start, lateness.
    def register(k: int, first: date, last: date) -> dict[str, np.ndarray]:
        lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
        span = max(int((hi - lo).astype(np.int64)), 1)
        npu_idx = rng.choice(u.npu_ids.size, size=k, p=u.pop_weight)
        risk = rng.choice(risks, size=k, p=np.array(list(RSO_RISK_MIX.values())))
        r = rng.random(k)
        level = np.where(risk == "very high", np.where(r < 0.2, 3, 2),
                         np.where(risk == "high", np.where(r < 0.45, 2, 1),
                                  np.where((risk == "medium") & (r < 0.05), 2, 1)))
        solo = np.array([rng.choice(solos[u.npu_bcu[i]]) for i in npu_idx], dtype=object)
        lateness = np.exp(np.log([RSO_LATENESS[x] for x in risk]) + 0.12 * rng.normal(size=k))
        return {"npu": npu_idx, "risk": risk, "level": level, "solo": solo,
                "from": lo + rng.integers(0, span, size=k).astype("timedelta64[D]"),
                "lateness": lateness, "records_next": rng.random(k) < 0.4,
                "active": np.ones(k, dtype=bool)}

    first_total = round(rso_total(months[0]))
    reg = register(first_total, date(months[0].year - 8, months[0].month, 1), months[0])
    frames = []
    for i, month in enumerate(months):
        as_at = np.datetime64(add_months(month, 1), "D") - np.timedelta64(1, "D")
        if i:
            active = np.flatnonzero(reg["active"])
            leave = active[rng.random(active.size) < 0.008]
            reg["active"][leave] = False
            new = max(round(rso_total(month)) - int(reg["active"].sum()), 0)
            add = register(new, month, add_months(month, 1) - (date.resolution * 1))
            reg = {k: np.concatenate([reg[k], add[k]]) for k in reg}
        rows = np.flatnonzero(reg["active"] & (reg["from"] <= as_at))
        risk = reg["risk"][rows]
        interval = np.array([VISIT_INTERVAL_MONTHS[x] for x in risk]) * 30.44
        step = interval * reg["lateness"][rows]
        managed = reg["from"][rows]
        age = (as_at - managed).astype(np.int64)
        visits = np.floor(age / step)
        last = np.where(visits >= 1, managed + (visits * step).astype("timedelta64[D]"),
                        np.datetime64("NaT"))
        frames.append(pd.DataFrame({
            "offender": rows, "as_at": as_at, "risk": risk, "mappa_level": reg["level"][rows],
            "managed_from": managed, "last_visit": last, "records_next": reg["records_next"][rows],
            "npu": reg["npu"][rows], "solo": reg["solo"][rows]}))
    f = pd.concat(frames, ignore_index=True)
    n = len(f)
    for col in ("as_at", "managed_from", "last_visit"):
        f[col] = pd.to_datetime(f[col])
    f["visit_due"] = derive(f[["risk", "last_visit", "managed_from"]], VISIT_DUE_SQL)
    next_visit = pd.to_datetime(f["visit_due"]).where(f["records_next"] & f["last_visit"].notna())
    as_at = pd.to_datetime(f["as_at"])
    return frame_of(COLUMNS, {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": as_at.dt.to_period("M").dt.start_time.to_numpy(),
        "as_at": as_at.to_numpy(),
        "offender_ref": np.array([f"RSO-{i + 1:05d}" for i in f["offender"]], dtype=object),
        "risk": f["risk"].to_numpy(dtype=object),
        "mappa_level": f["mappa_level"].astype(np.int32).to_numpy(),
        "managed_from": pd.to_datetime(f["managed_from"]).to_numpy(),
        "last_visit": pd.to_datetime(f["last_visit"]).to_numpy(),
        "next_visit": next_visit.to_numpy(),
        "visit_due": pd.to_datetime(f["visit_due"]).to_numpy(),
        "npu_ref": u.npu_names[f["npu"].to_numpy()].astype(object),
        "npu_id": u.npu_ids[f["npu"].to_numpy()].astype(object),
        "officer_ref": u.names(f["solo"].to_numpy(dtype=object)),
        "officer_id": f["solo"].to_numpy(dtype=object),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"rso": _rso(ctx.seed, ctx.start, ctx.end, ctx.structure)}


SOURCE = TabularSource(
    name="rso",
    summary="Load registered sex offenders under management: one row per offender per snapshot "
    "(docs/input-formats.md).",
    datasets=(Dataset("rso", COLUMNS, "offenders"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": month_sql("as_at"), "as_at": "t.as_at",
     "offender_ref": "t.offender_ref", "risk": "t.risk", "mappa_level": "t.mappa_level",
     "managed_from": "t.managed_from", "last_visit": "t.last_visit",
     "next_visit": "t.next_visit", "visit_due": VISIT_DUE_SQL,
     "npu_ref": "t.npu", "officer_ref": "t.officer"},
    officer=True,
)
