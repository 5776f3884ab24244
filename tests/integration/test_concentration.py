"""Concentration on a warehouse the real loader builds from a small street file: the top 5% /
10% shares of crime and harm, the LSOA denominator and the repeat-location count, each
computed again here with pandas from the raw rows written (not the project's queries)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import state as url_state
from dashboard.analysis import concentration
from dashboard.app import create_app
from dashboard.components import concentration as concentration_component
from dashboard.data.access import Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from tests.conftest import build_once
from tests.support import place

REPO = Path(__file__).resolve().parents[2]
FIRST, LAST = date(2019, 1, 1), date(2019, 2, 28)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))


@pytest.fixture
def data(built: tuple[Path, list[Path]]) -> DataAccess:
    return DataAccess(WarehouseReader(built[0]))


def raw(files: list[Path]) -> pd.DataFrame:
    frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    return frame[frame["Crime type"] != "Anti-social behaviour"]


def expected(files: list[Path], area: list[str], fraction: float) -> tuple[int, float, float]:
    """(k, crime share, harm share) of the top `fraction` of the area's LSOAs, by hand."""
    rows = raw(files)
    rows = rows[rows["LSOA code"].isin(area)]
    w = place.weights(REPO)
    per = pd.DataFrame({"lsoa": area}).set_index("lsoa")
    per["crimes"] = rows.groupby("LSOA code").size()
    per["harm"] = rows.assign(h=rows["Crime type"].map(w)).groupby("LSOA code")["h"].sum()
    per = per.fillna(0)
    k = math.ceil(fraction * len(area) - 1e-9)
    crime = per["crimes"].sort_values(ascending=False).head(k).sum() / per["crimes"].sum()
    harm = per["harm"].sort_values(ascending=False).head(k).sum() / per["harm"].sum()
    return k, float(crime), float(harm)


@pytest.mark.parametrize("unit_id, las", [
    ("cheshire", (place.HALTON, place.WARRINGTON, place.CWAC, place.CHESHIRE_EAST)),
    ("cheshire/northern", (place.HALTON, place.WARRINGTON)),
])
def test_top_shares_match_an_independent_count(data: DataAccess, built: tuple[Path, list[Path]],
                                               unit_id: str, las: tuple[str, ...]) -> None:
    area = place.area_lsoas(REPO, las)
    figures = data.concentration(unit_id, FIRST, LAST)
    assert figures.not_available is None
    # the denominator is every LSOA of the area, the many with no crime included
    assert len(figures.lsoas) == len(area)
    assert set(figures.lsoas["lsoa_code"]) == set(area)
    assert (figures.lsoas["crimes"] == 0).sum() > len(area) // 2
    assert figures.from_default > 0     # LSOAs no record named, from the default hierarchy
    for fraction in (0.05, 0.10):
        k, crime, harm = expected(built[1], area, fraction)
        got = concentration.top_share(figures.lsoas["crimes"], fraction)
        got_harm = concentration.top_share(figures.lsoas["harm"], fraction)
        assert got.k == k
        assert got.share == pytest.approx(crime)
        assert got_harm.share == pytest.approx(harm, rel=1e-6)


def test_crimes_not_placed_in_an_lsoa_are_reported(data: DataAccess) -> None:
    force = data.concentration("cheshire", FIRST, LAST)
    assert (force.blank, force.outside) == (10, 6)      # 5 + 3 a month, two months
    bcu = data.concentration("cheshire/northern", FIRST, LAST)
    assert (bcu.blank, bcu.outside) == (0, 0)


@pytest.mark.parametrize("unit_id, las", [
    ("cheshire", None),
    ("cheshire/northern", (place.HALTON, place.WARRINGTON)),
])
def test_repeat_locations_match_an_independent_count(data: DataAccess, built: tuple[Path, list[Path]],
                                                     unit_id: str, las: tuple[str, ...] | None) -> None:
    rows = raw(built[1])
    rows = rows[rows["Longitude"] != ""]          # no map point: not counted
    if las is not None:                           # a BCU: the crimes in its LSOAs
        rows = rows[rows["LSOA code"].isin(place.area_lsoas(REPO, las))]
    per_point = rows.groupby(["Longitude", "Latitude"]).size()
    found = data.repeat_locations(unit_id, FIRST, LAST)
    r = concentration.repeats(found["crimes"])
    assert r.locations == len(per_point)
    assert r.repeat_locations == int((per_point >= 2).sum())
    assert r.crimes_at_repeats == int(per_point[per_point >= 2].sum())
    assert r.crimes == len(rows)


def test_only_roles_that_see_records_get_the_locations(data: DataAccess) -> None:
    member = Actor("member", (Grant("police_authority"),))
    with data.request(member):
        aggregate = data.repeat_locations("cheshire", FIRST, LAST)
        assert list(aggregate.columns) == ["crimes"]
        assert data.concentration("cheshire", FIRST, LAST).not_available is None
        # the section: counts, but no point listed
        view = data.resolve(url_state.parse("?unit=cheshire&from=2019-01-01&to=2019-02-28"))
        assert view is not None
        section = concentration_component.process(data, view)
        assert section.repeats is not None and section.repeats.repeat_locations > 0
        assert section.locations.empty
        assert "repeat-locations-grid" not in str(concentration_component.concentration_card(data, view))
    chief = Actor("chief", (Grant("chief_officer", "cheshire"),))
    with data.request(chief):
        listed = data.repeat_locations("cheshire", FIRST, LAST)
        assert {"location", "longitude", "latitude"} <= set(listed.columns)
        view = data.resolve(url_state.parse("?unit=cheshire&from=2019-01-01&to=2019-02-28"))
        assert view is not None
        assert "repeat-locations-grid" in str(concentration_component.concentration_card(data, view))


def test_the_npus_lsoas_partition_their_bcus(data: DataAccess) -> None:
    bcu = data.concentration("cheshire/northern", FIRST, LAST)
    npus = [u for u in data.units_at("cheshire", "npu") if u.unit_id.startswith("cheshire/northern/")]
    parts = [data.concentration(u.unit_id, FIRST, LAST).lsoas for u in npus]
    codes = [c for p in parts for c in p["lsoa_code"]]
    # disjoint, inside the BCU (NPUs with no record yet are not units in the warehouse, but
    # their LSOAs are still the BCU's: the BCU's area is all of its LSOAs)
    assert len(codes) == len(set(codes)) and set(codes) <= set(bcu.lsoas["lsoa_code"])
    assert sum(int(p["crimes"].sum()) for p in parts) == int(bcu.lsoas["crimes"].sum())


def test_api_concentration_json_csv_and_bad_parameters(built: tuple[Path, list[Path]]) -> None:
    app = create_app(built[0])
    client = app.server.test_client()
    ok = client.get("/api/v1/concentration?unit=cheshire/northern&from=2019-01-01&to=2019-02-28")
    assert ok.status_code == 200, ok.get_data(as_text=True)
    body = ok.get_json()
    area = place.area_lsoas(REPO, (place.HALTON, place.WARRINGTON))
    k, crime, harm = expected(built[1], area, 0.05)
    top5 = next(t for t in body["top"] if t["percent"] == 5)
    assert (top5["lsoas"], top5["of"]) == (k, len(area))
    assert top5["crime_share"] == pytest.approx(crime)
    assert top5["harm_share"] == pytest.approx(harm, rel=1e-6)
    assert body["harm_weights"]["approximate"] is True
    assert "data.police.uk" in body["source_label"]
    csv_text = client.get("/api/v1/concentration?unit=cheshire/northern&from=2019-01-01&to=2019-02-28"
                          "&format=csv").get_data(as_text=True)
    assert csv_text.splitlines()[0].startswith("rank,lsoa_code,")
    assert len(csv_text.splitlines()) == len(area) + 1
    for query, parameter, status in (("unit=cheshire/nowhere", "unit", 403),
                                     ("unit=cheshire&from=2019-13-01", "from", 400),
                                     ("unit=cheshire&to=2018-01-01&from=2019-01-01", "to", 400),
                                     ("unit=cheshire&measure=calls_abandoned_rate", "measure", 400),
                                     ("unit=cheshire&colour=red", "colour", 400), ("", "unit", 400)):
        bad = client.get(f"/api/v1/concentration?{query}")
        assert bad.status_code == status, query
        assert bad.get_json()["parameter"] == parameter


def test_the_headline_says_what_is_counted(data: DataAccess) -> None:
    for measure, word in (("total_crime", "of its crime;"), ("crime_harm", "of its crime;"),
                          ("crime_burglary", "of its burglary;")):
        view = data.resolve(url_state.parse(f"?unit=cheshire/northern&measure={measure}"
                                            "&from=2019-01-01&to=2019-02-28"))
        assert view is not None
        text = concentration_component.headline(concentration_component.process(data, view), view)
        assert text.startswith("In Jan 2019 – Feb 2019, the 5% of Northern BCU's LSOAs with most crime")
        assert word in text and "of its harm." in text
