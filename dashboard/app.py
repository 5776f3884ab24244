"""The Dash application: a navigation shell and, for now, the Data page.

Everything the browser loads comes from this server: Dash serves its own scripts
(`serve_locally=True`) and Bootstrap's CSS is served from the installed bootstrap-flask
package, because forces run this on closed networks where a CDN is unreachable (and our
browser test asserts that no request leaves localhost).

Data strings (file names, messages from loads, reasons) are only ever passed to plain
components as text, or to AG Grid cells without HTML renderers, so React escapes them:
nothing read from the warehouse is rendered as HTML.
"""

from __future__ import annotations

import importlib.resources
import logging
from pathlib import Path
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import duckdb
import flask
import pandas as pd
from dash import Input, Output, dcc, html

from dashboard import queries
from dashboard.warehouse import WarehouseReader
from etl.config import warehouse_path

log = logging.getLogger(__name__)

TITLE = "Looking Glass"
BOOTSTRAP_URL = "/vendor/bootstrap.min.css"
APP_CSS_URL = "/vendor/looking-glass.css"

# Our few overrides, served beside Bootstrap (a file, not an inline <style>, so a strict
# Content-Security-Policy can stay strict). AG Grid keeps 150px of empty body under an
# auto-height grid for its "no rows" overlay; our small tables do not need it.
APP_CSS = b"""
.ag-layout-auto-height .ag-center-cols-viewport,
.ag-layout-auto-height .ag-center-cols-container { min-height: 0 !important; }
@media print { .navbar, .btn { display: none !important; } }
"""

# The PIM's questions, in the order the meeting asks them. (label, path)
NAV: list[tuple[str, str]] = [
    ("Scorecard", "/scorecard"),
    ("Drill-down", "/drill-down"),
    ("Compare", "/compare"),
    ("Early warning", "/early-warning"),
    ("Satisfaction", "/satisfaction"),
    ("Calls", "/calls"),
    ("Vulnerable people", "/vulnerable-people"),
    ("Actions", "/actions"),
    ("Packs", "/packs"),
    ("Data", "/data"),
    ("Help", "/help"),
]
DATA_PATHS = {"/", "/data"}  # the Data page is the home page until the Scorecard exists

COMING: dict[str, str] = {
    "/scorecard": "Each measure against target and last year, force to NPU, with its "
    "variation and assurance verdicts.",
    "/drill-down": "From the force down through BCU, NPU and team to the individual officer.",
    "/compare": "Funnel plots against the most similar forces and peer BCUs and NPUs.",
    "/early-warning": "SPC charts that pick out deterioration before it shows in the totals.",
    "/satisfaction": "User satisfaction survey results with their confidence intervals.",
    "/calls": "Calls answered and attended in time, by channel and grade.",
    "/vulnerable-people": "Domestic violence, missing people and offender management.",
    "/actions": "What last month's meeting agreed, who owns it and whether it is done.",
    "/packs": "Printable PIM packs with their charts and data.",
    "/help": "What each measure means and how to read the charts.",
}


# -- vendor assets ---------------------------------------------------------------------


def _vendor_files() -> dict[str, tuple[bytes, str]]:
    """Bootstrap's CSS (and its source map) read once from the installed bootstrap-flask.

    Read at start-up so a broken install fails loudly instead of serving an unstyled page.
    """
    css_dir = importlib.resources.files("flask_bootstrap").joinpath("static/bootstrap5/css")
    files = {"bootstrap.min.css": "text/css", "bootstrap.min.css.map": "application/json"}
    vendor = {name: (css_dir.joinpath(name).read_bytes(), mime) for name, mime in files.items()}
    vendor["looking-glass.css"] = (APP_CSS, "text/css")
    return vendor


def _add_vendor_route(server: flask.Flask) -> None:
    vendor = _vendor_files()

    def serve_vendor(name: str) -> flask.Response:
        if name not in vendor:
            flask.abort(404)
        body, mime = vendor[name]
        response = flask.Response(body, mimetype=mime)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    server.add_url_rule("/vendor/<name>", "vendor", serve_vendor)


# -- formatting helpers ----------------------------------------------------------------

_INTEGER = {
    "type": "numericColumn",
    # Thousands separators for reading; the value stays a number for sorting and CSV.
    "valueFormatter": {"function": "params.value == null ? '' : params.value.toLocaleString('en-GB')"},
}


def _records(
    df: pd.DataFrame, months: tuple[str, ...] = (), times: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """DataFrame -> JSON-safe rows: months as YYYY-MM, timestamps to the second, NULL -> None."""
    out = df.copy()
    for col in months:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m")
    for col in times:
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d %H:%M:%S")
    out = out.astype(object).where(out.notna(), None)
    return out.to_dict("records")


def _grid(
    grid_id: str,
    df: pd.DataFrame,
    columns: list[dict[str, Any]],
    *,
    months: tuple[str, ...] = (),
    times: tuple[str, ...] = (),
    csv_name: str | None = None,
    page_size: int | None = None,
    fit: bool = True,
) -> dag.AgGrid:
    options: dict[str, Any] = {"domLayout": "autoHeight", "enableCellTextSelection": True}
    if page_size:
        options.update(pagination=True, paginationPageSize=page_size)
    return dag.AgGrid(
        id=grid_id,
        rowData=_records(df, months=months, times=times),
        columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 120},
        # Few columns: share the width. Many (the load log): size to content and scroll.
        columnSize="responsiveSizeToFit" if fit else "autoSize",
        dashGridOptions=options,
        csvExportParams={"fileName": csv_name or f"{grid_id}.csv"},
        style={"height": None},
    )


def _section(title: str, body: Any, *, note: str | None = None, action: Any = None) -> dbc.Card:
    header = [html.H2(title, className="h5 mb-0")]
    if action is not None:
        header.append(action)
    children: list[Any] = []
    if note:
        children.append(html.P(note, className="text-body-secondary small"))
    children.append(body)
    return dbc.Card(
        [
            dbc.CardHeader(header, className="d-flex justify-content-between align-items-center"),
            dbc.CardBody(children),
        ],
        className="mb-4",
    )


# -- pages -----------------------------------------------------------------------------


def data_page(reader: WarehouseReader) -> Any:
    """What is in the warehouse, where it came from and what looks wrong."""
    try:
        cur = reader.cursor()
        try:
            info = queries.meta(cur)
            loaded = queries.loaded_summary(cur)
            log_rows = queries.load_log(cur, limit=50)
            suspect = queries.suspect_months(cur)
            quarantined = queries.quarantine_counts(cur)
        finally:
            cur.close()
    except FileNotFoundError:
        return no_warehouse(reader.link)
    except duckdb.Error as exc:
        log.exception("reading the warehouse failed")
        return [
            html.H1("Data", className="h3"),
            dbc.Alert(
                [
                    html.H2("The warehouse could not be read", className="h5"),
                    html.P(f"{type(exc).__name__}: {exc}"),
                    html.P(["Rebuild it with ", html.Code("python -m etl demo"), "."]),
                ],
                color="danger",
            ),
        ]

    version = info.get("version", "unknown")
    built_at = info.get("built_at", "unknown")
    header = [
        html.H1("Data", className="h3"),
        html.P(
            [
                "Warehouse version ",
                html.Strong(version, id="warehouse-version"),
                ", built ",
                html.Strong(built_at.replace("T", " "), id="warehouse-built-at"),
                f" ({reader.version()}).",
            ],
            className="text-body-secondary",
        ),
    ]

    loaded_body: Any = _grid(
        "loaded-grid",
        loaded,
        [
            {"field": "source", "headerName": "Source"},
            {"field": "force_id", "headerName": "Force"},
            {"field": "first_month", "headerName": "First month"},
            {"field": "last_month", "headerName": "Last month"},
            {"field": "months", "headerName": "Months", **_INTEGER},
            {"field": "crimes", "headerName": "Crimes", **_INTEGER},
            {"field": "asb", "headerName": "ASB incidents", **_INTEGER},
        ],
        months=("first_month", "last_month"),
        csv_name="looking-glass-loaded.csv",
    )
    csv_button = dbc.Button("Download CSV", id="loaded-csv", color="secondary", outline=True, size="sm")

    if suspect.empty:
        suspect_body: Any = html.P("No suspect months.", className="mb-0")
    else:
        suspect_body = _grid(
            "suspect-grid",
            suspect,
            [
                {"field": "source", "headerName": "Source"},
                {"field": "force_id", "headerName": "Force"},
                {"field": "month", "headerName": "Month"},
                {"field": "crimes", "headerName": "Crimes", **_INTEGER},
                {"field": "asb", "headerName": "ASB incidents", **_INTEGER},
                {"field": "expected", "headerName": "Expected", **_INTEGER},
                {"field": "reason", "headerName": "Why", "minWidth": 240},
            ],
            months=("month",),
        )

    if quarantined.empty:
        quarantine_body: Any = html.P("No rows were quarantined.", className="mb-0")
    else:
        quarantine_body = _grid(
            "quarantine-grid",
            quarantined,
            [
                {"field": "source", "headerName": "Source"},
                {"field": "force_id", "headerName": "Force"},
                {"field": "reason", "headerName": "Reason", "minWidth": 240},
                {"field": "rows", "headerName": "Rows", **_INTEGER},
                {"field": "first_month", "headerName": "First month"},
                {"field": "last_month", "headerName": "Last month"},
            ],
            months=("first_month", "last_month"),
        )

    if log_rows.empty:
        log_body: Any = html.P("Nothing has been loaded yet.", className="mb-0")
    else:
        log_body = _grid(
            "load-log-grid",
            log_rows,
            [
                {"field": "started_at", "headerName": "Started", "minWidth": 160},
                {"field": "status", "headerName": "Status"},
                {"field": "command", "headerName": "Command"},
                {"field": "file", "headerName": "File", "minWidth": 200},
                {"field": "rows_read", "headerName": "Rows read", **_INTEGER},
                {"field": "rows_loaded", "headerName": "Rows loaded", **_INTEGER},
                {"field": "message", "headerName": "Message", "minWidth": 240},
                {"field": "load_id", "headerName": "Load id"},
            ],
            times=("started_at", "finished_at"),
            page_size=20,
            fit=False,
        )

    return [
        *header,
        _section(
            "What is loaded",
            loaded_body,
            note="One row per source and force. Months counts the months present.",
            action=csv_button,
        ),
        _section(
            "Suspect months",
            suspect_body,
            note="Months far below their expected level. They are shown, never averaged in.",
        ),
        _section("Quarantined rows", quarantine_body),
        _section("Load log", log_body, note="The 50 most recent loads, newest first."),
    ]


def no_warehouse(link: Path) -> Any:
    """Shown instead of a stack trace when nothing has been built yet."""
    return [
        html.H1("Data", className="h3"),
        dbc.Alert(
            [
                html.H2("No warehouse yet", className="h5"),
                html.P(["There is no warehouse at ", html.Code(str(link)), "."]),
                html.P(
                    [
                        "Build the demo warehouse with ",
                        html.Code("python -m etl demo"),
                        " (or ",
                        html.Code("make demo"),
                        "), or load police.uk files with ",
                        html.Code("python -m etl load police-uk PATH"),
                        ", then reload this page.",
                    ],
                    className="mb-0",
                ),
            ],
            color="warning",
            id="no-warehouse",
        ),
    ]


def coming_page(label: str, path: str) -> Any:
    return [
        html.H1(label, className="h3"),
        dbc.Alert(
            [
                html.P("Coming soon: this page is not built yet.", className="mb-1 fw-semibold"),
                html.P(COMING.get(path, ""), className="mb-0"),
            ],
            color="info",
            id="coming",
        ),
    ]


def not_found(path: str) -> Any:
    return [
        html.H1("Page not found", className="h3"),
        html.P(["There is no page at ", html.Code(path), ". "], id="not-found"),
        html.P(dcc.Link("Go to the Data page", href="/data")),
    ]


def render(pathname: str | None, reader: WarehouseReader) -> Any:
    """The page for a URL path: state lives in the URL so pages can be bookmarked."""
    path = (pathname or "/").rstrip("/") or "/"
    if path in DATA_PATHS:
        return data_page(reader)
    labels = dict((p, label) for label, p in NAV)
    if path in labels:
        return coming_page(labels[path], path)
    return not_found(path)


# -- the app ---------------------------------------------------------------------------


def _navbar() -> dbc.Navbar:
    links = [
        dbc.NavItem(dbc.NavLink(label, href=path, id=f"nav{path.replace('/', '-')}")) for label, path in NAV
    ]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(TITLE, href="/", className="fw-bold"),
                dbc.Nav(links, navbar=True, className="flex-wrap small"),
            ],
            fluid=True,
        ),
        color="dark",
        dark=True,
        expand=True,
        className="mb-3",
    )


def create_app(warehouse: Path | None = None) -> dash.Dash:
    """Build the Dash app reading the warehouse whose link is `warehouse`.

    `None` means the configured location (`--warehouse`/`LG_WAREHOUSE`/`data/...`).
    Nothing is opened here: the reader connects on the first request, i.e. inside each
    gunicorn worker after the fork.
    """
    reader = WarehouseReader(Path(warehouse) if warehouse is not None else warehouse_path())
    server = flask.Flask(__name__)
    _add_vendor_route(server)
    app = dash.Dash(
        __name__,
        server=server,
        title=TITLE,
        update_title=None,
        serve_locally=True,
        external_stylesheets=[BOOTSTRAP_URL, APP_CSS_URL],
        # Pages are rendered by the router, so their components appear after start-up.
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div(
        [
            dcc.Location(id="url"),
            _navbar(),
            dbc.Container(id="page", fluid="xl", className="pb-5"),
        ]
    )

    @app.callback(
        Output("page", "children"),
        *[Output(f"nav{path.replace('/', '-')}", "active") for _, path in NAV],
        Input("url", "pathname"),
    )
    def route(pathname: str | None) -> tuple[Any, ...]:
        path = (pathname or "/").rstrip("/") or "/"
        current = "/data" if path in DATA_PATHS else path
        return (render(pathname, reader), *[p == current for _, p in NAV])

    @app.callback(
        Output("loaded-grid", "exportDataAsCsv"),
        Input("loaded-csv", "n_clicks"),
        prevent_initial_call=True,
    )
    def export_loaded(n_clicks: int | None) -> bool:
        return bool(n_clicks)

    server.extensions["looking_glass_reader"] = reader  # for tests and future API routes
    return app
