"""Who is making the request: the one function pages, callbacks, exports and the API ask.

Sign-in (a session cookie, an API bearer token, the force's single sign-on) decides who the
user is and calls `set_actor(actor)` once per request, in a Flask `before_request` hook,
before any page, callback or API route runs; `current_actor()` then returns that actor for the
rest of the request. Nothing else sets it: no header, cookie or query parameter is read here,
so no request can name its own actor. A request no one signed in for is refused by sign-in
before it gets here, except in LG_AUTH=open mode (no users yet), where it is the anonymous
actor. What each actor may see is decided in `dashboard.data.access`, never here and never in a page.
"""

from __future__ import annotations

import flask

from dashboard.data.access import ANONYMOUS, Actor

_KEY = "looking_glass_actor"


def set_actor(actor: Actor) -> None:
    """Make `actor` the one asking for the rest of this request (call from sign-in's
    `before_request`, after the session or bearer token has been checked)."""
    setattr(flask.g, _KEY, actor)


def current_actor() -> Actor:
    """The actor of the request being served: the one sign-in set, else the anonymous actor
    (also outside a request)."""
    if not flask.has_request_context():
        return ANONYMOUS
    found = getattr(flask.g, _KEY, None)
    return found if isinstance(found, Actor) else ANONYMOUS
