"""User satisfaction: the Home Office survey's five questions and its incident types, the
whole experience by BCU or NPU, and its quarterly (or monthly) trend.

HMIC (2007): "User satisfaction results are included in force performance meetings" and the
police authority "reviews user satisfaction results on a quarterly basis" (L727). Every
percentage, interval, comparison with last year and MSF/peer position here is the one
assessment the rest of the app uses (dashboard/analysis/assessment.py); below
MIN_RESPONDENTS a row says "too few responses" instead of a percentage verdict.

Each chart has a `process_*` function (numbers) and a `create_*` function (the figure).
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import dcc, html

from dashboard.analysis import assessment
from dashboard.components.axes import ticks
from dashboard.components.cells import msf_cell
from dashboard.components.common import (
    BLUE,
    GREY,
    VERDICT_STYLE,
    VERMILLION,
    csv_button,
    empty_figure,
    figure,
    graph,
    page_header,
    plot_text,
    section,
    values,
    wrap_titles,
)
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import Unit, View
from dashboard.exports import chart, export
from etl import hierarchy
from etl.sources.registry import recorded_down_to

PATH = "/satisfaction"
TITLE = "Satisfaction"
MIN_RESPONDENTS = 50   # below this many respondents a percentage is not judged
WHOLE = "satisfaction_whole_experience"

# The survey's five questions, in the survey's order; the whole experience last.
QUESTIONS: dict[str, str] = {
    "satisfaction_ease_of_contact": "Ease of contact",
    "satisfaction_actions_taken": "Actions taken",
    "satisfaction_kept_informed": "Kept informed",
    "satisfaction_treatment": "Treatment",
    WHOLE: "Whole experience",
}
INCIDENT_TYPES: dict[str, str] = {
    "satisfaction_whole_experience_burglary": "Burglary",
    "satisfaction_whole_experience_vehicle": "Vehicle crime",
    "satisfaction_whole_experience_violent": "Violent crime",
    "satisfaction_whole_experience_racist": "Racist incident",
    "satisfaction_whole_experience_asb": "Anti-social behaviour",
}
HMIC_WORDS = (
    "HMIC (2007): \"User satisfaction results are included in force performance meetings\"; "
    "\"the police authority reviews user satisfaction results on a quarterly basis and holds the "
    "force to account on user satisfaction performance as well as crime and detection "
    "performance\" (L727). Satisfied: completely, very or fairly satisfied (the top three points "
    "of the Home Office 7-point scale); \"don't know\" and not asked are left out of the "
    "respondents."
)


def too_few_text(n: float) -> str:
    return f"too few responses (n = {int(n) if _finite(n) else 0}; at least {MIN_RESPONDENTS} needed)"


def _finite(v: Any) -> bool:
    try:
        return v is not None and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def pct(v: float) -> str:
    return f"{v:.0f}%" if _finite(v) else "–"


def pct1(v: float) -> str:
    return f"{v:.1f}%" if _finite(v) else "–"


# -- numbers -------------------------------------------------------------------------------------


def _shape(frame: pd.DataFrame, labels: dict[str, str], key: str = "measure_id") -> pd.DataFrame:
    """The assessment's rows with the page's words: a short label, whether there are enough
    respondents to judge, and the texts the table shows."""
    out = frame.copy()
    if key == "measure_id":
        out = out.set_index("measure_id").reindex(list(labels)).reset_index()
        out["item"] = [labels[m] for m in out["measure_id"]]
    else:
        out["item"] = [labels.get(u, u) for u in out["unit_id"]]
    den = pd.to_numeric(out["denominator"], errors="coerce")
    out["respondents"] = den.fillna(0).astype(int)
    out["enough"] = den.fillna(0) >= MIN_RESPONDENTS
    loaded = out["verdict"].notna() & (out["verdict"] != "not loaded")
    out["satisfied_text"] = [
        ("no survey loaded" if not ok else pct1(v) if en else too_few_text(n))
        for ok, en, v, n in zip(loaded, out["enough"], out["value"], den, strict=True)
    ]
    out["interval_text"] = [
        f"{pct1(lo)} to {pct1(hi)}" if en and _finite(lo) else ""
        for en, lo, hi in zip(out["enough"], out["lower"], out["upper"], strict=True)
    ]
    out["previous_text"] = [pct1(v) for v in out["previous"]]
    return out


def process_questions(data: DataAccess, view: View) -> pd.DataFrame:
    """The five questions' assessments for the view's unit and period, in the survey's order."""
    p = view.period
    frame = assessment.assess(data, view.unit.unit_id, p.start, p.end, measure_ids=list(QUESTIONS))
    return _shape(frame, QUESTIONS)


def process_types(data: DataAccess, view: View) -> pd.DataFrame:
    """Whole-experience satisfaction by incident type, with the whole experience of every
    respondent last (the reference)."""
    p = view.period
    labels = {**INCIDENT_TYPES, WHOLE: "All incident types"}
    frame = assessment.assess(data, view.unit.unit_id, p.start, p.end, measure_ids=list(labels))
    return _shape(frame, labels)


def child_units(data: DataAccess, view: View) -> list[Unit]:
    """The unit's children where the survey records that level (BCUs, NPUs)."""
    below = hierarchy.below(view.unit.level)
    if below is None or hierarchy.depth(below) > hierarchy.depth(recorded_down_to("satisfaction")):
        return []
    return sorted(data.children(view.unit.unit_id), key=lambda u: u.name)


def process_children(data: DataAccess, view: View) -> pd.DataFrame:
    """Whole-experience satisfaction of each child unit (their assessments), by name."""
    units = child_units(data, view)
    if not units:
        return _shape(pd.DataFrame(columns=assessment.ASSESSMENT_COLUMNS), {}, key="unit_id")
    p = view.period
    frame = assessment.assess_many(data, [u.unit_id for u in units], p.start, p.end, measure_ids=[WHOLE])
    return _shape(frame, {u.unit_id: u.title for u in units}, key="unit_id")


def trend_grain(view: View) -> str:
    """The police authority's cadence is the quarter; months when the view asks for them."""
    return "quarter" if view.grain in ("quarter", "fy") else "month"


def process_trend(data: DataAccess, view: View) -> pd.DataFrame:
    """The whole experience bucket by bucket at `trend_grain`; where months hold too few
    respondents to judge (an NPU's month often does), quarters instead. Column `grain` says
    which was drawn."""
    grain = trend_grain(view)
    df = _series(data, view, grain)
    if grain == "month" and int(df["enough"].sum()) < 2:
        df = _series(data, view, "quarter")
    return df


def _series(data: DataAccess, view: View, grain: str) -> pd.DataFrame:
    p = view.period
    df = data.series(WHOLE, view.unit.unit_id, p.start, p.end, grain).copy()
    den = pd.to_numeric(df["denominator"], errors="coerce").fillna(0)
    df["enough"] = den >= MIN_RESPONDENTS
    df["grain"] = grain
    return df


# -- findings ------------------------------------------------------------------------------------


def weakest_title(df: pd.DataFrame) -> str:
    """Which question drives the whole-experience result: the lowest of the four questions
    with enough respondents, against the whole experience."""
    ok = df[df["enough"] & df["value"].notna()]
    drivers = ok[ok["measure_id"] != WHOLE]
    if drivers.empty:
        return f"Too few responses to compare the questions (at least {MIN_RESPONDENTS} needed)"
    low = drivers.loc[drivers["value"].astype(float).idxmin()]
    whole = ok[ok["measure_id"] == WHOLE]
    against = f" against {pct(float(whole['value'].iloc[0]))} for the whole experience" if len(whole) else ""
    return f"{low['item']} is the weakest question: {pct(float(low['value']))}{against}"


def types_title(df: pd.DataFrame) -> str:
    ok = df[df["enough"] & df["value"].notna()]
    kinds = ok[ok["measure_id"] != WHOLE]
    if kinds.empty:
        return f"Too few responses to compare incident types (at least {MIN_RESPONDENTS} needed)"
    low = kinds.loc[kinds["value"].astype(float).idxmin()]
    whole = ok[ok["measure_id"] == WHOLE]
    against = f" against {pct(float(whole['value'].iloc[0]))} for all respondents" if len(whole) else ""
    return f"{low['item']} respondents are the least satisfied: {pct(float(low['value']))}{against}"


def children_title(df: pd.DataFrame, view: View, reference: float) -> str:
    ok = df[df["enough"] & df["value"].notna()]
    if ok.empty:
        return f"Too few responses to compare the units below {view.unit.title}"
    low = ok.loc[ok["value"].astype(float).idxmin()]
    words = f"{low['item']} has the lowest whole-experience satisfaction: {pct(float(low['value']))}"
    if _finite(reference):
        words += f" against {pct(reference)} for {view.unit.title}"
        if float(low["upper"]) < reference:
            words += " (its 95% interval lies wholly below)"
    return words


def trend_title(df: pd.DataFrame) -> str:
    ok = df[df["enough"] & df["value"].notna()]
    if len(ok) < 2:
        return "Too few periods with enough responses to show a trend"
    a, b = ok.iloc[0], ok.iloc[-1]
    verb = "rose" if b["value"] > a["value"] else "fell" if b["value"] < a["value"] else "held"
    overlap = a["lower"] <= b["upper"] and b["lower"] <= a["upper"]
    tail = "; the 95% intervals overlap" if overlap else "; the 95% intervals do not overlap"
    return (f"Whole-experience satisfaction {verb} from {pct(a['value'])} in {a['label']} "
            f"to {pct(b['value'])} in {b['label']}{tail}")


# -- figures -------------------------------------------------------------------------------------


def _subtitle(view: View, what: str) -> str:
    return (f"{what}, {assessment.period_words(view.period)}, {view.as_of_text}; % satisfied with "
            f"95% Wilson intervals; fewer than {MIN_RESPONDENTS} respondents not shown")


def create_dots(df: pd.DataFrame, view: View, title: str, what: str,
                reference: float | None = None, ref_label: str = "") -> dict[str, Any]:
    """Horizontal dots with 95% intervals, top row first; rows with too few respondents say so
    in their label and have no dot."""
    if df.empty:
        return empty_figure("No units below this one with survey results.")
    # only the columns drawn: the row masks below then take 7 columns, not the assessment's
    # ~70 (its text and list columns made the masks most of the page's pandas time)
    d = df[["item", "respondents", "enough", "value", "exception", "lower", "upper"]].iloc[::-1] \
        .reset_index(drop=True)
    names = [plot_text(f"{n} (n = {r:,})") if en else plot_text(f"{n}: too few responses")
             for n, r, en in zip(d["item"], d["respondents"], d["enough"], strict=True)]
    shown = d[d["enough"] & d["value"].notna()]
    labels = [names[i] for i in shown.index]
    exc = shown["exception"].fillna(False).astype(bool)
    traces: list[dict[str, Any]] = []
    for flag, name, colour, symbol in ((False, "% satisfied", BLUE, "circle"),
                                       (True, "% satisfied: an exception (see the table)", VERMILLION,
                                        "diamond")):
        part = shown[exc == flag]
        if part.empty:
            continue
        traces.append({
            "type": "scatter", "mode": "markers",
            "x": values(part["value"].astype(float)),
            "y": [labels[list(shown.index).index(i)] for i in part.index],
            "name": name,
            "marker": {"color": colour, "size": 10, "symbol": symbol},
            "error_x": {"type": "data", "symmetric": False,
                        "array": values(part["upper"].astype(float) - part["value"].astype(float)),
                        "arrayminus": values(part["value"].astype(float) - part["lower"].astype(float)),
                        "color": "#333333", "thickness": 1.2},
            "customdata": [[pct1(lo), pct1(hi)] for lo, hi in zip(part["lower"], part["upper"], strict=True)],
            "hovertemplate": "%{y}: %{x:.1f}% satisfied<br>95% interval %{customdata[0]} to "
                             "%{customdata[1]}<extra></extra>",
        })
    shapes, annotations = [], []
    if reference is not None and _finite(reference):
        shapes.append({"type": "line", "x0": reference, "x1": reference, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": GREY, "dash": "dash", "width": 1.5}})
        annotations.append({"x": reference, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11, "color": "#444444"},
                            "text": plot_text(f"{ref_label}: {pct1(reference)}")})
    fig = figure(
        traces, "", "",
        height=max(260, 150 + 34 * len(d)),
        xaxis={"title": {"text": "% satisfied"}, "ticksuffix": "%", "showgrid": True, "gridcolor": "#eeeeee"},
        yaxis={"categoryorder": "array", "categoryarray": names, "tickvals": names, "ticktext": names,
               "type": "category"},
        shapes=shapes, annotations=annotations,
        margin={"l": 10, "r": 20, "t": 62, "b": 70},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
    )
    # every category on the axis, dot or none (a row with too few responses keeps its place)
    fig["data"].insert(0, {"type": "scatter", "mode": "markers", "x": [None] * len(names), "y": names,
                           "showlegend": False, "hoverinfo": "skip"})
    return wrap_titles(fig, title, [_subtitle(view, what)], room_above=16 if shapes else 0)


def create_trend(df: pd.DataFrame, view: View) -> dict[str, Any]:
    if df.empty or not df["value"].notna().any():
        return empty_figure("No survey results in this period.")
    grain = str(df["grain"].iloc[0])
    x = [d.isoformat() for d in df["period_start"]]
    ok = df["enough"] & df["value"].notna()
    part = df[ok]
    traces = [{
        "type": "scatter", "mode": "lines+markers",
        "x": [x[i] for i in part.index], "y": values(part["value"].astype(float)),
        "name": "Whole experience, % satisfied",
        "line": {"color": BLUE, "width": 2}, "marker": {"color": BLUE, "size": 8},
        "error_y": {"type": "data", "symmetric": False,
                    "array": values(part["upper"].astype(float) - part["value"].astype(float)),
                    "arrayminus": values(part["value"].astype(float) - part["lower"].astype(float)),
                    "color": "#555555", "thickness": 1},
        "customdata": [[lbl, int(n)] for lbl, n in zip(part["label"], part["denominator"], strict=True)],
        "hovertemplate": "%{customdata[0]}: %{y:.1f}% satisfied (n = %{customdata[1]:,})<extra></extra>",
    }]
    few = df[~ok & df["value"].notna()]
    if not few.empty:
        traces.append({
            "type": "scatter", "mode": "markers", "x": [x[i] for i in few.index],
            "y": values(few["value"].astype(float)),
            "name": f"Too few responses (under {MIN_RESPONDENTS}): not judged",
            "marker": {"color": GREY, "size": 8, "symbol": "circle-open"},
            "hovertemplate": "%{x}: too few responses<extra></extra>",
        })
    per = "Quarter by quarter (the police authority's cadence)" if grain == "quarter" else "Month by month"
    if grain != trend_grain(view):
        per += f", as months hold fewer than {MIN_RESPONDENTS} respondents"
    fig = figure(
        traces, "", "", height=360,
        xaxis={**ticks(list(df["period_start"]), grain, 620), "title": {"text": ""}},
        yaxis={"title": {"text": "% satisfied"}, "ticksuffix": "%", "showgrid": True, "gridcolor": "#eeeeee"},
        margin={"l": 60, "r": 20, "t": 62, "b": 70},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
    )
    return wrap_titles(fig, trend_title(df), [_subtitle(view, f"{view.unit.title}, {per.lower()}")])


# -- tables --------------------------------------------------------------------------------------


def _change_cell(row: Any) -> Any:
    if not row["enough"]:
        return html.Span("not judged", className="text-body-secondary small")
    return html.Span(row["change_text"] or "–", style=VERDICT_STYLE.get(row["verdict"], {}))


def _peer_cell(row: Any, view: View) -> Any:
    if not row["enough"]:
        return html.Span("not judged", className="text-body-secondary small")
    return msf_cell(row, view)


def create_table(df: pd.DataFrame, view: View, first: str, table_id: str) -> Any:
    head = html.Thead(html.Tr([
        html.Th(first), html.Th("% satisfied", className="text-end"),
        html.Th("95% interval (Wilson)", className="text-end"),
        html.Th("Respondents", className="text-end"),
        html.Th("Same period last year", className="text-end"),
        html.Th("Change on last year (test)"),
        html.Th("MSF position" if view.unit.level == "force" else "Peer position"),
    ]))
    body = []
    for i, row in df.iterrows():
        exception = bool(row["exception"]) and bool(row["enough"])
        body.append(html.Tr([
            html.Td([html.Span(row["item"], className="fw-semibold"),
                     html.Div([dbc.Badge("Exception", color="danger", className="me-1"),
                               html.Span(row["reasons"], className="small")],
                              className="mt-1") if exception else None]),
            html.Td(row["satisfied_text"], className="text-end" if row["enough"] else "small"),
            html.Td(row["interval_text"], className="text-end small"),
            html.Td(f"{row['respondents']:,}", className="text-end"),
            html.Td(row["previous_text"], className="text-end"),
            html.Td(_change_cell(row)),
            html.Td(_peer_cell(row, view)),
        ], className="exception-row" if exception else None, id={"type": table_id, "index": int(i)}))
    return dbc.Table([head, html.Tbody(body)], hover=True, responsive=True,
                     className="align-middle mb-0 small", id=table_id)


# -- exports -------------------------------------------------------------------------------------

EXPORT_COLUMNS = ["item", "measure_id", "unit_id", "unit", "period_label", "numerator", "respondents",
                  "enough", "value", "lower", "upper", "satisfied_text", "previous", "change_text", "verdict",
                  "peer_text", "target_text", "exception", "reasons"]


@export("satisfaction-questions")
def export_questions(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    return process_questions(data, view)[EXPORT_COLUMNS], "satisfaction-questions"


@export("satisfaction-types")
def export_types(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    return process_types(data, view)[EXPORT_COLUMNS], "satisfaction-incident-types"


@export("satisfaction-children")
def export_children(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    """The children drawn, and the unit itself: the reference line they are drawn against."""
    kids = process_children(data, view)[EXPORT_COLUMNS].assign(role="unit below")
    own = process_questions(data, view)
    own = own[own["measure_id"] == WHOLE].assign(item=view.unit.title)
    own = own[EXPORT_COLUMNS].assign(role="reference")
    return pd.concat([own, kids], ignore_index=True), "satisfaction-by-unit"


@export("satisfaction-trend")
def export_trend(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    df = process_trend(data, view)
    return df, f"satisfaction-{df['grain'].iloc[0] if len(df) else trend_grain(view)}-trend"


# -- charts as images (the same figures the page draws) -------------------------------------------


def whole_value(questions: pd.DataFrame) -> float:
    whole = questions[questions["measure_id"] == WHOLE]
    return float(whole["value"].iloc[0]) if len(whole) and bool(whole["enough"].iloc[0]) else math.nan


@chart("satisfaction-questions-chart", measure="satisfaction")
def questions_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return _questions_dots(process_questions(data, view), view)


def _questions_dots(questions: pd.DataFrame, view: View) -> dict[str, Any]:
    return create_dots(questions, view, weakest_title(questions), view.unit.title, whole_value(questions),
                       "Whole experience")


@chart("satisfaction-trend", measure=WHOLE)
def trend_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return create_trend(process_trend(data, view), view)


@chart("satisfaction-types-chart", measure="satisfaction-by-incident-type")
def types_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return _types_dots(process_types(data, view), process_questions(data, view), view)


def _types_dots(types: pd.DataFrame, questions: pd.DataFrame, view: View) -> dict[str, Any]:
    return create_dots(types, view, types_title(types), f"{view.unit.title}, by incident type",
                       whole_value(questions), "All respondents")


@chart("satisfaction-children-chart", measure=WHOLE)
def children_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return _children_dots(process_children(data, view), process_questions(data, view), view)


def _children_dots(children: pd.DataFrame, questions: pd.DataFrame, view: View) -> dict[str, Any]:
    below = hierarchy.below(view.unit.level)
    plural = hierarchy.level(below).plural if below else "units"
    whole = whole_value(questions)
    return create_dots(children, view, children_title(children, view, whole),
                       f"{plural} of {view.unit.title}", whole, view.unit.name)


# -- the page ------------------------------------------------------------------------------------


def layout(data: DataAccess, view: View) -> list[Any]:
    # each frame made once and every figure drawn from it (the figures' own functions, which
    # the image exports call, make them again: the page paid for four question frames)
    questions = process_questions(data, view)
    header = [*page_header(TITLE, view, with_measure=False), controls(data, view)]
    if (questions["verdict"].isna() | (questions["verdict"] == "not loaded")).all():
        return [*header, dbc.Alert("No user satisfaction survey is loaded for this force "
                                   "(python -m etl load satisfaction).", color="info",
                                   id="satisfaction-none")]
    types = process_types(data, view)
    children = process_children(data, view)
    below = hierarchy.below(view.unit.level)
    plural = hierarchy.level(below).plural if below else "units"
    period = assessment.period_words(view.period)
    rule = (f"Below {MIN_RESPONDENTS} respondents a result is not judged: the row says \"too few "
            f"responses\" instead of a percentage and its verdict.")
    cards: list[Any] = [
        *header,
        html.P(HMIC_WORDS, className="small text-body-secondary mb-2", id="satisfaction-hmic"),
        dbc.Row([
            dbc.Col(section(
                f"The five questions, {view.unit.title}, {period}",
                graph("satisfaction-questions-chart", _questions_dots(questions, view)),
                card_id="satisfaction-questions-card"), xxl=6),
            dbc.Col(section(
                f"Trend of the whole experience, {view.unit.title}",
                graph("satisfaction-trend", trend_figure(data, view)),
                action=csv_button("satisfaction-trend"),
                card_id="satisfaction-trend-card"), xxl=6),
        ]),
        section(
            f"Survey questions, {view.unit.title}, {period}",
            create_table(questions, view, "Question", "satisfaction-questions-table"),
            note=f"Every figure is the assessment the scorecard uses. {rule}",
            action=csv_button("satisfaction-questions"),
            card_id="satisfaction-questions-table-card",
        ),
        dbc.Row([
            dbc.Col(section(
                f"Whole experience by incident type, {view.unit.title}",
                [graph("satisfaction-types-chart", _types_dots(types, questions, view)),
                 create_table(types, view, "Incident type", "satisfaction-types-table")],
                note="The survey's sample includes anti-social behaviour from April 2007 (HMIC L675).",
                action=csv_button("satisfaction-types"),
                card_id="satisfaction-types-card"), xxl=6),
            dbc.Col(section(
                f"Whole experience by {hierarchy.level(below).label if below else 'unit'}, {view.unit.title}",
                [graph("satisfaction-children-chart", _children_dots(children, questions, view))
                 if not children.empty else html.P(
                     f"No units below {view.unit.title} to compare: the survey's results go down to "
                     f"{hierarchy.level(recorded_down_to('satisfaction')).label} level.", className="small"),
                 create_table(children, view, "Unit", "satisfaction-children-table")
                 if not children.empty else None,
                 dcc.Link(f"Drill down: whole experience by {plural}",
                          href=view.state.href("/drill-down", measure=WHOLE), className="small")
                 if not children.empty else None],
                action=csv_button("satisfaction-children"),
                card_id="satisfaction-children-card"), xxl=6),
        ]),
    ]
    return cards
