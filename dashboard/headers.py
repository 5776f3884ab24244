"""Security headers on every response: pages, Dash's own routes, the API, downloads, errors.

Set once here, in one `after_request` hook, so a new route cannot forget them. What each is for:

- `X-Content-Type-Options: nosniff`: a browser never guesses a type (an uploaded or exported
  text served as script).
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no other site can frame the
  dashboard (clickjacking a signed-in chief officer).
- `Referrer-Policy: same-origin`: a unit id or period in our URLs never leaves in a Referer.
- `Strict-Transport-Security` only when the request came over HTTPS (sent over plain HTTP it
  would be ignored, and on a closed network the app may be served without TLS).

The Content-Security-Policy is limited to `frame-ancestors` for now: a policy for scripts and
styles needs Dash's inline-script hashes and Plotly's inline styles worked through page by page
(issue 10, item 6, is still open for that).
"""

from __future__ import annotations

import flask

HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000"


def install(server: flask.Flask) -> None:
    @server.after_request
    def _secure(response: flask.Response) -> flask.Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if flask.request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
