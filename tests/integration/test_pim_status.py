"""The columns the scorecard and the drill-down take from early warning, peers and targets
(dashboard/pim_status.py) agree with the modules they come from."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from dashboard.analysis import exception_scan as ew
from dashboard.analysis import pim_status as ps
from dashboard.analysis import targets as tg
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader

FY = (date(2007, 4, 1), date(2008, 3, 31))


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def test_target_outlooks_from_the_scan_equal_the_per_unit_path(data: DataAccess) -> None:
    month = date(2007, 9, 1)
    scan = ew.target_outlooks(data, "cheshire", month)
    for unit_id in ("cheshire", "cheshire/western", "cheshire/western/chester"):
        per_unit = tg.unit_outlooks(data, unit_id, month)
        assert per_unit
        for mid, o in per_unit.items():
            s = scan[(unit_id, mid)]
            assert (s.target, s.status) == (o.target, o.status)
            assert s.projection == pytest.approx(o.projection)
            if math.isfinite(o.probability):
                assert s.probability == pytest.approx(o.probability)


def test_children_extra_for_the_drill_down(data: DataAccess) -> None:
    bcus = [u.unit_id for u in data.units_at("cheshire", "bcu")]
    out = ps.children_extra(data, bcus, "crime_burglary", *FY)
    assert list(out["unit_id"]) == bcus
    assert sorted(int(t.split(" ")[0][0]) for t in out["peer_text"]) == [1, 2, 3]   # 1st, 2nd, 3rd of 3
    assert set(out["spc_text"]) <= set(ps.SPC_ICON.values())


# -- the wiring: scorecard and drill-down cells ---------------------------------------------------------


def test_scorecard_cells_link_to_the_chart_and_the_comparison(data: DataAccess) -> None:
    from dashboard import state as url_state
    from dashboard.pages import scorecard

    view = data.resolve(url_state.parse("?unit=cheshire/northern&preset=fytd"))
    rows = scorecard.process_data(data, view).set_index("measure_id", drop=False)
    row = rows.loc["crime_burglary"]
    spc = repr(scorecard.spc_cell(row, view))
    assert "/early-warning?unit=cheshire/northern&measure=crime_burglary" in spc
    msf = repr(scorecard.msf_cell(row, view))
    assert "/compare?unit=cheshire/northern&measure=crime_burglary" in msf and "the force's other BCUs" in msf
    table = repr(scorecard.create_table(rows.reset_index(drop=True), view))
    assert "scorecard-spc" in table and "scorecard-msf" in table and "Peer position" in table
    flat, _ = scorecard.export_scorecard(data, view)
    assert {"spc_verdict", "peer_text", "target_status", "outlook_probability"} <= set(flat.columns)
    target = repr(scorecard.target_cell(row))
    assert " for " in target and "2007/08" in target   # e.g. "✘ missed: 1,759 for 2007/08"


def test_drill_down_children_carry_spc_and_peer_position(data: DataAccess) -> None:
    from dashboard import state as url_state
    from dashboard.pages import drilldown

    view = data.resolve(url_state.parse("?unit=cheshire&measure=crime_burglary&preset=fytd"))
    df = drilldown.process_children(data, view)
    first = drilldown.children_rows(df, view)
    assert (first["spc_text"] == "…").all()
    filled = drilldown.children_rows(df, view, drilldown.process_children_extra(data, view, df))
    assert not (filled["spc_text"] == "…").any() and filled["peer_text"].str.contains("of 3").all()
    line = repr(drilldown.unit_status(data, view))
    assert "SPC status" in line and "/compare?unit=cheshire&measure=crime_burglary" in line
    assert "MSF group (data/msf_groups.csv)" in line
