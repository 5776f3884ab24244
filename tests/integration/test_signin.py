"""Sign-in through the real app (Flask's test client) on a copy of the demo warehouse, the users
in a real SQLite store beside it: the /login form (CSRF, throttling, cookie flags), session
expiry, sign-out, a disabled user, API bearer tokens, and what is refused without a session
once the store has users. Expected values are the words and rules of docs/access.md."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import flask.testing
import pytest
from sqlalchemy import select, update

from dashboard import signin
from dashboard.app import create_app
from dashboard.store import db, schema
from dashboard.store import signin as S
from dashboard.store import users as U
from dashboard.store.cli import unit_levels
from tests.support import REPO
from tests.support.cli import Ran, dashboard
from tests.support.warehouses import copy_warehouse

PASSWORD = "correct horse battery staple"
NORTHERN = "cheshire/northern"


def bar_callback() -> dict:
    return {"output": "signin-bar.children", "outputs": {"id": "signin-bar", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/scorecard"}], "state": [],
            "changedPropIds": ["url.pathname"]}


@pytest.fixture(scope="module")
def link(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    old = {k: os.environ.pop(k, None) for k in (signin.SECRET_ENV, signin.AUTH_ENV, db.STORE_URL_ENV,
                                                "LG_OIDC_CONFIG")}
    copy = copy_warehouse(demo_link, tmp_path_factory.mktemp("signin"))
    store = db.open_store(copy)
    levels = unit_levels(copy)
    for name, role, unit in (("bell", "bcu_commander", NORTHERN), ("carol", "analyst", None),
                             ("dora", "analyst", None), ("eve", "police_authority", "cheshire")):
        U.add_user(store, name, role=role, unit_id=unit, unit_levels=levels, actor="test")
        S.set_password(store, name, PASSWORD)
    yield copy
    for k, v in old.items():
        if v is not None:
            os.environ[k] = v


@pytest.fixture(scope="module")
def server(link: Path) -> flask.Flask:
    return create_app(link).server


@pytest.fixture
def client(server: flask.Flask) -> flask.testing.FlaskClient:
    return server.test_client()


def csrf(client: flask.testing.FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def login(client: flask.testing.FlaskClient, name: str, password: str = PASSWORD, next_: str = "/",
          **kw: object) -> flask.Response:
    token = csrf(client)
    return client.post("/login", data={"csrf": token, "name": name, "password": password, "next": next_},
                       **kw)


def unit_ids(client: flask.testing.FlaskClient, **kw: object) -> set[str]:
    resp = client.get("/api/v1/units", **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return {u["unit_id"] for u in resp.get_json()["units"]}


def test_without_a_session_pages_callbacks_and_the_api_are_refused(client: flask.testing.FlaskClient) -> None:
    page = client.get("/scorecard?unit=cheshire")
    assert page.status_code == 302
    assert page.headers["Location"] == "/login?m=required&next=%2Fscorecard%3Funit%3Dcheshire"
    for path in ("/", "/drilldown", "/_dash-layout"):
        assert client.get(path).status_code in (302, 401), path
    callback = client.post("/_dash-update-component", json=bar_callback())
    assert callback.status_code == 401 and "Sign in first" in callback.get_json()["error"]
    api = client.get("/api/v1/units")
    assert api.status_code == 401 and api.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Sign in first" in api.get_json()["error"]
    # the sign-in page and its CSS are served to anyone
    assert client.get("/login").status_code == 200
    assert client.get("/vendor/bootstrap.min.css").status_code == 200


def test_sign_in_sets_a_safe_cookie_and_the_user_becomes_the_actor(client: flask.testing.FlaskClient) -> None:
    resp = login(client, "bell", next_="/scorecard?unit=cheshire/northern")
    assert resp.status_code == 302 and resp.headers["Location"] == "/scorecard?unit=cheshire/northern"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("lg_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test
    # the BCU commander's scope: northern's teams, not eastern's (the seam decides; sign-in feeds it)
    ids = unit_ids(client)
    assert any(u.startswith(NORTHERN + "/") and u.count("/") == 3 for u in ids)
    assert not any(u.startswith("cheshire/eastern/") and u.count("/") == 3 for u in ids)
    bar = client.post("/_dash-update-component", json=bar_callback())
    assert bar.status_code == 200
    text = json.dumps(bar.get_json())
    assert "Signed in as" in text and '"bell"' in text and "(BCU commander)" in text, text
    assert '"action": "/logout"' in text and '"method": "POST"' in text
    page = client.get("/scorecard")
    assert page.status_code == 200


def test_cookie_is_secure_over_https(server: flask.Flask) -> None:
    client = server.test_client()
    token = csrf(client)
    resp = client.post("/login", base_url="https://localhost",
                       data={"csrf": token, "name": "carol", "password": PASSWORD, "next": "/"})
    assert resp.status_code == 302
    assert "Secure" in resp.headers["Set-Cookie"]


def test_wrong_password_and_unknown_user_get_the_same_words(client: flask.testing.FlaskClient) -> None:
    wrong = login(client, "carol", "not the password at all", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    unknown = login(client, "nobody-here", PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    for resp in (wrong, unknown):
        assert resp.status_code == 401
        assert signin.BAD_LOGIN in resp.get_data(as_text=True)
    assert client.get("/api/v1/units").status_code == 401  # still no session


def test_a_post_without_the_csrf_token_is_refused(client: flask.testing.FlaskClient) -> None:
    client.get("/login")
    resp = client.post("/login", data={"name": "carol", "password": PASSWORD, "next": "/"})
    assert resp.status_code == 400 and "form had expired" in resp.get_data(as_text=True)
    other = client.post("/login", data={"csrf": "forged", "name": "carol", "password": PASSWORD})
    assert other.status_code == 400
    assert client.get("/api/v1/units").status_code == 401


def test_throttling_per_name_and_per_address(link: Path, client: flask.testing.FlaskClient) -> None:
    here = {"REMOTE_ADDR": "10.0.1.1"}
    for _ in range(S.MAX_PER_NAME):
        assert login(client, "dora", "wrong wrong wrong", environ_base=here).status_code == 401
    # locked: even the right password is refused, in words that do not say whether dora exists
    locked = login(client, "dora", PASSWORD, environ_base=here)
    assert locked.status_code == 429 and signin.LOCKED in locked.get_data(as_text=True)
    assert "15 minutes" in signin.LOCKED
    for _ in range(S.MAX_PER_NAME):
        login(client, "ghost", "wrong wrong wrong", environ_base=here)
    ghost = login(client, "ghost", "wrong wrong wrong", environ_base=here)
    assert ghost.status_code == 429 and signin.LOCKED in ghost.get_data(as_text=True)
    # the lock is per name: another user signs in from the same address
    assert login(server_client := client, "carol", environ_base=here).status_code == 302
    server_client.post("/logout", data={"csrf": csrf(server_client, "/login")})
    # once the window has passed (failures moved back 16 minutes), dora signs in again
    store = db.open_store(link)
    with store.begin() as conn:
        conn.execute(update(schema.login_failures).values(at=db.now() - timedelta(minutes=16)))
    assert login(client, "dora", environ_base=here).status_code == 302


def test_throttling_per_address(link: Path, server: flask.Flask) -> None:
    there = {"REMOTE_ADDR": "10.0.2.2"}
    client = server.test_client()
    for i in range(S.MAX_PER_ADDRESS):
        assert login(client, f"guess{i}", "wrong wrong wrong", environ_base=there).status_code == 401
    assert login(client, "carol", environ_base=there).status_code == 429
    assert login(server.test_client(), "carol", environ_base={"REMOTE_ADDR": "10.0.2.3"}).status_code == 302


def test_idle_and_absolute_expiry(client: flask.testing.FlaskClient) -> None:
    assert login(client, "carol").status_code == 302
    assert client.get("/api/v1/units").status_code == 200
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - signin.idle_limit().total_seconds() - 5
    page = client.get("/scorecard")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?m=expired")
    assert client.get("/api/v1/units").status_code == 401  # the session was cleared
    notice = client.get("/login?m=expired").get_data(as_text=True)
    assert signin.NOTICES["expired"] in notice

    assert login(client, "carol").status_code == 302
    with client.session_transaction() as sess:  # active a minute ago, but signed in 11 hours ago
        sess["login_at"] = time.time() - signin.absolute_limit().total_seconds() - 60
        sess["seen_at"] = time.time() - 60
    assert client.get("/api/v1/units").status_code == 401


def test_sign_out(client: flask.testing.FlaskClient) -> None:
    assert login(client, "carol").status_code == 302
    assert client.get("/api/v1/units").status_code == 200
    assert client.post("/logout", data={"csrf": "forged"}).headers["Location"] == "/login"
    assert client.get("/api/v1/units").status_code == 200  # a forged sign-out does nothing
    token = csrf(client, "/login")
    out = client.post("/logout", data={"csrf": token})
    assert out.status_code == 302 and out.headers["Location"] == "/login?m=signedout"
    assert client.get("/api/v1/units").status_code == 401
    assert client.get("/scorecard").status_code == 302


def test_a_disabled_user_is_refused_at_once(link: Path, server: flask.Flask) -> None:
    store = db.open_store(link)
    levels = unit_levels(link)
    U.add_user(store, "fred", role="analyst", unit_id=None, unit_levels=levels, actor="test")
    S.set_password(store, "fred", PASSWORD)
    client = server.test_client()
    assert login(client, "fred").status_code == 302
    assert client.get("/api/v1/units").status_code == 200
    U.set_disabled(store, "fred", True)
    page = client.get("/scorecard")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?m=disabled")
    assert client.get("/api/v1/units").status_code == 401
    assert login(server.test_client(), "fred").status_code == 401  # and cannot sign in again


def test_bearer_tokens(link: Path, client: flask.testing.FlaskClient) -> None:
    store = db.open_store(link)
    token, _ = U.create_token(store, "eve", "test")
    auth = {"Authorization": f"Bearer {token}"}
    ids = unit_ids(client, headers=auth)
    # a police authority member: aggregates to NPU, no team or officer
    assert NORTHERN in ids and not any(u.count("/") >= 3 for u in ids)
    team = client.get("/api/v1/series?measure=total_crime&unit=cheshire/eastern/crewe/cid", headers=auth)
    assert team.status_code == 403  # the seam's refusal, not sign-in's
    U.revoke_tokens(store, "eve")
    revoked = client.get("/api/v1/units", headers=auth)
    assert revoked.status_code == 401 and "not valid" in revoked.get_json()["error"]
    for bad in ("Bearer lg_nonsense", "Bearer ", "Basic ZXZlOnB3"):
        resp = client.get("/api/v1/units", headers={"Authorization": bad})
        assert resp.status_code == 401 and resp.is_json, bad
    assert client.get("/api/v1/units").status_code == 401  # no header, no session


def test_the_session_key_file_is_private(link: Path, server: flask.Flask) -> None:
    server.test_client().get("/login")
    path = signin.secret_key_path(link)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes()) >= signin.MIN_SECRET
    assert server.secret_key == path.read_bytes().strip()


def test_a_short_secret_key_is_refused(link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signin.SECRET_ENV, "short")
    with pytest.raises(ValueError, match="too short"):
        signin.secret_key(link)


def test_lg_auth_open_with_no_users_serves_the_anonymous_actor_and_says_so(
        demo_link: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signin.AUTH_ENV, "open")
    copy = copy_warehouse(demo_link, tmp_path / "open")
    client = create_app(copy).server.test_client()
    assert client.get("/scorecard").status_code == 200
    assert client.get("/api/v1/units").status_code == 200
    bar = client.post("/_dash-update-component", json=bar_callback())
    assert bar.status_code == 200 and signin.ANONYMOUS_BANNER in json.loads(bar.get_data(as_text=True))[
        "response"]["signin-bar"]["children"]["props"]["children"]


def test_by_default_nothing_is_served_without_signing_in_even_with_no_users_and_from_loopback(
        demo_link: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signin.AUTH_ENV, raising=False)
    copy = copy_warehouse(demo_link, tmp_path / "closed")
    client = create_app(copy).server.test_client()
    loopback = {"environ_base": {"REMOTE_ADDR": "127.0.0.1"}}
    assert client.get("/scorecard", **loopback).status_code == 302
    assert client.get("/", **loopback).headers["Location"].startswith("/login")
    assert client.get("/_dash-layout", **loopback).status_code == 401
    assert client.post("/_dash-update-component", json=bar_callback(), **loopback).status_code == 401
    assert client.get("/api/v1/units", **loopback).status_code == 401
    page = client.get("/login", **loopback).get_data(as_text=True)
    assert "No users have been added" in page and "users add NAME --role chief_officer --admin" in page


def test_the_first_user_closes_an_open_dashboard(link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signin.AUTH_ENV, "open")  # `link`'s store holds users
    client = create_app(link).server.test_client()
    assert client.get("/scorecard").status_code == 302
    assert client.get("/api/v1/units").status_code == 401
    assert "No users have been added" not in client.get("/login").get_data(as_text=True)


def test_a_wrong_lg_auth_stops_the_start_in_words(demo_link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signin.AUTH_ENV, "off")
    with pytest.raises(ValueError, match="LG_AUTH must be 'required' .*or 'open'"):
        create_app(demo_link)


def test_the_demo_sample_users_one_per_role_sign_in_with_the_passwords_printed_once(
        demo_link: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(signin.AUTH_ENV, raising=False)
    copy = copy_warehouse(demo_link, tmp_path / "sample")
    env = {k: v for k, v in os.environ.items() if k not in (db.STORE_URL_ENV, signin.AUTH_ENV)}
    done = subprocess.run([sys.executable, "-m", "dashboard", "users", "sample", "--warehouse", str(copy)],
                          cwd=REPO, capture_output=True, text=True, env={**env, "COLUMNS": "200"},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\s*([a-z-]+)\s+(\S{16})\s", done.stdout, re.M)}
    assert set(rows) == {"chief", "analyst", "bcu-commander", "npu-inspector", "authority", "officer"}
    store = db.open_store(copy)
    roles = {u.name: {g.role for g in u.grants} for u in U.list_users(store)}
    assert roles == {"chief": {"chief_officer"}, "analyst": {"analyst"}, "bcu-commander": {"bcu_commander"},
                     "npu-inspector": {"npu_inspector"}, "authority": {"police_authority"},
                     "officer": {"officer"}}
    assert U.get_user(store, "chief").admin and not U.get_user(store, "analyst").admin
    server = create_app(copy).server
    assert server.test_client().get("/scorecard").status_code == 302  # sign-in is now required
    for name, password in rows.items():
        client = server.test_client()
        assert login(client, name, password).status_code == 302, name
        assert client.get("/api/v1/units").status_code == 200, name
    # the password is stored only as its hash
    with store.connect() as conn:
        hashes = [r.password_hash for r in conn.execute(select(schema.users.c.password_hash))]
    assert all(h.startswith("$argon2") for h in hashes)
    assert not any(pw in h for h in hashes for pw in rows.values())


def test_sample_users_are_refused_on_a_real_warehouse(tmp_path: Path) -> None:
    from tests.support.tiny import build_warehouse

    link = build_warehouse(tmp_path / "real.duckdb")
    # the command's own process is run by the test above; this refusal is its words, through
    # typer's runner (tests.support.cli.dashboard: an unexpected exception fails the test there)
    done = dashboard("users", "sample", "--warehouse", str(link))
    assert done.returncode == 1
    assert "sample users are for the synthetic demo only" in done.stderr
    assert "Traceback" not in done.stderr


def test_passwords_from_the_cli_never_an_argument(link: Path, server: flask.Flask) -> None:
    def run(*args: str, stdin: str, process: bool = False) -> Ran:
        """The first call in a process of its own (the password read from a real standard
        input), the rest through typer's runner in this one (tests.support.cli.dashboard)."""
        return dashboard(*args, "--warehouse", str(link), stdin=stdin, process=process)

    added = run("users", "add", "gill", "--role", "analyst", "--password-stdin",
                stdin="gill's long passphrase\n", process=True)
    assert added.returncode == 0, added.stderr
    assert "with a password" in added.stderr and "passphrase" not in added.stderr + added.stdout
    assert login(server.test_client(), "gill", "gill's long passphrase").status_code == 302
    short = run("users", "set-password", "gill", stdin="short\n")
    assert short.returncode == 1 and "too short" in short.stderr
    changed = run("users", "set-password", "gill", stdin="another long passphrase\n")
    assert changed.returncode == 0 and "Password set for gill." in changed.stderr
    assert login(server.test_client(), "gill", "gill's long passphrase").status_code == 401
    assert login(server.test_client(), "gill", "another long passphrase").status_code == 302
    nobody = run("users", "set-password", "nobody", stdin="a long enough password\n")
    assert nobody.returncode == 1 and "There is no user 'nobody'" in nobody.stderr
    # only the argon2id hash is stored
    with db.open_store(link).connect() as conn:
        users = schema.users
        hashed = conn.execute(select(users.c.password_hash).where(users.c.name == "gill")).scalar()
    assert hashed.startswith("$argon2id$") and "passphrase" not in hashed
    for f in link.parent.glob("warehouse.store.sqlite*"):  # the file and its write-ahead log
        assert b"another long passphrase" not in f.read_bytes(), f
