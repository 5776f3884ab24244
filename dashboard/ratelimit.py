"""Rate limits on the data API: a client that loops, or a leaked token, cannot take a worker
away from the PIM in the room.

Flask-Limiter, a well-kept library, counts requests per user (the signed-in user or the API
token's user; the client address when no one is signed in) in each worker's memory, so with
`gunicorn -w 2` a user may in the worst case get twice the limit: a limit against runaway
clients, not an accounting. The limit is `LG_API_RATE_LIMIT` (Flask-Limiter's notation, e.g.
"300 per minute; 20000 per day"), default 300 a minute. Sign-in has its own throttling of
failed attempts per user name and per address, kept in the store so that every worker
agrees (dashboard/store/signin.py). Only /api/ is limited: pages and Dash callbacks are the
browser's own traffic, paced by a person.
"""

from __future__ import annotations

import os

import dash
import flask
from flask_limiter import Limiter, RequestLimit

from dashboard import auth

RATE_ENV = "LG_API_RATE_LIMIT"
DEFAULT_RATE = "300 per minute"


def rate() -> str:
    return os.environ.get(RATE_ENV, "").strip() or DEFAULT_RATE


def _key() -> str:
    actor = auth.current_actor()
    return f"user:{actor.id}" if not actor.anonymous else f"addr:{flask.request.remote_addr}"


def _breached(limit: RequestLimit) -> flask.Response:
    response = flask.jsonify({"error": f"Too many requests: the API allows {limit.limit} for each user. "
                                       "Wait a little and try again."})
    response.status_code = 429
    return response


def install(app: dash.Dash) -> Limiter:
    """After sign-in (so the key is the signed-in user) on the app's Flask server."""
    limiter = Limiter(
        _key,
        app=app.server,
        default_limits=[rate()],
        default_limits_exempt_when=lambda: not flask.request.path.startswith("/api/"),
        storage_uri="memory://",
        headers_enabled=True,  # X-RateLimit-* and Retry-After on every API answer
        on_breach=_breached,
    )
    return limiter
