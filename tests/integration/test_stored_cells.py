"""Record-level figures of a cell and the Compare page's comparison, kept beside the warehouse
version for a preset period (fastui9, issue 11 item 3; docs/precompute.md).

- `DataAccess.record_count` and an NPU's `map_points`: stored by `precompute_places` (what
  `python -m dashboard precompute` calls) for the default measure's categories, read by a cold
  worker with the lake and cube queries made to fail, equal to counts made here with pandas
  from the raw street rows written (not the project's queries) and to the on-demand frames;
  a custom range is computed and not stored; a role that may not see records is refused
  before anything stored is read; a damaged file is recomputed, not served.
- `peer_comparison.compare` of a preset period: stored by `peer_comparison.precompute` (also
  called by the command) for the default measure, read back equal to the comparison computed
  with no store (members, trend, average, dispersion and the funnel's limits); another
  measure is stored by its first view; a custom range is not stored.
- The place queries' facts with only the joins a level needs (and only the force's LSOAs)
  give the rows of the full facts, for every unit with an area.

Each test works on a private copy (the store writes beside the warehouse)."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.analysis import peer_comparison
from dashboard.data.access import ANONYMOUS, Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.queries import cubes, facts
from dashboard.data.queries import place as place_queries
from dashboard.data.warehouse import WarehouseReader
from etl.measures.registry import MEASURES
from tests.conftest import build_once
from tests.support import place
from tests.support.warehouses import copy_warehouse

REPO = Path(__file__).resolve().parents[2]
# the small street file's data run January to February 2019 (one monthly source)
QTD = (date(2019, 1, 1), date(2019, 2, 28))
MONTH = (date(2019, 2, 1), date(2019, 2, 28))
JANUARY = (date(2019, 1, 1), date(2019, 1, 31))   # a custom range: no preset period ends there
STORED_MEASURES = ("total_crime", "sanction_detection_rate")
NORTHERN = "cheshire/northern"                    # Halton and Warrington (tests/support/place.py)
# the street file's crime types (tests/support/place.py CATEGORIES) and data.police.uk's category ids
CATEGORY_OF = {"Burglary": "burglary", "Violence and sexual offences": "violent-crime",
               "Shoplifting": "shoplifting", "Criminal damage and arson": "criminal-damage-arson",
               "Vehicle crime": "vehicle-crime", "Robbery": "robbery"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))


@pytest.fixture(scope="module")
def stored(built: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy with Cheshire's place figures, record counts and NPU map points stored."""
    link = copy_warehouse(built[0], tmp_path_factory.mktemp("stored-cells"))
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        data.precompute_places(["cheshire"])
    data.reader.close()
    return link


def _cold(link: Path) -> DataAccess:
    return DataAccess(WarehouseReader(link))


def _fail(*args: object, **kwargs: object) -> None:
    raise AssertionError("computed, not read from the store")


def _raw(files: list[Path], period: tuple[date, date]) -> pd.DataFrame:
    frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    months = {f"{period[0].year}-{m:02d}" for m in range(period[0].month, period[1].month + 1)}
    return frame[(frame["Crime type"] != "Anti-social behaviour") & frame["Month"].isin(months)]


def _npus(data: DataAccess, parent: str) -> list[str]:
    return [u.unit_id for u in data.children(parent) if u.level == "npu"]


def _rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    """A frame's rows as a sorted list: the unsampled points come in the lake's order, which
    no query fixes."""
    return sorted(tuple(r) for r in frame.astype(str).itertuples(index=False, name=None))


def test_precompute_stores_the_counts_and_npu_points(stored: Path) -> None:
    data = _cold(stored)
    with data.request(ANONYMOUS):
        areas = [u for lv in ("force", "bcu", "npu") for u in data.units_at("cheshire", lv)]
        npus = [u for u in areas if u.level == "npu"]
    folder = data.store.version_folder(data.version_key())
    # the month, the quarter and the year to date, 12 months: 4 periods, the default measure's
    # categories only
    assert len(npus) > 1
    assert len(list((folder / "drill.record_count").glob("*.pkl"))) == len(areas) * 4
    assert len(list((folder / "drill.map_points").glob("*.pkl"))) == len(npus) * 4


@pytest.mark.parametrize("period", [QTD, MONTH], ids=["quarter-to-date", "month"])
def test_stored_counts_and_points_equal_an_independent_count(stored: Path, built: tuple[Path, list[Path]],
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             period: tuple[date, date]) -> None:
    rows = _raw(built[1], period)
    northern = rows[rows["LSOA code"].isin(place.area_lsoas(REPO, (place.HALTON, place.WARRINGTON)))]
    with_point = northern[northern["Longitude"] != ""]
    monkeypatch.setattr(facts, "map_points", _fail)
    monkeypatch.setattr(cubes, "period_counts", _fail)
    data = _cold(stored)
    with data.request(ANONYMOUS):
        # every crime of the force, and of its Northern BCU, whatever the measure of all crime
        for measure_id in ("total_crime", "crime_harm"):
            assert data.record_count(measure_id, "cheshire", *period) == len(rows)
            assert data.record_count(measure_id, NORTHERN, *period) == len(northern)
        # the BCU's NPUs' map points are its crimes with a map point, each once
        points = [data.map_points("total_crime", npu, *period) for npu in _npus(data, NORTHERN)]
    got = sorted((f"{lon:.6f}", f"{lat:.6f}", cat) for p in points
                 for lon, lat, cat in zip(p["longitude"], p["latitude"], p["category"], strict=True))
    want = sorted((lon, lat, CATEGORY_OF[t]) for lon, lat, t in
                  zip(with_point["Longitude"], with_point["Latitude"], with_point["Crime type"], strict=True))
    assert got == want


def test_stored_counts_and_points_equal_the_on_demand_ones(stored: Path) -> None:
    """Read or computed with no store: the same count and the same points (rows and dtypes),
    for the stored categories and for others (stored by their first view)."""
    read, fresh = _cold(stored), _cold(stored)
    fresh.store.enabled = False
    with read.request(ANONYMOUS), fresh.request(ANONYMOUS):
        units = ["cheshire", NORTHERN, *_npus(read, NORTHERN)]
        for period in (QTD, MONTH):
            for measure_id in ("total_crime", "crime_burglary", "sanction_detection_rate"):
                for unit_id in units:
                    assert (read.record_count(measure_id, unit_id, *period)
                            == fresh.record_count(measure_id, unit_id, *period))
                for npu in units[2:]:
                    a = read.map_points(measure_id, npu, *period)
                    b = fresh.map_points(measure_id, npu, *period)
                    assert list(a.dtypes) == list(b.dtypes)
                    assert _rows(a) == _rows(b)
    # a second cold worker reads what the first one's views stored (burglary too)
    again = _cold(stored)
    with again.request(ANONYMOUS):
        folder = again.store.version_folder(again.version_key()) / "drill.map_points"
        before = {p: p.stat().st_mtime_ns for p in folder.glob("*.pkl")}
        again.map_points("crime_burglary", units[2], *QTD)
        assert {p: p.stat().st_mtime_ns for p in folder.glob("*.pkl")} == before


def test_a_custom_range_is_computed_and_not_stored(stored: Path, built: tuple[Path, list[Path]]) -> None:
    data = _cold(stored)
    folder = data.store.version_folder(data.version_key())
    before = {name: set((folder / name).glob("*.pkl")) for name in ("drill.record_count", "drill.map_points")}
    with data.request(ANONYMOUS):
        count = data.record_count("total_crime", "cheshire", *JANUARY)
        data.map_points("total_crime", _npus(data, NORTHERN)[0], *JANUARY)
    assert {name: set((folder / name).glob("*.pkl")) for name in before} == before
    assert count == len(_raw(built[1], JANUARY))


def test_a_role_without_records_is_refused_before_the_store_is_read(stored: Path) -> None:
    member = Actor("member", (Grant("police_authority"),))
    data = _cold(stored)
    with data.request(ANONYMOUS):
        npu = _npus(data, NORTHERN)[0]
    with data.request(member):
        with pytest.raises(PermissionError):
            data.map_points("total_crime", npu, *QTD)
        with pytest.raises(PermissionError):
            data.record_count("total_crime", npu, *QTD)


def test_a_damaged_stored_points_file_is_recomputed(stored: Path, built: tuple[Path, list[Path]],
                                                    tmp_path: Path) -> None:
    link = copy_warehouse(stored, tmp_path / "damaged")
    data = _cold(link)
    with data.request(ANONYMOUS):
        data.precompute_places(["cheshire"])
        npu = _npus(data, NORTHERN)[0]
        want = _rows(data.map_points("total_crime", npu, *QTD))
    folder = data.store.version_folder(data.version_key()) / "drill.map_points"
    files = sorted(folder.glob("*.pkl"))
    for f in files:
        blob = f.read_bytes()
        f.write_bytes(blob[:-20] + bytes(20))   # the payload altered: its digest no longer matches
    cold = _cold(link)
    with cold.request(ANONYMOUS):
        assert _rows(cold.map_points("total_crime", npu, *QTD)) == want
    # and written again whole: a third worker reads it
    assert any(f.read_bytes() != blob[:-20] + bytes(20) for f in files)


# -- the place queries: only the joins a level needs ------------------------------------------------


@pytest.mark.parametrize("period", [QTD, JANUARY], ids=["quarter-to-date", "january"])
def test_the_facts_of_a_level_give_the_rows_of_the_full_facts(built: tuple[Path, list[Path]],
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              period: tuple[date, date]) -> None:
    data = _cold(built[0])
    lo, hi = date(period[0].year, period[0].month, 1), date(period[1].year, period[1].month, 1)
    full = place_queries._facts_sql

    def every_join(cur: object, files: list[str], time: str, weighted: bool = True,
                   level: str | None = None, force_id: str | None = None) -> str:
        return full(cur, files, time, weighted)   # as before the level and force were passed

    with data.request(ANONYMOUS):
        units = [u for lv in ("force", "bcu", "npu") for u in data.units_at("cheshire", lv)]
        source = data.source_for("cheshire")
        with data.cursor() as cur:
            files = facts.lake_files(cur, data.lake, "crime", source.source, "cheshire", lo, hi)
            for unit in units:
                for cats in (MEASURES["total_crime"].categories, MEASURES["crime_burglary"].categories):
                    args = (cur, files, unit.level, unit.unit_id, cats, lo, hi, "month")
                    lsoas = place_queries.lsoa_figures(cur, files, "cheshire", *args[2:])
                    points = place_queries.location_counts(*args, force_id="cheshire")
                    repeats = place_queries.location_repeats(*args, 2, 10, force_id="cheshire")
                    with monkeypatch.context() as m:
                        m.setattr(place_queries, "_facts_sql", every_join)
                        m.setattr(place_queries, "_lead", lambda files, level, force_id: [files])
                        pd.testing.assert_frame_equal(
                            lsoas, place_queries.lsoa_figures(cur, files, "cheshire", *args[2:]))
                        pd.testing.assert_frame_equal(points, place_queries.location_counts(*args))
                        again = place_queries.location_repeats(*args, 2, 10)
                    assert repeats[0] == again[0]
                    pd.testing.assert_frame_equal(repeats[1], again[1])
                    assert int(lsoas["crimes"].sum()) > 0 or unit.level == "npu"
    data.reader.close()


# -- the Compare page's comparison ------------------------------------------------------------------


@pytest.fixture(scope="module")
def compared(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo with Cheshire's comparisons of two measures stored (the command
    stores the headline measures': fourteen here, more than these tests need)."""
    link = copy_warehouse(demo_link, tmp_path_factory.mktemp("stored-compare"))
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        assert peer_comparison.precompute(data, ["cheshire"], STORED_MEASURES) > 0
    data.reader.close()
    return link


def _same(a: peer_comparison.Comparison, b: peer_comparison.Comparison) -> None:
    pd.testing.assert_frame_equal(a.members, b.members)
    pd.testing.assert_frame_equal(a.months, b.months)
    assert (a.period, a.group, a.basis, a.exclusions, a.dispersion, a.adjusted) == (
        b.period, b.group, b.basis, b.exclusions, b.dispersion, b.adjusted)
    assert a.average == b.average or (a.average != a.average and b.average != b.average)
    assert a.kappa == b.kappa or (a.kappa != a.kappa and b.kappa != b.kappa)
    pd.testing.assert_frame_equal(peer_comparison.funnel_curves(a), peer_comparison.funnel_curves(b))


def _views(data: DataAccess) -> list[tuple[str, str, date, date, str]]:
    """Units of each level with an area, every preset period, both scopes of the force, both
    measures stored."""
    units = ["cheshire", *[u.unit_id for lv in ("bcu", "npu") for u in data.units_at("cheshire", lv)[:2]]]
    periods = sorted(data.preset_periods("cheshire"))
    return [(u, m, s, e, scope) for u in units for m in STORED_MEASURES for s, e in periods
            for scope in (("msf", "all") if u == "cheshire" else ("msf",))]


def test_stored_comparisons_equal_the_computed_ones(compared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = _cold(compared)
    fresh.store.enabled = False
    with fresh.request(ANONYMOUS):
        views = _views(fresh)
        want = [peer_comparison.compare(fresh, *v[:4], v[4]) for v in views]
    monkeypatch.setattr(peer_comparison, "_compare", _fail)
    read = _cold(compared)
    with read.request(ANONYMOUS):
        for v, w in zip(views, want, strict=True):
            got = peer_comparison.compare(read, *v[:4], v[4])
            _same(got, w)
            # the funnel's limits made with the comparison are those made from its members now
            pd.testing.assert_frame_equal(got.curves, peer_comparison._funnel_curves(got))
    assert len(views) > 10


def test_another_measure_or_a_team_is_stored_by_its_first_view_and_a_custom_range_never(
        compared: Path) -> None:
    data = _cold(compared)
    folder = data.store.version_folder(data.version_key()) / "compare.compare"
    with data.request(ANONYMOUS):
        start, end = sorted(data.preset_periods("cheshire"))[0]
        team = data.units_at("cheshire", "team")[0].unit_id
        before = set(folder.glob("*.pkl"))
        peer_comparison.compare(data, "cheshire", "crime_burglary", start, end)
        peer_comparison.compare(data, team, "total_crime", start, end)
        after = set(folder.glob("*.pkl"))
        assert len(after - before) == 2
        peer_comparison.compare(data, "cheshire", "total_crime", date(2023, 2, 1), date(2023, 4, 30))
        assert set(folder.glob("*.pkl")) == after


def test_visible_to_makes_the_funnel_again_from_the_members_shown(compared: Path) -> None:
    data = _cold(compared)
    with data.request(ANONYMOUS):
        start, end = sorted(data.preset_periods("cheshire"))[-1]
        c = peer_comparison.compare(data, "cheshire", "total_crime", start, end, "all")
    assert c.curves is not None
    fewer = dataclasses.replace(c, members=c.members.iloc[:3].reset_index(drop=True), curves=None)
    # what visible_to hands back when it drops members: no curves, so they are made from those shown
    curves = peer_comparison.funnel_curves(fewer)
    assert not curves.equals(c.curves)
    pd.testing.assert_frame_equal(curves, peer_comparison._funnel_curves(fewer))
