"""The data API (/api/v1/series) on the real police.uk files: the numbers are the raw files'."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from dashboard.app import create_app
from tests.support.warehouses import raw_counts


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_real_series_match_the_raw_files(shared_data: Path, real_link: Path) -> None:
    raw = raw_counts(shared_data)
    app = create_app(real_link)
    client = app.server.test_client()
    try:
        body = client.get(
            "/api/v1/series?measure=crime_burglary&unit=cheshire&from=2018-10-01&to=2019-02-28&grain=month"
        ).get_json()
        assert body["source"] == "police_uk"
        want = [
            raw.get(("cheshire", date.fromisoformat(r["period_start"]), "Burglary"), 0) for r in body["rows"]
        ]
        assert [r["numerator"] for r in body["rows"]] == [float(w) for w in want]
        text = client.get(
            "/api/v1/series?measure=asb_incidents&unit=merseyside&from=2018-10-01"
            "&to=2019-02-28&grain=fy&format=csv"
        ).get_data(as_text=True)
        got = sum(float(r["numerator"]) for r in _csv(text))
        assert got == sum(
            v for (f, _, k), v in raw.items() if f == "merseyside" and k == "Anti-social behaviour"
        )
        resp = client.get("/api/v1/series?measure=total_crime&unit=cheshire&grain=day")
        assert resp.status_code == 400 and resp.get_json()["parameter"] == "grain"
    finally:
        app.server.extensions["looking_glass_reader"].close()
