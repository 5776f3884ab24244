"""The concentration card's figures kept beside the warehouse version (issue 11 item 3;
docs/precompute.md): for a preset period, `python -m dashboard precompute` stores what
`DataAccess.concentration` and `DataAccess.repeat_locations` compute, a cold worker reads it
(the place queries are made to fail, so the store is really read), and the figures read are
those counted here with pandas from the raw street rows written (not the project's queries).
A custom range is computed on demand and never stored; who sees the map points is decided
at read time.

Works on a private copy of the small street-file warehouse (tests/support/place.py) that
test_concentration.py builds: the store writes beside the warehouse."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from dashboard.data.access import ANONYMOUS, Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.queries import place as place_queries
from dashboard.data.warehouse import WarehouseReader
from etl.measures.registry import MEASURES
from tests.conftest import build_once
from tests.support import cli, place
from tests.support.warehouses import copy_warehouse

REPO = Path(__file__).resolve().parents[2]
# The data run from January to February 2019 (one monthly source): the quarter to date
# (Q4 of 2018/19) is both months, the last complete month is February. Counted by hand.
QTD = (date(2019, 1, 1), date(2019, 2, 28))
MONTH = (date(2019, 2, 1), date(2019, 2, 28))
JANUARY = (date(2019, 1, 1), date(2019, 1, 31))   # a custom range: no preset period ends there
UNITS = {"cheshire": None, "cheshire/northern": (place.HALTON, place.WARRINGTON)}
# the distinct category sets of the registry's crime measures, counted from its definitions
CATEGORY_SETS = {tuple(m.categories) for m in MEASURES.values() if m.categories}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    return build_once(tmp_path_factory, "place-tiny", lambda folder: place.build(REPO, folder))


class CliRuns(NamedTuple):
    """`python -m dashboard precompute --months 0` three times on one private copy, and what was
    on disk after each call: `--no-places` (in a process of its own), the default, then
    `--every-category` (through typer's runner: tests/support/cli.py)."""
    link: Path
    skipped: cli.Ran
    places_after_skipped: bool          # whether a place.concentration folder existed after it
    default: cli.Ran
    files_after_default: int            # place.concentration files after the default call
    every: cli.Ran
    files_after_every: int


def _place_files(link: Path) -> tuple[bool, int]:
    data = _cold(link)
    folder = data.store.version_folder(data.version_key()) / "place.concentration"
    data.reader.close()
    return folder.exists(), len(list(folder.glob("*.pkl")))


@pytest.fixture(scope="module")
def cli_runs(built: tuple[Path, list[Path]], tmp_path_factory: pytest.TempPathFactory) -> CliRuns:
    """The command's three calls, checked by test_the_cli_stores_them_unless_told_not_to. The
    last one stores every category set of Cheshire's figures (DataAccess.precompute_places, what
    the command calls), so its copy is also the store the other tests read: the fifteen sets
    used to be computed twice, once here and once more by a fixture calling precompute_places
    on a copy of its own."""
    link = copy_warehouse(built[0], tmp_path_factory.mktemp("cli-place"))
    command = ("precompute", "--warehouse", str(link), "--months", "0")
    skipped = cli.dashboard(*command, "--no-places", process=True)
    after_skipped = _place_files(link)[0]
    default = cli.dashboard(*command)
    after_default = _place_files(link)[1]
    every = cli.dashboard(*command, "--every-category")
    return CliRuns(link, skipped, after_skipped, default, after_default, every, _place_files(link)[1])


def _figures(ran: cli.Ran) -> int:
    """The count of unit-period-categories the command says it stored (precompute_places')."""
    found = re.search(r"concentration figures of (\d+) unit-period-categories", ran.stdout + ran.stderr)
    assert found is not None, ran.stdout + ran.stderr
    return int(found.group(1))


@pytest.fixture(scope="module")
def stored(cli_runs: CliRuns) -> tuple[Path, int]:
    """The copy with Cheshire's place figures of every category set precomputed by the command,
    and how many (unit, period, categories) it says it stored."""
    assert cli_runs.every.returncode == 0, cli_runs.every.stderr
    return cli_runs.link, _figures(cli_runs.every)


def _cold(link: Path) -> DataAccess:
    return DataAccess(WarehouseReader(link))


def _no_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the place figures were computed, not read from the store")

    monkeypatch.setattr(place_queries, "lsoa_figures", fail)
    monkeypatch.setattr(place_queries, "location_counts", fail)


def _raw(files: list[Path], period: tuple[date, date]) -> pd.DataFrame:
    frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files])
    months = {f"{period[0].year}-{m:02d}" for m in range(period[0].month, period[1].month + 1)}
    return frame[(frame["Crime type"] != "Anti-social behaviour") & frame["Month"].isin(months)]


def test_precompute_stores_every_unit_period_and_category_set(stored: tuple[Path, int]) -> None:
    link, done = stored
    data = _cold(link)
    with data.request(ANONYMOUS):
        units = [u.unit_id for lv in ("force", "bcu", "npu") for u in data.units_at("cheshire", lv)]
    folder = data.store.version_folder(data.version_key())
    # one monthly source ending in February 2019: the month (Feb), the quarter to date
    # (Jan-Feb), the financial year to date (Apr 2018-Feb) and 12 months (Mar 2018-Feb): 4
    periods = 4
    expected = len(units) * periods * len(CATEGORY_SETS)
    assert done == expected
    for name in ("place.concentration", "place.repeat_locations"):
        assert len(list((folder / name).glob("*.pkl"))) == expected


@pytest.mark.parametrize("period", [QTD, MONTH], ids=["quarter-to-date", "month"])
@pytest.mark.parametrize("unit_id", list(UNITS))
def test_stored_figures_equal_an_independent_count(stored: tuple[Path, int], built: tuple[Path, list[Path]],
                                                   monkeypatch: pytest.MonkeyPatch, unit_id: str,
                                                   period: tuple[date, date]) -> None:
    rows = _raw(built[1], period)
    las = UNITS[unit_id]
    area = (place.area_lsoas(REPO, las) if las is not None else
            place.area_lsoas(REPO, (place.HALTON, place.WARRINGTON, place.CWAC, place.CHESHIRE_EAST)))
    inside = rows[rows["LSOA code"].isin(area)]
    crimes = inside.groupby("LSOA code").size()
    harm = inside.assign(h=inside["Crime type"].map(place.weights(REPO))).groupby("LSOA code")["h"].sum()
    placed = rows if las is None else inside            # a BCU's points are its LSOAs' crimes
    points = placed[placed["Longitude"] != ""].groupby(["Longitude", "Latitude"]).size()

    _no_queries(monkeypatch)
    data = _cold(stored[0])
    with data.request(ANONYMOUS):
        for measure_id in ("total_crime", "crime_harm"):     # the same categories: one stored figure
            figures = data.concentration(unit_id, *period, measure_id)
            assert figures.not_available is None
            got = figures.lsoas.set_index("lsoa_code")
            assert set(got.index) == set(area)
            assert got["crimes"].to_dict() == {c: int(crimes.get(c, 0)) for c in area}
            assert got["harm"].to_dict() == pytest.approx({c: float(harm.get(c, 0.0)) for c in area})
            found = data.repeat_locations(unit_id, *period, measure_id)
            assert sorted(found["crimes"]) == sorted(points)
            assert int(found["crimes"].sum()) == len(placed[placed["Longitude"] != ""])


def test_stored_figures_equal_the_on_demand_ones(stored: tuple[Path, int]) -> None:
    """The same frames, dtypes and notes whether read or computed with no store (one function)."""
    read, fresh = _cold(stored[0]), _cold(stored[0])
    fresh.store.enabled = False
    with read.request(ANONYMOUS), fresh.request(ANONYMOUS):
        _compare(read, fresh)


def _compare(read: DataAccess, fresh: DataAccess) -> None:
    for unit_id in UNITS:
        for period in (QTD, MONTH):
            for measure_id in ("total_crime", "crime_burglary", "asb_incidents"):
                a = read.concentration(unit_id, *period, measure_id)
                b = fresh.concentration(unit_id, *period, measure_id)
                pd.testing.assert_frame_equal(a.lsoas, b.lsoas)
                assert (a.not_available, a.blank, a.outside, a.from_default) == (
                    b.not_available, b.blank, b.outside, b.from_default)
                pd.testing.assert_frame_equal(read.repeat_locations(unit_id, *period, measure_id),
                                              fresh.repeat_locations(unit_id, *period, measure_id))


def test_a_custom_range_is_computed_and_not_stored(stored: tuple[Path, int],
                                                    built: tuple[Path, list[Path]]) -> None:
    data = _cold(stored[0])
    folder = data.store.version_folder(data.version_key()) / "place.concentration"
    before = set(folder.glob("*.pkl"))
    with data.request(ANONYMOUS):
        figures = data.concentration("cheshire", *JANUARY)
    assert set(folder.glob("*.pkl")) == before
    rows = _raw(built[1], JANUARY)
    area = place.area_lsoas(REPO, (place.HALTON, place.WARRINGTON, place.CWAC, place.CHESHIRE_EAST))
    assert int(figures.lsoas["crimes"].sum()) == int(rows["LSOA code"].isin(area).sum())


@pytest.mark.parametrize("actor, sees_points", [
    (Actor("member", (Grant("police_authority"),)), False),
    (Actor("chief", (Grant("chief_officer", "cheshire"),)), True),
], ids=["authority-member", "chief-officer"])
def test_who_sees_the_stored_points_is_decided_at_read_time(stored: tuple[Path, int],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            actor: Actor, sees_points: bool) -> None:
    _no_queries(monkeypatch)
    data = _cold(stored[0])
    with data.request(actor):
        found = data.repeat_locations("cheshire", *QTD)
    assert len(found) > 0
    assert ({"location", "longitude", "latitude"} <= set(found.columns)) is sees_points
    if not sees_points:
        assert list(found.columns) == ["crimes"]


def test_the_cli_stores_them_unless_told_not_to(cli_runs: CliRuns) -> None:
    """The first call in a process of its own (the command as a user runs it), the others
    through typer's runner (tests/support/cli.py: the same command code); each call's words and
    what it left on disk (the calls are the `cli_runs` fixture's)."""
    skipped = cli_runs.skipped
    assert skipped.returncode == 0, skipped.stderr
    assert "concentration figures of 0 unit-period-categories" in skipped.stdout + skipped.stderr
    assert not cli_runs.places_after_skipped
    stored = cli_runs.default
    assert stored.returncode == 0, stored.stderr
    data = _cold(cli_runs.link)
    with data.request(ANONYMOUS):
        units = [u.unit_id for lv in ("force", "bcu", "npu") for u in data.units_at("cheshire", lv)]
    data.reader.close()
    # Cheshire's units x 4 periods x the default measure's categories (the loaded force is the
    # only one); --every-category: every category set
    expected = len(units) * 4
    assert f"concentration figures of {expected} unit-period-categories" in stored.stdout + stored.stderr
    assert cli_runs.files_after_default == expected
    every = cli_runs.every
    assert every.returncode == 0, every.stderr
    assert (f"concentration figures of {expected * len(CATEGORY_SETS)} unit-period-categories"
            in every.stdout + every.stderr)
    assert cli_runs.files_after_every == expected * len(CATEGORY_SETS)
