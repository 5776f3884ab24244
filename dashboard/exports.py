"""Exports: exactly the data a chart or table draws (CSV and XLSX, made safe to open in
Excel), and every chart as PNG and SVG.

Every CSV the dashboard or the API writes goes through `to_csv`, which passes every text
cell through `excel_safe`: a cell starting with =, +, -, @, tab or carriage return would be
read by Excel (or LibreOffice) as a formula ("CSV injection", OWASP), so it gets a leading
apostrophe. Numbers stay numbers: a negative change is written -3.2, not '-3.2. `to_xlsx`
writes the same cells (`safe_frame`) into a workbook, every text cell stored as text.

Pages register an export per table or chart with `@export("name")`: a function of (data,
view) returning the frame drawn and a file name stem; and each chart with `@chart("graph
id")`: a function of (data, view) returning the figure drawn. One callback (`register`)
serves every CSV and XLSX button, another every PNG and SVG button, so a file is always
computed from the URL the page was drawn from, never from what the browser sends.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import dash
import openpyxl
import pandas as pd
import plotly.graph_objects as go
from dash import ALL, Input, Output, State
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from dashboard import state as url_state
from dashboard.auth import current_actor
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.images import ImageError, figure_bytes, image_name

log = logging.getLogger(__name__)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Exporter = Callable[[DataAccess, "View | None"], tuple[pd.DataFrame, str]]
# name -> (function, whether the file name carries the view's unit and period)
EXPORTS: dict[str, tuple[Exporter, bool]] = {}


def export(name: str, *, view_in_name: bool = True) -> Callable[[Exporter], Exporter]:
    """Register the data behind a chart or table under `name` (the button's export id).
    Exports with `view_in_name=False` (the Data and Help pages) do not need a view."""

    def wrap(fn: Exporter) -> Exporter:
        EXPORTS[name] = (fn, view_in_name)
        return fn

    return wrap


def excel_safe(value: Any) -> Any:
    """A text cell Excel would evaluate gets a leading apostrophe; anything else is kept."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN
        return ""
    if value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat(sep=" ")
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    return excel_safe(value)


def _text_cell(value: Any) -> Any:
    """A cell of a text column: '' for a missing one, else Excel-safe (a float kept as it is
    unless its text would start a formula, e.g. -1.5 -> '-1.5)."""
    if value is None or value != value:  # None or NaN (value != value only for NaN)
        return ""
    text = value if type(value) is str else str(value)
    return "'" + text if text.startswith(FORMULA_START) else value


_TEXT_TYPES = (str, type(None), float)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's cells as every export writes them, each Excel-safe (header included).

    Numbers, booleans and dates keep their type; text cells are made safe and lists are
    joined with ';'. Cell by cell in plain Python over each column's values, and the frame
    built once from the columns: pandas' per-column operations (a type map, `where`,
    `astype`, `str.startswith`, then inserting the column) cost ~0.3 ms a column whatever
    its length, most of a small export's time (the scorecard's ~80 columns: ~25 ms of its
    ~35), while a Python pass over 100,000 cells costs about what those operations did."""
    header = [excel_safe(str(c)) for c in frame.columns]
    if frame.empty:  # (an empty Arrow-backed text column cannot be mapped below)
        return pd.DataFrame(columns=header)
    columns: dict[int, Any] = {}
    for i, name in enumerate(frame.columns):
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            columns[i] = col.array  # its own dtype (the array, not the Series: no realignment)
        elif pd.api.types.is_datetime64_any_dtype(col):
            columns[i] = [_cell(v) for v in col]
        else:
            cells = col.tolist()
            if pd.api.types.is_string_dtype(col) and all(type(v) in _TEXT_TYPES for v in cells):
                # object, as pandas' `where` left it (a bare array would be inferred as str)
                columns[i] = pd.Series([_text_cell(v) for v in cells], index=frame.index, dtype=object)
            else:
                columns[i] = [_cell(v) for v in col.astype(object)]
    out = pd.DataFrame(columns, index=frame.index)
    out.columns = header
    return out


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text of a frame, every cell Excel-safe (see `safe_frame`)."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def _xlsx_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str):
        # control characters an XLSX file cannot hold (a CSV can) are dropped
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def to_xlsx(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    """An XLSX workbook of a frame: the cells of `safe_frame`, numbers as numbers and every
    text cell stored as text (openpyxl would otherwise store a string starting with '=' as a
    formula; after `excel_safe` none does, and the type is set explicitly as well)."""
    safe = safe_frame(frame)
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append([str(c) for c in safe.columns])
    for row in safe.itertuples(index=False, name=None):
        cells = []
        for v in row:
            cell = WriteOnlyCell(ws, value=_xlsx_value(v))
            if isinstance(cell.value, str):
                cell.data_type = "s"
            cells.append(cell)
        ws.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_name(stem: str, view: View | None = None, ext: str = "csv") -> str:
    """'looking-glass-burglary-cheshire-northern-2007-04-01-2008-03-31.csv' (safe characters)."""
    parts = ["looking-glass", stem]
    if view is not None:
        parts += [view.unit.unit_id, view.period.start.isoformat(), view.period.end.isoformat()]
    text = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") + "." + ext


def build(data: DataAccess, name: str, search: str | None, fmt: str = "csv") -> dict[str, Any] | None:
    """The dcc.Download payload for export `name` of the view in `search` as CSV or XLSX
    (None if unknown)."""
    found = EXPORTS.get(name)
    if found is None:
        return None
    fn, view_in_name = found
    view = data.resolve(url_state.parse(search))
    if view is None and view_in_name:
        return None
    frame, stem = fn(data, view)
    named = view if view_in_name else None
    if fmt == "xlsx":
        return {
            "content": base64.b64encode(to_xlsx(frame)).decode("ascii"),
            "base64": True,
            "filename": file_name(stem, named, "xlsx"),
            "type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    return {"content": to_csv(frame), "filename": file_name(stem, named), "type": "text/csv"}


# -- charts as images -----------------------------------------------------------------------

Charter = Callable[[DataAccess, View], dict[str, Any]]
# graph id -> (function drawing the figure, the measure its file name says: None = the view's)
CHARTS: dict[str, tuple[Charter, str | None]] = {}
IMAGE_FORMATS = {"svg": "image/svg+xml", "png": "image/png"}
IMAGE_WIDTH = 1000  # CSS px: a report page's width; titles are wrapped for 720 px and fit


def chart(name: str, *, measure: str | None = None) -> Callable[[Charter], Charter]:
    """Register the figure of the graph whose id is `name`, for its PNG and SVG downloads.
    `measure`: the word the file name uses when the chart is not of the view's measure
    (e.g. 'satisfaction' for the five questions)."""

    def wrap(fn: Charter) -> Charter:
        CHARTS[name] = (fn, measure)
        return fn

    return wrap


def is_synthetic(view: View, fig: dict[str, Any]) -> bool:
    """Whether the chart shows synthetic demo data: the view's unit (or a unit above it) is,
    or the figure says its comparators are (the Compare page's title line)."""
    title = fig.get("layout", {}).get("title", {})
    text = title.get("text", "") if isinstance(title, dict) else str(title)
    return any(u.synthetic for u in view.path) or "synthetic demo data" in text


def build_image(data: DataAccess, name: str, fmt: str, search: str | None) -> dict[str, Any] | None:
    """The dcc.Download payload of chart `name` of the view in `search` as SVG or PNG, the
    synthetic mark burned in where it applies (None if unknown)."""
    found = CHARTS.get(name)
    if found is None or fmt not in IMAGE_FORMATS:
        return None
    fn, measure = found
    view = data.resolve(url_state.parse(search))
    if view is None:
        return None
    fig = fn(data, view)
    height = int(fig.get("layout", {}).get("height") or 450)
    body = figure_bytes(go.Figure(fig), fmt, width=IMAGE_WIDTH, height=height,  # type: ignore[arg-type]
                        synthetic=is_synthetic(view, fig))
    return {
        "content": base64.b64encode(body).decode("ascii"),
        "base64": True,
        "filename": image_name(view.unit.unit_id, measure or view.measure.id, view.period.start,
                               view.period.end, fmt),
        "type": IMAGE_FORMATS[fmt],
    }


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(
        Output("download", "data"),
        Input({"type": "csv", "export": ALL}, "n_clicks"),
        Input({"type": "xlsx", "export": ALL}, "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def download(clicks: list[int | None], xlsx: list[int | None], search: str | None) -> Any:
        triggered = dash.ctx.triggered_id
        if not isinstance(triggered, dict) or not (any(clicks) or any(xlsx)):
            return dash.no_update
        if not dash.ctx.triggered or not dash.ctx.triggered[0].get("value"):
            return dash.no_update
        with data.request(current_actor()):
            try:
                payload = build(data, triggered["export"], search, triggered["type"])
            except PermissionError:  # refused and logged by the access seam: nothing is sent
                return dash.no_update
        return payload if payload is not None else dash.no_update

    @app.callback(
        Output("download-image", "data"),
        Input({"type": "image", "chart": ALL, "fmt": ALL}, "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def download_image(clicks: list[int | None], search: str | None) -> Any:
        triggered = dash.ctx.triggered_id
        if not isinstance(triggered, dict) or not any(clicks):
            return dash.no_update
        if not dash.ctx.triggered or not dash.ctx.triggered[0].get("value"):
            return dash.no_update
        with data.request(current_actor()):
            try:
                payload = build_image(data, triggered["chart"], triggered["fmt"], search)
            except PermissionError:  # refused and logged by the access seam: nothing is sent
                return dash.no_update
            except ImageError:
                log.exception("a chart could not be drawn as an image")
                return dash.no_update
        return payload if payload is not None else dash.no_update
