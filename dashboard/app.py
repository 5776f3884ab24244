"""The Dash application: the navigation, the router, and the server the API shares.

The router draws every page from its URL (path = page, query string = view: see
dashboard/state.py), so every view can be bookmarked; pages are modules listed in
dashboard/pages/__init__.py:NAV. The data API (dashboard/api.py) is a blueprint on the same
Flask server, and `create_app(...).server` is what gunicorn serves.

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
import dash_bootstrap_components as dbc
import duckdb
import flask
from dash import Input, Output, dcc, html

from dashboard import api, exports, signin
from dashboard import state as url_state
from dashboard.auth import current_actor
from dashboard.components import controls as controls_component
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import HOME, NAV, VIEWLESS, coming
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
.exception-row > td:first-child { border-left: 4px solid #B34700; }
.navbar .nav-link { padding-left: .45rem; padding-right: .45rem; }
.navbar .nav-link.active { text-decoration: underline; text-underline-offset: .3em; }
#breadcrumbs .breadcrumb { font-size: .95rem; }
@media print {
  .navbar, .btn, .d-print-none, .modebar { display: none !important; }
  .card { break-inside: avoid; }
  .container-xl { max-width: none; }
}
"""

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


# -- routing ---------------------------------------------------------------------------


def no_warehouse(link: Path) -> Any:
    """Shown instead of a stack trace when nothing has been built yet."""
    return [
        html.H1("No warehouse yet", className="h3"),
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


def read_error(exc: Exception) -> Any:
    return [
        html.H1("The warehouse could not be read", className="h3"),
        dbc.Alert(
            [
                html.P(f"{type(exc).__name__}: {exc}"),
                html.P(
                    ["Rebuild it with ", html.Code("python -m etl demo"), ", or see the load log."],
                    className="mb-0",
                ),
            ],
            color="danger",
            id="read-error",
        ),
    ]


def not_found(path: str) -> Any:
    return [
        html.H1("Page not found", className="h3"),
        html.P(["There is no page at ", html.Code(path), ". "], id="not-found"),
        html.P(dcc.Link("Go to the Scorecard", href=HOME)),
    ]


def page_path(pathname: str | None) -> str:
    path = (pathname or "/").rstrip("/") or "/"
    return HOME if path == "/" else path


def render(pathname: str | None, search: str | None, data: DataAccess) -> Any:
    """The page for a URL: path picks the page, the query string the view (unit, measure,
    period, grain), so every view can be bookmarked and pasted into a PIM paper."""
    path = page_path(pathname)
    pages = {p: (label, module) for label, p, module in NAV}
    if path not in pages:
        return not_found(path)
    label, module = pages[path]
    try:
        view = data.resolve(url_state.parse(search))
        if module is None:
            return coming.layout(label, path, data, view)
        fn = module.layout
        if view is None:
            if path in VIEWLESS:
                return fn(data, None)
            return [
                html.H1(label, className="h3"),
                dbc.Alert(
                    "The warehouse holds no units yet: load data first (see the Data page).",
                    color="warning",
                    id="no-units",
                ),
            ]
        return fn(data, view)
    except PermissionError as exc:  # the access seam refused (logged there with actor and unit)
        return [html.H1(label, className="h3"),
                dbc.Alert(str(exc), color="warning", id="not-available")]
    except FileNotFoundError:
        return no_warehouse(data.reader.link)
    except duckdb.Error as exc:
        log.exception("reading the warehouse failed")
        return read_error(exc)


# -- the app ---------------------------------------------------------------------------


def _nav_id(path: str) -> str:
    return f"nav{path.replace('/', '-')}"


def _navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(label, href=path, id=_nav_id(path))) for label, path, _ in NAV]
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(TITLE, href=HOME, className="fw-bold"),
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
    data = DataAccess(reader, require_request=True)
    server = flask.Flask(__name__)
    _add_vendor_route(server)
    server.extensions["looking_glass_reader"] = reader
    server.extensions["looking_glass_data"] = data
    server.register_blueprint(api.blueprint)
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
            # 'callback-nav': callbacks that set the URL navigate without a page reload; the
            # router below then draws the page from the new URL.
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Download(id="download"),
            _navbar(),
            dbc.Container(id="signin-bar", fluid="xl"),  # who is signed in (dashboard/signin.py)
            dbc.Container(id="page", fluid="xl", className="pb-5"),
        ]
    )

    @app.callback(
        Output("page", "children"),
        *[Output(_nav_id(path), "active") for _, path, _ in NAV],
        *[Output(_nav_id(path), "href") for _, path, _ in NAV],
        Input("url", "pathname"),
        Input("url", "search"),
    )
    def route(pathname: str | None, search: str | None) -> tuple[Any, ...]:
        current = page_path(pathname)
        with data.request(current_actor()):
            page = render(pathname, search, data)
        # The nav links carry the view (unit, period...) from page to page.
        carried = url_state.parse(search).query()
        return (page, *[p == current for _, p, _ in NAV], *[p + carried for _, p, _ in NAV])

    signin.install(app)  # before any page, callback or API route runs: sets the request's actor
    controls_component.register(app)
    exports.register(app, data)
    for _, _, module in NAV:
        if module is not None and hasattr(module, "register"):
            module.register(app, data)
    return app
