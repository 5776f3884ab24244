"""Single sign-on end to end against a real OpenID Connect provider started here (Authlib's
server side, tests/support/oidc_provider.py, on 127.0.0.1): the dashboard's Authlib client
discovers it, sends the user to its authorization endpoint with PKCE, state and nonce, swaps
the code at its token endpoint over HTTP and verifies the ID token against its JWKS. The
browser's part (following redirects) is played by the Flask test client and `requests`."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import flask
import flask.testing
import pytest
import requests
from joserfc.jwk import RSAKey

from dashboard import oidc, signin
from dashboard.app import create_app
from dashboard.store import db
from dashboard.store import users as U
from dashboard.store.cli import unit_levels
from tests.support.oidc_provider import KID, Provider
from tests.support.warehouses import copy_warehouse

CALLBACK = "http://localhost/login/sso/callback"  # the test client's host
NORTHERN = "cheshire/northern"
CONFIG = """
issuer = "{issuer}"
client_id = "looking-glass"
groups_claim = "groups"

[[group]]
name = "LG-Northern-Command"
role = "bcu_commander"
unit = "cheshire/northern"

[[group]]
name = "LG-Chiefs"
role = "chief_officer"
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    found = Provider("looking-glass", "s3cret-for-the-test", [CALLBACK])
    found.start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def setup(provider: Provider, demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("oidc")
    config = folder / "oidc.toml"
    config.write_text(CONFIG.format(issuer=provider.issuer), encoding="utf-8")
    env = {oidc.CONFIG_ENV: str(config), oidc.SECRET_ENV: "s3cret-for-the-test"}
    old = {k: os.environ.get(k) for k in (*env, signin.SECRET_ENV, signin.AUTH_ENV, db.STORE_URL_ENV)}
    for k in (signin.SECRET_ENV, signin.AUTH_ENV, db.STORE_URL_ENV):
        os.environ.pop(k, None)
    os.environ.update(env)
    yield copy_warehouse(demo_link, folder / "wh")
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def server(setup: Path) -> flask.Flask:
    return create_app(setup).server


def sign_in(client: flask.testing.FlaskClient, next_: str = "/scorecard",
            tamper: bool = False) -> flask.Response:
    """The browser's part: to the provider and back, following each redirect by hand."""
    start = client.get(f"/login/sso?next={next_}")
    assert start.status_code == 302, start.get_data(as_text=True)[:300]
    at_provider = start.headers["Location"]
    query = parse_qs(urlsplit(at_provider).query)
    # PKCE (S256), state and nonce are all sent
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert query["state"][0] and query["nonce"][0] and query["client_id"] == ["looking-glass"]
    back = requests.get(at_provider, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:300]
    callback = urlsplit(back.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == CALLBACK
    params = parse_qs(callback.query)
    assert "code" in params, back.headers["Location"]
    if tamper:
        params["state"] = ["not-the-state-we-sent"]
    return client.get(callback.path, query_string={k: v[0] for k, v in params.items()})


def unit_ids(client: flask.testing.FlaskClient) -> set[str]:
    resp = client.get("/api/v1/units")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return {u["unit_id"] for u in resp.get_json()["units"]}


def test_sso_round_trip_maps_a_group_to_a_role(provider: Provider, server: flask.Flask) -> None:
    provider.user = {"sub": "u-123", "preferred_username": "hana",
                     "groups": ["Staff", "LG-Northern-Command"]}
    client = server.test_client()
    assert client.get("/api/v1/units").status_code == 401  # SSO configured: sign-in required
    login_page = client.get("/login").get_data(as_text=True)
    assert 'id="login-sso"' in login_page
    before = provider.token_requests
    done = sign_in(client)
    assert done.status_code == 302 and done.headers["Location"] == "/scorecard"
    assert provider.token_requests == before + 1  # the code was swapped over HTTP
    ids = unit_ids(client)  # a BCU commander of northern: its teams, not eastern's
    assert any(u.startswith(NORTHERN + "/") and u.count("/") == 3 for u in ids)
    assert not any(u.startswith("cheshire/eastern/") and u.count("/") == 3 for u in ids)
    bar = client.post("/_dash-update-component", json={
        "output": "signin-bar.children", "outputs": {"id": "signin-bar", "property": "children"},
        "inputs": [{"id": "url", "property": "pathname", "value": "/"}], "state": [],
        "changedPropIds": ["url.pathname"]})
    text = json.dumps(bar.get_json())
    assert '"hana"' in text and "(BCU commander)" in text


def test_a_wrong_state_is_refused(provider: Provider, server: flask.Flask) -> None:
    provider.user = {"sub": "u-123", "preferred_username": "hana", "groups": ["LG-Chiefs"]}
    client = server.test_client()
    refused = sign_in(client, tamper=True)
    assert refused.status_code == 401 and "did not complete" in refused.get_data(as_text=True)
    assert client.get("/api/v1/units").status_code == 401


def test_a_user_in_no_mapped_group_is_refused(provider: Provider, server: flask.Flask) -> None:
    provider.user = {"sub": "u-9", "preferred_username": "ivan", "groups": ["Staff"]}
    client = server.test_client()
    refused = sign_in(client)
    assert refused.status_code == 401
    assert "not in any group that gives a role" in refused.get_data(as_text=True)
    assert client.get("/api/v1/units").status_code == 401


def test_an_id_token_not_signed_by_the_issuers_key_is_refused(provider: Provider,
                                                              server: flask.Flask) -> None:
    provider.user = {"sub": "u-7", "preferred_username": "jack", "groups": ["LG-Chiefs"]}
    published = provider.key
    # the provider now signs with another key under the same key id; its JWKS still publishes the old one
    provider.key = RSAKey.generate_key(2048, parameters={"kid": KID}, private=True)
    provider.jwks_key = published
    try:
        client = server.test_client()
        refused = sign_in(client)
    finally:
        provider.key = published
        provider.jwks_key = None
    assert refused.status_code == 401 and "did not complete" in refused.get_data(as_text=True)
    assert client.get("/api/v1/units").status_code == 401


def test_a_disabled_local_user_of_the_same_name_is_refused(provider: Provider, server: flask.Flask,
                                                           setup: Path) -> None:
    provider.user = {"sub": "u-8", "preferred_username": "kate", "groups": ["LG-Chiefs"]}
    client = server.test_client()
    assert sign_in(client).status_code == 302
    assert client.get("/api/v1/units").status_code == 200
    store = db.open_store(setup)
    U.add_user(store, "kate", role="analyst", unit_id=None, unit_levels=unit_levels(setup), actor="test")
    U.set_disabled(store, "kate", True)
    assert client.get("/api/v1/units").status_code == 401


def test_a_wrong_config_says_which_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(oidc.SECRET_ENV, "x")
    path = tmp_path / "oidc.toml"
    path.write_text('issuer = "https://idp.example"\nclient_id = "lg"\n[[group]]\nname = "A"\n'
                    'role = "superuser"\n', encoding="utf-8")
    with pytest.raises(oidc.ConfigError, match=r"oidc.toml: \[\[group\]\] number 1 \(A\): unknown role"):
        oidc.load_config(path)
    path.write_text('issuer = "http://idp.example"\nclient_id = "lg"\n', encoding="utf-8")
    with pytest.raises(oidc.ConfigError, match="must be an https:// URL"):
        oidc.load_config(path)


def test_an_sso_user_is_an_administrator_only_as_a_local_administrator(
        provider: Provider, server: flask.Flask, setup: Path) -> None:
    """Groups grant roles, never the right to read the audit log: that comes from a local user
    of the same name made with --admin."""
    def data_page(client: flask.testing.FlaskClient) -> str:
        key = next(d["output"] for d in client.get("/_dash-dependencies").get_json()
                   if d["output"].startswith("..page.children"))
        outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
                   for part in key.strip(".").split("...")]
        return json.dumps(client.post("/_dash-update-component", json={
            "output": key, "outputs": outputs,
            "inputs": [{"id": "url", "property": "pathname", "value": "/data"},
                       {"id": "url", "property": "search", "value": ""}],
            "state": [], "changedPropIds": ["url.pathname"]}).get_json())

    provider.user = {"sub": "u-9", "preferred_username": "lena", "groups": ["LG-Chiefs"]}
    client = server.test_client()
    assert sign_in(client).status_code == 302
    assert "audit-card" not in data_page(client)
    U.add_user(db.open_store(setup), "lena", role="analyst", unit_id=None, unit_levels=unit_levels(setup),
               actor="test", admin=True)
    assert "audit-card" in data_page(client)
