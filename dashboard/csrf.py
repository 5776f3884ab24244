"""CSRF protection for the Dash callbacks that change stored state (the action tracker's
create and save), on top of the sign-in form's own token (dashboard/signin.py).

Why more than SameSite=Lax: Lax already keeps the session cookie off a cross-site POST, and a
cross-site JSON POST needs a CORS preflight we never grant, but a write to the record a PIM
holds its people to account by deserves a check that does not rest on browser defaults. The
double-submit pattern Dash's renderer supports out of the box: every page response sets a
`_csrf_token` cookie holding the session's CSRF token (readable by our own script only:
SameSite=Strict), dash-renderer copies it into an `X-CSRFToken` header on each callback, and a
callback that writes is refused unless the header equals the session's token. A page on
another site can neither read our cookie nor set that header.

Pages mark their writing callbacks by an output component id (`mark_writes`), so the rule
lives here once; read-only callbacks change nothing and are not checked.
"""

from __future__ import annotations

import hmac

import dash
import flask

from dashboard import signin

COOKIE = "_csrf_token"          # dash-renderer's default cookie name
HEADER = "X-CSRFToken"          # and header name
REFUSED = "This page had expired, so the change was not saved: reload the page and try again."

_WRITES: set[str] = set()


def mark_writes(*component_ids: str) -> None:
    """Declare that callbacks with an output on any of these components change stored state."""
    _WRITES.update(component_ids)


def _writes(body: object) -> bool:
    output = body.get("output", "") if isinstance(body, dict) else ""
    if not isinstance(output, str):
        return False
    # "..a.children...b.data.." for several outputs, "a.children" for one
    ids = {part.rsplit(".", 1)[0] for part in output.strip(".").split("...") if "." in part}
    return bool(ids & _WRITES)


def _check() -> flask.Response | None:
    if flask.request.method != "POST" or flask.request.path != "/_dash-update-component":
        return None
    # parsed once per request: guard's check and Dash read the same cached body
    body = flask.request.get_json(silent=True)
    if not _writes(body):  # not JSON, or not a writing callback: Dash's own handling decides
        return None
    sent = flask.request.headers.get(HEADER, "")
    held = flask.session.get("csrf", "") if flask.session is not None else ""
    if sent and held and hmac.compare_digest(sent, held):
        return None
    response = flask.jsonify({"error": REFUSED})
    response.status_code = 403
    return response


def _set_cookie(response: flask.Response) -> flask.Response:
    """Hand the session's token to our own pages' script (HTML pages only)."""
    if flask.request.method == "GET" and response.mimetype == "text/html" and response.status_code == 200:
        try:
            token = signin.csrf_token()
        except RuntimeError:  # no session (no key): nothing can be saved either
            return response
        response.set_cookie(COOKIE, token, samesite="Strict", secure=flask.request.is_secure,
                            httponly=False, path="/")
    return response


def install(app: dash.Dash) -> None:
    """After sign-in's hook (so the session is the signed-in user's) and before any callback."""
    app.server.before_request(_check)
    app.server.after_request(_set_cookie)
