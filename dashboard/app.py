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

import gc
import importlib.resources
import logging
import uuid
from pathlib import Path
from typing import Any

import dash
import dash_bootstrap_components as dbc
import duckdb
import flask
from dash import Input, Output, dcc, html

from dashboard import api, audit, csrf, exports, guard, headers, ratelimit, signin
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
APP_JS_URL = "/vendor/looking-glass.js"

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
/* WCAG 2.2 AA contrast (1.4.3, >= 4.5:1): Bootstrap's secondary text and outline buttons are
   4.4:1 on a card header or a light panel, its links 4.1:1 on a warning alert. */
:root { --bs-secondary-color: #595f66; --bs-link-color: #0a58ca; --bs-link-color-rgb: 10, 88, 202; }
.btn-outline-secondary { --bs-btn-color: #565e64; --bs-btn-border-color: #565e64; }
.skip-link:focus { position: absolute !important; top: .5rem; left: .5rem; z-index: 2000;
  background: #fff; color: #0a58ca; padding: .5rem 1rem; border: 2px solid #0a58ca; }
#main:focus { outline: none; }
figure.chart { margin: 0; }
/* Print: A4-clean (issue 14 item 8). The page prints at A4's width less the margins (186 mm,
   about 703 CSS px): nothing may run past it, since the printer cuts it off. Tables get a
   smaller type and may break long words; wide tables stop scrolling and wrap instead; charts
   are redrawn to the page's width (the script's print listener); grids fit their columns. */
@page { size: A4; margin: 12mm; }
@media print {
  .navbar, .btn, .btn-group, .d-print-none, .modebar, .skip-link, .chart-downloads {
    display: none !important;
  }
  .card { break-inside: avoid; }
  .container-xl, .container-fluid { max-width: none; padding-left: 0; padding-right: 0; }
  .table-responsive { overflow: visible !important; }
  .table { font-size: 9px; }
  .table > :not(caption) > * > * { padding: .2rem .25rem; }
  .table td:not(.text-end), .table th:not(.text-end) { overflow-wrap: anywhere; }
  .table td.text-end { white-space: nowrap; }
  .table .fs-5 { font-size: 11px !important; font-weight: 600; }
  .js-plotly-plot, .js-plotly-plot .plot-container, .js-plotly-plot .svg-container {
    max-width: 100% !important;
  }
  .ag-root-wrapper { max-width: 100%; }
  .ag-root-wrapper, .ag-root-wrapper .ag-cell, .ag-root-wrapper .ag-header-cell { font-size: 9px !important; }
  .ag-root-wrapper .ag-cell, .ag-root-wrapper .ag-header-cell { padding-left: 3px !important;
    padding-right: 3px !important; }
}
"""

# Keyboard help the components do not give (WCAG 2.1.1), served as a file like the CSS:
# - Enter on a focused table cell does what a click does (the ranked tables drill down on a
#   click of a row: AG Grid gives keyboard focus to cells but Enter does nothing).
# - Typing on a focused picker (Dash 4's dcc.Dropdown) opens it and types into its search box:
#   Dash moves the focus on the first key, and the next keys were lost.
# - Dash 4's pickers keep a focusable stand-in input marked aria-hidden (a serious axe
#   violation): it is named after the picker's label instead.
APP_JS = b"""
(function () {
  'use strict';
  var pending = '';
  function searchBox() {
    return document.querySelector('.dash-dropdown-content .dash-dropdown-search');
  }
  function typeInto(box, text) {
    var setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    setter.call(box, box.value + text);
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }
  function flush(tries) {
    var box = searchBox();
    if (box) { box.focus(); typeInto(box, pending); pending = ''; return; }
    if (tries > 0) { requestAnimationFrame(function () { flush(tries - 1); }); } else { pending = ''; }
  }
  function pickerKey(e) {
    var t = e.target;
    if (!(t instanceof HTMLElement) || t.classList.contains('dash-dropdown-search')) { return null; }
    var picker = t.closest('.dash-dropdown-wrapper');
    if (!picker || e.key.length !== 1 || e.key === ' ' || e.ctrlKey || e.metaKey || e.altKey) { return null; }
    return picker;
  }
  document.addEventListener('keydown', function (e) {
    var picker = pickerKey(e);
    if (picker) {
      e.preventDefault();
      e.stopPropagation();
      var button = picker.querySelector('button.dash-dropdown');
      if (!button || button.disabled) { return; }
      if (!pending && button.getAttribute('aria-expanded') !== 'true') { button.click(); }
      pending += e.key;
      if (pending.length === 1) { flush(60); }
      return;
    }
    if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && !e.altKey && e.target instanceof HTMLElement) {
      var cell = e.target.closest('.ag-cell');
      if (cell && e.target === cell) { e.preventDefault(); cell.click(); }
    }
  }, true);
  document.addEventListener('keyup', function (e) {
    if (pickerKey(e)) { e.preventDefault(); e.stopPropagation(); }
  }, true);
  function name(root) {
    root.querySelectorAll('.dash-dropdown-focus-target[aria-hidden]').forEach(function (input) {
      input.removeAttribute('aria-hidden');
      var col = input.closest('.col, [class*="col-"]');
      var label = col && col.querySelector('label');
      input.setAttribute('aria-label', label ? label.textContent : 'Choose');
    });
    // a table wider than the screen scrolls sideways: the keyboard must reach it too (2.1.1)
    root.querySelectorAll('.table-responsive:not([tabindex])').forEach(function (box) {
      box.tabIndex = 0;
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', 'Table (scrolls sideways on a narrow screen)');
    });
  }
  // Print: charts and grids drawn for the screen are redrawn to the printed page's width
  // (A4 less 12 mm margins is 703 px; less a card's border and padding, 669).
  var PRINT_PX = 660;
  var GRID_PX = PRINT_PX - 20;  // room for a grid's own vertical scrollbar (the records)
  function toPrint(printing) {
    var Plotly = window.Plotly;
    document.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
      if (!Plotly || !gd._fullLayout) { return; }
      if (printing) {
        gd.dataset.screenWidth = '1';
        Plotly.relayout(gd, {width: Math.min(gd.parentElement.clientWidth || PRINT_PX, PRINT_PX)});
      } else if (gd.dataset.screenWidth) {
        delete gd.dataset.screenWidth;
        Plotly.relayout(gd, {width: null, autosize: true});
      }
    });
    if (!window.dash_ag_grid) { return; }
    document.querySelectorAll('.ag-root-wrapper').forEach(function (root) {
      var holder = root.closest('[id]');
      var api;
      try { api = window.dash_ag_grid.getApi(holder.id); } catch (err) { return; }
      if (!api) { return; }
      if (printing && !screenDefs.has(holder)) {
        // every column shares the page's width (a long cell ends in an ellipsis; the CSV and
        // XLSX hold it whole), so none is lost off the edge
        var defs = api.getColumnDefs();
        screenDefs.set(holder, defs);
        api.setGridOption('columnDefs', defs.map(function (d) {
          return Object.assign({}, d, {minWidth: 30, maxWidth: undefined, flex: undefined});
        }));
        // the page's width, not the screen's: nothing re-measures while the page prints
        holder.style.width = PRINT_PX + 'px';
        api.autoSizeAllColumns(true);
        api.sizeColumnsToFit(GRID_PX);
        // a grid sized to its content sizes itself again after new columnDefs: fit it once more
        [50, 300].forEach(function (ms) {
          setTimeout(function () { if (screenDefs.has(holder)) { api.sizeColumnsToFit(GRID_PX); } }, ms);
        });
      } else if (!printing && screenDefs.has(holder)) {
        holder.style.width = '';
        api.setGridOption('columnDefs', screenDefs.get(holder));
        screenDefs.delete(holder);
      }
    });
  }
  var screenDefs = new Map();
  var printMedia = window.matchMedia('print');
  printMedia.addEventListener('change', function (e) { toPrint(e.matches); });
  window.addEventListener('beforeprint', function () { toPrint(true); });
  window.addEventListener('afterprint', function () { toPrint(false); });
  function start() {
    name(document);
    new MutationObserver(function () { name(document); })
      .observe(document.body, {childList: true, subtree: true});
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
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
    vendor["looking-glass.js"] = (APP_JS, "text/javascript")
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
    log.warning("no warehouse at %s", link)
    return [
        html.H1("No warehouse yet", className="h3"),
        dbc.Alert(
            [
                html.H2("No warehouse yet", className="h5"),
                # The path stays in the server's log: no response names a server path.
                html.P("Nothing has been built or loaded where this server looks for its data."),
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


def read_error(reference: str) -> Any:
    """The warehouse file could not be read (damaged, or removed under us). The exception's
    text stays in the server log, under `reference`: it can name paths and SQL. A section drawn
    by its own callback says the same (dashboard/guard.py)."""
    return [
        html.H1("The warehouse could not be read", className="h3"),
        dbc.Alert(guard.unreadable_message(reference), color="danger", id="read-error"),
    ]


def page_error(reference: str) -> Any:
    """A page that failed to draw says so instead of leaving the screen blank."""
    return [
        html.H1("This page could not be drawn", className="h3"),
        dbc.Alert(
            [
                html.P(f"Something went wrong drawing this view (reference {reference} in the server log)."),
                html.P(dcc.Link("Go to the Scorecard", href=HOME), className="mb-0"),
            ],
            color="danger",
            id="page-error",
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
    except (duckdb.Error, OSError):
        reference = uuid.uuid4().hex[:12]
        log.exception("reading the warehouse failed (reference %s)", reference)
        return read_error(reference)
    except Exception:  # a bug or an input nothing checked: a message, never a blank screen
        reference = uuid.uuid4().hex[:12]
        log.exception("drawing %s failed (reference %s)", path, reference)
        return page_error(reference)


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
    headers.install(server)  # on every response, errors and downloads included
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
        external_scripts=[APP_JS_URL],
        # Pages are rendered by the router, so their components appear after start-up.
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div(
        [
            # 'callback-nav': callbacks that set the URL navigate without a page reload; the
            # router below then draws the page from the new URL.
            dcc.Location(id="url", refresh="callback-nav"),
            dcc.Download(id="download"),
            dcc.Download(id="download-image"),
            # WCAG 2.4.1: the first Tab stop skips the navigation to the page itself.
            html.A("Skip to main content", href="#main", className="visually-hidden-focusable skip-link"),
            _navbar(),
            dbc.Container(id="signin-bar", fluid="xl"),  # who is signed in (dashboard/signin.py)
            html.Main(dbc.Container(id="page", fluid="xl", className="pb-5"), id="main", tabIndex="-1"),
        ]
    )
    # WCAG 3.1.1: the page says its language.
    app.index_string = app.index_string.replace("<html>", '<html lang="en-GB">', 1)

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
    csrf.install(app)  # after sign-in: a writing callback must carry the session's token
    ratelimit.install(app)  # after sign-in: API requests are counted per signed-in user
    guard.install(app)
    audit.install(app, data)  # individual-level data handed out is recorded, or withheld
    controls_component.register(app)
    exports.register(app, data)
    for _, _, module in NAV:
        if module is not None and hasattr(module, "register"):
            module.register(app, data)
    headers.allow_dash_scripts(app)  # last: the hashes are of the final index page's scripts
    return app


def serving_app(warehouse: Path | None = None) -> dash.Dash:
    """`create_app` for a process that will serve it (app.py: each gunicorn worker, `python
    app.py`), its start-up objects then frozen out of the garbage collector (gc.freeze).

    Why: everything loaded at start-up (modules, the map's reference data, the app) lives as
    long as the process, yet each full collection walked all of it: the first request that
    allocated enough to trigger one paid ~0.2 s for it (measured: the first drill-down of a
    process 330 ms of CPU, the next 150 ms; frozen, 200 ms), which is most of the cold single
    calls over 100 ms in benchmarks/dashboard.py. Not in `create_app`: the tests build many
    apps in one process, and frozen objects are never freed."""
    app = create_app(warehouse)
    gc.collect()
    gc.freeze()
    return app
