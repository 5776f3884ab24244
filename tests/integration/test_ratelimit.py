"""The data API's rate limit (dashboard/ratelimit.py), on the real app with two users' real API
tokens: counted per user, a 429 in words with Retry-After past it, pages not limited, another
user unaffected."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.store import db
from dashboard.store import users as U
from tests.support.warehouses import copy_warehouse


def test_past_the_limit_the_api_answers_429_per_user(demo_link: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_API_RATE_LIMIT", "5 per minute")
    monkeypatch.delenv(db.STORE_URL_ENV, raising=False)
    link = copy_warehouse(demo_link, tmp_path / "limited")
    store = db.open_store(link)
    tokens = {}
    for name in ("ada", "bea"):
        U.add_user(store, name, role="analyst", unit_id=None, unit_levels={}, actor="test")
        tokens[name], _ = U.create_token(store, name, "test")
    app = create_app(link)
    client = app.server.test_client()

    def get(name: str, path: str = "/api/v1/measures"):  # noqa: ANN202
        return client.get(path, headers={"Authorization": f"Bearer {tokens[name]}"})

    assert [get("ada").status_code for _ in range(5)] == [200] * 5
    refused = get("ada")
    assert refused.status_code == 429
    assert refused.get_json()["error"].startswith("Too many requests: the API allows 5 per 1 minute")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["X-Frame-Options"] == "DENY"  # still one of ours
    assert get("bea").status_code == 200  # another user has their own count
    app.server.extensions["looking_glass_reader"].close()
