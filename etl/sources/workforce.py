"""Workforce returns: one row per unit (NPU or BCU) and month.

Officers and PCSOs (FTE), special constable hours, sickness and abstraction. Declares: the
input schema, the staging shape, the measures and the demo generator.
"""


from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.demo.common import (
    FORCE_ID,
    DemoContext,
    DemoUnits,
    frame_of,
    progress,
)
from etl.measures.model import Measure
from etl.sources.base import Dataset, TabularSource
from etl.sources.tabular import (
    FORCE_COLUMN,
    Check,
    Column,
    Schema,
)

# ------------------------------------------------------------------------ staging shape

# Unit x month workforce return. A row names an NPU (npu_id) or a BCU (bcu_id: BCU-level
# staff such as tactical patrol teams); neither when the unit is unknown (force level only).
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "unit_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "bcu_id": "VARCHAR",
    "officer_fte": "DOUBLE",
    "pcso_fte": "DOUBLE",
    "special_hours": "DOUBLE",      # hours worked by special constables
    "sickness_days": "DOUBLE",      # working days lost to sickness, officers and PCSOs
    "abstraction_planned_hours": "DOUBLE",
    "abstraction_spontaneous_hours": "DOUBLE",
    "duty_hours": "DOUBLE",         # rostered hours of officers and PCSOs (given or derived)
    "line": "BIGINT",
}

# Hours a full-time officer or PCSO is rostered in a month when the return gives no
# duty_hours: 40 hours x 52 weeks / 12.
DUTY_HOURS_PER_FTE_MONTH = 40 * 52 / 12


# ------------------------------------------------------------------------ input schema

SCHEMA = Schema(
    name="workforce",
    columns=(
        Column("month", "month", doc="The month, `YYYY-MM`."),
        FORCE_COLUMN,
        Column("unit", "text", doc="An NPU or a BCU (BCU-level staff such as tactical patrol teams): "
               "its name as in the warehouse, or its unit id."),
        Column("officer_fte", "number", minimum=0, doc="Police officers, full-time equivalent."),
        Column("pcso_fte", "number", minimum=0, doc="PCSOs, full-time equivalent."),
        Column("special_hours", "number", required=False, blank=True, minimum=0,
               doc="Hours worked by special constables in the month."),
        Column("sickness_days", "number", minimum=0,
               doc="Working days lost to sickness by the unit's officers and PCSOs in the month."),
        Column("abstraction_planned_hours", "number", minimum=0,
               doc="Hours officers and PCSOs were abstracted from the unit by planned events."),
        Column("abstraction_spontaneous_hours", "number", minimum=0,
               doc="Hours abstracted by spontaneous (unplanned) demands."),
        Column("duty_hours", "number", required=False, blank=True, minimum=0,
               doc="Rostered hours of the unit's officers and PCSOs; blank = FTE x 40 x 52 / 12."),
    ),
    checks=(
        Check(f"t.abstraction_planned_hours + t.abstraction_spontaneous_hours > "
              f"coalesce(t.duty_hours, (t.officer_fte + t.pcso_fte) * {DUTY_HOURS_PER_FTE_MONTH})",
              "'abstraction hours (planned + spontaneous) exceed the unit''s duty hours'"),
    ),
    unique=(("unit", "month"),),
)


# ------------------------------------------------------------------------ measures

WORKFORCE = "Workforce"

_WORKFORCE = "workforce returns (python -m etl load workforce), or the synthetic demo"


def measures() -> list[Measure]:
    out: list[Measure] = []
    for mid, label, col in (("officer_fte", "Police officers (FTE)", "officer_fte"),
                            ("pcso_fte", "PCSOs (FTE)", "pcso_fte")):
        out.append(Measure(
            id=mid, label=label, domain=WORKFORCE, description=f"{label} in the unit's return.",
            numerator=label, denominator=None, unit="FTE", polarity="neutral", kind="census",
            source=_WORKFORCE, dataset="workforce", num_sql=f"sum({col})", aggregate="latest",
        ))
    out.append(Measure(
        id="special_hours", label="Special constable hours", domain=WORKFORCE,
        description="Hours worked by special constables (their 'simple monthly return', HMIC L560).",
        numerator="special constable hours", denominator=None, unit="hours", polarity="up",
        kind="census", source=_WORKFORCE, dataset="workforce", num_sql="sum(special_hours)",
    ))
    out.append(Measure(
        id="sickness_days_per_fte", label="Working days lost to sickness per FTE", domain=WORKFORCE,
        description="Working days lost to sickness by officers and PCSOs, per FTE per month.",
        numerator="working days lost to sickness", denominator="officer and PCSO FTE (per month)",
        unit="days per FTE per month", polarity="down", kind="rate", source=_WORKFORCE,
        dataset="workforce", num_sql="sum(sickness_days)", den_sql="sum(officer_fte + pcso_fte)",
        target_source="none: the seed gives no sickness figures (HMIC L735)",
    ))
    for mid, label, expr in (
        ("abstraction_rate", "Abstraction from NPU and BCU duties",
         "abstraction_planned_hours + abstraction_spontaneous_hours"),
        ("abstraction_planned_rate", "Planned abstraction", "abstraction_planned_hours"),
        ("abstraction_spontaneous_rate", "Spontaneous abstraction", "abstraction_spontaneous_hours"),
    ):
        out.append(Measure(
            id=mid, label=label, domain=WORKFORCE,
            description=("Hours officers and PCSOs were taken away from their unit, as a share of "
                         "their duty hours (HMIC L520: 'both planned and spontaneous abstraction')."),
            numerator="hours abstracted", denominator="duty hours",
            unit="%", polarity="down", kind="census_ratio", source=_WORKFORCE, scale=100.0,
            headline=mid == "abstraction_rate", dataset="workforce",
            num_sql=f"sum({expr})", den_sql="sum(duty_hours)",
            target_source="none: HMIC recommends abstraction targets (L520) without figures",
        ))
    return out


# ------------------------------------------------------------------------ demo


def _workforce(seed: int, start: date, end: date, u: DemoUnits) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 25])
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    t = progress(months)
    month_no = months.astype(np.int64) % 12 + 1
    winter = 1 + 0.25 * np.cos(2 * np.pi * (month_no - 1) / 12)
    units = [(i, "npu") for i in range(u.npu_ids.size)] + [(j, "bcu") for j in range(u.bcu_ids.size)]
    rows = []
    for idx, level in units:
        if level == "npu":
            officers = u.pop_weight[idx] * 1000 * rng.uniform(0.95, 1.1)
            # PCSOs rolled out over the period, to about 237 force-wide (HMIC L586).
            pcso = u.pop_weight[idx] * (80 + 157 * t) * rng.uniform(0.9, 1.1)
            special = np.maximum(rng.normal(u.pop_weight[idx] * 3400, 40, months.size), 0)
            name, npu_id, bcu_id = u.npu_names[idx], u.npu_ids[idx], None
        else:
            officers = np.full(months.size, rng.uniform(200, 260))
            pcso = np.zeros(months.size)
            special = np.full(months.size, np.nan)
            name, npu_id, bcu_id = u.bcu_names[idx], None, u.bcu_ids[idx]
        officers = np.round(officers * (1 + rng.normal(0, 0.01, months.size)), 1)
        pcso = np.round(pcso, 1)
        fte = officers + pcso
        duty = np.round(fte * 160 * rng.uniform(0.97, 1.03, months.size))
        sick = np.round(fte * 0.72 * winter * rng.lognormal(0, 0.15, months.size), 1)
        planned = np.round(duty * rng.normal(0.06, 0.01, months.size).clip(0.01))
        spike = np.where(rng.random(months.size) < 0.04, 2.5, 1.0)   # a major incident
        spontaneous = np.round(duty * rng.normal(0.045, 0.01, months.size).clip(0.005) * spike)
        for k in range(months.size):
            rows.append((months[k], name, npu_id, bcu_id, officers[k], pcso[k], special[k],
                         sick[k], planned[k], spontaneous[k], duty[k]))
    f = pd.DataFrame(rows, columns=["month", "unit_ref", "npu_id", "bcu_id", "officer_fte",
                                    "pcso_fte", "special_hours", "sickness_days",
                                    "abstraction_planned_hours", "abstraction_spontaneous_hours",
                                    "duty_hours"])
    f = f.sort_values(["month", "unit_ref"], kind="stable").reset_index(drop=True)
    n = len(f)
    data = {c: f[c].to_numpy() for c in f.columns}
    data["month"] = f["month"].to_numpy().astype("datetime64[ns]")
    data.update(force_id=np.full(n, FORCE_ID, dtype=object),
                special_hours=np.round(f["special_hours"].to_numpy(dtype=float)),
                line=np.arange(1, n + 1, dtype=np.int64))
    for c in ("unit_ref", "npu_id", "bcu_id"):
        data[c] = f[c].to_numpy(dtype=object)
    return frame_of(COLUMNS, data, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"workforce": _workforce(ctx.seed, ctx.start, ctx.end, ctx.structure)}


SOURCE = TabularSource(
    name="workforce",
    summary="Load workforce returns: one row per unit and month (docs/input-formats.md).",
    datasets=(Dataset("workforce", COLUMNS, "unit returns"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": "t.month", "unit_ref": "t.unit",
     "officer_fte": "t.officer_fte", "pcso_fte": "t.pcso_fte",
     "special_hours": "t.special_hours", "sickness_days": "t.sickness_days",
     "abstraction_planned_hours": "t.abstraction_planned_hours",
     "abstraction_spontaneous_hours": "t.abstraction_spontaneous_hours",
     "duty_hours": f"coalesce(t.duty_hours, (t.officer_fte + t.pcso_fte) * {DUTY_HOURS_PER_FTE_MONTH})"},
    unit_column="unit",
    unit_levels=("npu", "bcu"),
)
