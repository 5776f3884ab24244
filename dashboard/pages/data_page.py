"""The Data page: what is loaded, from where and when, what looks wrong (suspect months,
quarantined rows), and the load log; for administrators, the audit log of who was handed
individual-level data (docs/audit.md)."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html
from sqlalchemy.exc import SQLAlchemyError

from dashboard.components.common import INTEGER_COLUMN, csv_button, grid, page_header, section
from dashboard.components.controls import controls
from dashboard.components.open_actions import store_for
from dashboard.data.facade import DataAccess
from dashboard.data.model import SOURCE_LABELS, View
from dashboard.exports import export
from dashboard.store import audit as audit_log
from dashboard.store.errors import StoreError

PATH = "/data"
TITLE = "Data"
AUDIT_ROWS = 500
AUDIT_COLUMNS = ["at", "actor", "roles", "what", "via", "unit_id", "route", "detail"]
log = logging.getLogger(__name__)


def audit_frame(data: DataAccess) -> pd.DataFrame:
    """The newest audit entries, for an administrator only (the access seam decides: anyone
    else gets a PermissionError, so neither the grid nor its CSV is ever built for them)."""
    data.check_audit_reader()
    entries = audit_log.read(store_for(data), limit=AUDIT_ROWS)
    return pd.DataFrame(
        [[f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.roles, e.what, e.via, e.unit_id, e.route, e.detail]
         for e in entries],
        columns=AUDIT_COLUMNS,
    )


@export("data-audit", view_in_name=False)
def export_audit(data: DataAccess, view: View | None) -> tuple[pd.DataFrame, str]:
    return audit_frame(data), "audit-log"


def audit_section(data: DataAccess) -> Any:
    """The audit log's newest entries in a grid (CSV/XLSX through the exports), or a plain
    message when the store cannot be read."""
    try:
        frame = audit_frame(data)
    except (StoreError, SQLAlchemyError, OSError):
        log.exception("reading the audit log failed")
        body: Any = dbc.Alert("The audit log could not be read; the cause is in the server log.",
                              color="danger", className="mb-0", id="audit-unavailable")
    else:
        body = grid(
            "audit-grid",
            frame,
            [
                {"field": "at", "headerName": "When (UTC)", "minWidth": 160},
                {"field": "actor", "headerName": "User"},
                {"field": "roles", "headerName": "Roles", "minWidth": 200},
                {"field": "what", "headerName": "What"},
                {"field": "via", "headerName": "Via"},
                {"field": "unit_id", "headerName": "Unit", "minWidth": 220},
                {"field": "route", "headerName": "Route", "minWidth": 280},
                {"field": "detail", "headerName": "Detail", "minWidth": 240},
            ],
            page_size=20,
            fit=False,
        ) if not frame.empty else html.P("Nothing has been recorded yet.", className="mb-0")
    return section(
        "Audit log",
        body,
        action=csv_button("data-audit"),
        card_id="audit-card",
        note=f"The {AUDIT_ROWS} newest entries: who was handed records, map points or an officer's "
        "figures, when, of which unit and through which route (append-only; administrators only; "
        "older entries: python -m dashboard audit --since DATE).",
    )


@export("data-loaded", view_in_name=False)
def export_loaded(data: DataAccess, view: View | None) -> tuple[pd.DataFrame, str]:
    return data.data_overview()["loaded"], "loaded"


@export("data-lake", view_in_name=False)
def export_lake(data: DataAccess, view: View | None) -> tuple[pd.DataFrame, str]:
    return data.data_overview()["lake"], "lake"


@export("data-log", view_in_name=False)
def export_log(data: DataAccess, view: View | None) -> tuple[pd.DataFrame, str]:
    return data.data_overview()["log"], "load-log"


def layout(data: DataAccess, view: View | None) -> list[Any]:
    info = data.data_overview()
    meta = info["meta"]
    loaded, lake, log_rows = info["loaded"], info["lake"], info["log"]
    suspect, quarantined = info["suspect"], info["quarantine"]
    version = meta.get("version", "unknown")
    built_at = meta.get("built_at", "unknown")
    header = [
        *page_header(TITLE, view, with_measure=False),
        *([controls(data, view)] if view is not None else []),
        html.P(
            [
                "Warehouse version ",
                html.Strong(version, id="warehouse-version"),
                ", built ",
                html.Strong(built_at.replace("T", " "), id="warehouse-built-at"),
                f" ({data.reader.version()}).",
            ],
            className="text-body-secondary",
        ),
    ]
    loaded = loaded.assign(source_label=[SOURCE_LABELS.get(s, s) for s in loaded["source"]])
    loaded_body = grid(
        "loaded-grid",
        loaded,
        [
            {"field": "source_label", "headerName": "Source", "minWidth": 200},
            {"field": "force_id", "headerName": "Force"},
            {"field": "first_month", "headerName": "First month"},
            {"field": "last_month", "headerName": "Last month"},
            {"field": "months", "headerName": "Months", **INTEGER_COLUMN},
            {"field": "crimes", "headerName": "Crimes", **INTEGER_COLUMN},
            {"field": "asb", "headerName": "ASB incidents", **INTEGER_COLUMN},
        ],
        months=("first_month", "last_month"),
        page_size=15,
    )
    lake_body = grid(
        "lake-grid",
        lake,
        [
            {"field": "dataset", "headerName": "Dataset"},
            {"field": "source", "headerName": "Source"},
            {"field": "force_id", "headerName": "Force"},
            {"field": "files", "headerName": "Files", **INTEGER_COLUMN},
            {"field": "rows", "headerName": "Rows", **INTEGER_COLUMN},
            {"field": "first_month", "headerName": "First month"},
            {"field": "last_month", "headerName": "Last month"},
            {"field": "last_loaded", "headerName": "Last loaded", "minWidth": 160},
            {"field": "duplicates", "headerName": "Repeated Crime IDs dropped", **INTEGER_COLUMN},
        ],
        months=("first_month", "last_month"),
        times=("last_loaded",),
        page_size=15,
    )
    if suspect.empty:
        suspect_body: Any = html.P("No suspect months.", className="mb-0")
    else:
        suspect_body = grid(
            "suspect-grid",
            suspect,
            [
                {"field": "source", "headerName": "Source"},
                {"field": "force_id", "headerName": "Force"},
                {"field": "month", "headerName": "Month"},
                {"field": "crimes", "headerName": "Crimes", **INTEGER_COLUMN},
                {"field": "asb", "headerName": "ASB incidents", **INTEGER_COLUMN},
                {"field": "expected", "headerName": "Expected", **INTEGER_COLUMN},
                {"field": "reason", "headerName": "Why", "minWidth": 240},
            ],
            months=("month",),
            page_size=10,
        )
    if quarantined.empty:
        quarantine_body: Any = html.P("No rows were quarantined.", className="mb-0")
    else:
        quarantine_body = grid(
            "quarantine-grid",
            quarantined,
            [
                {"field": "source", "headerName": "Source"},
                {"field": "force_id", "headerName": "Force"},
                {"field": "reason", "headerName": "Reason", "minWidth": 240},
                {"field": "rows", "headerName": "Rows", **INTEGER_COLUMN},
                {"field": "first_month", "headerName": "First month"},
                {"field": "last_month", "headerName": "Last month"},
            ],
            months=("first_month", "last_month"),
        )
    if log_rows.empty:
        log_body: Any = html.P("Nothing has been loaded yet.", className="mb-0")
    else:
        log_body = grid(
            "load-log-grid",
            log_rows,
            [
                {"field": "started_at", "headerName": "Started", "minWidth": 160},
                {"field": "status", "headerName": "Status"},
                {"field": "command", "headerName": "Command"},
                {"field": "file", "headerName": "File", "minWidth": 200},
                {"field": "rows_read", "headerName": "Rows read", **INTEGER_COLUMN},
                {"field": "rows_loaded", "headerName": "Rows loaded", **INTEGER_COLUMN},
                {"field": "message", "headerName": "Message", "minWidth": 240},
                {"field": "load_id", "headerName": "Load id"},
            ],
            times=("started_at", "finished_at"),
            page_size=20,
            fit=False,
        )
    return [
        *header,
        section(
            "What is loaded",
            loaded_body,
            action=csv_button("data-loaded"),
            note="One row per source and force. Months counts the months present. Where a force "
            "has several sources, pages use the most detailed: the force's own extract, then "
            "the synthetic demo, then data.police.uk.",
        ),
        section(
            "Where it came from",
            lake_body,
            action=csv_button("data-lake"),
            note="Fact files in the Parquet lake by dataset, source and force (Files: those "
            "holding the force's rows; the comparison forces' monthly figures share one file a "
            "month); the load log below names each input file.",
        ),
        section(
            "Suspect months",
            suspect_body,
            note="Months far below their expected level. They are shown (marked × on trend "
            "charts), never silently averaged in.",
        ),
        section(
            "Quarantined rows",
            quarantine_body,
            note="Rows set aside by the parsers, by reason; they are not counted anywhere.",
        ),
        section(
            "Load log",
            log_body,
            action=csv_button("data-log"),
            note="The 50 most recent loads, newest first.",
        ),
        *([audit_section(data)] if data.may_read_audit() else []),
    ]
