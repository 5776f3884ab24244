"""Targets (dashboard/analysis/targets.py) on the demo warehouse: contributory targets add up exactly; rule
targets follow last year and the MSF; the status table. The file and the projections are in
tests/unit/test_targets.py."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from dashboard.analysis import peer_comparison as compare
from dashboard.analysis import peers
from dashboard.analysis import targets as tg
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from etl.measures.registry import MEASURES

FY = "2007/08"


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "targets.csv"
    path.write_text("# a comment line\nunit,measure,period,target,note\n" + body)
    return path


def test_contributory_targets_add_up_on_the_demo(data: DataAccess) -> None:
    frame = tg.resolve_targets(data, "cheshire", FY)
    counts = frame[(frame["kind"] == "count") & frame["quarter"].isna()]
    assert set(counts["measure_id"]) >= {"total_crime", "crime_burglary"}
    for mid, part in counts.groupby("measure_id"):
        force = part[part["level"] == "force"]["target"].iloc[0]
        assert force == int(force)
        assert part[part["level"] == "bcu"]["target"].sum() == force, mid
        for bcu in data.units_at("cheshire", "bcu"):
            kids = part[part["unit_id"].str.startswith(bcu.unit_id + "/")]
            assert len(kids) == len(data.children(bcu.unit_id))
            assert kids["target"].sum() == part[part["unit_id"] == bcu.unit_id]["target"].iloc[0], (mid, bcu)
        assert (part["target"] == part["target"].round()).all()


def test_rule_targets_follow_last_year(data: DataAccess) -> None:
    frame = tg.resolve_targets(data, "cheshire", FY)
    last = data.values("total_crime", ("cheshire",), date(2006, 4, 1), date(2007, 3, 31)).iloc[0]
    force = frame[(frame["unit_id"] == "cheshire") & (frame["measure_id"] == "total_crime")].iloc[0]
    assert force["target"] == round(last["numerator"] * 0.95)
    assert "5% below last year's" in force["how"]
    # contributory shares are in proportion to last year's counts
    bcus = data.values("total_crime", tuple(u.unit_id for u in data.units_at("cheshire", "bcu")),
                       date(2006, 4, 1), date(2007, 3, 31))
    shares = tg.largest_remainder(int(force["target"]), list(bcus["numerator"]))
    got = frame[(frame["measure_id"] == "total_crime") & (frame["level"] == "bcu")].set_index("unit_id")
    assert [got.at[u, "target"] for u in bcus["unit_id"]] == shares


def test_rate_targets_cascade_unchanged(data: DataAccess) -> None:
    frame = tg.resolve_targets(data, "cheshire", FY)
    sdr = frame[frame["measure_id"] == "sanction_detection_rate"]
    assert (sdr["target"] == 27).all() and len(sdr) == 1 + 3 + 18


def test_msf_targets_move_quarter_by_quarter(data: DataAccess) -> None:
    frame = tg.resolve_targets(data, "cheshire", FY)
    sat = frame[(frame["measure_id"] == "satisfaction_whole_experience") & (frame["unit_id"] == "cheshire")]
    assert sorted(sat["quarter"]) == [1, 2, 3, 4]
    for r in sat.itertuples():
        p = tg.fy_period(FY, int(r.quarter))
        assert r.target == pytest.approx(
            compare.group_average(data, "cheshire", r.measure_id, p.start, p.end)
        )
        assert "MSF average for" in r.how and not r.provisional
        assert r.review == tg.review_dates(FY)[int(r.quarter) - 1][1]
    assert sat["target"].nunique() == 4          # it moves with the group


def test_registry_targets_apply_all_year(data: DataAccess) -> None:
    frame = tg.resolve_targets(data, "cheshire", FY)
    calls = frame[frame["measure_id"] == "calls_999_answered_10s"]
    assert (calls["target"] == MEASURES["calls_999_answered_10s"].target).all() and (
        calls["origin"] == "registry"
    ).all()


def test_explicit_bcu_target_is_kept_and_the_rest_shared(data: DataAccess, tmp_path: Path) -> None:
    rows = tg.parse_targets(write(tmp_path, "cheshire,crime_burglary,2007/08,6000\n"
                                            "cheshire/western,crime_burglary,2007/08,2500\n"))
    frame = tg.resolve_targets(data, "cheshire", FY, rows)
    b = frame[(frame["measure_id"] == "crime_burglary")]
    bcu = b[b["level"] == "bcu"].set_index("unit_id")["target"]
    assert bcu["cheshire/western"] == 2500 and bcu.sum() == 6000
    west_npus = b[b["unit_id"].str.startswith("cheshire/western/")]
    assert west_npus["target"].sum() == 2500


def test_status_table_on_the_demo(data: DataAccess) -> None:
    table = tg.status_table(data, "cheshire/northern", date(2007, 9, 1))
    assert {"total_crime", "crime_burglary", "sanction_detection_rate"} <= set(table["measure_id"])
    row = table[table["measure_id"] == "crime_burglary"].iloc[0]
    assert 0 <= row["probability"] <= 1 and row["lower"] <= row["projection"] <= row["upper"]
    assert math.isfinite(row["target"])


def test_reference_data_come_from_the_warehouse_version(
    data: DataAccess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Targets and MSF groups are read from the warehouse's ref_* tables, never from data/ at
    request time: with every file gone, the same version still answers the same, and names the
    file the load copied (so a changed file takes effect with the next load or rebuild)."""
    before = tg.resolve_targets(data, "cheshire", FY)
    group = peers.force_group(data, "cheshire")
    assert not before.empty and group.kind == "msf_file"
    monkeypatch.setenv("LG_DATA_DIR", str(tmp_path))  # an empty data folder
    data.clear_cache()
    after = tg.resolve_targets(data, "cheshire", FY)
    assert after.equals(before)
    assert peers.force_group(data, "cheshire") == group
    ref = data.reference("targets.csv")
    assert ref is not None and Path(ref.origin).name == "targets.csv" and ref.rows
