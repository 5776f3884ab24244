"""Is anything deteriorating? An SPC chart for any unit and measure, and the exceptions list.

- The chart: the view's unit and measure, monthly, up to 36 months to the end of the view's
  period; centre line and 3-sigma limits (held from the baseline months), special-cause points
  marked (Shewhart rules and a Poisson CUSUM), and one sentence per signal ("8 months above the
  average since May 2007").
- The exceptions list: the force's, its BCUs' and NPUs' exceptions for the view's period, one
  item per measure with why and where, most severe first (the top 10; all on request). It is
  dashboard/analysis/assessment.py's list, the one the scorecard's verdict box and
  /api/v1/exceptions give, so the pages cannot disagree.
- Sensitivity is a setting: standard, conservative (3 sigma only) or Making Data Count.

The numbers come from dashboard/analysis/exception_scan.py and assessment.py; this page only
draws them.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import state as url_state
from dashboard.analysis import assessment, kinds, metrics
from dashboard.analysis import exception_scan as ew
from dashboard.auth import current_actor
from dashboard.components.common import (
    BLUE,
    GREY,
    ORANGE,
    VERMILLION,
    csv_button,
    empty_figure,
    figure,
    graph,
    page_header,
    plot_text,
    records,
    section,
    values,
)
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import chart, export
from dashboard.periods import last_complete_month, month_start

PATH = "/early-warning"
TITLE = "Early warning"


def end_month(view: View) -> Any:
    """The last whole month of the view's period: the chart's and the list's latest month."""
    return month_start(last_complete_month(view.period.end))


# -- numbers ---------------------------------------------------------------------------------------


def process_chart(data: DataAccess, view: View, sens_name: str = ew.DEFAULT_SENSITIVITY) -> ew.Chart | None:
    return ew.chart_for(data, view.unit.unit_id, view.measure.id, end_month(view), ew.sensitivity(sens_name))


def chart_sentences(chart: ew.Chart, view: View, sens_name: str) -> list[str]:
    """One sentence per special cause on the chart (latest first), in plain words."""
    m = view.measure
    return [ew.describe(chart, s, m) + "." for s in sorted(chart.signals, key=lambda s: -s.index)]


def process_exceptions(data: DataAccess, view: View, sens_name: str = ew.DEFAULT_SENSITIVITY,
                       include_all: bool = False) -> pd.DataFrame:
    """The force's exceptions for the view's period, one item per measure (the same list the
    scorecard's verdict box and /api/v1/exceptions give): the top 10, or all of them."""
    frame = assessment.exceptions(data, view.unit.force_id, view.period.start, view.period.end, sens_name)
    if not include_all:
        frame = frame.head(assessment.TOP)
    frame = frame.copy()
    frame["chart"] = [chart_link(view, u, m, sens_name) for u, m in zip(frame["unit_id"], frame["measure_id"],
                                                                        strict=True)]
    return frame


def chart_link(view: View, unit_id: str, measure_id: str, sens_name: str = ew.DEFAULT_SENSITIVITY) -> str:
    """The row's chart: this page for that unit and measure, same period."""
    return view.state.href(PATH, unit=unit_id, measure=measure_id, rank=None)


# -- figures ---------------------------------------------------------------------------------------


def _value_unit(view: View, chart: ew.Chart) -> str:
    m = view.measure
    if chart.kind.startswith("c") and chart.seasonal:
        base = metrics.unit_text(m) if kinds.per_population(m) else m.unit
        return f"{base}, seasonally adjusted"
    return metrics.unit_text(m)


def chart_title(chart: ew.Chart, view: View) -> str:
    verdict = ew.VERDICT_TEXT.get(chart.verdict, chart.verdict)
    return f"{view.unit.title}, {view.measure.label}: {verdict} in {chart.months[-1]:%B %Y}"


def create_chart(chart: ew.Chart | None, view: View, sens_name: str) -> dict[str, Any]:
    """Values, centre line, control limits, the baseline shaded, special-cause points marked
    (vermillion = concern, blue = improvement, each with a symbol too), and the suspect or
    missing months as grey crosses on the axis."""
    if chart is None:
        return empty_figure(f"Too few usable months for an SPC chart of {view.measure.label} "
                            f"({ew.MIN_POINTS} needed).")
    m = view.measure
    x = [d.isoformat() for d in chart.months]
    ok = [s == "ok" and math.isfinite(v) for s, v in zip(chart.status, chart.values, strict=True)]
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": values(chart.ucl),
            "name": "Control limits (3 sigma)",
            "legendgroup": "limits",
            "line": {"color": GREY, "dash": "dash", "width": 1.3},
            "connectgaps": False,
            "hovertemplate": "upper limit %{y:,.4~g}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": values(chart.lcl),
            "name": "lower limit",
            "legendgroup": "limits",
            "showlegend": False,
            "line": {"color": GREY, "dash": "dash", "width": 1.3},
            "hovertemplate": "lower limit %{y:,.4~g}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": x,
            "y": values(chart.centre),
            "name": "Centre line (average)",
            "line": {"color": "#333333", "width": 1.5},
            "hovertemplate": "average %{y:,.4~g}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": values(chart.values),
            "name": plot_text(m.label),
            "line": {"color": BLUE, "width": 2},
            "marker": {"size": 6, "color": BLUE},
            "customdata": [[_raw(chart, i)] for i in range(len(x))],
            "hovertemplate": "%{x|%b %Y}: %{y:,.4~g}<br>%{customdata[0]}<extra></extra>",
        },
    ]
    for reading, colour, symbol, label in (("concern", VERMILLION, "triangle-up", "Special cause: concern"),
                                           ("improvement", BLUE, "star", "Special cause: improvement"),
                                           ("neutral", ORANGE, "square", "Special cause")):
        pts = sorted({i for s in chart.signals if ew.judgement(s.side, m.polarity) == reading
                      for i in range(s.start, s.index + 1) if ok[i]})
        if pts:
            traces.append({"type": "scatter", "mode": "markers", "x": [x[i] for i in pts],
                           "y": [float(chart.values[i]) for i in pts], "name": label, "hoverinfo": "skip",
                           "marker": {"symbol": symbol, "size": 12, "color": colour,
                                      "line": {"color": "#333333", "width": 1}}})
    gaps = [i for i, s in enumerate(chart.status) if s != "ok"]
    if gaps:
        floor = float(pd.Series(chart.lcl).min(skipna=True)) if pd.Series(chart.lcl).notna().any() else 0.0
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [x[i] for i in gaps],
                "y": [floor] * len(gaps),
                "name": "Suspect or missing month (left out)",
                "marker": {"symbol": "x", "size": 10, "color": GREY},
                "text": [plot_text(chart.reasons[i] or chart.status[i]) for i in gaps],
                "hovertemplate": "%{text}<extra></extra>",
            }
        )
    shapes = []
    if chart.baseline is not None:
        b0, b1 = chart.baseline
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": b0.isoformat(),
                "x1": b1.isoformat(),
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(0,0,0,0.04)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    sub = (f"{chart_kind_words(chart)}; limits from {chart.baseline[0]:%b %Y} to {chart.baseline[1]:%b %Y} "
           f"(shaded); rules: {ew.sensitivity(sens_name).label}; {view.as_of_text}")
    return figure(traces, chart_title(chart, view), sub, height=420, xaxis={"type": "date"},
                  yaxis={"title": {"text": plot_text(_value_unit(view, chart))}}, shapes=shapes)


def _raw(chart: ew.Chart, i: int) -> str:
    k, n = chart.k[i], chart.n[i]
    if chart.status[i] != "ok":
        return chart.reasons[i] or chart.status[i]
    if math.isfinite(n) and n > 0:
        return f"{k:,.0f} of {n:,.0f}"
    return f"{k:,.0f} recorded"


def chart_kind_words(chart: ew.Chart) -> str:
    return {
        "c (seasonal)": "c chart of counts against their seasonal expectation (seasonally adjusted)",
        "c": "c chart of counts (not seasonally adjusted)",
        "p": "p chart of proportions (limits vary with the denominator)",
        "u": "u chart of rates (limits vary with the denominator)",
        "xmr": "XmR chart (individuals, limits from the moving range)",
    }.get(chart.kind, chart.kind)


def chart_notes(chart: ew.Chart | None, view: View, sens_name: str) -> list[Any]:
    if chart is None:
        return []
    items: list[Any] = []
    sentences = chart_sentences(chart, view, sens_name)
    if sentences:
        items.append(html.Ul([html.Li(s) for s in sentences], className="mb-2", id="ew-signal-sentences"))
    else:
        items.append(html.P("No special cause on this chart: only common-cause variation.",
                            id="ew-signal-sentences", className="mb-2"))
    bad = [
        f"{chart.months[i]:%b %Y}: {chart.reasons[i] or chart.status[i]}"
        for i, s in enumerate(chart.status)
        if s != "ok"
    ]
    if bad:
        items.append(html.P("Left out of the chart and its limits: " + "; ".join(bad) + ".",
                            className="small mb-1", id="ew-left-out"))
    for note in chart.notes:
        items.append(html.P(note, className="small mb-1"))
    items.append(
        html.P(
            "A special cause is a pattern unlikely under the process's usual variation: a point "
            "beyond the limits, a run on one side of the average, a steady trend, or two of three "
            "points near a limit. Concerns are marked ▲ (vermillion), improvements ★ (blue).",
            className="small text-body-secondary mb-0",
        )
    )
    return items


def create_exceptions_grid(frame: pd.DataFrame) -> dag.AgGrid:
    show = frame.copy()
    show["chart_md"] = [f"[Chart ›]({href})" for href in show["chart"]]
    show["severity"] = show["severity"].abs().round(1)
    wrap = {"wrapText": True, "autoHeight": True}
    columns = [
        {"field": "rank", "headerName": "#", "maxWidth": 70, "type": "numericColumn"},
        {"field": "chart_md", "headerName": "Chart", "cellRenderer": "markdown", "maxWidth": 100,
         "sortable": False, "filter": False},
        {"field": "measure", "headerName": "Measure", "minWidth": 170, **wrap},
        {"field": "unit", "headerName": "Leading unit", "minWidth": 150},
        {"field": "why", "headerName": "Why", "minWidth": 320, **wrap},
        {"field": "where", "headerName": "Where", "minWidth": 320, **wrap},
        {"field": "count", "headerName": "Units", "maxWidth": 90, "type": "numericColumn"},
        {"field": "severity", "headerName": "Severity", "maxWidth": 110, "type": "numericColumn"},
    ]
    cols = ["rank", "measure", "unit", "why", "where", "count", "severity", "chart_md", "unit_id",
            "measure_id"]
    return dag.AgGrid(
        id="ew-grid",
        rowData=records(show[cols]),
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
        columnSize="responsiveSizeToFit",
        dashGridOptions={"pagination": True, "paginationPageSize": 20, "paginationPageSizeSelector": False,
                         "enableCellTextSelection": True, "domLayout": "autoHeight"},
        style={"height": None},
    )


def exceptions_summary(frame: pd.DataFrame, view: View, total: int) -> str:
    force = view.path[0].title
    period = assessment.period_words(view.period)
    if frame.empty:
        return f"No exceptions in {force}, its BCUs or NPUs for {period}."
    top = frame.iloc[0]
    shown = "" if len(frame) == total else f"; the {len(frame)} most severe are listed"
    return (f"{total} measure{'s' if total != 1 else ''} with an exception in {force}, its BCUs or NPUs, "
            f"{period}{shown}. Most severe: {top['measure']} ({top['unit']}: {top['why']}).")


# -- exports ---------------------------------------------------------------------------------------


def _export_exceptions(sens_name: str, improvements: bool) -> Any:
    def fn(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
        frame = process_exceptions(data, view, sens_name, improvements)
        frame = frame.assign(units=[";".join(u) for u in frame["units"]])
        return frame, f"exceptions-{sens_name}{'-all' if improvements else ''}"

    return fn


def _chart_figure(sens_name: str) -> Any:
    def fn(data: DataAccess, view: View) -> dict[str, Any]:
        return create_chart(process_chart(data, view, sens_name), view, sens_name)

    return fn


def _export_chart(sens_name: str) -> Any:
    def fn(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
        chart = process_chart(data, view, sens_name)
        if chart is None:
            return pd.DataFrame(columns=["month"]), f"{view.measure.id}-spc-{sens_name}"
        return ew.chart_frame(chart, view.measure), f"{view.measure.id}-spc-{sens_name}"

    return fn


for _name in ew.SENSITIVITIES:
    export(f"ew-chart-{_name}")(_export_chart(_name))
    chart(f"ew-chart-{_name}")(_chart_figure(_name))
    for _imp in (False, True):
        export(f"ew-exceptions-{_name}{'-all' if _imp else ''}")(_export_exceptions(_name, _imp))


# -- the page ----------------------------------------------------------------------------------------


def exceptions_section(data: DataAccess, view: View, sens_name: str = ew.DEFAULT_SENSITIVITY,
                       include_all: bool = False) -> list[Any]:
    """The summary and the table (the slow part: drawn by a second callback, see `body`)."""
    every = process_exceptions(data, view, sens_name, True)
    frame = every if include_all else every.head(assessment.TOP)
    return [
        dbc.Alert(
            exceptions_summary(frame, view, len(every)),
            color="warning" if not frame.empty else "light",
            className="border small",
            id="ew-summary",
        ),
        create_exceptions_grid(frame) if not frame.empty else html.P("Nothing to report.", id="ew-empty"),
    ]


def body(data: DataAccess, view: View, sens_name: str = ew.DEFAULT_SENSITIVITY,
         include_improvements: bool = False) -> list[Any]:
    """The chart, and the frame of the exceptions list. The list scans every unit of the force
    (about half a second the first time for a warehouse version), so it is filled by its own
    callback, `fill_exceptions`, and the page itself draws as fast as the others."""
    sens_name = sens_name if sens_name in ew.SENSITIVITIES else ew.DEFAULT_SENSITIVITY
    chart = process_chart(data, view, sens_name)
    suffix = "-all" if include_improvements else ""
    request = {"query": view.state.query(), "sensitivity": sens_name, "improvements": include_improvements}
    return [
        section(
            f"SPC chart: {view.unit.title}, {view.measure.label}",
            [graph("ew-chart", create_chart(chart, view, sens_name), image=f"ew-chart-{sens_name}"),
             *chart_notes(chart, view, sens_name)],
            action=csv_button(f"ew-chart-{sens_name}"),
            card_id="ew-chart-card",
        ),
        section(
            f"Exceptions: {view.path[0].title}, its BCUs and NPUs, {assessment.period_words(view.period)}",
            [
                dcc.Store(id="ew-exceptions-request", data=request),
                dcc.Loading(html.Div(html.P("Scanning every unit and measure…", className="small mb-0"),
                                     id="ew-exceptions"), type="default"),
            ],
            note=(
                "One item per measure, led by the highest unit that has it, with where else it is. An "
                "exception: significantly worse than the same period last year, an SPC special cause of "
                "concern in the latest months, a target missed for the period or at risk, or a peer "
                "outlier beyond 99.8% on the bad side (the scorecard's verdicts, for every unit). Ranked "
                "by severity: the strength of the evidence weighted by the unit's level. Rules: "
                + ew.sensitivity(sens_name).description + "."
            ),
            action=csv_button(f"ew-exceptions-{sens_name}{suffix}"),
            card_id="ew-exceptions-card",
        ),
    ]


def layout(data: DataAccess, view: View) -> list[Any]:
    settings = html.Div([
        dbc.Label("Sensitivity", html_for="ew-sensitivity", className="small fw-semibold me-2 mb-0"),
        dbc.RadioItems(id="ew-sensitivity", inline=True, value=ew.DEFAULT_SENSITIVITY, className="small me-3",
                       options=[{"label": s.label, "value": k} for k, s in ew.SENSITIVITIES.items()]),
        dbc.Checkbox(id="ew-improvements", value=False, label="Show every exception, not only the top 10",
                     className="small"),
    ], className="d-flex flex-wrap align-items-center mb-2 d-print-none", id="ew-settings")
    return [
        *page_header(TITLE, view),
        controls(data, view, measure=True),
        settings,
        html.Div(body(data, view), id="ew-body"),
    ]


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(
        Output("ew-body", "children"),
        Input("ew-sensitivity", "value"),
        Input("ew-improvements", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def on_settings(sens_name: str | None, improvements: bool | None, search: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(search))
            if view is None:
                return dash.no_update
            return body(data, view, sens_name or ew.DEFAULT_SENSITIVITY, bool(improvements))

    @app.callback(
        Output("ew-exceptions", "children"),
        Input("ew-exceptions-request", "data"),
    )
    def fill_exceptions(request: dict[str, Any] | None) -> Any:
        if not request:
            return dash.no_update
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(request.get("query")))
            if view is None:
                return dash.no_update
            return exceptions_section(data, view, request.get("sensitivity") or ew.DEFAULT_SENSITIVITY,
                                      bool(request.get("improvements")))


def query_for(unit_id: str, measure_id: str) -> str:
    """'?unit=...&measure=...' for links from other pages (scorecard, drill-down)."""
    return "?" + urlencode({"unit": unit_id, "measure": measure_id}, safe="/")
