"""Concentration on the real Cheshire street files: the top-10% share of crime over its 652
LSOAs and the repeat-location count, counted again here with the csv module from the raw rows."""

from __future__ import annotations

import csv
import math
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from dashboard.analysis import concentration
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from tests.support import place
from tests.support.warehouses import street_files

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = date(2018, 10, 1), date(2019, 2, 28)


def cheshire_crimes(shared_data: Path) -> list[dict[str, str]]:
    """Cheshire's crimes: ASB left out, a Crime ID repeated inside a month counted once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for path in street_files(shared_data):
        if not path.name.endswith("-cheshire-street.csv"):
            continue
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["Crime type"] == "Anti-social behaviour":
                    continue
                key = (row["Month"], row["Crime ID"].strip())
                if key[1]:
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(row)
    return out


@pytest.fixture(scope="module")
def data(real_link: Path) -> DataAccess:
    return DataAccess(WarehouseReader(real_link))


def test_top_10_percent_share_and_repeat_locations_of_real_cheshire(
        data: DataAccess, shared_data: Path) -> None:
    rows = cheshire_crimes(shared_data)
    area = set(place.area_lsoas(REPO, (place.HALTON, place.WARRINGTON, place.CWAC, place.CHESHIRE_EAST)))
    assert len(area) == 652
    per_lsoa = Counter(r["LSOA code"] for r in rows if r["LSOA code"] in area)
    counts = sorted((per_lsoa.get(code, 0) for code in area), reverse=True)
    k = math.ceil(0.10 * 652)                      # 66 LSOAs
    expected_share = sum(counts[:k]) / sum(counts)

    figures = data.concentration("cheshire", FIRST, LAST)
    assert len(figures.lsoas) == 652 and figures.from_default == 0   # every LSOA named by a record
    top10 = concentration.top_share(figures.lsoas["crimes"], 0.10)
    assert (top10.k, top10.n) == (66, 652)
    assert top10.share == pytest.approx(expected_share)
    assert int(figures.lsoas["crimes"].sum()) == sum(counts)
    assert figures.blank == sum(1 for r in rows if not r["LSOA code"])

    points = Counter((r["Longitude"], r["Latitude"]) for r in rows if r["Longitude"] and r["Location"])
    found = concentration.repeats(data.repeat_locations("cheshire", FIRST, LAST)["crimes"])
    assert found.locations == len(points)
    assert found.repeat_locations == sum(1 for n in points.values() if n >= 2)
    assert found.crimes_at_repeats == sum(n for n in points.values() if n >= 2)
