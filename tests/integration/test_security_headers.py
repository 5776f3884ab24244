"""Every kind of response carries the security headers (dashboard/headers.py): a page, Dash's
layout and callback routes, its component files, the API (JSON, CSV, errors), the vendor CSS,
the sign-in page, a 404; HSTS only over HTTPS."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.app import create_app

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
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
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP: HSTS would be ignored


def test_a_callback_post_carries_them_and_hsts_over_https(client) -> None:  # noqa: ANN001
    resp = client.post("/_dash-update-component", data=b"not json", content_type="application/json")
    assert resp.status_code < 500 and resp.headers.get("X-Frame-Options") == "DENY"
    secure = client.get("/api/v1/units", base_url="https://localhost")
    assert secure.headers.get("Strict-Transport-Security") == "max-age=31536000"
