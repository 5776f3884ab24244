"""Issue 14 items 7 and 9 without a browser: every chart on every page (NAV) is drawn with the
one shared config, has a text alternative stating its finding and PNG/SVG buttons whose export
is registered; the image and XLSX downloads are real files."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from dash import dcc, html

from dashboard import exports
from dashboard.app import render
from dashboard.components.charts import GRAPH_CONFIG
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV

VIEWS = ("?unit=cheshire&measure=crime_burglary", "?unit=cheshire/northern/widnes&measure=crime_burglary")


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def _walk(node: Any, parents: tuple[Any, ...] = ()) -> list[tuple[Any, tuple[Any, ...]]]:
    out = [(node, parents)]
    children = getattr(node, "children", None) if not isinstance(node, (list, tuple)) else node
    if isinstance(children, (list, tuple)):
        for child in children:
            out += _walk(child, parents + ((node,) if not isinstance(node, (list, tuple)) else ()))
    elif children is not None and not isinstance(children, (str, int, float)):
        out += _walk(children, parents + (node,))
    return out


def test_every_chart_uses_the_shared_config_a_caption_and_registered_images(data: DataAccess) -> None:
    seen: set[str] = set()
    for _, path, module in NAV:
        if module is None:
            continue
        for search in VIEWS:
            for node, parents in _walk(render(path, search, data)):
                if not isinstance(node, dcc.Graph):
                    continue
                seen.add(node.id)
                assert node.config is GRAPH_CONFIG, (path, node.id)
                figure = parents[-1]
                assert isinstance(figure, html.Figure), (path, node.id)
                caption = figure.children[0]
                assert isinstance(caption, html.Figcaption) and len(caption.children) > 20, (path, node.id)
                assert "visually-hidden" in caption.className
                buttons = [n for n, _ in _walk(figure) if isinstance(getattr(n, "id", None), dict)
                           and n.id.get("type") == "image"]
                assert {b.id["fmt"] for b in buttons} == {"png", "svg"}, (path, node.id)
                assert buttons[0].id["chart"] in exports.CHARTS, (path, node.id)
    # the charts of every built page: drill-down (bar, trend, map), compare (3), early warning,
    # satisfaction (4), calls (2), vulnerable people (one per theme)
    assert {"drill-bar", "drill-trend", "drill-map", "compare-funnel", "compare-bar", "compare-trend",
            "ew-chart", "satisfaction-trend", "calls-demand", "calls-by-unit"} <= seen


def test_a_chart_downloads_as_a_named_svg_with_the_synthetic_mark(data: DataAccess) -> None:
    search = "?unit=cheshire/western&measure=crime_burglary&preset=custom&from=2007-04-01&to=2008-03-31"
    payload = exports.build_image(data, "drill-trend", "svg", search)
    assert payload["filename"] == "cheshire-western_crime-burglary_2007-04_2008-03.svg"
    svg = base64.b64decode(payload["content"])
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    text = "".join(root.itertext())
    assert "SYNTHETIC DATA" in text and "Burglary" in text
    force = search.replace("cheshire/western", "cheshire")
    png = exports.build_image(data, "compare-funnel-msf", "png", force)
    assert base64.b64decode(png["content"]).startswith(b"\x89PNG\r\n\x1a\n")
    assert png["filename"] == "cheshire_crime-burglary_2007-04_2008-03.png"
    assert exports.build_image(data, "no-such-chart", "svg", search) is None
    assert exports.build_image(data, "drill-trend", "gif", search) is None


def test_a_table_downloads_as_xlsx_with_the_csvs_rows(data: DataAccess) -> None:
    search = "?unit=cheshire/northern&measure=crime_burglary"
    csv_payload = exports.build(data, "scorecard", search)
    xlsx = exports.build(data, "scorecard", search, "xlsx")
    assert xlsx["filename"] == csv_payload["filename"].removesuffix(".csv") + ".xlsx"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(xlsx["content"])))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == csv_payload["content"].count("\r\n")  # header + the same rows
    assert rows[0][0] == csv_payload["content"].split(",", 1)[0]
