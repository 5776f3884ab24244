"""Per-MSOA values of an NPU on a warehouse the real loader builds from a small street file
(tests/support/place.py), each checked against a count made here with pandas and the csv
module from the raw rows and the shipped lookup (not the project's queries or aggregation)."""

from __future__ import annotations

import csv
import gzip
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import state as url_state
from dashboard.components.maps import map_figure
from dashboard.data.access import Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import drilldown
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


def lookup() -> dict[str, tuple[str, int]]:
    """LSOA -> (MSOA, 2011 residents), read with the csv module."""
    with gzip.open(REPO / "data/reference/lsoa_2011_ew.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {r["lsoa_code"]: (r["msoa_code"], int(r["population"])) for r in rows}


def raw(files: list[Path]) -> pd.DataFrame:
    frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    return frame[frame["Crime type"] != "Anti-social behaviour"]


def busiest_npu(data: DataAccess) -> str:
    """The NPU of the Northern BCU with most crime in the file (so it has several MSOAs with
    crime and some without)."""
    npus = [u.unit_id for u in data.units_at("cheshire", "npu") if u.unit_id.startswith("cheshire/northern/")]
    totals = data.values("total_crime", tuple(npus), FIRST, LAST)
    return str(totals.sort_values("value", ascending=False)["unit_id"].iloc[0])


@pytest.mark.parametrize("measure, category", [("total_crime", None), ("crime_burglary", "Burglary"),
                                               ("crime_per_1000", None)])
def test_msoa_values_match_an_independent_count(data: DataAccess, built: tuple[Path, list[Path]],
                                                measure: str, category: str | None) -> None:
    npu = busiest_npu(data)
    table = lookup()
    area = data.concentration(npu, FIRST, LAST).lsoas["lsoa_code"]   # the NPU's LSOAs
    rows = raw(built[1])
    if category:
        rows = rows[rows["Crime type"] == category]
    rows = rows[rows["LSOA code"].isin(set(area))]
    msoas = sorted({table[c][0] for c in area})
    crimes = rows["LSOA code"].map(lambda c: table[c][0]).value_counts()
    residents = {m: sum(p for c, (mm, p) in table.items() if mm == m and c in set(area)) for m in msoas}
    got = data.msoa_values(npu, measure, FIRST, LAST)
    assert got is not None
    frame = got.msoas.set_index("msoa_code")
    assert sorted(frame.index) == msoas
    assert len(msoas) >= 2 and (frame["num"] > 0).any()
    for m in msoas:
        n = int(crimes.get(m, 0))
        assert frame.loc[m, "num"] == n, m
        assert frame.loc[m, "population"] == residents[m], m
        want = n / residents[m] * 1000 if measure == "crime_per_1000" else n
        assert frame.loc[m, "value"] == pytest.approx(want), m
    assert frame["msoa_name"].str.match(r"^(Halton|Warrington) \d{3}$").all()


def test_harm_per_msoa_matches_the_category_weights(data: DataAccess, built: tuple[Path, list[Path]]) -> None:
    npu = busiest_npu(data)
    table = lookup()
    weights = pd.read_csv(REPO / "data/reference/crime_severity_category_weights.csv", comment="#")
    labels = {"burglary": "Burglary", "violent-crime": "Violence and sexual offences",
              "shoplifting": "Shoplifting", "criminal-damage-arson": "Criminal damage and arson",
              "vehicle-crime": "Vehicle crime", "robbery": "Robbery"}
    pairs = zip(weights["category"], weights["weight"], strict=True)
    w = {labels[c]: float(x) for c, x in pairs if c in labels}
    area = set(data.concentration(npu, FIRST, LAST).lsoas["lsoa_code"])
    rows = raw(built[1])
    rows = rows[rows["LSOA code"].isin(area)]
    harm = rows.assign(m=rows["LSOA code"].map(lambda c: table[c][0]), h=rows["Crime type"].map(w)) \
        .groupby("m")["h"].sum()
    got = data.msoa_values(npu, "crime_harm", FIRST, LAST)
    assert got is not None
    frame = got.msoas.set_index("msoa_code")
    for m, h in harm.items():
        assert frame.loc[m, "value"] == pytest.approx(h, rel=1e-6)


def test_no_msoa_values_where_there_is_no_such_figure(data: DataAccess) -> None:
    npu = busiest_npu(data)
    assert data.msoa_values(npu, "sanction_detection_rate", FIRST, LAST) is None   # a proportion
    assert data.msoa_values(npu, "asb_incidents", FIRST, LAST) is None
    assert data.msoa_values("cheshire/northern", "total_crime", FIRST, LAST) is None   # not an NPU


def test_the_npu_map_colours_its_msoas_by_their_own_values(data: DataAccess) -> None:
    npu = busiest_npu(data)
    member = Actor("member", (Grant("police_authority"),))   # aggregates: no records needed
    with data.request(member):
        view = data.resolve(url_state.parse(f"?unit={npu}&measure=total_crime&from=2019-01-01&to=2019-02-28"))
        assert view is not None
        fig = map_figure(data, view)
        assert fig is not None
        got = data.msoa_values(npu, "total_crime", FIRST, LAST)
        assert got is not None
        values = next(t for t in fig["data"] if t.get("colorbar"))
        assert values["locations"] == list(got.msoas["msoa_code"])
        assert values["z"] == [float(v) for v in got.msoas["num"]]
        assert len(set(values["z"])) > 1
        # hover: the MSOA's own name and its own count
        first = got.msoas.iloc[0]
        assert values["text"][0].startswith(f"{first['msoa_name']} (")
        assert f": {int(first['num']):,} crimes" in values["text"][0]
        assert "crimes" in values["colorbar"]["title"]["text"]
        assert "Jan 2019 – Feb 2019" in values["colorbar"]["title"]["text"].replace("<br>", " ")
        assert "Crown copyright" in str(fig["layout"]["annotations"])
        assert "not available" not in str(fig["layout"]["annotations"])
        # a proportion: the NPU-coloured map, and a line saying so
        view = data.resolve(url_state.parse(f"?unit={npu}&measure=sanction_detection_rate"
                                            "&from=2019-01-01&to=2019-02-28"))
        assert view is not None
        fig = map_figure(data, view)
        assert fig is not None
        assert "MSOA values are not available for this measure" in str(fig["layout"]["annotations"])


def test_an_actor_who_may_not_see_records_still_gets_the_msoa_values(data: DataAccess) -> None:
    npu = busiest_npu(data)
    query = f"?unit={npu}&measure=total_crime&from=2019-01-01&to=2019-02-28"
    member = Actor("member", (Grant("police_authority"),))
    with data.request(member):
        view = data.resolve(url_state.parse(query))
        assert view is not None and not data.may_see_records(view.unit)
        page = str(drilldown.layout(data, view))
        assert "drill-npu-map" in page and "'drill-map'" not in page   # the values, no records
        assert "records-not-available" in page
    chief = Actor("chief", (Grant("chief_officer", "cheshire"),))
    with data.request(chief):
        view = data.resolve(url_state.parse(query))
        assert view is not None
        page = str(drilldown.layout(data, view))
        assert "'drill-map'" in page and "drill-npu-map" not in page   # one map, with the records
