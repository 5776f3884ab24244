"""The Vulnerable people page: its numbers are the assessment's (the one verdict every page
shows), its counts agree with an independent count of the demo warehouse's lake rows, its rows
link to their drill-down, and below NPU it says the data is not recorded rather than zero."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dashboard import exports
from dashboard import state as url_state
from dashboard.analysis import assessment, metrics
from dashboard.app import render
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV
from dashboard.pages import vulnerable as page
from etl.lake.warehouse import WarehousePaths, connect_readonly
from etl.measures.registry import MEASURES

BCU = "cheshire/northern"
NPU = "cheshire/northern/widnes"
TEAM = "cheshire/northern/widnes/cid"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def view_of(data: DataAccess, search: str) -> View:
    view = data.resolve(url_state.parse(search))
    assert view is not None
    return view


def lake_count(link: Path, dataset: str, where: str, months: tuple[date, date], npu_prefix: str = "") -> int:
    """Rows of a dataset's lake files (not the cubes) in [first, last] month, by plain SQL."""
    con = connect_readonly(link)
    try:
        paths = [str(WarehousePaths(link).lake / p) for (p,) in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = ?", [dataset]).fetchall()]
        [(n,)] = con.execute(
            f"SELECT count(*) FROM read_parquet(?, hive_partitioning = false) WHERE month BETWEEN ? AND ? "
            f"AND ({where}) AND (? = '' OR npu_id LIKE ? || '%')",
            [paths, months[0], months[1], npu_prefix, npu_prefix]).fetchall()
        return int(n)
    finally:
        con.close()


def test_registered_in_nav() -> None:
    assert ("Vulnerable people", "/vulnerable-people", page) in NAV
    assert page.PATH == "/vulnerable-people"


@pytest.mark.parametrize("unit", ["cheshire", BCU, NPU])
def test_tables_are_the_assessment(data: DataAccess, unit: str) -> None:
    view = view_of(data, f"?unit={unit}&preset=fytd")
    for theme in page.THEMES:
        df = page.process_table(data, view, theme)
        want = assessment.assess(data, unit, view.period.start, view.period.end,
                                 measure_ids=list(theme.measure_ids))
        assert list(df["measure_id"]) == list(theme.measure_ids)
        got = df.set_index("measure_id")
        want = want.set_index("measure_id")
        for col in ("value", "lower", "upper", "previous", "change_text", "verdict", "exception", "reasons",
                    "target_text", "peer_text"):
            assert got[col].to_dict() == want.loc[got.index, col].to_dict(), (unit, theme.key, col)
        table = repr(page.create_table(df, view, theme))
        for row in df.to_dict("records"):
            m = MEASURES[row["measure_id"]]
            assert view.state.href("/drill-down", measure=m.id) in table
            assert metrics.fmt(m, row["value"]) in table
            assert metrics.fmt_interval(m, row["lower"], row["upper"]) in table
            assert row["change_text"] in table


def test_counts_match_the_lake(data: DataAccess, demo_link: Path) -> None:
    view = view_of(data, "?unit=cheshire&preset=fytd")
    months = (date(2007, 4, 1), date(2008, 3, 1))
    assert view.period.start == months[0] and view.period.end == date(2008, 3, 31)
    for unit, prefix in (("cheshire", ""), (BCU, BCU + "/"), (NPU, NPU)):
        v = view_of(data, f"?unit={unit}&preset=fytd")
        dv = page.process_table(data, v, page.THEME["dv"]).set_index("measure_id")
        assert dv.loc["dv_incidents", "value"] == lake_count(demo_link, "dv", "true", months, prefix)
        arrests = lake_count(demo_link, "dv", "arrest", months, prefix)
        assert dv.loc["dv_arrest_rate", "value"] == pytest.approx(
            100 * arrests / dv.loc["dv_incidents", "value"])
        mp = page.process_table(data, v, page.THEME["missing"]).set_index("measure_id")
        assert mp.loc["missing_reports", "value"] == lake_count(demo_link, "missing", "true", months, prefix)
        assert mp.loc["missing_high_risk", "value"] == lake_count(
            demo_link, "missing", "risk = 'high'", months, prefix)
        due = lake_count(demo_link, "missing", "reviews_due > 0", months, prefix)
        late = lake_count(demo_link, "missing", "reviews_done < reviews_due", months, prefix)
        assert mp.loc["missing_reviews_overdue", "value"] == pytest.approx(100 * late / due)
        high_due = lake_count(demo_link, "missing", "risk = 'high' AND reviews_due > 0", months, prefix)
        high_late = lake_count(demo_link, "missing", "risk = 'high' AND reviews_done < reviews_due",
                               months, prefix)
        assert 0 < high_due < due
        assert mp.loc["missing_high_reviews_overdue", "value"] == pytest.approx(100 * high_late / high_due)
        # RSOs are a stock: the snapshot of the period's last month.
        last = (months[1], months[1])
        rso = page.process_table(data, v, page.THEME["rso"]).set_index("measure_id")
        managed = lake_count(demo_link, "rso", "true", last, prefix)
        assert rso.loc["rso_managed", "value"] == managed
        level_3 = lake_count(demo_link, "rso", "mappa_level = 3", last, prefix)
        assert rso.loc["rso_mappa_level_3", "value"] == level_3
        overdue = lake_count(demo_link, "rso", "visit_due IS NULL OR visit_due < as_at", last, prefix)
        assert rso.loc["rso_visits_overdue", "value"] == pytest.approx(100 * overdue / managed)


def test_solo_caseload_against_the_1_to_50_standard(data: DataAccess) -> None:
    view = view_of(data, "?unit=cheshire&preset=fytd")
    rso = page.process_table(data, view, page.THEME["rso"]).set_index("measure_id")
    assert MEASURES["solo_caseload"].target == 50.0
    assert rso.loc["solo_caseload", "target"] == 50.0
    text = page.standard_text(rso.reset_index().set_index("measure_id", drop=False).loc["solo_caseload"])
    assert "50.0" in text
    assert "1:50" in page.THEME["rso"].note and "L1429" in page.THEME["rso"].note
    # A measure with no target says what its measure says about one.
    row = rso.reset_index().set_index("measure_id", drop=False).loc["rso_visits_overdue"]
    assert page.standard_text(row).startswith("none set (")


def test_children_bars_are_the_assessment(data: DataAccess) -> None:
    for unit, n, plural in (("cheshire", 3, "BCUs"), (BCU, 6, "NPUs")):
        view = view_of(data, f"?unit={unit}&preset=fytd")
        for theme in page.THEMES:
            kids = page.process_children(data, view, theme)
            assert len(kids) == n
            ranked, _ = page.ranked_measure(data, view, theme)
            # the demo's high risk missing persons are too few to rank: the headline is ranked
            assert ranked == theme.headline
            assert set(kids["measure_id"]) == {ranked}
            want = assessment.assess_many(data, list(kids["unit_id"]), view.period.start, view.period.end,
                                          measure_ids=[ranked]).set_index("unit_id")
            got = kids.set_index("unit_id")
            for col in ("value", "lower", "upper", "verdict", "exception", "reasons"):
                assert got[col].to_dict() == want.loc[got.index, col].to_dict()
            m = MEASURES[ranked]
            vals = list(kids["value"])
            assert vals == sorted(vals, reverse=m.polarity != "up")
            fig = page.create_bar(kids, view, theme, "data as of 31 Mar 2008", "none")
            title = fig["layout"]["title"]["text"]
            assert title.startswith(f"{m.label}: {'lowest' if m.polarity == 'up' else 'highest'} in "
                                    f"{kids['unit'].iloc[0]}")
            assert plural in title and view.period.label in title and "31 Mar 2008" in title
            xs = sorted(x for t in fig["data"] for x in t["x"])
            assert xs == sorted(vals)


def test_below_npu_not_recorded(data: DataAccess) -> None:
    view = view_of(data, f"?unit={NPU}&preset=fytd")
    for theme in page.THEMES:
        assert page.process_children(data, view, theme).empty
    out = repr(render(page.PATH, f"?unit={NPU}", data))
    # each of the three charts says it, and so does its text alternative (the figcaption)
    assert out.count("not recorded at team level") == 6
    team = repr(render(page.PATH, f"?unit={TEAM}", data))
    assert "Domestic abuse: not recorded at team level (records go down to NPU level only)" in team
    assert "Missing persons: not recorded at team level" in team
    assert "Registered sex offenders: not recorded at team level" in team
    assert "vulnerable-dv-table" not in team
    team_view = view_of(data, f"?unit={TEAM}")
    assert page.process_table(data, team_view, page.THEME["rso"]).empty


def test_page_and_exports(data: DataAccess) -> None:
    out = repr(render(page.PATH, "?unit=cheshire", data))
    assert "Coming soon" not in out
    for words in ("a standing item", "MAPPA", "SOLO", "PPU", "as_at", "Domestic abuse", "Missing persons",
                  "Registered sex offenders"):
        assert words in out, words
    view = view_of(data, "?unit=cheshire&preset=fytd")
    for theme in page.THEMES:
        built = exports.build(data, f"vulnerable-{theme.key}", "?unit=cheshire&preset=fytd")
        assert built is not None and built["filename"].endswith(".csv")
        assert built["content"].count("\r\n") == len(theme.measure_ids) + 1
        kids = exports.build(data, f"vulnerable-{theme.key}-children", "?unit=cheshire&preset=fytd")
        assert kids is not None and kids["content"].count("\r\n") == 4
        assert view.unit.unit_id in built["filename"]
    # Below NPU the CSV says why it holds no figures rather than being empty.
    npu = exports.build(data, "vulnerable-rso-children", f"?unit={NPU}&preset=fytd")
    assert npu is not None and "not recorded at team level" in npu["content"]
    team = exports.build(data, "vulnerable-dv", f"?unit={TEAM}&preset=fytd")
    assert team is not None and "not recorded at team level" in team["content"]


def _high_risk_by_unit(link: Path, months: tuple[date, date], level: str) -> dict[str, tuple[int, int]]:
    """unit id -> (high risk cases with reviews overdue, high risk cases with a review due),
    for the BCUs (level 'bcu') or Northern BCU's NPUs (level 'npu'), from the lake's rows."""
    con = connect_readonly(link)
    try:
        paths = [str(WarehousePaths(link).lake / p) for (p,) in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = 'missing'").fetchall()]
        units = [u for (u,) in con.execute(
            "SELECT unit_id FROM dim_unit WHERE level = ? AND parent_id = ?",
            [level, "cheshire" if level == "bcu" else BCU]).fetchall()]
        rows = con.execute(
            "SELECT npu_id, count(*) FILTER (WHERE reviews_done < reviews_due), count(*) "
            "FROM read_parquet(?, hive_partitioning = false) WHERE month BETWEEN ? AND ? "
            "AND risk = 'high' AND reviews_due > 0 GROUP BY npu_id", [paths, *months]).fetchall()
    finally:
        con.close()
    out = dict.fromkeys(units, (0, 0))
    for npu, late, due in rows:
        unit = npu.rsplit("/", 1)[0] if level == "bcu" else npu
        if unit in out:
            out[unit] = (out[unit][0] + late, out[unit][1] + due)
    return out


@pytest.mark.parametrize(("unit", "level"), [("cheshire", "bcu"), (BCU, "npu")])
def test_high_risk_reviews_too_few_to_rank_says_so_with_the_counts(
        data: DataAccess, demo_link: Path, unit: str, level: str) -> None:
    """Issue 14, item 3: the section leads with high risk reviews overdue; the chart ranks it
    when every unit below has enough cases, and otherwise says why, with each unit's count."""
    view = view_of(data, f"?unit={unit}&preset=fytd")
    counts = _high_risk_by_unit(demo_link, (date(2007, 4, 1), date(2008, 3, 1)), level)
    assert min(due for _, due in counts.values()) < page.MIN_RANK_CASES
    ranked, why = page.ranked_measure(data, view, page.THEME["missing"])
    assert ranked == "missing_reviews_overdue" and why is not None
    for uid, (_, due) in counts.items():
        assert f"{data.unit(uid).title} {due}" in why
    assert f"at least {page.MIN_RANK_CASES} each needed" in why
    drawn = repr(page.layout(data, view))
    assert "vulnerable-missing-ranked" in drawn and "every risk category" in drawn
    # the table leads the reviews with the high risk measure
    ids = page.THEME["missing"].measure_ids
    assert ids.index("missing_high_reviews_overdue") == ids.index("missing_reviews_overdue") - 1
    # a theme without a focus never explains itself
    assert page.ranked_measure(data, view, page.THEME["dv"]) == ("dv_arrest_rate", None)


def test_high_risk_reviews_are_ranked_when_every_unit_has_enough(
        data: DataAccess, demo_link: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the demo's two years every BCU has a high risk case with a review due: with the
    minimum at 1 the bar ranks high risk reviews overdue, each BCU's share as counted in the lake."""
    search = "?unit=cheshire&preset=custom&from=2006-04-01&to=2008-03-31"
    view = view_of(data, search)
    counts = _high_risk_by_unit(demo_link, (date(2006, 4, 1), date(2008, 3, 1)), "bcu")
    assert min(due for _, due in counts.values()) >= 1
    monkeypatch.setattr(page, "MIN_RANK_CASES", 1)
    assert page.ranked_measure(data, view, page.THEME["missing"]) == ("missing_high_reviews_overdue", None)
    kids = page.process_children(data, view, page.THEME["missing"]).set_index("unit_id")
    assert set(kids.index) == set(counts)
    for uid, (late, due) in counts.items():
        assert kids.at[uid, "value"] == pytest.approx(100 * late / due), uid
        assert kids.at[uid, "denominator"] == due
    fig = page.bar_figure(data, view, page.THEME["missing"])
    assert fig["layout"]["title"]["text"].startswith("High risk missing person cases with reviews overdue: ")
    assert "vulnerable-missing-ranked" not in repr(page.layout(data, view))
    rows = exports.build(data, "vulnerable-missing-children", search)
    assert rows is not None and "missing_high_reviews_overdue" in rows["content"]
