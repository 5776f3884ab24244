"""Every kind of response carries the security headers (dashboard/headers.py): a page, Dash's
layout and callback routes, its component files, the API (JSON, CSV, errors), the vendor CSS,
the sign-in page, a 404; HSTS only over HTTPS."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import lxml.html
import pytest

from dashboard.app import create_app

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

ROUTES = (
    "/", "/scorecard?unit=cheshire", "/_dash-layout", "/_dash-dependencies",
    "/api/v1/units", "/api/v1/units?format=csv", "/api/v1/series?unit=cheshire",  # the last: a 400
    "/api/v1/nowhere", "/vendor/bootstrap.min.css", "/login", "/no-such-file.js",
    "/_dash-component-suites/dash/no-such.js",
)


@pytest.fixture(scope="module")
def client(demo_link: Path):  # noqa: ANN201
    app = create_app(demo_link)
    yield app.server.test_client()
    app.server.extensions["looking_glass_reader"].close()


@pytest.mark.parametrize("route", ROUTES)
def test_every_response_carries_the_headers(client, route: str) -> None:  # noqa: ANN001
    resp = client.get(route)
    assert resp.status_code < 500, (route, resp.status_code)
    for name, value in EXPECTED.items():
        assert resp.headers.get(name) == value, (route, name, resp.headers.get(name))
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"], route
    assert csp["object-src"] == ["'none'"] and csp["form-action"] == ["'self'"], route
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS would be ignored


def _directives(header: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def test_the_csp_allows_no_other_origin_and_only_the_pages_own_inline_scripts(client) -> None:  # noqa: ANN001
    """The policy's script hashes are those of the inline scripts in the page as served,
    hashed here (sha256, base64: CSP level 2), and nothing else runs inline or from elsewhere."""
    resp = client.get("/scorecard")
    assert resp.status_code == 200, resp.status_code
    page = lxml.html.fromstring(resp.get_data(as_text=True))
    inline = [s.text or "" for s in page.iter("script")  # JSON data blocks never run
              if not s.get("src") and s.get("type") != "application/json"]
    assert inline, "Dash's renderer starts from an inline script"
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(t.encode()).digest()).decode()}'" for t in inline}
    csp = _directives(resp.headers["Content-Security-Policy"])
    assert set(csp["script-src"]) == {"'self'"} | hashes
    for name, values in csp.items():
        assert not any(v.startswith(("http:", "https:", "*")) or v == "'unsafe-eval'" for v in values), name
    assert "'unsafe-inline'" not in csp["script-src"]


def test_a_callback_post_carries_them_and_hsts_over_https(client) -> None:  # noqa: ANN001
    resp = client.post("/_dash-update-component", data=b"not json", content_type="application/json")
    assert resp.status_code < 500 and resp.headers.get("X-Frame-Options") == "DENY"
    secure = client.get("/api/v1/units", base_url="https://localhost")
    assert secure.headers.get("Strict-Transport-Security") == "max-age=31536000"
