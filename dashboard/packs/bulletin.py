"""The police authority bulletin: the pack pipeline with the authority's view.

HMIC (2007) asked for a defined role for police authority members, who review satisfaction
quarterly and receive a bulletin. What they see differs from a PIM pack in three ways:

- aggregates only: the force and its BCUs (the warehouse has no CSP or local authority level;
  when it does, it belongs here). No NPU, team or officer, no record and no crime reference:
  the units are chosen here by level and nothing below BCU is ever read into the bulletin;
- the quarter: by default the last complete financial quarter (the authority's cadence);
- plain English: every exception is explained in a sentence built from the same assessment's
  fields (value, change, target, SPC, peer position), never a verdict of its own.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from dashboard.analysis import assessment, metrics
from dashboard.data.facade import DataAccess
from dashboard.data.model import Unit
from dashboard.images import warm_up
from dashboard.packs.content import (
    Chart,
    ExceptionItem,
    Pack,
    PackError,
    Section,
    Table,
    check_unit,
    draw,
    source_line,
    unit_view,
)
from dashboard.pages import drilldown
from dashboard.periods import Period
from etl.measures.registry import MEASURES

LEVELS = ("force", "bcu")   # what the authority sees: aggregates, never below BCU
# (section title, what it tells the authority, measures)
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Victim satisfaction",
     "How satisfied people who reported a crime or incident were with the police, from the "
     "force's user satisfaction survey. The percentage is the share who said they were "
     "satisfied; the range shows how far it could differ by chance from the survey's sample.",
     ("satisfaction_whole_experience", "satisfaction_ease_of_contact", "satisfaction_actions_taken",
      "satisfaction_kept_informed", "satisfaction_treatment")),
    ("Crime",
     "Crimes recorded by the force in the quarter, compared with the same quarter last year.",
     ("total_crime", "crime_burglary", "crime_robbery", "crime_vehicle_crime", "crime_violent_crime")),
    ("Detections",
     "The share of recorded crimes detected by a sanction (a charge, caution, penalty notice or "
     "an offence taken into consideration).",
     ("sanction_detection_rate",)),
)
CHARTED = {"satisfaction_whole_experience", "total_crime", "sanction_detection_rate"}
GLOSSARY = (
    ("Significantly better or worse",
     "The change on the same period last year is larger than chance alone would explain "
     "(a statistical test at 95% confidence). Small changes are not called better or worse."),
    ("Range (95% interval)",
     "Where the true figure is likely to lie. Survey results and small numbers have wider ranges."),
    ("Target for the period",
     "The force's target restated for the same months as the figure, so that a quarter is "
     "compared with a quarter's share of the year's target."),
    ("Unusual pattern (SPC)",
     "Statistical process control: a run of months or a single month outside what the force's "
     "usual month-to-month variation would produce."),
    ("Most similar forces",
     "The Home Office's group of forces most like this one in population and area; a BCU is "
     "compared with the other BCUs of the force."),
    ("BCU", "Basic Command Unit: one of the force's local policing areas."),
)


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def plain_reason(row: dict[str, Any]) -> str:
    """One exception in plain English, from the assessment row's own fields."""
    m = MEASURES[row["measure_id"]]
    value = metrics.fmt(m, row["value"])
    unit = "" if m.unit == "%" else f" {m.unit}"
    parts = []
    if row.get("verdict") == "worse":
        before = metrics.fmt(m, row["previous"])
        parts.append(f"was {value}{unit} against {before} in the same period last year, a change "
                     "larger than chance would explain")
    if row.get("target_status") == "missed" and _num(row.get("target")) is not None:
        parts.append(f"missed its target of {metrics.fmt(m, row['target'])} for {row['target_period']}")
    elif row.get("outlook_status") in assessment.OUTLOOK_EXCEPTION and row.get("outlook_text"):
        parts.append(f"is at risk of missing its target ({row['outlook_text']})")
    if row.get("spc_verdict") == "special_cause_concern":
        parts.append("has shown an unusual run of worse months recently")
    outlier = str(row.get("peer_position") or "").endswith(assessment.PEER_OUTLIER)
    if row.get("peer_verdict") == "worse" and outlier:
        group = "similar forces" if row.get("level") == "force" else "the force's other BCUs"
        parts.append(f"is well outside the range of {group}")
    if not parts:
        parts.append(str(row.get("reasons") or "needs attention"))
    return f"{row['unit']} " + "; it ".join(parts)


def _table(rows: pd.DataFrame, caption: str) -> Table:
    out, flagged = [], []
    for r in rows.to_dict("records"):
        m = MEASURES[r["measure_id"]]
        interval = metrics.fmt_interval(m, r["lower"], r["upper"])
        target = "none set"
        if _num(r.get("target")) is not None:
            met = r.get("target_met")
            target = f"{'met' if met else 'missed' if met is not None else ''}: {metrics.fmt(m, r['target'])}"
        verdict = {"worse": "significantly worse", "better": "significantly better"}.get(
            str(r.get("verdict")), "no significant change")
        change = r.get("abs_change") if m.unit == "%" else r.get("pct_change")
        change_text = "" if _num(change) is None else (
            f"{change:+.1f} points" if m.unit == "%" else f"{change:+.1f}%")
        out.append((str(r["unit"]), metrics.fmt(m, r["value"]), interval, metrics.fmt(m, r["previous"]),
                    f"{change_text} ({verdict})" if change_text else verdict, target))
        flagged.append(bool(r["exception"]))
    return Table(caption, ("Area", "Figure", "Range (95%)", "Same period last year", "Change",
                           "Target for the period"), tuple(out), tuple(flagged), numeric=(1, 2, 3))


def build_bulletin(data: DataAccess, unit_id: str, period: Period, marking: str) -> Pack:
    """The bulletin for a force (or one BCU), for `period` (the CLI defaults to the quarter)."""
    unit = check_unit(data, unit_id)
    if unit.level not in LEVELS:
        raise PackError(f"the police authority bulletin covers a force or a BCU, not a {unit.level}")
    warm_up()
    base = unit_view(data, unit.unit_id, period)
    period = base.period
    synthetic = bool(unit.synthetic or (base.source is not None and base.source.source == "demo"))
    units: list[Unit] = [unit] + [c for c in data.children(unit.unit_id) if c.level in LEVELS]
    ids = [u.unit_id for u in units]
    every = [mid for _, _, mids in SECTIONS for mid in mids]
    own = assessment.assess(data, unit.unit_id, period.start, period.end)
    verdict = assessment.verdict_sentence(own, unit.title, assessment.period_words(period))
    frame = assessment.assess_many(data, ids, period.start, period.end, measure_ids=every)
    frame = frame[frame["verdict"] != "not loaded"]
    sections = []
    for title, intro, mids in SECTIONS:
        rows = frame[frame["measure_id"].isin(mids)]
        if rows.empty:
            continue
        tables, charts = [], []
        view = base
        for mid in mids:
            mrows = rows[rows["measure_id"] == mid]
            if mrows.empty:
                continue
            view = unit_view(data, unit.unit_id, period, mid)
            if mid in CHARTED and len(units) > 1:
                charts.append(_bar(data, view, synthetic))
            tables.append(_table(mrows, f"{MEASURES[mid].label}, {assessment.period_words(period)}"))
        sections.append(Section(title, intro, source_line(view), tuple(charts), tuple(tables)))
    # What needs attention: the headline exceptions of the force and its BCUs, in plain words.
    head = assessment.assess_many(data, ids, period.start, period.end)
    flagged = pd.concat([head, frame]).drop_duplicates(["unit_id", "measure_id"])
    flagged = flagged[flagged["exception"].astype(bool)]
    items = _attention(flagged, unit)
    force = data.path(unit.unit_id)[0].title
    return Pack(
        kind="authority", title=f"Police authority bulletin: {unit.title}",
        subtitle=f"Satisfaction, crime and detections, {assessment.period_words(period)}",
        force=force, unit=unit, period=period, period_label=assessment.period_words(period),
        marking=marking, synthetic=synthetic, as_of=base.as_of_text,
        source=base.source.label if base.source else "no data loaded",
        verdict=verdict, exceptions=items,
        exceptions_note=(f"Every measure where {unit.title} or one of its BCUs is significantly worse than "
                         "last year, missed or is at risk of missing its target, shows an unusual pattern, "
                         "or is well outside the range of comparable areas."),
        sections=tuple(sections), actions=None,
        glossary=GLOSSARY,
    )


def _attention(flagged: pd.DataFrame, unit: Unit) -> tuple[ExceptionItem, ...]:
    """One item per measure, as assessment.exceptions groups them: led by the highest area
    that has it (the force before its BCUs), explained in plain words, with where else."""
    depth = {lv: i for i, lv in enumerate(LEVELS)}
    ranked = flagged.assign(_d=flagged["level"].map(depth)).sort_values(["_d", "severity"],
                                                                      ascending=[True, False])
    items = []
    worst = ranked.groupby("measure_id", sort=False)["severity"].max().sort_values(ascending=False)
    for mid in worst.index:
        rows = ranked[ranked["measure_id"] == mid].to_dict("records")
        lead, others = rows[0], rows[1:]
        where = ("also in " + ", ".join(str(r["unit"]) for r in others)) if others else ""
        # the reason names the area, so the item does not repeat it in brackets
        items.append(ExceptionItem(str(lead["label"]), "", plain_reason(lead), where))
    return tuple(items)


def _bar(data: DataAccess, view: Any, synthetic: bool) -> Chart:
    """The drill-down's bar of the BCUs against the force (BCUs only: never below)."""
    kids = drilldown.process_children(data, view)
    kids = kids[kids["level"].isin(LEVELS)]
    title = drilldown.bar_title(kids, view)
    return draw(drilldown.create_bar(kids, view), title,
                f"{view.measure.label} by BCU, {view.period.label}: {title}.", synthetic)
