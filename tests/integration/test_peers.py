"""Peer groups and the comparison numbers built on them (dashboard/analysis/peers.py,
dashboard/analysis/peer_comparison.py)
on the demo warehouse. The files, the proxy and the clustering are in tests/unit/test_peers.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from dashboard.analysis import peer_comparison as compare
from dashboard.analysis import peers, stats
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from etl.sources.national import DEMO_MSF

FY = (date(2007, 4, 1), date(2008, 3, 31))


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def test_in_force_groups_on_the_demo(data: DataAccess) -> None:
    bcu = peers.unit_group(data, "cheshire/northern")
    assert bcu.kind == "bcu" and set(bcu.members) == {"cheshire/eastern", "cheshire/western"}
    clusters = peers.npu_clusters(data, "cheshire")
    assert len(clusters) == 18
    sizes = np.bincount(list(clusters.values()))
    assert len(sizes) == 4 and sizes.min() >= 4 and sizes.max() <= 6
    npu = peers.unit_group(data, "cheshire/northern/widnes")
    assert npu.kind == "npu_cluster" and 3 <= len(npu.members) <= 5
    assert all(clusters[m] == clusters["cheshire/northern/widnes"] for m in npu.members)
    team = peers.unit_group(data, "cheshire/northern/widnes/response-a")
    assert team.kind == "team_type" and team.members
    assert all(data.unit(m).name.startswith("Response") for m in team.members)
    force = peers.unit_group(data, "cheshire")
    assert force.label == peers.FILE_LABEL and set(force.members) == set(DEMO_MSF)
    everyone = peers.unit_group(data, "cheshire", scope="all")
    assert len(everyone.members) == 42 and everyone.kind == "all_forces"


def test_group_average_is_the_pooled_rate_of_complete_members(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "sanction_detection_rate", *FY)
    members = c.members[c.members["in_average"]]
    assert len(members) == 7 and not c.members.iloc[0]["in_average"]   # never the unit itself
    assert c.average == pytest.approx(100 * members["k"].sum() / members["n"].sum())
    assert c.average == pytest.approx(stats.weighted_average(members["value"], members["n"]))
    # funnel positions are stats.funnel_position against the group's proportion, with the limits
    # widened by the group's tau^2 (the demo's forces are over-dispersed) ...
    assert c.adjusted and c.dispersion is not None and c.dispersion.overdispersed
    for r in c.members.itertuples():
        assert r.position == stats.funnel_position(r.k, r.n, c.average / 100, "proportion", tau2=c.tau2)
    # ... or the exact limits when the adjustment is switched off
    plain = compare.compare(data, "cheshire", "sanction_detection_rate", *FY, adjust=False)
    assert not plain.adjusted and plain.tau2 == 0 and plain.phi == c.phi
    for r in plain.members.itertuples():
        assert r.position == stats.funnel_position(r.k, r.n, plain.average / 100, "proportion")
    # ranks: 1 = best, detections up is good
    best = c.members.sort_values("value", ascending=False).iloc[0]
    assert best["rank"] == 1


def test_counts_are_compared_per_head_over_the_period(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "total_crime", *FY)
    focus = c.focus
    pop = data.unit("cheshire").population
    assert focus["value"] == pytest.approx(focus["k"] / (pop / 1000))
    assert c.basis.per_head and focus["months_used"] == 12
    lo, hi = stats.rate_interval(int(focus["k"]), pop / 1000)
    assert (focus["lower"], focus["upper"]) == pytest.approx((lo, hi))


def test_suspect_member_months_are_left_out_never_averaged_in(data: DataAccess) -> None:
    """The demo's national data have months the loader marks suspect (far below the expected
    level). With every force as the group, such a force is drawn but not averaged, and that
    month's average leaves it out."""
    with data.cursor() as cur:
        suspect = cur.execute(
            "SELECT force_id, month FROM month_status WHERE suspect AND month BETWEEN ? AND ? "
            "AND force_id <> 'cheshire' ORDER BY month, force_id",
            list(FY),
        ).fetchall()
    assert suspect, "the demo should have a suspect month in 2007/08 to test with"
    force, month = suspect[0]
    c = compare.compare(data, "cheshire", "total_crime", *FY, scope="all")
    name = data.unit(force).name
    row = c.members[c.members["unit_id"] == force].iloc[0]
    assert not row["in_average"] and f"{month:%b %Y} suspect" in row["status_text"]
    assert any(t.startswith(f"{name} left out of the average") for t in c.exclusions)
    complete = c.members[c.members["in_average"]]
    assert c.average == pytest.approx(complete["k"].sum() / complete["n"].sum() * 12)
    that = c.months[c.months["month"] == month].iloc[0]
    bad_that_month = {f for f, m in suspect if m == month}
    assert that["members_used"] == that["members"] - len(bad_that_month) and name in that["excluded"]
    mm = compare.member_months(data, tuple(c.members["unit_id"]), "total_crime", month, month)
    ok = mm[(mm["status"] == "ok") & (mm["unit_id"] != "cheshire")]
    assert not (set(ok["unit_id"]) & bad_that_month)
    assert that["group_value"] == pytest.approx(ok["k"].sum() / ok["n"].sum())


def test_trend_marks_significance_with_the_exact_tests(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "dv_arrest_rate", *FY)
    t = c.months
    assert len(t) == 12 and t["significant"].all() and (t["verdict"] == "better").all()   # 52% vs ~33%
    c2 = compare.compare(data, "cheshire/northern", "crime_burglary", *FY)
    mm = compare.member_months(data, ("cheshire/northern", "cheshire/eastern", "cheshire/western"),
                               "crime_burglary", date(2008, 3, 1), date(2008, 3, 1))
    f = mm[mm["unit_id"] == "cheshire/northern"].iloc[0]
    g = mm[mm["unit_id"] != "cheshire/northern"]
    expected = stats.compare_counts(int(f["k"]), int(g["k"].sum()), f["n"], g["n"].sum())
    assert c2.months.iloc[-1]["p_value"] == pytest.approx(expected.p_value)


def test_funnel_curves_bracket_the_average(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "sanction_detection_rate", *FY)
    curves = compare.funnel_curves(c)
    assert not curves.empty
    assert (curves["lo998"] <= curves["lo95"]).all() and (curves["lo95"] <= c.average).all()
    assert (curves["hi95"] >= c.average).all() and (curves["hi998"] >= curves["hi95"]).all()
    # narrower for bigger denominators
    assert curves["hi95"].iloc[-1] - curves["lo95"].iloc[-1] < curves["hi95"].iloc[0] - curves["lo95"].iloc[0]


def test_means_have_no_funnel(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "calls_101_answer_time", *FY)
    assert c.basis.kind == "value" and compare.funnel_curves(c).empty


def test_msf_position_for_the_scorecard(data: DataAccess) -> None:
    pos = compare.msf_position(data, "cheshire", "dv_arrest_rate", *FY)
    assert pos["rank"] == 1 and pos["of"] == 8 and pos["position"] == "above_99.8"
    assert "better" in pos["text"] and pos["label"] == peers.FILE_LABEL


OUTSIDE = ("above_99.8", "below_99.8")


@pytest.mark.parametrize("measure_id", ["total_crime", "sanction_detection_rate", "crime_burglary",
                                        "asb_incidents", "crime_criminal_damage_arson"])
def test_adjusted_funnel_singles_members_out(data: DataAccess, measure_id: str) -> None:
    """Issue 9: without the adjustment 6 or 7 of the 7 comparison forces sit outside the 99.8%
    limits, so 'significantly different' singles nobody out; with Spiegelhalter's (2005)
    adjustment fewer than all 7 do, and the chart's words say the limits were widened."""
    plain = compare.compare(data, "cheshire", measure_id, *FY, adjust=False)
    adjusted = compare.compare(data, "cheshire", measure_id, *FY)
    members = ~adjusted.members["is_focus"]
    assert members.sum() == 7
    before = int(plain.members.loc[members, "position"].isin(OUTSIDE).sum())
    after = int(adjusted.members.loc[members, "position"].isin(OUTSIDE).sum())
    assert before >= 6 and after < 7 and after < before
    assert adjusted.adjusted and adjusted.phi > 1 and adjusted.tau2 > 0
    note = f"Limits widened for over-dispersion (phi = {adjusted.phi:.1f}, tau^2 = "
    assert adjusted.limits_note.startswith(note)
    assert "Spiegelhalter 2005" in adjusted.limits_note
    # the drawn curve is wider than the plain one, and the scorecard's position is the page's
    curves, plain_curves = compare.funnel_curves(adjusted), compare.funnel_curves(plain)
    assert (curves["hi998"] - curves["lo998"]).min() > 0
    mid = len(curves) // 2
    assert curves["hi998"].iloc[mid] > plain_curves["hi998"].iloc[mid]
    pos = compare.msf_position(data, "cheshire", measure_id, *FY)
    assert pos["limits_adjusted"] and pos["tau2"] == pytest.approx(adjusted.tau2)
    assert pos["position"] == adjusted.focus["position"]
    assert compare.msf_position(data, "cheshire", measure_id, *FY, adjust=False)["position"] == \
        plain.focus["position"]
