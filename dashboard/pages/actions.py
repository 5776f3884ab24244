"""Actions: what the PIM agreed, who owns it, when it is due, and whether it is done.

HMIC (2007, L787): "actions are allocated to specific owners as part of this process, with
dates for completion and reporting back". The page raises an action at a PIM (for the unit in
view, or another from the picker), lists the actions of the unit and the units below it
(filtered by owner, meeting and status), flags the overdue ones in words as well as colour,
changes an action's status (a reason is required to drop one) and shows its history.

Everything goes through the service in dashboard/store/actions.py (no SQL here). Two people
editing the same action: the editor form remembers the version it was read at, and a save
against a newer version is refused with who changed it and when ("reload to see it").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html
from sqlalchemy.exc import SQLAlchemyError

from dashboard import csrf, exports
from dashboard import state as url_state
from dashboard.auth import current_actor
from dashboard.components.common import page_header, section
from dashboard.components.controls import controls, measure_options, unit_options
from dashboard.components.open_actions import store_for, visible
from dashboard.data.access import NOT_AVAILABLE
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.store import actions as service
from dashboard.store.errors import ConflictError, StoreError, ValidationError
from etl.measures.registry import MEASURES

log = logging.getLogger(__name__)

PATH = "/actions"
TITLE = "Actions"

FORM_FIELDS = ("unit_id", "measure_id", "description", "owner", "meeting", "due")
HISTORY_WRAP = {
    "wrapText": True,
    "autoHeight": True,
    "cellStyle": {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px", "wordBreak": "normal"},
}
STATUS_OPTIONS = [{"label": label, "value": key} for key, label in service.STATUS_LABELS.items()]
# -- data ------------------------------------------------------------------------------------


def _unit_name(data: DataAccess, unit_id: str) -> str:
    unit = data.unit(unit_id)
    return unit.title if unit is not None else unit_id


def overdue_words(action: service.Action, today: date) -> str:
    """'Overdue: 5 days past due' (words, so the table does not rely on colour)."""
    if not action.overdue(today):
        return ""
    days = (today - action.due).days
    return f"Overdue: {days} day{'s' if days != 1 else ''} past due"


def status_text(action: service.Action, today: date) -> str:
    """'Open. Overdue: 27 days past due', 'Dropped: merged into the force plan'."""
    text = action.status_label
    if action.status_reason:
        text += f": {action.status_reason}"
    overdue = overdue_words(action, today)
    return f"{text}. {overdue}" if overdue else text


def process_actions(
    data: DataAccess,
    view: View,
    *,
    owner: str | None = None,
    meeting: str | None = None,
    statuses: list[str] | None = None,
    include_below: bool = True,
    today: date | None = None,
) -> pd.DataFrame:
    """The actions of the view's unit (and below), filtered, one row each: what the table
    draws and the CSV holds. Overdue ones first, then by due date."""
    today = today or date.today()
    meeting_day = date.fromisoformat(meeting) if meeting else None
    found = visible(
        data,
        service.list_actions(
            store_for(data),
            unit_id=view.unit.unit_id,
            include_below=include_below,
            owner=owner or None,
            meeting=meeting_day,
            statuses=statuses if statuses else None,
        ),
    )
    rows = []
    for a in found:
        measure = MEASURES.get(a.measure_id) if a.measure_id else None
        rows.append(
            {
                "id": a.id,
                "row_id": str(a.id),
                "unit_id": a.unit_id,
                "unit": _unit_name(data, a.unit_id),
                "measure_id": a.measure_id or "",
                "measure": measure.label if measure else (a.measure_id or ""),
                "description": a.description,
                "owner": a.owner,
                "meeting": a.meeting.isoformat(),
                "due": a.due.isoformat(),
                "status": a.status_label,
                "status_text": status_text(a, today),
                "overdue": overdue_words(a, today),
                "overdue_days": (today - a.due).days if a.overdue(today) else 0,
                "status_reason": a.status_reason or "",
                "created_by": a.created_by,
                "created_at": a.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                "updated_by": a.updated_by,
                "updated_at": a.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                "updated": f"{a.updated_by}, {a.updated_at:%d %b %Y %H:%M}",
                "version": a.version,
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "unit_id",
            "unit",
            "measure_id",
            "measure",
            "description",
            "owner",
            "meeting",
            "due",
            "status",
            "overdue",
            "overdue_days",
            "status_reason",
            "created_by",
            "created_at",
            "updated_by",
            "updated_at",
            "updated",
            "version",
            "row_id",
            "status_text",
        ],
    )
    if frame.empty:
        return frame
    return frame.sort_values(["overdue_days", "due", "id"], ascending=[False, True, True]).reset_index(
        drop=True
    )


def csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The exported columns: the table's, with ids, reasons and who/when in full."""
    return frame.drop(columns=["updated", "overdue_days", "row_id", "status_text"])


def default_due(meeting: date) -> date:
    """Four weeks after the meeting: the next monthly PIM, where the owner reports back."""
    return meeting + timedelta(days=28)


# -- layout ----------------------------------------------------------------------------------


def _field(label: str, control: Any, field: str, help_text: str | None = None) -> html.Div:
    return html.Div(
        [
            dbc.Label(label, html_for=f"actions-new-{field}", className="small fw-semibold mb-0"),
            control,
            html.Div(help_text, className="form-text mt-0") if help_text else None,
            # The field's own message, next to it (filled by the create callback).
            html.Div(
                id=f"actions-new-{field}-error", className="small", style={"color": "#B02A37"}, role="alert"
            ),
        ],
        className="mb-2",
    )


def create_form(data: DataAccess, view: View) -> dbc.Card:
    """Raise an action at a PIM: unit (the view's by default), optional measure, description,
    owner, meeting date (today by default) and due date."""
    body = [
        _field(
            "Unit",
            dcc.Dropdown(
                id="actions-new-unit_id",
                options=unit_options(data),
                value=view.unit.unit_id,
                clearable=False,
                searchable=True,
            ),
            "unit_id",
        ),
        _field(
            "Measure (optional)",
            dcc.Dropdown(
                id="actions-new-measure_id",
                options=measure_options(),
                value=None,
                clearable=True,
                searchable=True,
                placeholder="None",
            ),
            "measure_id",
        ),
        _field(
            "Action",
            dbc.Textarea(
                id="actions-new-description",
                rows=2,
                maxLength=service.MAX_DESCRIPTION,
                placeholder="What is to be done",
            ),
            "description",
        ),
        _field(
            "Owner",
            dbc.Input(
                id="actions-new-owner",
                type="text",
                maxLength=service.MAX_OWNER,
                placeholder="Who answers for it, e.g. Supt Marsh",
            ),
            "owner",
        ),
        dbc.Row(
            [
                dbc.Col(
                    _field(
                        "Meeting",
                        dbc.Input(id="actions-new-meeting", type="date", value=date.today().isoformat()),
                        "meeting",
                    ),
                    xs=6,
                ),
                dbc.Col(
                    _field(
                        "Due",
                        dbc.Input(
                            id="actions-new-due", type="date", value=default_due(date.today()).isoformat()
                        ),
                        "due",
                        "Not before the meeting.",
                    ),
                    xs=6,
                ),
            ],
            className="g-2",
        ),
        dbc.Button("Raise action", id="actions-create", color="primary", size="sm"),
        html.Div(id="actions-create-message", className="small mt-2", role="status"),
    ]
    return section("Raise an action", body, card_id="actions-form-card")


def filters(data: DataAccess) -> dbc.Row:
    store = store_for(data)
    owner_options = [{"label": o, "value": o} for o in service.owners(store)]
    meeting_options = [
        {"label": f"{m.day} {m:%b %Y}", "value": m.isoformat()} for m in service.meetings(store)
    ]
    return dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label("Owner", html_for="actions-filter-owner", className="small fw-semibold mb-0"),
                    dcc.Dropdown(
                        id="actions-filter-owner",
                        options=owner_options,
                        placeholder="Any owner",
                        clearable=True,
                    ),
                ],
                xs=12,
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label(
                        "Meeting", html_for="actions-filter-meeting", className="small fw-semibold mb-0"
                    ),
                    dcc.Dropdown(
                        id="actions-filter-meeting",
                        options=meeting_options,
                        placeholder="Any meeting",
                        clearable=True,
                    ),
                ],
                xs=12,
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label("Status", className="small fw-semibold mb-0"),
                    dbc.Checklist(
                        id="actions-filter-status",
                        options=STATUS_OPTIONS,
                        value=list(service.OPEN_STATUSES),
                        inline=True,
                        className="small",
                    ),
                ],
                xs=12,
                md=4,
            ),
            dbc.Col(
                dbc.Checklist(
                    id="actions-filter-below",
                    options=[{"label": "Units below too", "value": "below"}],
                    value=["below"],
                    className="small",
                ),
                xs=12,
                md=2,
                className="align-self-end",
            ),
        ],
        className="g-2 mb-2",
    )


def table() -> dag.AgGrid:
    cell = {"lineHeight": "1.35", "paddingTop": "6px", "paddingBottom": "6px", "wordBreak": "normal"}
    wrapped = {"wrapText": True, "autoHeight": True, "cellStyle": cell}
    # Few, narrow columns so that the table fits A4 width without a scroll bar; the meeting,
    # reason and who/when are in the selected action's summary and in the CSV.
    columns = [
        {"field": "id", "headerName": "#", "maxWidth": 56, "minWidth": 46},
        {"field": "unit", "headerName": "Unit", "minWidth": 100, **wrapped},
        {"field": "description", "headerName": "Action", "minWidth": 150, "flex": 2, **wrapped},
        {"field": "owner", "headerName": "Owner", "minWidth": 80, **wrapped},
        {"field": "due", "headerName": "Due", "minWidth": 112, "maxWidth": 130},
        # Status in words, with "Overdue: N days past due" when it is (bold, not colour alone).
        {
            "field": "status_text",
            "headerName": "Status",
            "minWidth": 130,
            "flex": 1,
            **wrapped,
            "cellStyle": {
                "styleConditions": [
                    {
                        "condition": "params.data.overdue_days > 0",
                        "style": {**cell, "fontWeight": "600", "color": "#9A3A00"},
                    }
                ],
                "defaultStyle": cell,
            },
        },
        {"field": "measure", "headerName": "Measure", "minWidth": 80, **wrapped},
    ]
    return dag.AgGrid(
        id="actions-grid",
        rowData=[],
        columnDefs=columns,
        # Filtering is done by the controls above (owner, meeting, status), not column menus.
        defaultColDef={"sortable": True, "resizable": True},
        columnSize="responsiveSizeToFit",
        getRowId="params.data.row_id",
        # Overdue rows: a warm background as well as the words in the Status column.
        getRowStyle={
            "styleConditions": [
                {"condition": "params.data.overdue_days > 0", "style": {"backgroundColor": "#FFF1E0"}}
            ]
        },
        dashGridOptions={
            "domLayout": "autoHeight",
            "enableCellTextSelection": True,
            "rowSelection": {"mode": "singleRow", "enableClickSelection": True, "checkboxes": False},
            "pagination": True,
            "paginationPageSize": 15,
            "paginationPageSizeSelector": False,
        },
        style={"height": None},
    )


def editor() -> Any:
    """The selected action: its details, a status change (with reason), and its history."""
    return html.Div(
        [
            html.P(
                "Select an action in the table to change its status and see its history.",
                id="actions-selected",
                className="small text-body-secondary mb-2",
            ),
            dcc.Store(id="actions-editing"),  # {"id": ..., "version": ...}: what this editor read
            html.Div(
                [
                    dbc.Row(
                        [
                            dbc.Col(
                                [
                                    dbc.Label(
                                        "Status",
                                        html_for="actions-edit-status",
                                        className="small fw-semibold mb-0",
                                    ),
                                    dcc.Dropdown(
                                        id="actions-edit-status", options=STATUS_OPTIONS, clearable=False
                                    ),
                                ],
                                xs=12,
                                md=4,
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(
                                        "Due", html_for="actions-edit-due", className="small fw-semibold mb-0"
                                    ),
                                    dbc.Input(id="actions-edit-due", type="date"),
                                ],
                                xs=6,
                                md=4,
                            ),
                            dbc.Col(
                                dbc.Button(
                                    "Save", id="actions-save", color="primary", size="sm", className="w-100"
                                ),
                                xs=6,
                                md=4,
                                className="align-self-end",
                            ),
                            dbc.Col(
                                [
                                    dbc.Label(
                                        "Reason (required to drop)",
                                        html_for="actions-edit-reason",
                                        className="small fw-semibold mb-0",
                                    ),
                                    dbc.Input(
                                        id="actions-edit-reason", type="text", maxLength=service.MAX_REASON
                                    ),
                                ],
                                xs=12,
                                md=12,
                            ),
                        ],
                        className="g-2",
                    ),
                    html.Div(id="actions-save-message", className="small mt-2", role="alert"),
                    html.H3("History", className="h6 mt-3"),
                    dag.AgGrid(
                        id="actions-history",
                        rowData=[],
                        columnDefs=[
                            {"field": "when", "headerName": "When (UTC)", "width": 158, "flex": 0},
                            {"field": "who", "headerName": "Who", "minWidth": 80, **HISTORY_WRAP},
                            {"field": "field", "headerName": "What", "width": 105, "flex": 0},
                            {
                                "field": "old",
                                "headerName": "From",
                                "minWidth": 100,
                                "flex": 2,
                                **HISTORY_WRAP,
                            },
                            {"field": "new", "headerName": "To", "minWidth": 100, "flex": 2, **HISTORY_WRAP},
                        ],
                        # flex, not sizeColumnsToFit: the grid is hidden until an action is chosen
                        defaultColDef={"sortable": True, "resizable": True, "flex": 1},
                        dashGridOptions={"domLayout": "autoHeight", "enableCellTextSelection": True},
                        style={"height": None},
                    ),
                ],
                id="actions-editor",
                style={"display": "none"},
            ),
        ]
    )


def store_unavailable(exc: Exception) -> dbc.Alert:
    """Said instead of the page when the store cannot be opened (the cause is in the log)."""
    log.error("the action store could not be opened: %s", exc)
    words = str(exc) if isinstance(exc, StoreError) else "see the server log for the cause."
    return dbc.Alert(
        ["The action store could not be opened: ", words], color="danger", id="actions-unavailable"
    )


def layout(data: DataAccess, view: View) -> list[Any]:
    try:
        store_for(data)
    except (StoreError, SQLAlchemyError, OSError) as exc:
        return [*page_header(TITLE, view, with_measure=False), store_unavailable(exc)]
    listing = section(
        f"Actions for {view.unit.title}",
        [filters(data), html.P(id="actions-count", className="small mb-1", role="status"), table()],
        note="Raised at a PIM, each with one owner and a due date. Overdue: not done or dropped and past "
        "its due date (as of today). Select an action to change its status.",
        action=dbc.Button(
            "Download CSV",
            id="actions-csv",
            color="secondary",
            outline=True,
            size="sm",
            className="ms-2 text-nowrap",
        ),
        card_id="actions-card",
    )
    return [
        *page_header(TITLE, view, with_measure=False),
        controls(data, view),
        dcc.Store(id="actions-view", data=view.state.query()),
        dcc.Store(id="actions-refresh", data=0),
        listing,
        dbc.Row(
            [
                dbc.Col(section("Selected action", editor(), card_id="actions-editor-card"), xs=12, xl=7),
                dbc.Col(create_form(data, view), xs=12, xl=5),
            ],
            className="g-3",
        ),
    ]


# -- callbacks -------------------------------------------------------------------------------


def _units(data: DataAccess) -> set[str]:
    """The unit ids an action may be raised for: those the actor may see and write actions
    for (the access seam decides)."""
    return {u.unit_id for u in data.picker_units() if data.may_write_actions(u)}


def _in_scope(data: DataAccess, action: service.Action, *, write: bool = False) -> bool:
    """Whether the request's actor may read (or change) this action: by its unit, through the
    access seam (an action whose unit has left the warehouse: `may_see_retired_units`)."""
    unit = data.unit(action.unit_id)
    if unit is None:
        return data.may_see_retired_units()
    return data.may_write_actions(unit) if write else data.may_see(unit)


# One answer for an action that does not exist and one out of scope: a refusal reveals neither.
REFUSED = f"This action does not exist or is {NOT_AVAILABLE}."
READ_ONLY = f"Changing this action is {NOT_AVAILABLE}."


def _error_outputs(errors: dict[str, str]) -> list[str]:
    return [errors.get(f, "") for f in FORM_FIELDS]


def history_rows(
    changes: list[service.Change], unit_name: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """The history table's rows; unit ids named by `unit_name(unit_id)` when given."""
    rows = []
    for c in changes:
        rows.append(
            {
                "when": f"{c.changed_at:%d %b %Y %H:%M}",
                "who": c.changed_by,
                "field": c.field_label,
                "old": _value_text(c.field, c.old_value, unit_name),
                "new": _value_text(c.field, c.new_value, unit_name),
                "version": c.version,
            }
        )
    return rows


def _value_text(field: str, value: str | None, unit_name: Callable[[str], str] | None = None) -> str:
    if value is None:
        return ""
    if field == "unit_id" and unit_name is not None:
        return unit_name(value)
    if field == "status":
        return service.STATUS_LABELS.get(value, value)
    if field == "measure_id" and value in MEASURES:
        return MEASURES[value].label
    return value


def register(app: dash.Dash, data: DataAccess) -> None:
    # the callbacks that create and change actions: refused without the page's CSRF token
    csrf.mark_writes("actions-create-message", "actions-save-message")
    @app.callback(
        Output("actions-grid", "rowData"),
        Output("actions-count", "children"),
        Input("actions-filter-owner", "value"),
        Input("actions-filter-meeting", "value"),
        Input("actions-filter-status", "value"),
        Input("actions-filter-below", "value"),
        Input("actions-refresh", "data"),
        State("actions-view", "data"),
    )
    def fill_table(
        owner: str | None,
        meeting: str | None,
        statuses: list[str] | None,
        below: list[str] | None,
        _refresh: int,
        query: str | None,
    ) -> tuple[Any, Any]:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return [], ""
            try:
                frame = process_actions(
                    data, view, owner=owner, meeting=meeting, statuses=statuses, include_below=bool(below)
                )
            except SQLAlchemyError:
                log.exception("reading the action store failed")
                return [], "The actions could not be read just now; try again, or see the server log."
        overdue = int((frame["overdue_days"] > 0).sum()) if not frame.empty else 0
        words = f"{len(frame)} action{'s' if len(frame) != 1 else ''}" + (
            f", {overdue} overdue (shaded, and said in the Status column)." if overdue else ", none overdue."
        )
        return frame.to_dict("records"), words

    @app.callback(
        Output("download", "data", allow_duplicate=True),
        Input("actions-csv", "n_clicks"),
        State("actions-filter-owner", "value"),
        State("actions-filter-meeting", "value"),
        State("actions-filter-status", "value"),
        State("actions-filter-below", "value"),
        State("actions-view", "data"),
        prevent_initial_call=True,
    )
    def download(
        clicks: int | None,
        owner: str | None,
        meeting: str | None,
        statuses: list[str] | None,
        below: list[str] | None,
        query: str | None,
    ) -> Any:
        if not clicks:
            return dash.no_update
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update
            frame = process_actions(
                data, view, owner=owner, meeting=meeting, statuses=statuses, include_below=bool(below)
            )
        return {
            "content": exports.to_csv(csv_frame(frame)),
            "filename": exports.file_name("actions", view),
            "type": "text/csv",
        }

    @app.callback(
        *[Output(f"actions-new-{f}-error", "children") for f in FORM_FIELDS],
        Output("actions-create-message", "children"),
        Output("actions-refresh", "data", allow_duplicate=True),
        Output("actions-new-description", "value"),
        Input("actions-create", "n_clicks"),
        *[State(f"actions-new-{f}", "value") for f in FORM_FIELDS],
        State("actions-refresh", "data"),
        prevent_initial_call=True,
    )
    def create(
        clicks: int | None,
        unit_id: str | None,
        measure_id: str | None,
        description: str | None,
        owner: str | None,
        meeting: str | None,
        due: str | None,
        refresh: int | None,
    ) -> tuple[Any, ...]:
        if not clicks:
            return tuple([dash.no_update] * (len(FORM_FIELDS) + 3))
        actor = current_actor()
        with data.request(actor):
            try:
                made = service.create_action(
                    store_for(data),
                    unit_id=unit_id or "",
                    measure_id=measure_id,
                    description=description or "",
                    owner=owner or "",
                    due=due,
                    meeting=meeting,
                    actor=actor,
                    units=_units(data),
                )
            except ValidationError as exc:
                return (
                    *_error_outputs(exc.fields),
                    html.Span("Not saved: correct the fields marked above.", style={"color": "#B02A37"}),
                    dash.no_update,
                    dash.no_update,
                )
            except StoreError as exc:
                return (
                    *_error_outputs({}),
                    html.Span(str(exc), style={"color": "#B02A37"}),
                    dash.no_update,
                    dash.no_update,
                )
            unit = _unit_name(data, made.unit_id)
        message = html.Span(
            f"Action {made.id} raised for {unit}, owned by {made.owner}, due {made.due:%d %b %Y}.",
            id="actions-created",
            className="text-success-emphasis",
        )
        return (*_error_outputs({}), message, (refresh or 0) + 1, "")

    @app.callback(
        Output("actions-editing", "data"),
        Input("actions-grid", "selectedRows"),
        prevent_initial_call=True,
    )
    def select(rows: list[dict[str, Any]] | None) -> Any:
        if not rows:
            return dash.no_update
        return {"id": int(rows[0]["id"]), "version": int(rows[0]["version"])}

    @app.callback(
        Output("actions-editor", "style"),
        Output("actions-selected", "children"),
        Output("actions-edit-status", "value"),
        Output("actions-edit-reason", "value"),
        Output("actions-edit-due", "value"),
        Output("actions-history", "rowData"),
        Input("actions-editing", "data"),
        prevent_initial_call=True,
    )
    def show(editing: dict[str, Any] | None) -> tuple[Any, ...]:
        if not editing:
            return (dash.no_update,) * 6
        store = store_for(data)
        with data.request(current_actor()):
            try:
                action = service.get_action(store, int(editing["id"]))
            except StoreError:
                return {"display": "none"}, REFUSED, None, None, None, []
            if not _in_scope(data, action):  # the same words as an action that does not exist
                log.warning("action %s refused to %s", action.id, data.actor().id)
                return {"display": "none"}, REFUSED, None, None, None, []
            unit = _unit_name(data, action.unit_id)
        overdue = overdue_words(action, date.today())
        summary = [
            html.Span(f"Action {action.id}: ", className="fw-semibold"),
            html.Span(action.description),
            html.Br(),
            html.Span(
                f"{unit} · owner {action.owner} · raised at the meeting of {action.meeting:%d %b %Y} · due "
                f"{action.due:%d %b %Y} · {action.status_label}"
                + (f" ({action.status_reason})" if action.status_reason else "")
                + (f" · {overdue}" if overdue else "")
                + f" · last changed by {action.updated_by} at {action.updated_at:%d %b %Y %H:%M} UTC"
            ),
        ]
        return (
            {"display": "block"},
            summary,
            action.status,
            action.status_reason or "",
            action.due.isoformat(),
            history_rows(service.history(store, action.id), lambda u: _unit_name(data, u)),
        )

    @app.callback(
        Output("actions-save-message", "children"),
        Output("actions-refresh", "data", allow_duplicate=True),
        Output("actions-editing", "data", allow_duplicate=True),
        Input("actions-save", "n_clicks"),
        State("actions-editing", "data"),
        State("actions-edit-status", "value"),
        State("actions-edit-reason", "value"),
        State("actions-edit-due", "value"),
        State("actions-refresh", "data"),
        prevent_initial_call=True,
    )
    def save(
        clicks: int | None,
        editing: dict[str, Any] | None,
        status: str | None,
        reason: str | None,
        due: str | None,
        refresh: int | None,
    ) -> tuple[Any, Any, Any]:
        if not clicks or not editing:
            return dash.no_update, dash.no_update, dash.no_update
        actor = current_actor()
        changes: dict[str, Any] = {"status": status, "status_reason": reason or None}
        if due:
            changes["due"] = due
        with data.request(actor):
            try:
                current = service.get_action(store_for(data), int(editing["id"]))
            except StoreError:
                return html.Span(REFUSED, style={"color": "#B02A37"}), dash.no_update, dash.no_update
            if not _in_scope(data, current, write=True):
                log.warning("change to action %s refused to %s", current.id, actor.id)
                return html.Span(READ_ONLY, style={"color": "#B02A37"}), dash.no_update, dash.no_update
            try:
                saved = service.update_action(
                    store_for(data), int(editing["id"]), int(editing["version"]), changes, actor
                )
            except ConflictError as exc:
                reload = dbc.Button(
                    "Reload", id="actions-reload", color="warning", size="sm", className="ms-2"
                )
                return (
                    html.Div(
                        [html.Span(str(exc), id="actions-conflict"), reload],
                        className="alert alert-warning py-1 mb-0",
                    ),
                    dash.no_update,
                    dash.no_update,
                )
            except StoreError as exc:
                text = " ".join(exc.fields.values()) if isinstance(exc, ValidationError) else str(exc)
                return html.Span(text, style={"color": "#B02A37"}), dash.no_update, dash.no_update
        words = (
            f"Saved: action {saved.id} is now {saved.status_label.lower()} (version {saved.version})."
            if saved.version != editing["version"]
            else "Nothing changed."
        )
        return (
            html.Span(words, className="text-success-emphasis"),
            (refresh or 0) + 1,
            {"id": saved.id, "version": saved.version},
        )

    @app.callback(
        Output("actions-editing", "data", allow_duplicate=True),
        Output("actions-save-message", "children", allow_duplicate=True),
        Output("actions-refresh", "data", allow_duplicate=True),
        Input("actions-reload", "n_clicks"),
        State("actions-editing", "data"),
        State("actions-refresh", "data"),
        prevent_initial_call=True,
    )
    def reload(
        clicks: int | None, editing: dict[str, Any] | None, refresh: int | None
    ) -> tuple[Any, Any, Any]:
        if not clicks or not editing:
            return dash.no_update, dash.no_update, dash.no_update
        try:
            current = service.get_action(store_for(data), int(editing["id"]))
        except StoreError as exc:
            return dash.no_update, str(exc), dash.no_update
        return (
            {"id": current.id, "version": current.version},
            f"Reloaded: version {current.version}, as {current.updated_by} left it.",
            (refresh or 0) + 1,
        )
