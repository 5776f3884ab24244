"""The unit, period and measure pickers shown on every page, and the one callback that
turns a change into a new URL (the router then draws the page from the URL).

Every control has a pattern-matching id {"ctl": name}, so one callback serves all pages,
whichever controls a page shows.
"""

from __future__ import annotations

import json
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, dcc, html

from dashboard import state as url_state
from dashboard.data import access
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.periods import GRAINS, PRESETS
from etl.measures.registry import MEASURES


def unit_options(data: DataAccess) -> list[dict[str, str]]:
    """Every unit the actor may choose, each force followed by its BCUs, NPUs and teams; a
    label says what the unit is and what it belongs to ('Widnes NPU · Northern'), so it reads
    alone too (DataAccess.picker_options: made once per version, filtered by access.py)."""
    return data.picker_options()


def measure_options() -> list[dict[str, str]]:
    return [{"label": f"{m.label} ({m.domain.lower()})", "value": m.id} for m in MEASURES.values()]


def _labelled(label: str, control: Any, width: dict[str, int], control_id: str) -> dbc.Col:
    # the label names its control (WCAG 1.3.1, 4.1.2): Dash writes a dict id as sorted JSON
    target = json.dumps(control.id, sort_keys=True, separators=(",", ":"))
    return dbc.Col(
        [dbc.Label(label, html_for=target, className="small mb-0 fw-semibold"), control],
        **width,
        className="mb-2",
    )


def controls(data: DataAccess, view: View, *, measure: bool = False) -> html.Div:
    """The picker bar. The date inputs always show the period in use; editing one makes the
    period a custom range."""
    period = view.period
    cols = [
        _labelled(
            "Unit (force, BCU, NPU, team)",
            dcc.Dropdown(
                id={"ctl": "unit"},
                options=unit_options(data),
                value=view.unit.unit_id,
                clearable=False,
                searchable=True,
                optionHeight=30,
            ),
            {"xs": 12, "md": 6, "xl": 3},
            "ctl-unit",
        ),
    ]
    if measure:
        cols.append(
            _labelled(
                "Measure",
                dcc.Dropdown(
                    id={"ctl": "measure"},
                    options=measure_options(),
                    value=view.measure.id,
                    clearable=False,
                    searchable=True,
                ),
                {"xs": 12, "md": 6, "xl": 3},
                "ctl-measure",
            )
        )
    cols += [
        _labelled(
            "Period",
            dcc.Dropdown(
                id={"ctl": "preset"},
                value=period.preset,
                clearable=False,
                searchable=False,
                options=[{"label": v, "value": k} for k, v in PRESETS.items()],
            ),
            {"xs": 12, "sm": 6, "md": 3, "xl": True},
            "ctl-preset",
        ),
        _labelled(
            "From",
            dbc.Input(
                id={"ctl": "from"}, type="date", value=period.start.isoformat(), debounce=True, size="sm"
            ),
            {"xs": 6, "sm": 3, "md": 3, "xl": "auto"},
            "ctl-from",
        ),
        _labelled(
            "To",
            dbc.Input(id={"ctl": "to"}, type="date", value=period.end.isoformat(), debounce=True, size="sm"),
            {"xs": 6, "sm": 3, "md": 3, "xl": "auto"},
            "ctl-to",
        ),
        _labelled(
            "Grain",
            dcc.Dropdown(
                id={"ctl": "grain"},
                value=view.grain,
                clearable=False,
                searchable=False,
                options=[
                    {
                        "label": v,
                        "value": k,
                        "disabled": bool(view.source and not view.source.has_days and k in ("day", "week")),
                    }
                    for k, v in GRAINS.items()
                ],
            ),
            {"xs": 12, "sm": 6, "md": 3, "xl": 2},
            "ctl-grain",
        ),
    ]
    rendered = {
        "unit": view.unit.unit_id,
        "measure": view.measure.id,
        "preset": period.preset,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "grain": view.grain,
        "rank": view.state.rank or "",
        "query": view.state.query(),
    }
    # Collapsed to one line (a native <details>: no callback, keyboard-accessible), so that on
    # a 1366x768 screen the page's answer, not its pickers, is above the fold.
    return html.Details(
        [
            html.Summary(summary_line(view, measure=measure), id="controls-summary",
                         className="small fw-semibold", style={"cursor": "pointer"}),
            # What the controls showed when the page was drawn: a callback fired merely because
            # the router re-drew the controls finds no difference and does nothing.
            dcc.Store(id="rendered-view", data=rendered),
            dbc.Row(cols, className="g-2 align-items-end mt-1"),
            html.P(
                [
                    f"Source: {view.source.label} ({view.source.grain_note})"
                    if view.source
                    else "No data is loaded for this force.",
                    ". Viewing as: ",
                    access.describe(data.actor()),
                    ".",
                ],
                className="small text-body-secondary mb-0",
            ),
        ],
        open=view.period.preset == "custom",
        className="controls border rounded px-2 py-1 mb-2 bg-body-tertiary d-print-none",
        id="controls",
    )


def summary_line(view: View, *, measure: bool = False) -> str:
    """'Widnes NPU · Financial year to date (Apr 2007 – Nov 2007) · monthly — change': what
    the collapsed pickers are set to, in one line."""
    parts = [view.unit.title]
    if measure:
        parts.append(view.measure.label)
    parts.append(f"{PRESETS.get(view.period.preset, view.period.preset)} ({view.period.label})")
    parts.append(GRAINS.get(view.grain, view.grain).lower())
    return " · ".join(parts) + " — change ▾"


def next_href(pathname: str, rendered: dict[str, Any], values: dict[str, Any]) -> str | None:
    """The URL after the user changed a control (None when nothing really changed).

    `rendered` is what the page's controls showed when it was drawn (and the canonical query
    of that view); `values` maps every control on the page to its value now. Only controls
    whose value differs count: Dash also fires the callback when the router re-draws them.
    Pure, for testing.
    """
    changed = {k for k, v in values.items() if k in rendered and (v or "") != (rendered.get(k) or "")}
    if not changed:
        return None
    new = url_state.parse(rendered.get("query", ""))
    if "unit" in changed and values.get("unit"):
        new = new.replace(unit=values["unit"], rank=None)
    if "measure" in changed and values.get("measure"):
        new = new.replace(measure=values["measure"])
    if "grain" in changed and values.get("grain"):
        new = new.replace(grain=values["grain"])
    if "rank" in changed:
        new = new.replace(rank=values.get("rank") or None)
    if "from" in changed or "to" in changed:
        if values.get("from") and values.get("to"):
            new = new.replace(preset="custom", start=values["from"], end=values["to"])
    elif "preset" in changed and values.get("preset"):
        if values["preset"] == "custom":
            new = new.replace(preset="custom", start=values.get("from"), end=values.get("to"))
        else:
            new = new.replace(preset=values["preset"], start=None, end=None)
    href = (pathname or "/") + new.query()
    return None if new.query() == rendered.get("query") else href


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input({"ctl": ALL}, "value"),
        State("rendered-view", "data"),
        State("url", "pathname"),
        prevent_initial_call=True,
    )
    def on_control(_values: list[Any], rendered: dict[str, Any] | None, pathname: str | None) -> Any:
        if not rendered:
            return dash.no_update
        values = {item["id"]["ctl"]: item.get("value") for item in dash.ctx.inputs_list[0]}
        href = next_href(pathname or "/", rendered, values)
        return href if href is not None else dash.no_update
