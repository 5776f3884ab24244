"""CSV exports: exactly the data a chart or table draws, made safe to open in Excel.

Every CSV the dashboard or the API writes goes through `to_csv`, which passes every text
cell through `excel_safe`: a cell starting with =, +, -, @, tab or carriage return would be
read by Excel (or LibreOffice) as a formula ("CSV injection", OWASP), so it gets a leading
apostrophe. Numbers stay numbers: a negative change is written -3.2, not '-3.2.

Pages register an export per chart with `@export("name")`: a function of (data, view)
returning the frame drawn and a file name stem. One callback (`register`) serves every
"Download CSV" button, so the file is always computed from the URL the page was drawn from.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import dash
import pandas as pd
from dash import ALL, Input, Output, State

from dashboard import state as url_state
from dashboard.auth import current_actor
from dashboard.data.facade import DataAccess
from dashboard.data.model import View

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


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text of a frame, every cell Excel-safe (header included).

    Text columns are made safe column by column (vectorised: an export of a year of a
    force's records is tens of thousands of rows); numbers, booleans and dates keep their
    type; lists are joined with ';'."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
            out[name] = col
        elif pd.api.types.is_datetime64_any_dtype(col):
            out[name] = [_cell(v) for v in col]
        elif pd.api.types.is_string_dtype(col) and col.map(type).isin([str, type(None), float]).all():
            text = col.astype(object).where(col.notna(), "")
            risky = text.astype(str).str.startswith(FORMULA_START)
            out[name] = text.where(~risky, "'" + text.astype(str))
        else:
            out[name] = [_cell(v) for v in col.astype(object)]
    out.columns = [excel_safe(str(c)) for c in frame.columns]
    return out.to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)


def file_name(stem: str, view: View | None = None) -> str:
    """'looking-glass-burglary-cheshire-northern-2007-04-01-2008-03-31.csv' (safe characters)."""
    parts = ["looking-glass", stem]
    if view is not None:
        parts += [view.unit.unit_id, view.period.start.isoformat(), view.period.end.isoformat()]
    text = "-".join(parts)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") + ".csv"


def build(data: DataAccess, name: str, search: str | None) -> dict[str, Any] | None:
    """The dcc.Download payload for export `name` of the view in `search` (None if unknown)."""
    found = EXPORTS.get(name)
    if found is None:
        return None
    fn, view_in_name = found
    view = data.resolve(url_state.parse(search))
    if view is None and view_in_name:
        return None
    frame, stem = fn(data, view)
    return {
        "content": to_csv(frame),
        "filename": file_name(stem, view if view_in_name else None),
        "type": "text/csv",
    }


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(
        Output("download", "data"),
        Input({"type": "csv", "export": ALL}, "n_clicks"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def download(clicks: list[int | None], search: str | None) -> Any:
        triggered = dash.ctx.triggered_id
        if not isinstance(triggered, dict) or not any(clicks):
            return dash.no_update
        if not dash.ctx.triggered or not dash.ctx.triggered[0].get("value"):
            return dash.no_update
        with data.request(current_actor()):
            try:
                payload = build(data, triggered["export"], search)
            except PermissionError:  # refused and logged by the access seam: nothing is sent
                return dash.no_update
        return payload if payload is not None else dash.no_update
