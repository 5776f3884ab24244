"""The Calls page (issue 14, item 2) on the demo warehouse: its numbers are the assessment's,
its standards are met or missed against the measure's target, its heat map counts every call
the warehouse holds, and its CSVs are what it draws."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import duckdb
import pytest

from dashboard import exports
from dashboard import state as url_state
from dashboard.analysis import assessment, metrics
from dashboard.app import render
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV
from dashboard.pages import calls as page
from etl.lake.commit import LoadReport
from etl.lake.warehouse import WarehousePaths
from etl.measures.registry import MEASURES

VIEWS = ("?unit=cheshire&preset=fytd", "?unit=cheshire/northern&preset=12m", "?unit=cheshire/northern/widnes")


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def view_of(data: DataAccess, search: str) -> View:
    view = data.resolve(url_state.parse(search))
    assert view is not None
    return view


def test_calls_is_a_page_not_coming_soon(data: DataAccess) -> None:
    assert ("Calls", "/calls", page) in NAV
    drawn = repr(render("/calls", "?unit=cheshire", data))
    assert "Coming soon" not in drawn
    assert "calls-table" in drawn and "calls-by-unit" in drawn and "calls-demand" in drawn


@pytest.mark.parametrize("search", VIEWS)
def test_the_table_is_the_assessment(data: DataAccess, search: str) -> None:
    view = view_of(data, search)
    df = page.process_data(data, view)
    ref = assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end,
                            measure_ids=list(page.MEASURE_IDS)).set_index("measure_id")
    assert list(df["measure_id"]) == list(page.MEASURE_IDS)
    table = repr(page.create_table(df, view))
    for r in df.to_dict("records"):
        a = ref.loc[r["measure_id"]]
        for col in ("value", "lower", "upper", "previous", "numerator", "denominator"):
            assert r[col] == a[col] or (math.isnan(r[col]) and math.isnan(a[col])), (r["measure_id"], col)
        for col in ("verdict", "change_text", "exception", "reasons", "peer_text", "target_text"):
            assert r[col] == a[col], (r["measure_id"], col)
        m = MEASURES[r["measure_id"]]
        assert metrics.fmt(m, a["value"]) in table
        if a["change_text"]:
            assert a["change_text"] in table


@pytest.mark.parametrize("search", VIEWS)
def test_standards_met_or_missed_against_the_measures_target(data: DataAccess, search: str) -> None:
    view = view_of(data, search)
    df = page.process_data(data, view).set_index("measure_id")
    for mid in page.MEASURE_IDS:
        m, r = MEASURES[mid], df.loc[mid]
        if m.target is None:
            assert r["standard_met"] is None and math.isnan(r["standard"]), mid
            continue
        assert r["standard"] == m.target
        expect = r["value"] >= m.target if m.polarity == "up" else r["value"] <= m.target
        assert r["standard_met"] == bool(expect), mid
        if r["target_met"] is not None:      # the scorecard's verdict on the same target agrees
            assert r["target_met"] == r["standard_met"]
    assert MEASURES[page.HEADLINE].target == 90.0


def test_a_missed_standard_is_said_so() -> None:
    row = {"measure_id": page.HEADLINE, "value": 88.2, "target": math.nan, "target_met": None}
    assert page.standard(row) == (90.0, False)
    assert page.standard_words(row).startswith("missed: 88.2% against 90.0%")
    assert page.standard({**row, "value": 90.0}) == (90.0, True)


def test_children_are_the_assessment_of_each_bcu(data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire&preset=fytd")
    kids = page.process_children(data, view)
    bcus = [u.unit_id for u in data.children("cheshire")]
    assert sorted(kids["unit_id"]) == sorted(bcus)
    assert list(kids["value"]) == sorted(kids["value"], reverse=True)
    for r in kids.to_dict("records"):
        a = assessment.assess(data, r["unit_id"], view.period.start, view.period.end,
                              measure_ids=[page.HEADLINE]).iloc[0]
        assert (r["value"], r["lower"], r["upper"], r["verdict"]) == (a["value"], a["lower"], a["upper"],
                                                                      a["verdict"])
        assert r["standard_met"] == (a["value"] >= 90.0)
    fig = page.create_children_figure(kids, view)
    assert sorted(fig["data"][0]["x"]) == sorted(kids["value"])
    met = int(kids["standard_met"].sum())
    assert f"{met} of {len(kids)} BCUs met the 90% standard" in fig["layout"]["title"]["text"]
    # an NPU's children are teams (the call data stops at the NPU): it is ranked among its BCU's NPUs
    npu = view_of(data, "?unit=cheshire/northern/widnes")
    ranked = page.process_children(data, npu)
    assert sorted(ranked["unit_id"]) == sorted(u.unit_id for u in data.children("cheshire/northern"))
    assert "cheshire/northern/widnes" in set(ranked["unit_id"])
    title = page.create_children_figure(ranked, npu)["layout"]["title"]["text"]
    rank = list(ranked["unit_id"]).index("cheshire/northern/widnes") + 1
    assert f"Widnes NPU {rank} of {len(ranked)}" in title


def _independent_count(link: Path, level: str, unit_id: str, start: object, end: object) -> int:
    """Calls received in [start, end], read straight from the lake files by DuckDB."""
    lake = WarehousePaths(link).lake
    con = duckdb.connect(str(link), read_only=True)
    try:
        files = [str(lake / p) for (p,) in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = 'calls'").fetchall()]
        where = {"force": "c.force_id = ?", "bcu": "u.parent_id = ?", "npu": "c.npu_id = ?"}[level]
        return con.execute(
            "SELECT count(*) FROM read_parquet(?) c LEFT JOIN dim_unit u ON u.unit_id = c.npu_id "
            f"WHERE CAST(c.received AS DATE) BETWEEN ? AND ? AND {where}",
            [files, start, end, unit_id]).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("search", VIEWS)
def test_the_heat_map_counts_every_call(data: DataAccess, demo_link: Path, search: str) -> None:
    view = view_of(data, search)
    demand = page.process_demand(data, view)
    assert len(demand) == 7 * 24
    total = int(demand["calls"].sum())
    assert total > 0
    assert total == _independent_count(demo_link, view.unit.level, view.unit.unit_id,
                                       view.period.start, view.period.end)
    # and equals the call measures' own count, the assessment's numerators
    card = page.process_data(data, view).set_index("measure_id")
    assert total == card.loc["calls_999", "numerator"] + card.loc["calls_101", "numerator"]
    assert int(demand["calls_999"].sum()) == card.loc["calls_999", "numerator"]
    fig = page.create_demand_figure(demand, view)
    assert sum(map(sum, fig["data"][0]["z"])) == total
    peak = demand.loc[demand["calls"].idxmax()]
    assert f"peaks on {peak['day']}s at {int(peak['hour']):02d}:00" in fig["layout"]["title"]["text"]
    assert "data as of" in fig["layout"]["title"]["text"]


def test_the_csvs_are_what_the_page_draws(data: DataAccess) -> None:
    search = "?unit=cheshire&preset=fytd"
    view = view_of(data, search)
    for name, frame in (("calls-standards", page.process_data(data, view)),
                        ("calls-by-unit", page.process_children(data, view)),
                        ("calls-demand", page.process_demand(data, view))):
        payload = exports.build(data, name, search)
        assert payload is not None, name
        rows = list(csv.DictReader(io.StringIO(payload["content"])))
        assert len(rows) == len(frame), name
    rows = list(csv.DictReader(io.StringIO(exports.build(data, "calls-demand", search)["content"])))
    assert sum(int(r["calls"]) for r in rows) == int(page.process_demand(data, view)["calls"].sum())


def test_every_demo_call_is_placed_in_an_npu(data: DataAccess, demo_link: Path) -> None:
    """The demo gives each call the NPU it came from (abandoned calls too), so a BCU's NPUs add up
    to the BCU, and an NPU's abandoned rate is a real rate, not the 0% a call placed only by its
    incident would give."""
    view = view_of(data, "?unit=cheshire/northern&preset=12m")
    start, end = view.period.start, view.period.end
    bcu_total = _independent_count(demo_link, "bcu", "cheshire/northern", start, end)
    npu_totals = [_independent_count(demo_link, "npu", u.unit_id, start, end)
                  for u in data.children("cheshire/northern")]
    assert bcu_total > 0 and sum(npu_totals) == bcu_total
    widnes = view_of(data, "?unit=cheshire/northern/widnes&preset=12m")
    row = page.process_data(data, widnes).set_index("measure_id").loc["calls_abandoned_rate"]
    assert row["numerator"] > 0 and 0 < row["value"] < 20


def _lake_calls(link: Path, start: object, end: object) -> tuple[int, int, int, int]:
    """(calls with no NPU, calls, abandoned calls with no NPU, abandoned calls) of the period,
    read straight from the lake files."""
    lake = WarehousePaths(link).lake
    con = duckdb.connect(str(link), read_only=True)
    try:
        files = [str(lake / p) for (p,) in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = 'calls'").fetchall()]
        return con.execute(
            "SELECT count(*) FILTER (WHERE npu_id IS NULL), count(*), "
            "count(*) FILTER (WHERE npu_id IS NULL AND abandoned IS NOT NULL), "
            "count(*) FILTER (WHERE abandoned IS NOT NULL) FROM read_parquet(?) "
            "WHERE CAST(received AS DATE) BETWEEN ? AND ?", [files, start, end]).fetchone()
    finally:
        con.close()


def test_no_caveat_when_every_call_has_its_npu(data: DataAccess, demo_link: Path) -> None:
    """The demo places every call, so the page says nothing about calls counted only at force level."""
    view = view_of(data, "?unit=cheshire&preset=fytd")
    lake = _lake_calls(demo_link, view.period.start, view.period.end)
    assert lake[0] == 0 and lake[1] > 0 and lake[3] > 0
    assert page.unplaced_calls(data, view) == lake
    assert page.unplaced_text(lake, view) is None
    for search in VIEWS:
        drawn = repr(page.layout(data, view_of(data, search)))
        assert "calls-below-force" not in drawn and "force level only" not in drawn, search


EXAMPLE_PERIOD = "preset=custom&from=2024-01-01&to=2024-03-31"


def load_example_with_calls(folder: Path, rows: list[dict[str, str]],
                            columns: list[str]) -> tuple[Path, LoadReport]:
    """A warehouse in `folder` from the example crimes and these call rows written with these
    columns (the real loaders, each load committed whole); its link and the calls' LoadReport."""
    from etl.lake.ingest import load_crimes, load_service
    from tests.support import EXAMPLES

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / "calls.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    link = folder / "w.duckdb"
    assert load_crimes(link, str(EXAMPLES / "crimes.csv")).committed
    report = load_service(link, "calls", str(path))
    assert report.committed and not report.refused
    return link, report


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]], dict[str, str]]:
    """A warehouse of the example crimes and calls (docs/examples), one call naming an NPU the
    warehouse does not know; the calls as written; the known NPUs' names -> unit ids."""
    from tests.support import EXAMPLES

    folder = tmp_path_factory.mktemp("calls-example")
    rows = list(csv.DictReader(io.StringIO((EXAMPLES / "calls.csv").read_text(encoding="utf-8"))))
    [odd] = [r for r in rows if r["call_ref"] == "SYN-C024"]
    odd["npu"] = "Atlantis"
    link, report = load_example_with_calls(folder, rows, list(rows[0]))
    assert any("name an NPU the warehouse does not know: 'Atlantis'" in n for n in report.notes)
    crimes = list(csv.DictReader(io.StringIO((EXAMPLES / "crimes.csv").read_text(encoding="utf-8"))))
    def slug(name: str) -> str:  # the example's names are plain words
        return name.lower().replace(" ", "-")

    npus = {c["npu"]: f"cheshire/{slug(c['bcu'])}/{slug(c['npu'])}" for c in crimes}
    return link, rows, npus


def test_calls_without_an_npu_count_at_force_only_and_the_page_says_how_many(example: tuple) -> None:
    link, rows, npus = example
    unplaced = [r for r in rows if r["npu"] not in npus]
    assert {r["npu"] for r in unplaced} == {"", "Atlantis"}
    want = (len(unplaced), len(rows), sum(1 for r in unplaced if r["abandoned"]),
            sum(1 for r in rows if r["abandoned"]))
    assert want[2] > 0
    data = DataAccess(WarehouseReader(link))
    try:
        force = view_of(data, f"?unit=cheshire&{EXAMPLE_PERIOD}")
        assert page.unplaced_calls(data, force) == want
        for unit in ("cheshire", "cheshire/northern/widnes"):
            search = f"?unit={unit}&{EXAMPLE_PERIOD}"
            view = view_of(data, search)
            drawn = repr(page.layout(data, view))
            assert "calls-below-force" in drawn
            assert (f"{want[0]} of the force's {want[1]} calls in " in drawn
                    and f"{want[2]} of the {want[3]} abandoned calls among them" in drawn), search
        # Abandoned calls with their NPU count there: each NPU's abandoned share is the file's.
        seen = 0
        for name, unit_id in npus.items():
            mine = [r for r in rows if r["npu"] == name]
            row = page.process_data(data, view_of(data, f"?unit={unit_id}&{EXAMPLE_PERIOD}")).set_index(
                "measure_id").loc["calls_abandoned_rate"]
            abandoned = sum(1 for r in mine if r["abandoned"])
            assert (row["numerator"], row["denominator"]) == (abandoned, len(mine)), name
            assert row["value"] == pytest.approx(100 * abandoned / len(mine)), name
            seen += abandoned
        assert seen == want[3] - want[2] and seen >= 3
    finally:
        data.reader.close()


def test_a_calls_file_without_the_npu_column_counts_every_call_at_force_level(tmp_path: Path) -> None:
    """The column is optional: a call-handling system that cannot say where a call came from
    still loads, every call counts at force level only, and the page says so, with the count."""
    from tests.support import EXAMPLES

    rows = list(csv.DictReader(io.StringIO((EXAMPLES / "calls.csv").read_text(encoding="utf-8"))))
    link, _ = load_example_with_calls(tmp_path, rows, [c for c in rows[0] if c != "npu"])
    abandoned = sum(1 for r in rows if r["abandoned"])
    data = DataAccess(WarehouseReader(link))
    try:
        view = view_of(data, f"?unit=cheshire/northern/widnes&{EXAMPLE_PERIOD}")
        assert page.unplaced_calls(data, view) == (len(rows), len(rows), abandoned, abandoned)
        drawn = repr(page.layout(data, view))
        assert f"{len(rows)} of the force's {len(rows)} calls in " in drawn
        assert f"{abandoned} of the {abandoned} abandoned calls among them" in drawn
    finally:
        data.reader.close()
