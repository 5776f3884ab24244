"""Single sign-on through OpenID Connect (Azure AD / Entra ID, ADFS, Keycloak...), with Authlib.

Configured by a small TOML file named by $LG_OIDC_CONFIG (docs/access.md, "Signing in"):

    issuer = "https://login.example.police.uk/realms/force"   # discovery at issuer + /.well-known/...
    client_id = "looking-glass"
    # client_secret = "..."        # or, better, $LG_OIDC_CLIENT_SECRET
    groups_claim = "groups"         # the ID token claim listing the user's groups
    username_claim = "preferred_username"

    [[group]]
    name = "LG-Chief-Officers"      # a group as the provider names it (Azure AD: its object id)
    role = "chief_officer"          # a role of dashboard/data/access.py
    # unit = "cheshire"             # the unit the role covers; none: every force (force-wide roles)

The flow is the authorization code flow with PKCE (S256), state and nonce: Authlib keeps the
state, nonce and code verifier in the signed session, checks the state when the provider sends
the user back, and verifies the ID token's signature against the issuer's JWKS, its issuer,
audience, expiry and nonce. The user's groups become grants; a user in no mapped group is
refused. A local user of the same name who is disabled is refused too (dashboard/signin.py).
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flask
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from joserfc.errors import JoseError
from requests import RequestException

from dashboard.data import access

log = logging.getLogger("dashboard.oidc")

CONFIG_ENV = "LG_OIDC_CONFIG"
SECRET_ENV = "LG_OIDC_CLIENT_SECRET"
TIMEOUT = 10  # seconds, for each request to the issuer


class ConfigError(ValueError):
    """The OIDC configuration file is wrong; the message names the file and the entry."""


@dataclass(frozen=True)
class GroupRule:
    group: str
    grant: access.Grant


@dataclass(frozen=True)
class Config:
    issuer: str
    client_id: str
    client_secret: str
    groups_claim: str
    username_claim: str
    groups: tuple[GroupRule, ...]

    def grants_for(self, groups: list[str]) -> tuple[access.Grant, ...]:
        """The grants the user's groups map to, each once, in the file's order."""
        held = set(groups)
        out: list[access.Grant] = []
        for rule in self.groups:
            if rule.group in held and rule.grant not in out:
                out.append(rule.grant)
        return tuple(out)


def load_config(path: Path) -> Config:
    """The configuration at `path`, or a ConfigError saying which field is wrong and why."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from None

    def text(key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{path}: '{key}' must be given as text.")
        return value.strip()

    issuer = text("issuer").rstrip("/")
    if not issuer.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(f"{path}: 'issuer' must be an https:// URL (plain http only on this machine).")
    secret = os.environ.get(SECRET_ENV) or raw.get("client_secret")
    if not isinstance(secret, str) or not secret:
        raise ConfigError(f"{path}: no client secret: set ${SECRET_ENV} (or 'client_secret').")
    rules: list[GroupRule] = []
    for i, entry in enumerate(raw.get("group", []), start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{path}: [[group]] number {i} needs a 'name' (the provider's group).")
        try:
            grant = access.Grant(str(entry.get("role", "")), entry.get("unit") or None)
        except ValueError as exc:
            raise ConfigError(f"{path}: [[group]] number {i} ({entry['name']}): {exc}.") from None
        rules.append(GroupRule(entry["name"], grant))
    if not rules:
        raise ConfigError(f"{path}: no [[group]] maps a group to a role, so no one could sign in.")
    return Config(issuer, text("client_id"), secret, text("groups_claim", "groups"),
                  text("username_claim", "preferred_username"), tuple(rules))


def configured() -> Config | None:
    """The configuration named by $LG_OIDC_CONFIG, or None when single sign-on is off."""
    name = os.environ.get(CONFIG_ENV, "").strip()
    return load_config(Path(name)) if name else None


def _client() -> Any:
    return flask.current_app.extensions["looking_glass_oidc"]


def start() -> flask.Response:
    """/login/sso: off to the provider, with state, nonce and a PKCE challenge."""
    from dashboard.signin import safe_next  # lazy: signin imports this module

    flask.session["sso_next"] = safe_next(flask.request.args.get("next"))
    try:
        return _client().client.authorize_redirect(flask.url_for("sso_callback", _external=True))
    except (AuthlibBaseError, RequestException, ValueError):
        log.exception("single sign-on could not start")
        return _failed("The single sign-on service could not be reached; try again, or sign in "
                       "with a password.")


def _failed(words: str) -> flask.Response:
    from dashboard.signin import login_page  # lazy: signin imports this module

    return login_page(words, 401)


def callback() -> flask.Response:
    """/login/sso/callback: the code exchanged for tokens, the ID token verified, the groups
    turned into grants, and a fresh session started."""
    from dashboard.signin import safe_next, start_session  # lazy: signin imports this module

    cfg: Config = _client().config
    oauth = _client().client
    try:
        token = oauth.authorize_access_token()
        issuer = str(oauth.load_server_metadata().get("issuer", "")).rstrip("/")
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError):
        log.exception("single sign-on failed at the callback")
        return _failed("Single sign-on did not complete; please try again.")
    claims = token.get("userinfo")
    if not claims or issuer != cfg.issuer:
        log.warning("single sign-on refused: no verified ID token, or the issuer %r is not %r", issuer,
                    cfg.issuer)
        return _failed("Single sign-on did not complete; please try again.")
    name = str(claims.get(cfg.username_claim) or claims.get("sub") or "")[:100]
    groups = claims.get(cfg.groups_claim) or []
    grants = cfg.grants_for([str(g) for g in groups] if isinstance(groups, list) else [str(groups)])
    if not name or not grants:
        log.warning("single sign-on refused for %r: no group of theirs maps to a role", name)
        return _failed("Your force account is not in any group that gives a role in Looking Glass: "
                       "ask an administrator.")
    next_url = safe_next(flask.session.get("sso_next"))
    start_session(name, "sso", grants)
    log.info("%s signed in by single sign-on with %s", name, [(g.role, g.unit_id) for g in grants])
    return flask.redirect(next_url)


@dataclass
class _Registered:
    config: Config
    client: Any


def install(server: flask.Flask) -> None:
    """The SSO routes, when $LG_OIDC_CONFIG names a configuration (read now: a wrong file stops
    the server starting, with the file and the field in the message)."""
    cfg = configured()
    if cfg is None:
        return
    oauth = OAuth(server)
    client = oauth.register(
        "sso",
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        server_metadata_url=f"{cfg.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "timeout": TIMEOUT},
    )
    server.extensions["looking_glass_oidc"] = _Registered(cfg, client)
    server.add_url_rule("/login/sso", "sso_start", start)
    server.add_url_rule("/login/sso/callback", "sso_callback", callback)
