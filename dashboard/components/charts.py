"""The one way a page puts a chart on screen: `chart_block`, used by `common.graph`.

Three things every chart needs and no page should have to remember:

- One Plotly config (`GRAPH_CONFIG`): no Plotly logo, no "edit in Chart Studio" / "share"
  link (police data must never be offered an upload to a third party), and no client-side
  camera button: the PNG and SVG downloads are drawn by the server from the URL, with a
  file name that says unit, measure and period and the synthetic mark burned in
  (dashboard/exports.py `chart`).
- A text alternative that states the chart's finding (WCAG 2.2 1.1.1): the figure is a
  <figure> whose visually hidden <figcaption> is the chart's own title (its finding) and
  subtitle, so a screen reader hears what a sighted reader sees first.
- Its PNG and SVG buttons, hidden in print.

The chart's own SVG stays out of the Tab order (app.py's clientside hook drops Plotly's drag
layers from it): only the modebar's buttons and the download buttons take focus.
"""

from __future__ import annotations

import html as _html
import re
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "showLink": False,
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showTips": False,
    "responsive": True,
    # Map base layers (world outlines) are served by this app (dashboard/assets/topojson), never
    # fetched from Plotly's CDN: forces run this on closed networks (components/maps.py).
    "topojsonURL": "/assets/topojson/",
    # Three Tab stops a chart at most (zoom, pan, reset): the rest duplicate them.
    "modeBarButtonsToRemove": ["sendDataToCloud", "toImage", "select2d", "lasso2d", "zoomIn2d",
                               "zoomOut2d", "autoScale2d", "zoomInGeo", "zoomOutGeo", "hoverClosestGeo",
                               "toggleHover", "hoverClosestCartesian", "hoverCompareCartesian",
                               "toggleSpikelines"],
}

_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def finding(fig: dict[str, Any]) -> str:
    """The chart's title and subtitle as plain text ('Widnes NPU is 3rd of 6. Burglary ...'):
    the words the title states, without Plotly's markup and with its escapes undone."""
    layout = fig.get("layout", {})
    title = layout.get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title or "")
    if not text:  # an empty figure says its message in an annotation
        notes = layout.get("annotations") or []
        text = " ".join(str(a.get("text", "")) for a in notes if isinstance(a, dict))
    parts = [_html.unescape(_TAG.sub("", p)).strip() for p in _BREAK.split(text)]
    parts = [p for p in parts if p]
    out = ""
    for p in parts:
        out += (" " if not out or out.endswith((".", ":", ";")) else ". ") + p
    return out.strip()


def image_buttons(chart_id: str) -> html.Div:
    """PNG and SVG downloads of the chart `chart_id` (served by dashboard/exports.py)."""
    return html.Div(
        dbc.ButtonGroup(
            [
                dbc.Button(fmt.upper(), id={"type": "image", "chart": chart_id, "fmt": fmt},
                           color="secondary", outline=True, size="sm",
                           title=f"Download the chart as {fmt.upper()}")
                for fmt in ("png", "svg")
            ],
            size="sm",
        ),
        className="d-flex justify-content-end d-print-none chart-downloads",
    )


def chart_block(graph_id: str, fig: dict[str, Any], *, image: str | None = None) -> html.Figure:
    """The chart `graph_id` with its text alternative and (when `image` names a registered
    chart, by default the graph id itself) its PNG and SVG buttons."""
    caption_id = f"{graph_id}-caption"
    text = finding(fig) or "Chart"
    children: list[Any] = [
        html.Figcaption(text, id=caption_id, className="visually-hidden"),
        dcc.Graph(id=graph_id, figure=fig, config=GRAPH_CONFIG),
    ]
    if image:
        children.append(image_buttons(image))
    return html.Figure(children, className="chart mb-0", **{"aria-labelledby": caption_id})
