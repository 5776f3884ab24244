"""Security headers on every response: pages, Dash's own routes, the API, downloads, errors.

Set once here, in one `after_request` hook, so a new route cannot forget them. What each is for:

- `X-Content-Type-Options: nosniff`: a browser never guesses a type (an uploaded or exported
  text served as script).
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no other site can frame the
  dashboard (clickjacking a signed-in chief officer).
- `Referrer-Policy: same-origin`: a unit id or period in our URLs never leaves in a Referer.
- `Strict-Transport-Security` only when the request came over HTTPS (sent over plain HTTP it
  would be ignored, and on a closed network the app may be served without TLS).

- `Content-Security-Policy`: nothing from any other origin, ever (the app serves its own
  scripts, CSS and fonts), and no inline script but Dash's own, allowed by their hashes
  (`app.csp_hashes()`, computed once the layout is final): a script smuggled into the page
  through data could not run even if it were rendered as HTML (it never is). Styles allow
  'unsafe-inline' because Plotly and AG Grid set style attributes and inject <style> as they
  draw; a style cannot run code. Images allow data: and blob: (Plotly's own icons and the
  PNG/SVG chart downloads); no plugins (object-src 'none'), forms post only to ourselves,
  <base> cannot be moved.
"""

from __future__ import annotations

from collections.abc import Sequence

import dash
import flask

HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000"
CSP_KEY = "looking_glass_csp"


def policy(script_hashes: Sequence[str] = ()) -> str:
    """The Content-Security-Policy: 'self' only, Dash's inline scripts by their hashes."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def install(server: flask.Flask) -> None:
    """The headers on every response of `server`; the CSP without inline-script hashes until
    `allow_dash_scripts` adds them (create_app calls it once the layout is final)."""
    server.extensions[CSP_KEY] = policy()

    @server.after_request
    def _secure(response: flask.Response) -> flask.Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", server.extensions[CSP_KEY])
        if flask.request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


def allow_dash_scripts(app: dash.Dash) -> None:
    """Allow exactly Dash's inline scripts (the renderer's start-up), by their sha256 hashes."""
    app.server.extensions[CSP_KEY] = policy(app.csp_hashes("sha256"))
