"""The assessments stored beside a warehouse version (issue 11 item 3; docs/precompute.md):
they are the on-demand assessments exactly, for every unit x measure x preset period of the
demo; a new version never reads the old version's; a damaged file is recomputed; and who may
see what is decided at read time, as before (dashboard/data/access.py).

Each test works on a private copy of the session's demo warehouse (the store writes beside
the warehouse, and the shared one is never written to)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard.analysis import assessment
from dashboard.analysis.assessment import (
    MONTH_ROWS,
    TABLE,
    _frame,
    assess,
    assess_rows_many,
    exceptions,
    month_rows_many,
    month_units,
    persistable,
    precompute,
    precompute_months,
    preset_periods,
    scope_units,
    stored_months,
    stored_numbers,
)
from dashboard.analysis.metrics import headline_ids
from dashboard.data.access import ANONYMOUS, Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import calls, satisfaction, vulnerable
from dashboard.periods import add_months, month_end, preset_period
from dashboard.state import ViewState, parse
from etl import hierarchy
from etl.measures.registry import MEASURES
from tests.support.warehouses import copy_warehouse, publish_new_version

FORCE = "cheshire"
# the measure lists the pages ask for (Satisfaction, Calls, Vulnerable people, a drill-down's
# one measure), each a subset of a stored table
PAGE_SETS = [list(satisfaction.QUESTIONS), [*satisfaction.INCIDENT_TYPES, satisfaction.WHOLE],
             list(calls.MEASURE_IDS), *[list(t.measure_ids) for t in vulnerable.THEMES],
             ["total_crime"], ["crime_burglary"], ["calls_999_answered_10s"], [satisfaction.WHOLE]]


# The forces precomputed: Cheshire's whole hierarchy, and comparator forces (force level
# only on the demo, all made by the same generator) of which Kent is one the access test uses.
# Not all 43: every force's tables were compared with on-demand ones once, and the forty
# comparators added over a minute of CPU to the suite while exercising the same code paths
# as these three (`python -m dashboard precompute` with no force still does all of them).
STORED = (FORCE, "durham", "kent", "wiltshire")


@pytest.fixture(scope="module")
def stored_link(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo with STORED's assessments precomputed (as the CLI does)."""
    link = copy_warehouse(demo_link, tmp_path_factory.mktemp("precomputed"))
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        assert set(STORED) <= set(data.units()["force_id"])
        done = precompute(data, STORED)
    data.reader.close()
    assert done > 0
    return link


@pytest.fixture
def open_data() -> Iterator[Callable[[Path], DataAccess]]:
    opened: list[DataAccess] = []

    def make(link: Path) -> DataAccess:
        data = DataAccess(WarehouseReader(link))
        opened.append(data)
        return data

    yield make
    for data in opened:
        data.reader.close()


def _units(data: DataAccess) -> list[str]:
    units = data.units()
    return [str(u) for u, lv in zip(units["unit_id"], units["level"], strict=True)
            if not hierarchy.level(str(lv)).individual]


def test_stored_assessments_equal_on_demand_ones_for_every_unit_measure_and_preset(
        stored_link: Path, open_data: Callable[[Path], DataAccess]) -> None:
    stored, fresh = open_data(stored_link), open_data(stored_link)
    fresh.store.enabled = False    # computes every assessment as a request did before the store
    with stored.request(ANONYMOUS), fresh.request(ANONYMOUS):
        version = stored.version_key()
        every = _units(stored)
        units = [u for u in every if stored.unit(u).force_id in STORED]   # type: ignore[union-attr]
        levels = Counter(stored.unit(u).level for u in units)   # type: ignore[union-attr]
        assert levels["force"] == len(STORED) and levels["bcu"] == 3 and levels["npu"] == 18
        assert levels["team"] > 0
        # a force not asked for is not stored (it is computed when a page first asks)
        other = next(u for u in every if stored.unit(u).force_id not in STORED)   # type: ignore[union-attr]
        p = _presets(stored, stored.unit(other).force_id)[0]   # type: ignore[union-attr]
        assert stored.store.read(version, TABLE, (other, p.start, p.end, "standard")) is None
        compared = 0
        teams_compared: Counter[int] = Counter()
        for i, uid in enumerate(units):
            unit = stored.unit(uid)
            assert unit is not None
            periods = sorted({(p.start, p.end) for p in _presets(stored, unit.force_id)})
            assert set(periods) <= preset_periods(stored, unit.force_id)
            for k, (start, end) in enumerate(periods):
                on_disk = stored.store.read(version, TABLE, (uid, start, end, "standard"))
                assert on_disk is not None, f"{uid} {start}..{end} was not stored"
                assert len(on_disk) == len(MEASURES)     # one row per measure of the registry
                if unit.level == "team" and k != i % len(periods):
                    # each team compared on one of the periods, in turn: the 55 teams x 3
                    # periods took a minute for what the same path proves on every period
                    # of the 25 units above them
                    continue
                if unit.level == "team":
                    teams_compared[k] += 1
                got = assess(stored, uid, start, end)
                want = assess(fresh, uid, start, end)
                pd.testing.assert_frame_equal(got, want)
                compared += len(want)
                if uid.startswith(FORCE) and uid.count("/") < 3 and start == periods[0][0]:
                    # the pages' own lists, and one measure at a time, from the same table
                    # (Cheshire's force, BCUs and NPUs, for the 12 months)
                    for ids in PAGE_SETS:
                        pd.testing.assert_frame_equal(assess(stored, uid, start, end, measure_ids=ids),
                                                      assess(fresh, uid, start, end, measure_ids=ids))
        # every headline measure of every unit above team for each of the 4 presets (3 distinct
        # periods on the demo: its year to date is its 12 months), and of every team for one
        teams = levels["team"]
        assert compared == ((len(units) - teams) * 3 + teams) * len(headline_ids())
        assert len(teams_compared) == 3 and min(teams_compared.values()) > 10   # every period
        for uid in (FORCE, "cheshire/eastern"):
            for p in _presets(stored, FORCE):
                pd.testing.assert_frame_equal(exceptions(stored, uid, p.start, p.end),
                                              exceptions(fresh, uid, p.start, p.end))


def _presets(data: DataAccess, force: str) -> list:
    return [preset_period(name, as_of) for as_of in data.as_of_dates(force)
            for name in ("month", "qtd", "fytd", "12m")]


def test_a_new_version_never_reads_the_old_versions_table(
        demo_link: Path, tmp_path: Path, open_data: Callable[[Path], DataAccess]) -> None:
    link = copy_warehouse(demo_link, tmp_path / "w")
    data = open_data(link)
    with data.request(ANONYMOUS):
        p = _presets(data, FORCE)[2]
        old = data.version_key()
        real = assess(data, FORCE, p.start, p.end)
        # plant a recognisable table for the old version: it is what the old version serves
        key = (FORCE, p.start, p.end, "standard")
        table = data.store.read(old, TABLE, key)
        assert table is not None and len(table) == len(MEASURES)
        poisoned = [{**row, "verdict": "POISONED"} for row in table]
        assert data.store.write(old, TABLE, key, poisoned)
        data.clear_cache()
        assert set(assess(data, FORCE, p.start, p.end)["verdict"]) == {"POISONED"}

    publish_new_version(link)
    with data.request(ANONYMOUS):
        new = data.version_key()
        assert new != old
        assert data.store.read(new, TABLE, key) is None
        # even the old file copied into the new version's folder is not served
        old_file = next(data.store.version_folder(old).rglob("*.pkl"))
        planted = data.store.version_folder(new) / old_file.relative_to(data.store.version_folder(old))
        planted.parent.mkdir(parents=True, exist_ok=True)
        planted.write_bytes(old_file.read_bytes())
        planted.chmod(0o600)
        got = assess(data, FORCE, p.start, p.end)
        assert "POISONED" not in set(got["verdict"])
        pd.testing.assert_frame_equal(got, real)
        # and the new version's own table is written in its place
        rewritten = data.store.read(new, TABLE, key)
        assert rewritten is not None
        pd.testing.assert_frame_equal(pd.DataFrame(rewritten), pd.DataFrame(table))


def test_a_damaged_table_is_recomputed_not_served(
        demo_link: Path, tmp_path: Path, open_data: Callable[[Path], DataAccess]) -> None:
    link = copy_warehouse(demo_link, tmp_path / "w")
    data = open_data(link)
    with data.request(ANONYMOUS):
        p = _presets(data, FORCE)[0]
        real = assess(data, "cheshire/eastern", p.start, p.end)
        path = next(data.store.version_folder(data.version_key()).rglob("*.pkl"))
        path.write_bytes(path.read_bytes()[:-100])
        data.clear_cache()
        pd.testing.assert_frame_equal(assess(data, "cheshire/eastern", p.start, p.end), real)
        key = ("cheshire/eastern", p.start, p.end, "standard")
        assert data.store.read(data.version_key(), TABLE, key) is not None


def test_who_may_see_a_stored_assessment_is_decided_at_read_time(
        stored_link: Path, open_data: Callable[[Path], DataAccess]) -> None:
    data = open_data(stored_link)
    with data.request(ANONYMOUS):
        p = _presets(data, FORCE)[2]
        teams = {c.unit_id for b in data.children(FORCE) for n in data.children(b.unit_id)
                 for c in data.children(n.unit_id) if c.level == "team"}
        officer = next(u for u in _all_units(data) if hierarchy.level(u.level).individual)
        version = data.version_key()
    north_team = sorted(t for t in teams if t.startswith("cheshire/northern/"))[0]
    east_team = sorted(t for t in teams if t.startswith("cheshire/eastern/"))[0]
    commander = Actor("bcu", (Grant("bcu_commander", "cheshire/northern"),))
    authority = Actor("pa", (Grant("police_authority", FORCE),))
    kent = Actor("kent", (Grant("chief_officer", "kent"),))
    # both teams' tables are on disk ...
    for team in (north_team, east_team):
        assert data.store.read(version, TABLE, (team, p.start, p.end, "standard")) is not None
    with data.request(commander):
        assert not assess(data, north_team, p.start, p.end).empty
        with pytest.raises(PermissionError):
            assess(data, east_team, p.start, p.end)      # ... another BCU's team is refused
    with data.request(authority):
        with pytest.raises(PermissionError):
            assess(data, north_team, p.start, p.end)     # no teams for a police authority member
        assert not assess(data, "cheshire/northern", p.start, p.end).empty
    with data.request(kent):
        with pytest.raises(PermissionError):
            assess(data, "cheshire/northern", p.start, p.end)
    # an officer's assessments are never copied out of the warehouse
    assert not persistable(data, officer.unit_id, p.start, p.end)
    with data.request(ANONYMOUS), pytest.raises(PermissionError):
        assess(data, officer.unit_id, p.start, p.end)
    assert not any(officer.unit_id in f.read_bytes().decode("latin-1")
                   for f in data.store.version_folder(version).rglob("*.pkl"))


def _all_units(data: DataAccess) -> list:
    return [u for u in (data.unit(str(i)) for i in data.units()["unit_id"]) if u is not None]


def test_a_periods_rows_assessed_together_equal_each_units_own_assessment(
        demo_link: Path, open_data: Callable[[Path], DataAccess]) -> None:
    """Periods that are never stored (past single months, as the API's exceptions ask for, and
    a custom range): the rows of Cheshire's force, BCUs and NPUs assessed together
    (assess_rows_many: one prefetch for all, what an exceptions list uses) are, framed, each
    unit's own `assess` for every headline measure; and the exceptions list built from them is
    the one built from the units' frames assessed one at a time."""
    together, one_by_one = open_data(demo_link), open_data(demo_link)
    for data in (together, one_by_one):
        data.store.enabled = False    # the session's shared warehouse is never written beside
    with together.request(ANONYMOUS), one_by_one.request(ANONYMOUS):
        last = max(together.source_for(FORCE).months)   # type: ignore[union-attr]
        periods = [(add_months(last, -k), month_end(add_months(last, -k))) for k in (1, 4)]
        periods.append((date(2007, 10, 10), date(2007, 12, 23)))   # a custom range, one FY
        units = [u.unit_id for u in scope_units(together, FORCE)]
        assert len(units) == 1 + 3 + 18
        flagged = 0
        for start, end in periods:
            assert not any(persistable(together, u, start, end) for u in units)
            rows = assess_rows_many(together, units, start, end)
            for uid in units:
                want = assess(one_by_one, uid, start, end)
                assert len(want) == len(headline_ids())
                pd.testing.assert_frame_equal(_frame(rows[uid]), want)
                flagged += int(want["exception"].sum())
            together.clear_cache()
            # one_by_one has every unit's frame cached: its list is built from those frames
            pd.testing.assert_frame_equal(exceptions(together, FORCE, start, end),
                                          exceptions(one_by_one, FORCE, start, end))
        assert flagged > 20    # exceptions were compared, not only empty lists


def test_past_months_exceptions_stored_equal_the_on_demand_ones(
        demo_link: Path, tmp_path: Path, open_data: Callable[[Path], DataAccess],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The exceptions of a past single month (the API's month=) read from the version's store
    (precompute_months: one file per force and month of assess_rows_many's rows) are the ones
    computed on demand with no store: the force's list, a BCU's list cut from the force's file,
    and each unit's rows; the store is really read (assessing is made to fail), and who may see
    them is still decided per request."""
    link = copy_warehouse(demo_link, tmp_path / "w")
    writer, reader, plain = open_data(link), open_data(link), open_data(link)
    plain.store.enabled = False
    with writer.request(ANONYMOUS):
        last = max(writer.source_for(FORCE).months)   # type: ignore[union-attr]
        months = sorted(stored_months(writer, FORCE), reverse=True)
        # every whole month of the data but the latest (a preset: its tables are stored)
        assert months[0] == add_months(last, -1) and last not in months
        assert months[-1] == min(writer.source_for(FORCE).months)   # type: ignore[union-attr]
        assert precompute_months(writer, [FORCE], months=2) == 2
        # a force of one unit (a comparator) is cheap on demand: not stored
        assert len(month_units(writer, "kent")) == 1
        assert precompute_months(writer, ["kent"], months=2) == 0
        version = writer.version_key()
        units = month_units(writer, FORCE)
        assert len(units) == 1 + 3 + 18
    files = list((writer.store.version_folder(version) / MONTH_ROWS).glob("*.pkl"))
    assert len(files) == 2

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("assessed on demand: the stored month was not read")

    flagged = 0
    for m in months[:2]:
        start, end = m, month_end(m)
        with plain.request(ANONYMOUS):
            want_force = exceptions(plain, FORCE, start, end)
            want_bcu = exceptions(plain, "cheshire/northern", start, end)
            want_rows = assessment.assess_rows_many(plain, units, start, end)
        with reader.request(ANONYMOUS), monkeypatch.context() as mp:
            mp.setattr(assessment, "assess_rows_many", refuse)
            pd.testing.assert_frame_equal(exceptions(reader, FORCE, start, end), want_force)
            pd.testing.assert_frame_equal(exceptions(reader, "cheshire/northern", start, end), want_bcu)
            got = month_rows_many(reader, units, start, end)
        for uid in units:
            pd.testing.assert_frame_equal(_frame(got[uid]), _frame(want_rows[uid]))
            flagged += sum(bool(r["exception"]) for r in got[uid])
        reader.clear_cache()
    assert flagged > 10    # exceptions were compared, not only empty lists
    # a month not stored (older than the two) is assessed on demand, and stored once the whole
    # force's list asks for it, not by a BCU's smaller list
    old = months[5]
    with reader.request(ANONYMOUS):
        exceptions(reader, "cheshire/northern", old, month_end(old))
        assert reader.store.read(version, MONTH_ROWS, (FORCE, old, month_end(old), "standard")) is None
        exceptions(reader, FORCE, old, month_end(old))
        assert reader.store.read(version, MONTH_ROWS, (FORCE, old, month_end(old), "standard")) is not None
    # access, per request: a BCU commander reads their BCU's rows from the force's file; another
    # force's chief officer is refused them
    commander = Actor("bcu", (Grant("bcu_commander", "cheshire/northern"),))
    kent = Actor("kent", (Grant("chief_officer", "kent"),))
    with reader.request(commander):
        assert set(month_rows_many(reader, ["cheshire/northern"], months[0], month_end(months[0])))
    with reader.request(kent), pytest.raises(PermissionError):
        month_rows_many(reader, ["cheshire/northern"], months[0], month_end(months[0]))


def test_the_calls_pages_numbers_from_stored_tables_are_the_scorecards(
        stored_link: Path, open_data: Callable[[Path], DataAccess]) -> None:
    """The Calls page's unplaced calls read the force's and BCUs' numbers from their stored
    tables for a preset period (stored_numbers): the same numerators and verdicts as
    DataAccess.scorecards (store off), so the same counts on the page; a custom range, never
    stored, is not answered from the store."""
    stored, plain = open_data(stored_link), open_data(stored_link)
    plain.store.enabled = False
    with stored.request(ANONYMOUS), plain.request(ANONYMOUS):
        ids = [FORCE, *(u.unit_id for u in stored.children(FORCE))]
        counted = 0
        for p in _presets(stored, FORCE):
            frame = stored_numbers(stored, ids, p.start, p.end, calls.VOLUME_IDS)
            assert frame is not None
            cards = plain.scorecards(ids, p.start, p.end, calls.VOLUME_IDS)
            want = pd.concat([c.assign(unit_id=u) for u, c in zip(ids, cards, strict=True)],
                             ignore_index=True)
            cols = ["unit_id", "measure_id", "numerator", "denominator", "verdict"]
            pd.testing.assert_frame_equal(frame, want[cols])
            search = ViewState(unit=FORCE, preset="custom", start=p.start.isoformat(),
                               end=p.end.isoformat()).query()
            got = calls.unplaced_calls(stored, stored.resolve(parse(search)))
            assert got == calls.unplaced_calls(plain, plain.resolve(parse(search)))
            counted += int(got is not None and got[1] > 0)
        assert counted > 0
        assert stored_numbers(stored, ids, date(2007, 5, 3), date(2007, 9, 17), calls.VOLUME_IDS) is None


def test_the_drill_downs_childrens_status_from_stored_tables_is_the_charted_one(
        stored_link: Path, open_data: Callable[[Path], DataAccess]) -> None:
    """The drill-down's children's SPC status and peer position read from their stored
    assessments (pim_status.children_extra, a preset period) equal the ones charted and placed
    on demand (store off), for the force's BCUs and a BCU's NPUs, crime and service measures."""
    from dashboard.analysis import pim_status

    stored, plain = open_data(stored_link), open_data(stored_link)
    plain.store.enabled = False
    with stored.request(ANONYMOUS), plain.request(ANONYMOUS):
        groups = [[u.unit_id for u in stored.children(FORCE)],
                  [u.unit_id for u in stored.children("cheshire/northern")]]
        seen: Counter[str] = Counter()
        charted: list[tuple[object, str]] = []   # (measure, unit) charted on demand by `stored`
        real = pim_status._charted

        def counting(data: DataAccess, ids: list[str], *args: object) -> dict:
            if data is stored:
                charted.extend((args[0], u) for u in ids)
            return real(data, ids, *args)   # type: ignore[arg-type]

        pim_status._charted = counting   # type: ignore[assignment]
        try:
            for p in _presets(stored, FORCE):
                for mid in ("total_crime", "crime_burglary", "calls_999_answered_10s",
                            "sanction_detection_rate"):
                    for ids in groups:
                        got = pim_status.children_extra(stored, ids, mid, p.start, p.end)
                        want = pim_status.children_extra(plain, ids, mid, p.start, p.end)
                        pd.testing.assert_frame_equal(got, want)
                        seen.update(got["spc_verdict"])
        finally:
            pim_status._charted = real   # type: ignore[assignment]
        assert len(seen) >= 2    # more than one verdict compared
        # the stored rows were read: total crime (loaded for every unit) was never charted again
        assert not [c for c in charted if c[0] == "total_crime"]
