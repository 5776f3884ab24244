"""Sign-in: who the request is, decided once per request before any page, callback or API route.

`install(app)` adds to the dashboard's Flask server:

- a `before_request` hook that finds the request's user (an API bearer token on /api/v1/*, else
  the session cookie), checks they are still enabled and their session has not expired, and
  calls `auth.set_actor(actor)`; when sign-in is required and there is no user it answers
  instead: a redirect to /login for a page, 401 with a JSON body for the API, Dash's callbacks
  and anything else;
- /login (a server-rendered form, CSRF token per session, throttled: dashboard/store/signin.py),
  POST /logout, and the single sign-on routes when OIDC is configured (dashboard/oidc.py);
- the session cookie's settings: HttpOnly, SameSite=Lax, Secure whenever the request came over
  HTTPS, signed with a secret key from $LG_SECRET_KEY or a 0600 file beside the store
  (never a default).

When is sign-in required? Always, loopback included: nothing is served to a request without a
signed-in user (a session, or an API bearer token) except the sign-in pages themselves. With
no users yet, the sign-in page says how an administrator adds the first one from the command
line (there is no default account or password). `make run` builds the demo with a sample user
for each role, their passwords printed once (`python -m dashboard users sample`).

One exception, for the test suite and a private analyst's laptop, never a shared server:
LG_AUTH=open serves the dashboard without signing in as the anonymous actor (no officer level)
while the store holds no user and single sign-on is not configured, with a banner that says
so. The first user added closes it. If the store cannot be read, sign-in is required (fail
closed) unless, in open mode, its folder does not exist at all (no store, so no users).
What each actor may see is decided in dashboard/data/access.py, never here.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import dash
import flask
from dash import Input, Output, dcc, html
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import SQLAlchemyError

from dashboard import auth
from dashboard.data import access
from dashboard.store import signin as S
from dashboard.store import users as U
from dashboard.store.db import Store, default_path, open_store, store_url
from dashboard.store.errors import StoreError
from etl.config import warehouse_path

log = logging.getLogger("dashboard.signin")

AUTH_ENV = "LG_AUTH"                   # "open": no sign-in while there are no users (tests)
SECRET_ENV = "LG_SECRET_KEY"
IDLE_ENV = "LG_SESSION_IDLE_MINUTES"   # default 30
MAX_ENV = "LG_SESSION_MAX_HOURS"       # default 10: a shift
MIN_SECRET = 32

# Paths served without a signed-in user: the sign-in pages themselves and the CSS they use.
OPEN_PATHS = ("/login", "/logout", "/login/sso", "/login/sso/callback")
OPEN_PREFIXES = ("/vendor/",)
# Answered with 401 JSON rather than a redirect: machine clients and Dash's own requests.
JSON_PREFIXES = ("/api/", "/_dash-", "/_reload-hash")

# Fixed words for the login page's notices (the page never echoes text from the request).
NOTICES = {
    "signedout": "You have signed out.",
    "expired": "Your session has expired: sign in again.",
    "disabled": "This account is disabled: ask an administrator.",
    "required": "Sign in to use Looking Glass.",
}
BAD_LOGIN = "The user name or password is not right."
LOCKED = ("Too many failed sign-ins: sign-in is paused for this user name (or from this computer) "
          f"for {int(S.WINDOW.total_seconds() // 60)} minutes. Try again later or ask an administrator.")
# One short line (it must not push a page's answer below the fold): docs/access.md says the rest.
ANONYMOUS_BANNER = ("Not signed in (LG_AUTH=open, no users yet): anyone who can reach this sees it, "
                    "without the officer level.")


def idle_limit() -> timedelta:
    return timedelta(minutes=float(os.environ.get(IDLE_ENV, "30")))


def absolute_limit() -> timedelta:
    return timedelta(hours=float(os.environ.get(MAX_ENV, "10")))


# -- the secret key ----------------------------------------------------------------------------


def secret_key_path(link: Path) -> Path:
    """`<dir>/<stem>.store.secret_key` beside the store's default file (itself beside the
    warehouse; named like the store so a copy of the warehouse leaves it behind)."""
    store_file = default_path(warehouse_path(link))
    return store_file.with_name(store_file.name.removesuffix(".sqlite") + ".secret_key")


def secret_key(link: Path) -> bytes:
    """$LG_SECRET_KEY, else the key file beside the store, created once with 0600 permissions.
    Several workers starting together agree: the file is written whole under a temporary
    name and linked into place, so a reader never sees half a key."""
    env = os.environ.get(SECRET_ENV, "")
    if env:
        if len(env) < MIN_SECRET:
            raise ValueError(f"{SECRET_ENV} is too short: use at least {MIN_SECRET} random characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))').")
        return env.encode()
    path = secret_key_path(link)
    if not path.exists():
        if not path.parent.is_dir():
            raise StoreError(f"The folder for the session key, {path.parent}, does not exist.")
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker won the race: use its key
        finally:
            tmp.unlink()
    if path.stat().st_mode & 0o077:
        log.warning("the session key %s is readable by other users: chmod 600 it", path)
    key = path.read_bytes().strip()
    if len(key) < MIN_SECRET:
        raise StoreError(f"The session key file {path} is too short; delete it to make a new one.")
    return key


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, with the Secure flag whenever the request came over HTTPS
    (behind a TLS-terminating proxy, run gunicorn with --forwarded-allow-ips so is_secure holds)."""

    def open_session(self, app: flask.Flask, request: flask.Request) -> Any:
        """The key is read (or made) on the first request, inside the worker, where the
        warehouse's folder is known to exist; without a folder there is no store, no user and
        no session (Flask's null session)."""
        if not app.secret_key:
            try:
                app.secret_key = secret_key(app.extensions["looking_glass_reader"].link)
            except (StoreError, OSError):
                log.exception("no session key: sessions are off")
                return None
        return super().open_session(app, request)

    def get_cookie_secure(self, app: flask.Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or (
            flask.has_request_context() and flask.request.is_secure)


# -- per request -------------------------------------------------------------------------------


def _store() -> Store:
    return open_store(flask.current_app.extensions["looking_glass_reader"].link)


def _oidc() -> Any:
    return flask.current_app.extensions.get("looking_glass_oidc")


def sign_in_required() -> bool:
    """Whether this request needs a signed-in user (see the module docstring)."""
    if auth_mode() != "open" or _oidc() is not None:
        return True
    link = flask.current_app.extensions["looking_glass_reader"].link
    try:
        return S.has_users(_store())
    except (StoreError, SQLAlchemyError, OSError):
        url = store_url(warehouse_path(link))
        if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).parent.is_dir():
            return False  # no folder, so no store and no users
        log.exception("the user store could not be read: sign-in is required")
        return True


def auth_mode() -> str:
    """'required' (the default) or 'open' (see the module docstring)."""
    mode = os.environ.get(AUTH_ENV, "").strip().lower() or "required"
    if mode not in ("open", "required"):
        raise ValueError(f"{AUTH_ENV} must be 'required' (the default) or 'open' (it is {mode!r}).")
    return mode


def no_users_yet() -> bool:
    """Whether the store holds no user at all (the sign-in page then says how to add one)."""
    try:
        return not S.has_users(_store())
    except (StoreError, SQLAlchemyError, OSError):
        return False


def csrf_token() -> str:
    """The session's CSRF token for the sign-in and sign-out forms (made on first use)."""
    token = flask.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        flask.session["csrf"] = token
    return token


def csrf_ok() -> bool:
    sent = flask.request.form.get("csrf", "")
    held = flask.session.get("csrf", "")
    return bool(sent) and bool(held) and hmac.compare_digest(sent, held)


def _session_actor() -> tuple[access.Actor | None, str | None]:
    """The session's actor, or None and why not ('expired', 'disabled'; None: no session)."""
    name = flask.session.get("user")
    if not name:
        return None, None
    now = time.time()
    login_at = float(flask.session.get("login_at", 0))
    seen_at = float(flask.session.get("seen_at", 0))
    if now - login_at > absolute_limit().total_seconds() or now - seen_at > idle_limit().total_seconds():
        return None, "expired"
    try:
        user = U.get_user(_store(), name)
    except StoreError:
        user = None
    if flask.session.get("kind") == "sso":
        if user is not None and user.disabled:
            return None, "disabled"
        grants = tuple(access.Grant(role, unit) for role, unit in flask.session.get("grants", []))
        # an SSO user is an administrator only when a local user of that name is one
        # (`users add NAME --admin`): the identity provider's groups grant roles, not admin
        actor = access.Actor(name, grants, admin=bool(user is not None and user.admin))
    else:
        if user is None:
            return None, "disabled"
        if user.disabled:
            return None, "disabled"
        actor = U.actor_for(user)
    if now - seen_at > 60:  # rewrite the cookie at most once a minute
        flask.session["seen_at"] = now
    return actor, None


def start_session(name: str, kind: str, grants: tuple[access.Grant, ...] = ()) -> None:
    """A fresh session for a user who has just proved who they are: everything before it
    (including the CSRF token and any SSO state) is dropped, so a session id planted before
    sign-in is worth nothing after it."""
    flask.session.clear()
    flask.session.permanent = True
    now = time.time()
    flask.session.update({"user": name, "kind": kind, "login_at": now, "seen_at": now,
                          "grants": [[g.role, g.unit_id] for g in grants]})
    csrf_token()


def _refuse(why: str | None) -> flask.Response:
    path = flask.request.path
    wants_json = path.startswith(JSON_PREFIXES) or flask.request.method not in ("GET", "HEAD")
    if wants_json:
        words = (NOTICES.get(why or "", "")
                 or "Sign in first: this needs a signed-in user (session or API token).")
        response = flask.jsonify({"error": words})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="looking-glass"'
        return response
    query = flask.request.query_string.decode("latin-1")
    target = path + ("?" + query if query else "")
    return flask.redirect(f"/login?m={why or 'required'}&next={quote(target, safe='')}")


def _bearer() -> flask.Response | None:
    """Check an API bearer token: set its user as the actor, or answer 401."""
    header = flask.request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = U.user_for_token(_store(), token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        response = flask.jsonify({"error": "The API token is not valid: it is unknown, revoked, or its "
                                           "user is disabled."})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="looking-glass", error="invalid_token"'
        return response
    auth.set_actor(U.actor_for(user))
    return None


def authenticate() -> flask.Response | None:
    """The `before_request` hook (see the module docstring)."""
    path = flask.request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return None
    if path.startswith("/api/") and "Authorization" in flask.request.headers:
        return _bearer()
    actor, why = _session_actor()
    if actor is not None:
        auth.set_actor(actor)
        return None
    if why is not None:
        flask.session.clear()
    if sign_in_required():
        return _refuse(why)
    return None


# -- the pages ---------------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Looking Glass</title>
<link rel="stylesheet" href="/vendor/bootstrap.min.css"></head>
<body class="bg-light">
<main class="container" style="max-width: 28rem">
<h1 class="h3 mt-5 mb-3">Looking Glass</h1>
{% if notice %}<div class="alert alert-info" id="login-notice">{{ notice }}</div>{% endif %}
{% if error %}<div class="alert alert-danger" id="login-error" role="alert">{{ error }}</div>{% endif %}
{% if no_users %}<div class="alert alert-secondary" id="login-no-users">No users have been added
yet, so no one can sign in. An administrator adds the first one on the server with
<code>python -m dashboard users add NAME --role chief_officer --admin --password-stdin</code>
(or, on the demo, <code>python -m dashboard users sample</code>).</div>{% endif %}
<form method="post" action="/login" class="card card-body mb-3" id="login-form">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label class="form-label" for="login-name">User name</label>
<input class="form-control mb-3" id="login-name" name="name" autocomplete="username" required
 value="{{ name }}">
<label class="form-label" for="login-password">Password</label>
<input class="form-control mb-3" id="login-password" name="password" type="password"
 autocomplete="current-password" required>
<button class="btn btn-primary" type="submit" id="login-submit">Sign in</button>
</form>
{% if sso %}<p><a class="btn btn-outline-primary" id="login-sso"
 href="/login/sso?next={{ next | urlencode }}">Sign in with your force account (single sign-on)</a>
</p>{% endif %}
</main></body></html>"""


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this server only (no open redirect)."""
    target = target or "/"
    parts = urlsplit(target)
    if (not target.startswith("/") or target.startswith("//") or "\\" in target
            or parts.scheme or parts.netloc or target.startswith(OPEN_PATHS)):
        return "/"
    return target


def login_page(error: str | None = None, status: int = 200, name: str = "") -> flask.Response:
    args = flask.request.args
    html_text = flask.render_template_string(
        PAGE, csrf=csrf_token(), next=safe_next(flask.request.values.get("next")),
        notice=NOTICES.get(args.get("m", "")) if not error else None, error=error,
        no_users=_oidc() is None and no_users_yet(), sso=_oidc() is not None, name=name[:100])
    response = flask.make_response(html_text, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def login() -> flask.Response:
    if flask.request.method == "GET":
        return login_page()
    if not csrf_ok():
        return login_page("The form had expired: please sign in again.", 400)
    name = flask.request.form.get("name", "")[:200]
    attempt = S.sign_in(_store(), name, flask.request.form.get("password", ""), flask.request.remote_addr)
    if attempt.locked:
        log.warning("sign-in throttled for name %r from %s", name, flask.request.remote_addr)
        return login_page(LOCKED, 429, name)
    if attempt.user is None:
        log.info("failed sign-in for name %r from %s", name, flask.request.remote_addr)
        return login_page(BAD_LOGIN, 401, name)
    start_session(attempt.user.name, "local")
    log.info("%s signed in from %s", attempt.user.name, flask.request.remote_addr)
    return flask.redirect(safe_next(flask.request.form.get("next")))


def logout() -> flask.Response:
    if flask.request.method != "POST" or not csrf_ok():
        return flask.redirect("/login")
    flask.session.clear()
    return flask.redirect("/login?m=signedout")


# -- the banner in the dashboard ---------------------------------------------------------------


def bar(actor: access.Actor, required: bool) -> Any:
    """Who is signed in and a sign-out button; or, when no one needs to, the anonymous banner."""
    if actor.anonymous:
        if required:
            return None
        return html.Div(ANONYMOUS_BANNER, id="anonymous-banner",
                        className="alert alert-secondary py-0 px-2 mb-2 small d-print-none")
    roles = ", ".join(sorted(access.ROLES[r].label for r in actor.roles)) or "no role"
    return html.Form(
        [
            html.Span(["Signed in as ", html.Strong(actor.id), f" ({roles})"], id="signed-in-as"),
            dcc.Input(type="hidden", name="csrf", value=csrf_token(), id="sign-out-csrf"),
            html.Button("Sign out", type="submit", id="sign-out", className="btn btn-link btn-sm py-0"),
        ],
        action="/logout", method="POST", className="small text-end mb-2 d-print-none",
    )


def register(app: dash.Dash) -> None:
    """The callback that fills the layout's 'signin-bar' for the request's actor."""

    @app.callback(Output("signin-bar", "children"), Input("url", "pathname"))
    def show_bar(_pathname: str | None) -> Any:
        return bar(auth.current_actor(), sign_in_required())


def install(app: dash.Dash) -> None:
    """Sign-in on the dashboard's server (call from create_app, after the reader is registered)."""
    from dashboard import oidc  # lazy: oidc imports this module (its routes use the session helpers)

    server = app.server
    auth_mode()  # a wrong LG_AUTH stops the start-up, in words
    S.warm()  # the first refusal of an unknown name takes as long as every later one (once a process)
    server.session_interface = _SessionInterface()
    server.config.update(
        SESSION_COOKIE_NAME="lg_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=absolute_limit(),
    )
    server.before_request(authenticate)
    server.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", logout, methods=["GET", "POST"])
    oidc.install(server)
    register(app)
