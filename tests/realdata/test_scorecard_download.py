"""The scorecard's CSV and XLSX downloads on a warehouse of data.police.uk files only, posted
through the Dash download callback the page's buttons fire (issue 11: they answered HTTP 500
on the real Cheshire and City of London files, because the sparkline of a measure with no data
loaded was empty and the export indexed it).

Checked against the raw street files (counted with the csv module, not the loader) and
against the scorecard the page draws for the same URL."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from dashboard import auth
from dashboard.app import create_app
from dashboard.data.access import Actor, Grant
from tests.support.warehouses import raw_counts

SEARCH = "?unit=cheshire&preset=custom&from=2018-10-01&to=2019-02-28"
LOADED = [date(2018, 10, 1), date(2018, 11, 1), date(2018, 12, 1), date(2019, 1, 1), date(2019, 2, 1)]
# 13 months to the period's last whole month: February 2018 to February 2019
SPARK = [f"spark_{y}-{m:02d}" for y, m in [(2018, i) for i in range(2, 13)] + [(2019, 1), (2019, 2)]]


class _App:
    def __init__(self, link: Path) -> None:
        self.app = create_app(link)
        analyst = Actor("analyst", (Grant("analyst"),))
        self.app.server.before_request(lambda: auth.set_actor(analyst))
        self.client = self.app.server.test_client()

    def download(self, fmt: str) -> dict[str, Any]:
        """POST the download callback as a click on the scorecard's CSV or XLSX button: the
        callback's inputs are every CSV button, then every XLSX button."""
        ident = {"export": "scorecard", "type": fmt}
        button = [{"id": ident, "property": "n_clicks", "value": 1}]
        key = next(k for k in self.app.callback_map if k.startswith("download.data"))
        body = {
            "output": key, "outputs": {"id": "download", "property": "data"},
            "inputs": [button, []] if fmt == "csv" else [[], button],
            "state": [{"id": "url", "property": "search", "value": SEARCH}],
            "changedPropIds": [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
        }
        resp = self.client.post("/_dash-update-component", json=body)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        return json.loads(resp.get_data(as_text=True))["response"]["download"]["data"]


@pytest.fixture(scope="module")
def app(real_link: Path) -> Iterator[_App]:
    a = _App(real_link)
    yield a
    a.app.server.extensions["looking_glass_reader"].close()


def _num(cell: Any) -> float:
    return math.nan if cell in ("", None) else float(cell)


def _check(rows: list[dict[str, Any]], raw: dict[tuple[str, date, str], int]) -> None:
    by_id = {r["measure_id"]: r for r in rows}
    # every headline measure, the ones no police.uk file answers included
    assert {"total_crime", "crime_burglary", "asb_incidents", "satisfaction_whole_experience",
            "calls_999_answered_10s"} <= set(by_id)
    assert list(rows[0])[-13:] == SPARK

    def crimes(month: date, kind: str | None = None) -> int:
        return sum(v for (f, m, k), v in raw.items() if f == "cheshire" and m == month
                   and (k == kind if kind else k != "Anti-social behaviour"))

    burglary = by_id["crime_burglary"]
    assert _num(burglary["numerator"]) == sum(crimes(m, "Burglary") for m in LOADED)
    total = by_id["total_crime"]
    assert _num(total["numerator"]) == sum(crimes(m) for m in LOADED)
    # the sparkline: a count per loaded month, blank before the first file
    assert [_num(total[f"spark_{m:%Y-%m}"]) for m in LOADED] == [crimes(m) for m in LOADED]
    assert all(math.isnan(_num(total[c])) for c in SPARK[:8])
    # a measure with no data loaded: its row, said so, with blank numbers and sparkline
    calls = by_id["calls_999_answered_10s"]
    assert calls["verdict"] == "not loaded"
    assert all(math.isnan(_num(calls[c])) for c in ["numerator", "value", *SPARK])


def test_scorecard_csv_and_xlsx_on_police_uk_only(app: _App, real_link: Path, shared_data: Path) -> None:
    raw = raw_counts(shared_data)

    sent = app.download("csv")
    assert sent["filename"].endswith(".csv") and "cheshire" in sent["filename"]
    rows = list(csv.DictReader(io.StringIO(sent["content"])))
    _check(rows, raw)

    sent = app.download("xlsx")
    assert sent["filename"].endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(sent["content"])), read_only=True)
    sheet = list(book.active.iter_rows(values_only=True))
    # (a read-only sheet drops a row's trailing empty cells)
    xrows = [dict(zip(sheet[0], (*r, *[None] * (len(sheet[0]) - len(r))), strict=True)) for r in sheet[1:]]
    _check(xrows, raw)
    # the two files hold the same rows in the same order
    assert [r["measure_id"] for r in xrows] == [r["measure_id"] for r in rows]

    # and they are the table the page draws for the same URL
    from dashboard import state as url_state
    from dashboard.analysis import assessment
    data = app.app.server.extensions["looking_glass_data"]
    with data.request(Actor("analyst", (Grant("analyst"),))):
        view = data.resolve(url_state.parse(SEARCH))
        card = assessment.assess(data, "cheshire", view.period.start, view.period.end)
    assert [r["measure_id"] for r in rows] == card["measure_id"].tolist()
    for (_, want), got in zip(card.iterrows(), rows, strict=True):
        assert math.isclose(_num(got["value"]), want["value"], rel_tol=1e-9) or (
            math.isnan(_num(got["value"])) and math.isnan(want["value"])), want["measure_id"]
