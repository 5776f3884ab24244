"""Protecting vulnerable people: domestic abuse, missing persons and registered sex offenders.

The PIM's PPU management information (HMIC 2007: domestic violence is "a standing item" at the
force PIM, L1059), in three sections. Each has a table of the unit's assessments for the view's
period (dashboard/analysis/assessment.py: the one verdict the scorecard, drill-down, Early
warning and the API read), each row linking to its drill-down, and a ranked bar of the unit's
BCUs or NPUs for the section's headline measure, with 95% intervals and the same verdicts.

These datasets name an NPU and nothing below (etl.sources.registry.recorded_down_to): a unit
below NPU shows "not recorded at team level", never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.analysis import assessment, metrics
from dashboard.components.common import (
    BLUE,
    GREY,
    SKY,
    VERDICT_STYLE,
    VERMILLION,
    csv_button,
    empty_figure,
    figure,
    finite,
    graph,
    page_header,
    plot_text,
    section,
    values,
    wrap_titles,
)
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import chart, export
from etl import hierarchy
from etl.measures.model import Measure
from etl.measures.registry import MEASURES
from etl.sources.registry import recorded_down_to

PATH = "/vulnerable-people"
TITLE = "Vulnerable people"


@dataclass(frozen=True)
class Theme:
    key: str            # section id, export names
    dataset: str        # the dataset every measure of the section reads
    title: str
    headline: str       # the measure the ranked bar shows (unless `focus` is ranked)
    measure_ids: tuple[str, ...]
    note: str
    # The measure the section leads with, ranked instead of `headline` when every unit below
    # has at least MIN_RANK_CASES cases in its denominator (high risk missing persons with a
    # review due are a handful a year in a BCU: ranked on so few, every interval spans most of
    # the scale).
    focus: str | None = None


MIN_RANK_CASES = 10


MISSING_REVIEWS_NOTE = (
    "Reviews overdue as of the extract date: of the high risk missing person reports made in the "
    "period that had at least one review due, the share with fewer reviews done than due; then the "
    "same for every risk category. The extract date is the as_at column of the missing persons "
    "extract (the date it was taken). Reviews are due weekly for medium and high risk cases, and "
    "for long-term cases at 28 days, three months, six months and then annually (HMIC L1562), "
    "counted up to when the person was found, or to the end of the extract date for a person "
    "still missing. No target is set in the seed: every review is due, so the aim is 0%."
)

THEMES: tuple[Theme, ...] = (
    Theme(
        "dv", "dv", "Domestic abuse", "dv_arrest_rate",
        ("dv_incidents", "dv_high_risk", "dv_arrest_rate", "dv_repeat_victims", "dv_form40a_24h"),
        "Domestic violence is \"a standing item\" at the force PIM (HMIC 2007, L1059). Positive "
        "action: the force's target keeps arrests at domestic incidents above 50% (data/targets.csv; "
        "HMIC L1059 reports \"an arrest rate of over 52% in 2006/07 compared with the MSF rate of "
        "33%\"). High risk cases go to the PPU's specialist investigators; the Form 40a (vulnerable "
        "person notification) is due within 24 hours (L1237, L1247).",
    ),
    Theme(
        "missing", "missing", "Missing persons", "missing_reviews_overdue",
        ("missing_reports", "missing_high_risk", "missing_medium_risk", "missing_low_risk",
         "missing_high_reviews_overdue", "missing_reviews_overdue"),
        "Missing person reports by the month reported, 'by risk category' (HMIC L1514). "
        + MISSING_REVIEWS_NOTE,
        focus="missing_high_reviews_overdue",
    ),
    Theme(
        "rso", "rso", "Registered sex offenders", "rso_visits_overdue",
        ("rso_managed", "rso_mappa_level_1", "rso_mappa_level_2", "rso_mappa_level_3",
         "rso_visits_overdue", "rso_visits_overdue_low", "rso_visits_overdue_medium",
         "rso_visits_overdue_high", "rso_visits_overdue_very_high", "rso_next_visit_missing",
         "solo_caseload"),
        "RSOs under management at the snapshot of the period's last month, by MAPPA level. Home "
        "visits are due \"low risk - 12 monthly; medium - six monthly; high - three monthly; and very "
        "high - every month\" (HMIC L1462); a visit is overdue when its due date is before the "
        "snapshot. SOLO caseload is measured against the \"notional constabulary target ratio of "
        "1:50\" (HMIC L1429), the measure's own standard: RSOs per SOLO named in the records, "
        "counted once each. SOLOs work across a BCU, so the caseload means most at force and BCU "
        "level.",
    ),
)
THEME = {t.key: t for t in THEMES}


# -- recorded levels ---------------------------------------------------------------------------------


def not_recorded(theme: Theme, level_id: str | None) -> str | None:
    """'... not recorded at team level (records go down to NPU level only)' when `level_id` is
    below the lowest level the theme's dataset records; None where it is recorded."""
    if level_id is None:
        return None
    lowest = recorded_down_to(theme.dataset)
    if hierarchy.depth(level_id) <= hierarchy.depth(lowest):
        return None
    return (f"{theme.title}: not recorded at {hierarchy.level(level_id).label} level (records go down "
            f"to {hierarchy.level(lowest).label} level only)")


# -- the unit's table --------------------------------------------------------------------------------


def process_table(data: DataAccess, view: View, theme: Theme) -> pd.DataFrame:
    """The unit's assessments of the theme's measures for the period, in the theme's order
    (empty where the unit's level is not recorded)."""
    if not_recorded(theme, view.unit.level):
        return pd.DataFrame(columns=assessment.ASSESSMENT_COLUMNS)
    df = assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end,
                           measure_ids=list(theme.measure_ids))
    order = {m: i for i, m in enumerate(theme.measure_ids)}
    df = df.assign(_o=df["measure_id"].map(order)).sort_values("_o", kind="stable")
    return df.drop(columns=["_o"]).reset_index(drop=True)


def standard_text(row: Any) -> str:
    """The target or standard of a row: the assessment's restated target when there is one,
    else what the measure says about its target, else 'none set'."""
    m = MEASURES[row["measure_id"]]
    if row["target_text"]:
        return str(row["target_text"])
    return f"none set ({m.target_source})" if m.target_source else "none set"


def _verdict(row: Any) -> Any:
    if row["verdict"] == "not loaded":
        return html.Span("not loaded", className="text-body-secondary")
    return html.Div([
        dbc.Badge("Exception", color="danger") if bool(row["exception"]) else
        html.Span("No exception", className="text-body-secondary"),
        html.Div(str(row["verdict"]), className="small"),
    ])


def create_table(df: pd.DataFrame, view: View, theme: Theme) -> Any:
    header = html.Thead(html.Tr([
        html.Th("Measure"),
        html.Th("Value (95% interval)", className="text-end"),
        html.Th("Same period last year", className="text-end"),
        html.Th("Change on last year (test)"),
        html.Th("Target or standard"),
        html.Th("Verdict"),
        html.Th("Why (exception reasons)"),
    ]))
    body = []
    for row in df.to_dict("records"):
        m = MEASURES[row["measure_id"]]
        loaded = row["verdict"] != "not loaded"
        style = VERDICT_STYLE.get(row["verdict"], {})
        body.append(html.Tr([
            html.Td([
                dcc.Link(m.label, href=view.state.href("/drill-down", measure=m.id), className="fw-semibold",
                         id={"type": "vulnerable-drill", "measure": m.id}),
                html.Div(metrics.unit_text(m), className="small text-body-secondary"),
            ]),
            html.Td([
                html.Div(metrics.fmt(m, row["value"]) if loaded else "–", className="fs-6"),
                html.Div(metrics.fmt_interval(m, row["lower"], row["upper"]) if loaded else "",
                         className="small text-body-secondary"),
            ], className="text-end"),
            html.Td(metrics.fmt(m, row["previous"]) if loaded else "–", className="text-end"),
            html.Td(html.Span(row["change_text"] or "", style=style), className="small"),
            html.Td(standard_text(row), className="small"),
            html.Td(_verdict(row), id={"type": "vulnerable-verdict", "measure": m.id}),
            html.Td(row["reasons"] or "", className="small"),
        ], className="exception-row" if bool(row["exception"]) else None))
    return dbc.Table([header, html.Tbody(body)], hover=True, responsive=True, size="sm",
                     className="align-middle mb-2", id=f"vulnerable-{theme.key}-table")


# -- the children's ranked bar -------------------------------------------------------------------------


def child_level(data: DataAccess, view: View) -> str | None:
    kids = data.children(view.unit.unit_id)
    return kids[0].level if kids else hierarchy.below(view.unit.level)


def _children(data: DataAccess, view: View, theme: Theme, measure_id: str) -> pd.DataFrame:
    level = child_level(data, view)
    kids = data.children(view.unit.unit_id)
    if not kids or not_recorded(theme, level) or not_recorded(theme, view.unit.level):
        return pd.DataFrame(columns=assessment.ASSESSMENT_COLUMNS)
    df = assessment.assess_many(data, [u.unit_id for u in kids], view.period.start, view.period.end,
                                measure_ids=[measure_id])
    return df[df["verdict"] != "not loaded"]


def enough_to_rank(df: pd.DataFrame, minimum: int = MIN_RANK_CASES) -> bool:
    """Whether every unit of `df` (assessments of one proportion) has at least `minimum` cases
    in its denominator."""
    den = pd.to_numeric(df["denominator"], errors="coerce").fillna(0)
    return not df.empty and bool((den >= minimum).all())


def _case_counts(data: DataAccess, view: View, theme: Theme, measure_id: str) -> pd.DataFrame:
    """Each unit below's denominator of `measure_id` (unit, level, denominator), from
    DataAccess.scorecard: the counts without the assessments' peer comparisons, which deciding
    what to rank does not need."""
    columns = ["unit", "level", "denominator"]
    kids = data.children(view.unit.unit_id)
    if not kids or not_recorded(theme, child_level(data, view)) or not_recorded(theme, view.unit.level):
        return pd.DataFrame(columns=columns)
    ids = [u.unit_id for u in kids]
    # a preset period: from the units' stored tables; else every unit's numbers in one read per
    # source (one query per unit before)
    found = assessment.stored_numbers(data, ids, view.period.start, view.period.end, (measure_id,))
    if found is None:
        cards = data.scorecards(ids, view.period.start, view.period.end, (measure_id,))
        found = pd.concat([c.assign(unit_id=uid) for uid, c in zip(ids, cards, strict=True)],
                          ignore_index=True)
    dens = {uid: (d, v) for uid, d, v in zip(found["unit_id"], found["denominator"], found["verdict"],
                                               strict=True)}
    rows = [(u.title, u.level, dens[u.unit_id][0]) for u in kids
            if u.unit_id in dens and dens[u.unit_id][1] != "not loaded"]
    return pd.DataFrame(rows, columns=columns)


def ranked_measure(data: DataAccess, view: View, theme: Theme) -> tuple[str, str | None]:
    """The measure the theme's bar ranks the units below by: its focus when every unit has
    enough cases, else its headline; and, when the focus gave way, why, with the counts."""
    if theme.focus is None:
        return theme.headline, None
    kids = _case_counts(data, view, theme, theme.focus)
    if kids.empty or enough_to_rank(kids, MIN_RANK_CASES):
        return (theme.focus if not kids.empty else theme.headline), None
    focus, head = MEASURES[theme.focus], MEASURES[theme.headline]
    plural = hierarchy.level(str(kids["level"].iloc[0])).plural
    counts = ", ".join(f"{u} {int(d)}" for u, d in zip(
        kids["unit"], pd.to_numeric(kids["denominator"], errors="coerce").fillna(0), strict=True))
    return theme.headline, (
        f"The chart ranks the {plural} on {head.label[0].lower() + head.label[1:]}: "
        f"{focus.denominator} are too few to rank them ({counts}; at least {MIN_RANK_CASES} each "
        f"needed). The table gives {focus.label[0].lower() + focus.label[1:]} for {view.unit.title}.")


def process_children(data: DataAccess, view: View, theme: Theme) -> pd.DataFrame:
    """The assessments of the unit's children (BCUs, NPUs) for the ranked measure
    (`ranked_measure`), worst first (by the measure's polarity; highest first when it has
    none)."""
    measure_id, _ = ranked_measure(data, view, theme)
    df = _children(data, view, theme, measure_id)
    low_first = MEASURES[measure_id].polarity == "up"
    df = df.sort_values("value", ascending=low_first, na_position="last", kind="stable")
    return df.reset_index(drop=True)


def bar_title(df: pd.DataFrame, m: Measure, level_plural: str) -> str:
    """The finding: which child is worst (or highest), and how many are exceptions."""
    top = df.iloc[0]
    word = {"up": "lowest", "down": "highest"}.get(m.polarity, "highest")
    n = int(df["exception"].astype(bool).sum())
    exc = (f"{n} of {len(df)} {level_plural} {'is' if n == 1 else 'are'} an exception" if n
           else f"none of the {len(df)} {level_plural} is an exception")
    return f"{m.label}: {word} in {top['unit']} ({metrics.fmt(m, top['value'])}); {exc}"


_GROUPS = (  # (verdicts, legend, colour, hatching): the words carry the meaning, not the colour
    (("worse",), "Significantly worse than last year (hatched)", VERMILLION, "/"),
    (("better",), "Significantly better than last year", BLUE, ""),
)


def create_bar(df: pd.DataFrame, view: View, theme: Theme, as_of: str, empty: str) -> dict[str, Any]:
    if df.empty:
        return empty_figure(empty)
    m = MEASURES[str(df["measure_id"].iloc[0])]
    plural = hierarchy.level(str(df["level"].iloc[0])).plural
    d = df.iloc[::-1].reset_index(drop=True)  # plotly draws the first category at the bottom
    d["label"] = [plot_text(u) + (" ⚠" if bool(e) else "")
                  for u, e in zip(d["unit"], d["exception"], strict=True)]
    groups = [*_GROUPS, (None, "No significant change on last year", SKY, "")]
    done: set[int] = set()
    traces = []
    for codes, legend, colour, pattern in groups:
        mask = d["verdict"].isin(codes) if codes else ~d.index.isin(list(done))
        part = d[mask]
        done |= set(part.index)
        if part.empty:
            continue
        marker: dict[str, Any] = {"color": colour, "line": {"color": "#333333", "width": 0.5}}
        if pattern:
            marker["pattern"] = {"shape": pattern, "fgcolor": "#ffffff", "fillmode": "overlay",
                                 "solidity": 0.35}
        traces.append({
            "type": "bar", "orientation": "h", "name": plot_text(legend), "marker": marker,
            "y": list(part["label"]), "x": values(part["value"]),
            "error_x": {"type": "data", "symmetric": False, "color": "#333333", "thickness": 1.2,
                        "array": values(part["upper"] - part["value"]),
                        "arrayminus": values(part["value"] - part["lower"])},
            "customdata": [[u, plot_text(c or ""), plot_text(r or "no exception")]
                           for u, c, r in zip(part["unit_id"], part["change_text"], part["reasons"],
                                              strict=True)],
            "hovertemplate": "%{y}: %{x:,.4~g} " + plot_text(m.unit)
            + "<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>",
        })
    shapes, annotations = [], []
    targets = {float(t) for t in df["target"] if finite(t)}
    if len(targets) == 1:   # one target for every bar (restated for the period): a dashed line
        target = targets.pop()
        shapes.append({"type": "line", "x0": target, "x1": target, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": GREY, "dash": "dash", "width": 1.5}})
        annotations.append({"x": target, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11, "color": "#444444"},
                            "text": plot_text(f"target {metrics.fmt(m, target)}")})
    order = "lowest first" if m.polarity == "up" else "highest first"
    title = bar_title(df, m, plural)
    subtitle = (f"{m.label}, {view.period.label}, {as_of}; {plural} of {view.unit.title}, {order}, "
                "95% intervals; ⚠ = exception")
    fig = figure(
        traces,
        title,
        subtitle,
        height=max(250, 150 + 28 * len(df)),
        xaxis={"title": {"text": plot_text(metrics.unit_text(m))}, "rangemode": "tozero"},
        yaxis={"categoryorder": "array", "categoryarray": list(d["label"])},
        barmode="overlay", bargap=0.25, shapes=shapes, annotations=annotations,
        margin={"l": 10, "r": 20, "t": 70, "b": 84},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
    )
    return wrap_titles(fig, title, [subtitle])   # wrapped to fit an A4 page


# -- exports -----------------------------------------------------------------------------------------


EXPORT_COLUMNS = ["unit_id", "unit", "measure_id", "label", "period_start", "period_end", "numerator",
                  "denominator", "value", "lower", "upper", "previous", "change_text", "p_value", "verdict",
                  "target", "target_text", "peer_text", "exception", "reasons"]


def _exporter(theme: Theme, children: bool) -> Any:
    """The rows drawn, and a `note`: where nothing is recorded at the level asked for, one row
    for the view's unit saying so (a CSV of the headers alone would read as zero)."""
    def run(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
        df = process_children(data, view, theme) if children else process_table(data, view, theme)
        out = df[EXPORT_COLUMNS].copy()
        out["note"] = ""
        if out.empty:
            why = (not_recorded(theme, view.unit.level)
                   or (not_recorded(theme, child_level(data, view)) if children else None)
                   or "no units below this one")
            out = pd.DataFrame([{**dict.fromkeys(EXPORT_COLUMNS), "unit_id": view.unit.unit_id,
                                 "unit": view.unit.title,
                                 "measure_id": ranked_measure(data, view, theme)[0] if children else "",
                                 "period_start": view.period.start, "period_end": view.period.end,
                                 "note": why}])
        return out, f"vulnerable-{theme.key}" + ("-children" if children else "")
    return run


for _t in THEMES:
    export(f"vulnerable-{_t.key}")(_exporter(_t, False))
    export(f"vulnerable-{_t.key}-children")(_exporter(_t, True))


# -- the page ----------------------------------------------------------------------------------------


def as_of_text(data: DataAccess, view: View, theme: Theme) -> str:
    source = data.source_for(view.unit.force_id, theme.dataset)
    return f"data as of {source.as_of:%-d %b %Y}" if source is not None else "no data loaded"


def bar_figure(data: DataAccess, view: View, theme: Theme) -> dict[str, Any]:
    """The theme's chart of the units below, as the page draws it and its image download."""
    kids = process_children(data, view, theme)
    level = child_level(data, view)
    empty = (not_recorded(theme, level) or data.hidden_children_note(view.unit.unit_id)
             or "No units below this one.")
    return create_bar(kids, view, theme, as_of_text(data, view, theme), empty)


def _chart(theme: Theme) -> Any:
    def fn(data: DataAccess, view: View) -> dict[str, Any]:
        return bar_figure(data, view, theme)

    return fn


for _t in THEMES:
    chart(f"vulnerable-{_t.key}-bar", measure=_t.headline)(_chart(_t))


def theme_section(data: DataAccess, view: View, theme: Theme) -> Any:
    as_of = as_of_text(data, view, theme)
    here = not_recorded(theme, view.unit.level)
    period = assessment.period_words(view.period)
    title = f"{theme.title}, {view.unit.title}, {period}"
    if here:
        return section(title, html.P(here, className="mb-0", id=f"vulnerable-{theme.key}-not-recorded"),
                       card_id=f"vulnerable-{theme.key}")
    df = process_table(data, view, theme)
    table = create_table(df, view, theme) if not df.empty else html.P("No data.")
    bar = graph(f"vulnerable-{theme.key}-bar", bar_figure(data, view, theme))
    _, why = ranked_measure(data, view, theme)
    return section(
        title,
        [html.P(f"{as_of}.", className="small text-body-secondary mb-1"), table,
         html.Div([bar, html.P(why, className="small text-body-secondary mb-0",
                               id=f"vulnerable-{theme.key}-ranked") if why else None],
                  id=f"vulnerable-{theme.key}-children")],
        note=theme.note,
        action=[csv_button(f"vulnerable-{theme.key}", "Table CSV"),
                csv_button(f"vulnerable-{theme.key}-children", "Chart CSV")],
        card_id=f"vulnerable-{theme.key}",
    )


def layout(data: DataAccess, view: View) -> list[Any]:
    return [
        *page_header(TITLE, view, with_measure=False),
        controls(data, view),
        html.P(
            "Protecting vulnerable people: the PPU management information for the PIM. Each figure is "
            "the assessment every page shows: the value with its 95% interval (exact Poisson for counts, "
            "Wilson for percentages), the same period last year and the change with its exact test, the "
            "target or standard, and whether it is an exception (worse than last year, an SPC special "
            "cause of concern, a target missed, or an outlier among its peers). Click a measure for its "
            "drill-down.",
            className="small text-body-secondary",
        ),
        *[theme_section(data, view, t) for t in THEMES],
    ]
