"""Domestic incidents (protecting vulnerable people): one row per incident.

Arrest rate, repeat victims and Form 40a timeliness; incidents are linked to recorded crimes
by reference and to officers. Declares: the input schema, the staging shape, the measures
and the demo generator.
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
    progress,
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
    bool_column,
    month_sql,
    quoted,
    risk_column,
)

# ------------------------------------------------------------------------ staging shape

# One row per domestic incident.
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month reported
    "incident_ref": "VARCHAR",      # matched against crime references of the same force
    "reported": "TIMESTAMP",
    "risk": "VARCHAR",              # 'standard' | 'medium' | 'high' | 'very high'
    "arrest": "BOOLEAN",
    "repeat_victim": "BOOLEAN",
    "form_40a_submitted": "TIMESTAMP",  # Form 40a (vulnerable person notification); NULL = none
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "officer_ref": "VARCHAR",
    "officer_id": "VARCHAR",
    "line": "BIGINT",
}


# ------------------------------------------------------------------------ input schema

DV_RISKS = ("standard", "medium", "high", "very high")

SCHEMA = Schema(
    name="dv",
    columns=(
        Column("incident_ref", "text",
               doc="Incident number, or the crime reference when a crime was recorded. Unique "
                   "within a force. Linked to the force's recorded crimes by crime reference."),
        Column("reported", "datetime", date_only=True,
               doc="When the incident was reported, `YYYY-MM-DD HH:MM[:SS]` (or `YYYY-MM-DD`)."),
        FORCE_COLUMN,
        NPU_COLUMN,
        Column("officer", "text", required=False, blank=True,
               doc="The attending officer, as for satisfaction."),
        risk_column(DV_RISKS, "Risk assessment: standard, medium, high or very high."),
        bool_column("arrest", "Was an arrest made? yes/no."),
        bool_column("repeat_victim", "Is the victim a repeat victim? yes/no."),
        Column("form_40a_submitted", "datetime", blank=True, date_only=True,
               doc="When the Form 40a (vulnerable person notification) was submitted; blank if not."),
    ),
    checks=(
        Check("t.form_40a_submitted < date_trunc('day', t.reported)",
              f"'form_40a_submitted ' || {quoted('t.form_40a_submitted__raw')} || "
              f"' is before the day reported ' || {quoted('t.reported__raw')}"),
    ),
    unique=(("incident_ref",),),
)


# ------------------------------------------------------------------------ measures

PVP = "Protecting vulnerable people"

_DV = "domestic incidents (python -m etl load dv), or the synthetic demo"


def measures() -> list[Measure]:
    out: list[Measure] = []
    out.append(Measure(
        id="dv_incidents", label="Domestic incidents", domain=PVP,
        description="Domestic incidents reported.", numerator="domestic incidents", denominator=None,
        unit="incidents", polarity="neutral", kind="count", source=_DV, dataset="dv",
        num_sql="count(*)",
        target_source="none: partners aim both to 'increase reporting' and to reduce 'reported "
                      "incidents' (HMIC L1171, L1081), so a rise is neither good nor bad",
    ))
    out.append(Measure(
        id="dv_high_risk", label="High and very high risk domestic incidents", domain=PVP,
        description="Domestic incidents assessed as high or very high risk (specialist investigators).",
        numerator="domestic incidents assessed high or very high risk", denominator=None,
        unit="incidents", polarity="neutral", kind="count", source=_DV, dataset="dv",
        num_sql="count(*) FILTER (WHERE risk IN ('high', 'very high'))",
    ))
    out.append(Measure(
        id="dv_arrest_rate", label="Arrests made at domestic incidents", domain=PVP,
        description="Domestic incidents at which an arrest was made (positive action).",
        numerator="domestic incidents with an arrest", denominator="domestic incidents",
        unit="%", polarity="up", kind="proportion", source=_DV, scale=100.0, headline=True,
        dataset="dv", num_sql="count(*) FILTER (WHERE arrest)", den_sql="count(*)",
        target_source="none set: HMIC reports 'an arrest rate of over 52% in 2006/07 compared "
                      "with the MSF rate of 33%' (L1059)",
    ))
    out.append(Measure(
        id="dv_repeat_victims", label="Repeat victims of domestic violence", domain=PVP,
        description="Domestic incidents whose victim is a repeat victim.",
        numerator="domestic incidents with a repeat victim", denominator="domestic incidents",
        unit="%", polarity="down", kind="proportion", source=_DV, scale=100.0, dataset="dv",
        num_sql="count(*) FILTER (WHERE repeat_victim)", den_sql="count(*)",
        target_source="a 'reduction in numbers of repeat victims' is a CDAP joint measure "
                      "(HMIC L1081), without a figure",
    ))
    out.append(Measure(
        id="dv_form40a_24h", label="Form 40a (vulnerable person notification) submitted within 24 hours",
        domain=PVP,
        description=("Domestic incidents whose Form 40a was submitted within 24 hours of the report; "
                     "late and missing forms count as not in time (HMIC L1237, L1247)."),
        numerator="domestic incidents with Form 40a submitted within 24 hours",
        denominator="domestic incidents",
        unit="%", polarity="up", kind="proportion", source=_DV, scale=100.0, dataset="dv",
        num_sql="count(*) FILTER (WHERE form_40a_submitted <= reported + INTERVAL 24 HOUR)",
        den_sql="count(*)",
        target_source="none in the seed; every incident needs one, so the aim is 100%",
    ))
    return out


# ------------------------------------------------------------------------ demo

# Domestic incidents.
DV_PER_MONTH = 1000

DV_RISK_MIX: dict[str, float] = {"standard": 0.58, "medium": 0.27, "high": 0.12, "very high": 0.03}

DV_ARREST: dict[str, float] = {"standard": 0.45, "medium": 0.60, "high": 0.76, "very high": 0.86}

MSF_DV_ARREST = 0.33


def _dv(seed: int, start: date, end: date, u: DemoUnits, crimes: pd.DataFrame) -> pd.DataFrame:
    from scipy.special import ndtr, ndtri  # lazy: only the demo's generators use it; a police.uk
    # load imports this module and scipy.special alone costs ~0.2-0.35 s to import
    rng = np.random.default_rng([seed, 22])
    days = days_of(start, end)
    counts = daily_counts(rng, days, DV_PER_MONTH * 12 / 365.25, weekend=1.3, amplitude=0.06)
    day = np.repeat(days, counts)
    n = day.size
    # About 40% of domestic incidents are recorded as violent crimes: those rows are the
    # demo's own crimes, with their date, NPU and officer in charge.
    violent = crimes[crimes["category"].eq("violent-crime")]
    linked = rng.random(n) < 0.40
    k = min(int(linked.sum()), len(violent))
    chosen = violent.iloc[np.sort(rng.choice(len(violent), size=k, replace=False))]
    linked_rows = np.flatnonzero(linked)[:k]
    linked[np.flatnonzero(linked)[k:]] = False
    day[linked_rows] = np.sort(chosen["date"].to_numpy().astype("datetime64[D]"))
    evening = np.array([2, 1.5, 1, 0.8, 0.6, 0.5, 0.5, 0.7, 1, 1.2, 1.4, 1.6,
                        1.8, 2, 2.2, 2.5, 3, 3.6, 4.2, 4.8, 5.2, 5, 4.2, 3])
    reported = times_of_day(rng, day, evening)
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.crime_weight)
    npu_id = u.npu_ids[npu_idx].astype(object)
    officer_id = u.officers(rng, npu_idx, "response")
    incident_ref = np.array([f"DV-{i:07d}" for i in range(1, n + 1)], dtype=object)
    order = np.argsort(chosen["date"].to_numpy(), kind="stable")
    incident_ref[linked_rows] = chosen["crime_id"].to_numpy()[order]
    npu_id[linked_rows] = chosen["npu_id"].to_numpy()[order]
    officer_id[linked_rows] = chosen["officer_id"].to_numpy()[order]

    risks = np.array(list(DV_RISK_MIX), dtype=object)
    risk = rng.choice(risks, size=n, p=np.array(list(DV_RISK_MIX.values())))
    npu_arrest = dict(zip(u.npu_ids, rng.normal(0, 0.15, u.npu_ids.size), strict=True))
    p_arrest = ndtr(ndtri(np.array([DV_ARREST[r] for r in risk]))
                    + np.array([npu_arrest[x] for x in npu_id]))
    arrest = rng.random(n) < p_arrest
    repeat = rng.random(n) < np.where(np.isin(risk, ["high", "very high"]), 0.45, 0.28)
    t = progress(reported)
    r = rng.random(n)
    on_time, late = 0.62 + 0.10 * t, 0.17
    hours = np.where(r < on_time, rng.uniform(0.5, 24, n),
                     np.where(r < on_time + late, rng.uniform(24.5, 240, n), np.nan))
    rep = reported.astype("datetime64[s]")
    form = np.where(np.isnan(hours), np.datetime64("NaT"),
                    rep + (np.nan_to_num(hours) * 3600).astype("timedelta64[s]"))
    return frame_of(COLUMNS, {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": month_start(reported),
        "incident_ref": incident_ref,
        "reported": rep.astype("datetime64[ns]"),
        "risk": risk,
        "arrest": arrest,
        "repeat_victim": repeat,
        "form_40a_submitted": form.astype("datetime64[ns]"),
        "npu_ref": np.array([u.npu_name[x] for x in npu_id], dtype=object),
        "npu_id": npu_id,
        "officer_ref": u.names(officer_id),
        "officer_id": officer_id,
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"dv": _dv(ctx.seed, ctx.start, ctx.end, ctx.structure, ctx.crimes)}


SOURCE = TabularSource(
    name="dv",
    summary="Load domestic incidents: one row per incident (docs/input-formats.md).",
    datasets=(Dataset("dv", COLUMNS, "incidents", day_sql="CAST(reported AS DATE)"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": month_sql("reported"), "incident_ref": "t.incident_ref",
     "reported": "t.reported", "risk": "t.risk", "arrest": "t.arrest",
     "repeat_victim": "t.repeat_victim", "form_40a_submitted": "t.form_40a_submitted",
     "npu_ref": "t.npu", "officer_ref": "t.officer"},
    officer=True,
    crime_links=True,
)
