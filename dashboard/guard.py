"""What the server answers to requests the dashboard itself would never send.

Dash serves its callbacks at one endpoint, `/_dash-update-component`, whose JSON body names the
callback's outputs, inputs and state. A browser running the app always sends a well-formed
body; anyone else may send anything. Without this module a wrong type in any value (a number
for `url.search`, a string for a records-grid request, a non-JSON body) reaches a callback and
answers a bare 500 with a traceback in the log, and unknown paths under
`/_dash-component-suites/` answer 500 too. Here:

- a callback body is checked before dispatch (`check_callback_body`): its shape, and the type
  and size of the values of the properties our callbacks read; a bad one is a JSON 400 saying
  which value and why;
- anything a malformed value still trips inside a callback is a JSON 400 with a reference to
  the logged traceback, never the exception's text;
- a warehouse that cannot be read (damaged, or gone) while a callback draws a section is shown
  in that section, in the page's own words (`section_outputs`): answering a 503 would leave the
  section empty, since Dash's renderer draws nothing for an error. This is done here, once, for
  every callback, rather than in each callback;
- an unknown component-suite path is a 404;
- an address longer than MAX_ADDRESS is refused before anything else reads it
  (`_refuse_long_address`): a JSON 400 naming the longest parameter on the API, a plain page
  saying the address is too long elsewhere. The server lets such lines through to us
  (gunicorn.conf.py) so that the API can answer them in its own words;
- the page config no longer publishes the server's Python version (Dash puts `sys.version`
  in it) nor Dash's version-check URL.

Pages themselves never fail blank: the router (dashboard/app.py) draws a message instead.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import dash
import dash_bootstrap_components as dbc
import duckdb
import flask
from dash import html
from dash.exceptions import DependencyException
from plotly.io.json import to_json_plotly
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

CALLBACK_PATH = "/_dash-update-component"
SUITES_PATH = "/_dash-component-suites/"
# The longest address (path and query string) the app reads: the API's longest accepted address
# is a few hundred characters (every value is at most 200) and a page's query string is read to
# 4,096 (dashboard/state.py), so 16 KiB is far above any address the app or a person writes.
# gunicorn.conf.py lets request lines up to 1 MiB reach the app, so that this answers them.
MAX_ADDRESS = 16 * 1024
# The largest callback body the app sends is a records-grid request or a control's value:
# a few kilobytes. Flask refuses a longer body with a 413 before reading it.
MAX_BODY = 256 * 1024
_NOTHING = type(None)
# Property -> the JSON types its value may have. Properties not listed may be any JSON value;
# a callback reading one checks it (or the error handler below answers 400).
PROPERTY_TYPES: dict[str, tuple[type, ...]] = {
    "search": (str, _NOTHING),
    "pathname": (str, _NOTHING),
    "href": (str, _NOTHING),
    "hash": (str, _NOTHING),
    "n_clicks": (int, _NOTHING),
    "n_clicks_timestamp": (int, float, _NOTHING),
    "getRowsRequest": (dict, _NOTHING),
    "cellClicked": (dict, _NOTHING),
    "clickData": (dict, _NOTHING),
    "selectedData": (dict, _NOTHING),
    "value": (str, int, float, bool, list, _NOTHING),  # bool: dbc.Switch, dbc.Checkbox
    "data": (dict, list, str, int, float, bool, _NOTHING),
}


NO_WAREHOUSE = (
    "No warehouse has been built or loaded yet: build the demo one with `python -m etl demo`, "
    "or load data with `python -m etl load police-uk PATH`."
)


def unreadable_message(reference: str) -> list[Any]:
    """What a page or a section says when the warehouse cannot be read: the reference to the
    logged exception and the two commands that find and repair the damage, never the
    exception's own text (it can name paths and SQL)."""
    return [
        html.P(f"The data could not be read (reference {reference} in the server log)."),
        html.P(
            ["Find what is damaged with ", html.Code("python -m etl status --verify"),
             " and repair it with ", html.Code("python -m etl rebuild"), "."],
            className="mb-0",
        ),
    ]


def section_outputs(body: Any, content: Any) -> dict[str, Any] | None:
    """A Dash callback response putting `content` in every section the request's callback
    draws (each `children` output), or None when it draws none (a download, a grid's rows, a
    figure: those keep their error status). The other outputs are left out of the response,
    which Dash's renderer reads as "unchanged", as it does for `no_update`."""
    if not isinstance(body, dict):
        return None
    outputs = body.get("outputs")
    items = outputs if isinstance(outputs, list) else [outputs]
    drawn: dict[str, dict[str, Any]] = {}
    for item in items:
        # A list is a pattern-matching ALL output: its length is not known here, so skipped.
        if not isinstance(item, dict) or not isinstance(item.get("property"), str):
            continue
        if item["property"].split("@", 1)[0] != "children":  # "children@<hash>": allow_duplicate
            continue
        ident = item.get("id")
        if isinstance(ident, dict):  # Dash's own key for a pattern id: sorted, compact JSON
            key = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(ident[k])}" for k in sorted(ident)) + "}"
        elif isinstance(ident, str):
            key = ident
        else:
            continue
        drawn[key] = {"children": content}
    return {"multi": True, "response": drawn} if drawn else None


def _in_sections(content: Any) -> flask.Response | None:
    """`content` drawn in the sections of the failed callback request, if it draws any."""
    if flask.request.path != CALLBACK_PATH:
        return None
    answer = section_outputs(flask.request.get_json(silent=True), content)
    if answer is None:
        return None
    return flask.Response(to_json_plotly(answer), mimetype="application/json")


class BadCallback(Exception):
    """A callback request the app would never send; `str()` is the sentence answered."""


def _reference() -> str:
    return uuid.uuid4().hex[:12]


def _check_item(item: Any, where: str) -> None:
    if isinstance(item, list):  # a pattern-matching (ALL) input: a list of items
        for k, sub in enumerate(item):
            _check_item(sub, f"{where}[{k}]")
        return
    if not isinstance(item, dict):
        raise BadCallback(f"{where} must be an object with an id and a property")
    ident, prop = item.get("id"), item.get("property")
    if not isinstance(ident, (str, dict)) or not isinstance(prop, str):
        raise BadCallback(f"{where} must name an id (text or object) and a property (text)")
    if isinstance(ident, dict) and not all(
        isinstance(v, (str, int, float, bool)) for v in ident.values()
    ):
        raise BadCallback(f"{where}: the values of a pattern id must be text or numbers")
    if "value" not in item:
        return
    value, allowed = item["value"], PROPERTY_TYPES.get(prop)
    if allowed is not None:
        ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
        if not ok:
            names = " or ".join(sorted("null" if t is _NOTHING else t.__name__ for t in allowed))
            raise BadCallback(f"{where}: {prop} must be {names}, not {type(value).__name__}")


def check_callback_body(body: Any) -> None:
    """Raise BadCallback unless `body` has the shape the Dash renderer sends."""
    if not isinstance(body, dict):
        raise BadCallback("the request body must be a JSON object")
    if not isinstance(body.get("output"), str):
        raise BadCallback("output must be text naming the callback's outputs")
    outputs = body.get("outputs")
    if not isinstance(outputs, (dict, list)):
        raise BadCallback("outputs must be an object or a list")
    for key in ("inputs", "state"):
        if not isinstance(body.get(key, []), list):
            raise BadCallback(f"{key} must be a list")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallback("changedPropIds must be a list of text")
    for k, item in enumerate(body.get("inputs", [])):
        _check_item(item, f"inputs[{k}]")
    for k, item in enumerate(body.get("state", [])):
        _check_item(item, f"state[{k}]")
    _check_item(outputs, "outputs")


def _json(status: int, message: str) -> flask.Response:
    response = flask.jsonify({"error": message})
    response.status_code = status
    return response


def _refuse_long_address() -> flask.Response | None:
    """Refuse an address longer than MAX_ADDRESS before any other hook (sign-in, the API's own
    checks) or route reads it: on the API with its JSON 400 naming the longest parameter, so a
    client knows which value to shorten; elsewhere with a plain page (414, URI Too Long)."""
    environ = flask.request.environ
    # The address as it was sent (gunicorn and werkzeug keep it), else as near as WSGI gives it.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    length = len(raw) if raw else len(environ.get("PATH_INFO", "")) + 1 + len(environ.get("QUERY_STRING", ""))
    if length <= MAX_ADDRESS:
        return None
    if flask.request.path.startswith("/api/"):
        longest = max(flask.request.args.items(multi=True), key=lambda kv: len(kv[0]) + len(kv[1]),
                      default=None)
        if longest is None:
            name, what = None, "its path"
        else:
            name = longest[0] if len(longest[0]) <= 40 else longest[0][:40] + "…"
            what = f"{name} alone is {len(longest[1]):,} characters"
        response = flask.jsonify({
            "error": f"the address is {length:,} characters long, over the {MAX_ADDRESS:,} this server "
                     f"reads ({what}): shorten it",
            "parameter": name,
        })
        response.status_code = 400
        return response
    page = (
        "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
        "<title>This address is too long</title></head><body><h1>This address is too long</h1>"
        f"<p>The address is {length:,} characters long; this server reads addresses of up to "
        f"{MAX_ADDRESS:,}. Open the page from its link or the navigation instead.</p>"
        "<p><a href=\"/\">Go to the Scorecard</a></p></body></html>"
    )
    return flask.Response(page, status=414, mimetype="text/html")


def _before_request() -> flask.Response | None:
    if flask.request.path != CALLBACK_PATH or flask.request.method != "POST":
        return None
    body = flask.request.get_json(silent=True)
    try:
        check_callback_body(body)
    except BadCallback as exc:
        return _json(400, f"malformed callback request: {exc}")
    return None


def _on_error(exc: Exception) -> Any:
    """Unhandled exceptions: HTTP errors pass through; on the callback endpoint, anything else
    is answered in plain words with a reference to the logged traceback."""
    if isinstance(exc, HTTPException):
        if exc.response is not None:  # an answer already written in words (the rate limit's 429)
            return exc.response
        if flask.request.path.startswith("/api/") and exc.code is not None:
            # The API answers in JSON, even for a path or method it does not have.
            return _json(exc.code, f"{exc.name}: see /api/v1/units, /measures, /series, "
                                   "/assessments and /exceptions (GET)")
        return exc
    path = flask.request.path
    if path.startswith(SUITES_PATH) and isinstance(exc, DependencyException):
        return _json(404, "not found")
    ref = _reference()
    if isinstance(exc, FileNotFoundError):
        log.warning("no warehouse (reference %s): %s", ref, exc)
        drawn = _in_sections(dbc.Alert(NO_WAREHOUSE, color="warning", className="no-warehouse"))
        return drawn or _json(503, NO_WAREHOUSE)
    if isinstance(exc, (duckdb.Error, OSError)):
        log.exception("the warehouse could not be read (reference %s)", ref)
        drawn = _in_sections(dbc.Alert(unreadable_message(ref), color="danger", className="read-error"))
        return drawn or _json(
            503,
            f"The warehouse could not be read (reference {ref} in the server log); "
            "`python -m etl status --verify` names what is damaged.",
        )
    if path == CALLBACK_PATH:
        log.exception("callback failed on its input (reference %s)", ref)
        return _json(400, f"This request could not be answered (reference {ref} in the server log).")
    log.exception("unexpected error (reference %s)", ref)
    return _json(500, f"Something went wrong on the server (reference {ref} in the server log).")


def _without_versions(config: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    def wrapped() -> dict[str, Any]:
        out = config()
        out.pop("python_version", None)
        out.pop("dash_version_url", None)
        return out

    return wrapped


def _no_such_api(rest: str) -> flask.Response:
    # Without this, Dash's catch-all page route would answer any /api/... path with the app.
    flask.abort(404)


def install(app: dash.Dash) -> None:
    """Put the checks above on `app` and its Flask server."""
    server = app.server
    server.add_url_rule("/api/<path:rest>", "no_such_api", _no_such_api)
    server.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    # First of all before_request hooks (sign-in's included): an over-long address is refused
    # before any of them reads it.
    server.before_request_funcs.setdefault(None, []).insert(0, _refuse_long_address)
    server.before_request(_before_request)
    server.register_error_handler(Exception, _on_error)
    app._config = _without_versions(app._config)  # type: ignore[method-assign]
