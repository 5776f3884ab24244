"""Building blocks every page uses: cards, grids, the view statement, palettes, figures.

Data strings (unit names, file names, messages) are only ever passed to components as
text, to AG Grid cells without HTML renderers, or escaped (`plot_text`) before they go into
Plotly's text, which understands a few tags: nothing from the warehouse renders as HTML.
"""

from __future__ import annotations

import html as _html
import math
import textwrap
from typing import Any

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from dashboard.components.charts import chart_block
from dashboard.data.model import View

# Okabe & Ito (2008) colour-blind-safe palette. Meaning is never carried by colour alone:
# every coloured mark also has an arrow, a pattern or a word.
BLUE = "#0072B2"
ORANGE = "#E69F00"
SKY = "#56B4E9"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#666666"
# Darker shades for TEXT on white, for WCAG AA contrast (>= 4.5:1): 5.5:1 and 7.4:1.
WORSE_TEXT = "#B34700"
BETTER_TEXT = "#005A8C"
# Said on every chart (and in every API row) that shows the demo's invented comparators.
SYNTHETIC_PEERS = "Comparison forces: synthetic demo data"
SYNTHETIC_PEER_UNITS = "Comparison units: synthetic demo data"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

VERDICT_STYLE = {
    "worse": {"color": WORSE_TEXT, "fontWeight": 600},
    "better": {"color": BETTER_TEXT, "fontWeight": 600},
}

INTEGER_COLUMN = {
    "type": "numericColumn",
    # Thousands separators for reading; the value stays a number for sorting and CSV.
    "valueFormatter": {"function": "params.value == null ? '' : params.value.toLocaleString('en-GB')"},
}


def decimal_column(places: int) -> dict[str, Any]:
    return {
        "type": "numericColumn",
        "valueFormatter": {
            "function": f"params.value == null ? '' : params.value.toLocaleString('en-GB', "
            f"{{minimumFractionDigits: {places}, maximumFractionDigits: {places}}})"
        },
    }


def plot_text(text: object) -> str:
    """Escape a data string for Plotly titles, labels and hover text (it reads a few tags)."""
    return _html.escape(str(text), quote=False)


def records(
    df: pd.DataFrame, months: tuple[str, ...] = (), times: tuple[str, ...] = (), days: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """DataFrame -> JSON-safe rows: months as YYYY-MM, days as YYYY-MM-DD, NULL -> None."""
    out = df.copy()
    for col in months:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m")
    for col in days:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    for col in times:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d %H:%M:%S")
    # column by column as Python values (Series.tolist), every missing value as None: the
    # frame-wide astype(object).where(notna) and to_dict cost ~5-10 ms a grid, for frames of a
    # few dozen rows (two grids a drill-down)
    cols = [[None if _missing_cell(v) else v for v in out.iloc[:, i].tolist()] for i in range(out.shape[1])]
    return [dict(zip(out.columns, row, strict=True)) for row in zip(*cols, strict=True)]


def _missing_cell(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def grid(
    grid_id: str,
    df: pd.DataFrame,
    columns: list[dict[str, Any]],
    *,
    months: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
    days: tuple[str, ...] = (),
    page_size: int | None = None,
    fit: bool = True,
    row_id: str | None = None,
) -> dag.AgGrid:
    """A read-only AG Grid of a small frame (sortable, filterable, text selectable)."""
    options: dict[str, Any] = {"domLayout": "autoHeight", "enableCellTextSelection": True}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size, paginationPageSizeSelector=False)
    extra: dict[str, Any] = {}
    if row_id:
        extra["getRowId"] = f"params.data.{row_id}"
    return dag.AgGrid(
        id=grid_id,
        rowData=records(df, months=months, times=times, days=days),
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 110},
        # Few columns: share the width. Many (the load log): size to content and scroll.
        columnSize="responsiveSizeToFit" if fit else "autoSize",
        dashGridOptions=options,
        style={"height": None},
        **extra,
    )


def csv_button(export_id: str, label: str = "Download CSV") -> dbc.ButtonGroup:
    """Buttons that download, as CSV and as XLSX, exactly the data of the chart or table
    `export_id` (see dashboard/exports.py)."""
    return dbc.ButtonGroup(
        [
            dbc.Button(label, id={"type": "csv", "export": export_id}, color="secondary", outline=True,
                       size="sm", className="text-nowrap"),
            dbc.Button("XLSX", id={"type": "xlsx", "export": export_id}, color="secondary", outline=True,
                       size="sm", title=label.replace("CSV", "XLSX")),
        ],
        size="sm",
        className="ms-2",
    )


def section(
    title: Any, body: Any, *, note: Any = None, action: Any = None, card_id: str | None = None
) -> dbc.Card:
    header: list[Any] = [html.H2(title, className="h5 mb-0")]
    if action is not None:
        actions = [a for a in action if a is not None] if isinstance(action, (list, tuple)) else [action]
        header.append(html.Div(actions, className="d-flex align-items-center"))
    children: list[Any] = []
    if note:
        children.append(html.P(note, className="text-body-secondary small"))
    # Extend, never nest: dash-renderer does not render a list inside a children list.
    if isinstance(body, (list, tuple)):
        children.extend(b for b in body if b is not None)
    else:
        children.append(body)
    extra = {"id": card_id} if card_id else {}
    return dbc.Card(
        [
            dbc.CardHeader(header, className="d-flex justify-content-between align-items-center gap-2"),
            dbc.CardBody(children),
        ],
        className="mb-4",
        **extra,
    )


def page_header(title: str, view: View | None, *, with_measure: bool = True) -> list[Any]:
    """The page title, the one-line statement of what is shown (and the data's date), and any
    notes: two short lines, so the page's answer starts high on a 1366x768 screen."""
    out: list[Any] = [html.H1(title, className="h4 mb-0")]
    if view is not None:
        line: list[Any] = [
            html.Span(view.statement(with_measure), id="view-statement"),
            html.Span(f" · data as of {view.as_of_text.removeprefix('data to ')}.", id="as-of",
                      className="small"),
        ]
        if any(u.synthetic for u in view.path):
            line.append(
                dbc.Badge(
                    "Synthetic demo data: not real police figures",
                    color="warning",
                    text_color="dark",
                    className="ms-2",
                    id="synthetic-badge",
                )
            )
        out.append(html.P(line, className="text-body-secondary small mb-1"))
        for note in view.notes:
            out.append(dbc.Alert(note, color="warning", className="py-1 small mb-1"))
    return out


# Figures are plain dicts (Plotly's JSON schema), not plotly.graph_objects: building a
# go.Figure validates and deep-copies its template, which cost ~30 ms a figure, a third of
# the interaction budget. The quiet look of Plotly's 'simple_white' is set here by hand.
_AXIS = {
    "showline": True,
    "linecolor": "#444444",
    "ticks": "outside",
    "tickcolor": "#444444",
    "showgrid": False,
    "zeroline": False,
    "automargin": True,
}


def values(series: Any) -> list[Any]:
    """A column as a JSON-safe list (NaN -> None, numpy scalars -> Python)."""
    if isinstance(series, (pd.Series, np.ndarray)) and series.dtype.kind in "fiub":
        arr = np.asarray(series, dtype=float) if series.dtype.kind == "f" else np.asarray(series)
        if arr.dtype.kind != "f" or not np.isnan(arr).any():
            return arr.tolist()  # fast path: no NaN to replace
    out = []
    for v in list(series):
        if v is None:
            out.append(None)
        elif isinstance(v, float) and math.isnan(v):
            out.append(None)
        elif hasattr(v, "item"):
            item = v.item()
            out.append(None if isinstance(item, float) and math.isnan(item) else item)
        else:
            out.append(v)
    return out


def empty_figure(message: str) -> dict[str, Any]:
    return {
        "data": [],
        "layout": {
            "annotations": [
                {
                    "text": plot_text(message),
                    "showarrow": False,
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                    "font": {"size": 14},
                }
            ],
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "height": 200,
            "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
            "paper_bgcolor": "#ffffff",
            "plot_bgcolor": "#ffffff",
        },
    }


def figure(
    traces: list[dict[str, Any]],
    title: str,
    subtitle: str,
    *,
    height: int = 380,
    xaxis: dict[str, Any] | None = None,
    yaxis: dict[str, Any] | None = None,
    **layout: Any,
) -> dict[str, Any]:
    """A figure with a title stating the finding (escaped), a subtitle with the units and the
    data-as-of date, and a quiet, print-friendly style."""
    base: dict[str, Any] = {
        "title": {
            "text": f"{plot_text(title)}<br><sup>{plot_text(subtitle)}</sup>",
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": 15},
        },
        "font": {"family": FONT, "size": 12, "color": "#212529"},
        "height": height,
        "margin": {"l": 60, "r": 20, "t": 70, "b": 50},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
        "hoverlabel": {"font": {"family": FONT}},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "xaxis": {**_AXIS, **(xaxis or {})},
        "yaxis": {**_AXIS, **(yaxis or {})},
    }
    base.update(layout)
    return {"data": traces, "layout": base}


def graph(graph_id: str, fig: dict[str, Any], *, image: str | None = None) -> Any:
    """The chart with the shared config, its text alternative and its PNG/SVG buttons
    (components/charts.py); `image`: the chart's export id when it is not the graph id (a
    page setting outside the URL changes what is drawn)."""
    return chart_block(graph_id, fig, image=image or graph_id)


def finite(v: Any) -> bool:
    try:
        return v is not None and not math.isnan(float(v))
    except (TypeError, ValueError):
        return False


# Plotly does not wrap titles, and a figure is drawn once for every width it is read at: the
# title and subtitle are wrapped for the narrowest, an A4 page (~700 px of chart; the 15 px
# title font averages ~7.4 px a character, the 11 px subtitle ~5.6).
TITLE_CHARS = 90
SUBTITLE_CHARS = 120
LINE_PX = 20
# Plotly's toolbar (the modebar: zoom, pan, reset) sits over the top right corner of every
# chart, 2 to 24 px down. A title line as long as an A4 chart is wide ran under it, so every
# title starts below that band: its first baseline 24 + MODEBAR_PX px down, not 24.
MODEBAR_PX = 16


def wrap_titles(fig: dict[str, Any], title: str, subtitles: list[str], room_above: int = 0) -> dict[str, Any]:
    """The figure's title and subtitle lines wrapped to fit an A4 page, its top margin as tall
    as their lines (plus `room_above` for a label drawn just above the plot), so that none
    runs off the chart or into the plot."""
    heads = textwrap.wrap(title, TITLE_CHARS) or [""]
    subs = [line for part in subtitles if part for line in textwrap.wrap(part, SUBTITLE_CHARS)]
    layout = fig["layout"]
    lines = len(heads) + len(subs)
    layout["margin"] = {**layout.get("margin", {}), "t": 30 + MODEBAR_PX + LINE_PX * lines + room_above}
    height = layout["height"] = (layout.get("height", 380) + MODEBAR_PX + LINE_PX * max(lines - 2, 0)
                                 + room_above)
    text = "<br>".join(plot_text(x) for x in heads) + "".join(
        f"<br><span style='font-size:11px'>{plot_text(x)}</span>" for x in subs)
    # Plotly puts the first baseline of a multi-line title at y: 24 px down keeps its capitals
    # inside the top edge, MODEBAR_PX more keeps them clear of the toolbar.
    layout["title"] = {"text": text, "x": 0.01, "xanchor": "left", "yref": "container",
                       "y": 1 - (24 + MODEBAR_PX) / height, "yanchor": "top", "font": {"size": 15}}
    return fig
