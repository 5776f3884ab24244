"""Signing in through the /login form in a real Chromium, on a copy of the demo warehouse whose
store holds a user: the dashboard is not served before signing in, the form signs in and
returns to the page asked for, the page says who is signed in, and "Sign out" (a POST with the
session's CSRF token, from the Dash layout) signs out."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from dashboard import oidc, signin
from dashboard.app import create_app
from dashboard.store import db
from dashboard.store import signin as S
from dashboard.store import users as U
from tests.support.browser import assert_local_only, find_now, free_port, settled, wait
from tests.support.oidc_provider import Provider
from tests.support.warehouses import copy_warehouse

PASSWORD = "correct horse battery staple"


def test_sign_in_through_the_form_and_out_again(dash_duo, demo_link: Path, tmp_path: Path,  # noqa: ANN001
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # monkeypatch restores them: LG_AUTH=open must survive for the tests after this one
    for name in (signin.SECRET_ENV, signin.AUTH_ENV, db.STORE_URL_ENV, "LG_OIDC_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    link = copy_warehouse(demo_link, tmp_path / "wh")
    store = db.open_store(link)
    U.add_user(store, "bell", role="bcu_commander", unit_id="cheshire/northern",
               unit_levels={"cheshire/northern": "bcu"}, actor="test")
    S.set_password(store, "bell", PASSWORD)

    dash_duo.start_server(create_app(link), navigate=False, port=free_port())
    base = dash_duo.server.url.rstrip("/")
    dash_duo.driver.get(f"{base}/scorecard?unit=cheshire/northern")
    # not served before signing in: the sign-in form instead, which will return to the page
    wait(lambda: dash_duo.driver.current_url.startswith(f"{base}/login"), what="the sign-in page")
    assert not find_now(dash_duo.driver, "react-entry-point", By.ID)
    assert signin.NOTICES["required"] in dash_duo.driver.find_element(By.ID, "login-notice").text

    dash_duo.driver.find_element(By.ID, "login-name").send_keys("bell")
    dash_duo.driver.find_element(By.ID, "login-password").send_keys("wrong password here")
    dash_duo.driver.find_element(By.ID, "login-submit").click()
    wait(lambda: dash_duo.driver.find_elements(By.ID, "login-error"), what="the refusal")
    assert dash_duo.driver.find_element(By.ID, "login-error").text == signin.BAD_LOGIN

    dash_duo.driver.find_element(By.ID, "login-name").clear()
    dash_duo.driver.find_element(By.ID, "login-name").send_keys("bell")
    dash_duo.driver.find_element(By.ID, "login-password").send_keys(PASSWORD)
    dash_duo.driver.find_element(By.ID, "login-submit").click()
    wait(lambda: dash_duo.driver.current_url == f"{base}/scorecard?unit=cheshire/northern",
         what="back at the page asked for")
    dash_duo.wait_for_element("#signed-in-as", timeout=30)
    assert dash_duo.find_element("#signed-in-as").text == "Signed in as bell (BCU commander)"
    settled(dash_duo, timeout=60)
    wait(lambda: "Northern" in dash_duo.find_element("#page").text, timeout=60, what="the scorecard")
    assert not find_now(dash_duo.driver, "anonymous-banner", By.ID)
    dash_duo.driver.save_screenshot(str(tmp_path / "signed-in.png"))

    dash_duo.find_element("#sign-out").click()
    wait(lambda: dash_duo.driver.current_url == f"{base}/login?m=signedout", what="signed out")
    assert signin.NOTICES["signedout"] in dash_duo.driver.find_element(By.ID, "login-notice").text
    dash_duo.driver.get(f"{base}/scorecard")
    wait(lambda: dash_duo.driver.current_url.startswith(f"{base}/login"), what="refused again")
    assert_local_only(dash_duo.driver)


def test_single_sign_on_in_the_browser(dash_duo, demo_link: Path, tmp_path: Path,  # noqa: ANN001
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole OIDC round trip in Chromium: the sign-in page's SSO button, the local provider
    (tests/support/oidc_provider.py) on 127.0.0.1, and back signed in with the mapped role."""
    for name in (signin.SECRET_ENV, signin.AUTH_ENV, db.STORE_URL_ENV):
        monkeypatch.delenv(name, raising=False)
    provider = Provider("looking-glass", "browser-test-secret", [])
    issuer = provider.start()
    try:
        config = tmp_path / "oidc.toml"
        config.write_text(f'issuer = "{issuer}"\nclient_id = "looking-glass"\n[[group]]\n'
                          'name = "LG-Northern-Command"\nrole = "bcu_commander"\n'
                          'unit = "cheshire/northern"\n',
                          encoding="utf-8")
        monkeypatch.setenv(oidc.CONFIG_ENV, str(config))
        monkeypatch.setenv(oidc.SECRET_ENV, "browser-test-secret")
        provider.user = {"sub": "u-1", "preferred_username": "hana", "groups": ["LG-Northern-Command"]}
        link = copy_warehouse(demo_link, tmp_path / "wh")
        dash_duo.start_server(create_app(link), navigate=False, port=free_port())
        base = dash_duo.server.url.rstrip("/")
        provider.client.redirect_uris.append(f"{base}/login/sso/callback")

        dash_duo.driver.get(f"{base}/scorecard?unit=cheshire/northern")
        wait(lambda: dash_duo.driver.find_elements(By.ID, "login-sso"), timeout=30, what="the SSO button")
        dash_duo.driver.find_element(By.ID, "login-sso").click()
        wait(lambda: dash_duo.driver.current_url == f"{base}/scorecard?unit=cheshire/northern", timeout=30,
             what="back from the provider at the page asked for")
        dash_duo.wait_for_element("#signed-in-as", timeout=30)
        assert dash_duo.find_element("#signed-in-as").text == "Signed in as hana (BCU commander)"
        assert provider.token_requests == 1
        wait(lambda: "Northern" in dash_duo.find_element("#page").text, timeout=60, what="the scorecard")
        assert_local_only(dash_duo.driver)
    finally:
        provider.stop()
