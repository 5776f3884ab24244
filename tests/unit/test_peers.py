"""Peer groups: the MSF file, the proxy, clusters of NPUs; and the comparison numbers built on
them (dashboard/peers.py, dashboard/compare.py), on the demo and on the real police.uk data."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import demo_link, real_link
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import compare, peers, stats
from dashboard.data import DataAccess
from dashboard.warehouse import WarehouseReader
from etl.demo_services import DEMO_MSF
from etl.errors import InputRefused
from etl.reference import FORCES

FY = (date(2007, 4, 1), date(2008, 3, 31))
REAL_FORCES = ("cheshire", "derbyshire", "leicestershire", "merseyside", "north-wales", "northamptonshire",
               "nottinghamshire", "staffordshire", "warwickshire")


@pytest.fixture(scope="module")
def data() -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link()))
    yield access
    access.reader.close()


# -- the files -----------------------------------------------------------------------------------------


def test_characteristics_file_covers_every_force_and_says_it_is_approximate() -> None:
    chars = peers.load_characteristics()
    assert set(chars) == {f.slug for f in FORCES}
    assert all(c.population > 0 and c.area_km2 > 0 and c.officers_fte > 0 for c in chars.values())
    assert chars["cheshire"].population == 1_027_709
    header = peers.characteristics_path().read_text().splitlines()[0]
    assert "APPROXIMATE" in header


def test_shipped_msf_file_is_a_complete_demo_set() -> None:
    msf = peers.load_msf_groups()
    assert msf is not None and msf.is_demo
    assert set(msf.groups) == {f.slug for f in FORCES}
    assert all(len(g) == 7 and f not in g and len(set(g)) == 7 for f, g in msf.groups.items())
    # the demo data were generated with this group (etl/demo_services.py)
    assert set(msf.groups["cheshire"]) == set(DEMO_MSF)


@pytest.mark.parametrize(
    ("text", "problem", "line"),
    [
        ("force,peer\ncheshire,\n", "blank", 2),
        ("force,peer\ncheshire,cheshire\n", "its own peer", 2),
        ("force,peer\ncheshire,derbyshire\ncheshire,derbyshire\n", "appears twice", 3),
        ("# a comment\nforce,friend\n", "missing column", 2),
        ("force,peer\ncheshire,derbyshire,extra\n", "3 fields", 2),
    ],
)
def test_bad_msf_rows_are_refused_with_file_and_line(
    tmp_path: Path, text: str, problem: str, line: int
) -> None:
    path = tmp_path / "msf_groups.csv"
    path.write_text(text)
    with pytest.raises(InputRefused) as err:
        peers.load_msf_groups(path)
    assert problem in err.value.problem and err.value.line == line and str(path) in str(err.value)


def test_bad_characteristics_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "chars.csv"
    path.write_text("force,population,area_km2,officers_fte\ncheshire,1000,0,5\n")
    with pytest.raises(InputRefused, match="area_km2 must be positive") as err:
        peers.load_characteristics(path)
    assert err.value.line == 2


# -- the proxy -----------------------------------------------------------------------------------------


def test_proxy_is_the_nearest_seven_on_standardised_characteristics() -> None:
    chars = peers.load_characteristics()
    g = peers.proxy_group("cheshire", chars)
    assert g.label == peers.PROXY_LABEL == "proxy, not the Home Office group"
    assert g.is_proxy and len(g.members) == 7 and "cheshire" not in g.members
    # independently: z-scores of the four logged characteristics, Euclidean distance
    forces = sorted(chars)
    x = np.array([[math.log(chars[f].population), math.log(chars[f].population / chars[f].area_km2),
                   math.log(chars[f].area_km2), math.log(chars[f].officers_fte / chars[f].population)]
                  for f in forces])
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    i = forces.index("cheshire")
    d = np.sqrt(((z - z[i]) ** 2).sum(axis=1))
    expected = [forces[j] for j in np.argsort(d) if forces[j] != "cheshire"][:7]
    assert list(g.members) == expected
    assert list(g.distances.values()) == sorted(g.distances.values())
    # the metropolitan forces find each other
    assert {"west-midlands", "greater-manchester"} <= set(peers.proxy_group("metropolitan", chars).members)


def test_proxy_picks_only_among_forces_with_data_and_says_when_short() -> None:
    chars = peers.load_characteristics()
    g = peers.proxy_group("cheshire", chars, REAL_FORCES)
    assert len(g.members) == 7 and set(g.members) <= set(REAL_FORCES)
    short = peers.proxy_group("cheshire", chars, ["derbyshire", "merseyside"])
    assert set(short.members) == {"derbyshire", "merseyside"}
    assert any("only 2" in n.lower() for n in short.notes)


def test_msf_group_uses_the_demo_file_only_for_synthetic_data() -> None:
    msf = peers.load_msf_groups()
    demo = peers.msf_group("cheshire", synthetic=True, groups=msf)
    assert demo.label == peers.FILE_LABEL == "MSF group (data/msf_groups.csv)"
    assert set(demo.members) == set(DEMO_MSF)
    assert any("not the official Home Office list" in n for n in demo.notes)
    real = peers.msf_group("cheshire", synthetic=False, groups=msf, available=REAL_FORCES)
    assert real.label == peers.PROXY_LABEL and real.is_proxy
    assert any("real data are compared with the proxy" in n for n in real.notes)
    # an official file (no demo provenance) applies to real data, members without data listed
    official = peers.MsfFile(
        Path("msf_groups.csv"), {"cheshire": ("derbyshire", "essex")}, "Home Office 2008"
    )
    g = peers.msf_group("cheshire", groups=official, available=REAL_FORCES)
    assert g.kind == "msf_file" and g.members == ("derbyshire",) and g.missing == ("essex",)
    none = peers.msf_group("cheshire", groups=None, available=REAL_FORCES)
    assert none.is_proxy


# -- clusters of NPUs ------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 30), k=st.integers(1, 8), seed=st.integers(0, 1000))
def test_balanced_kmeans_sizes_differ_by_at_most_one(n: int, k: int, seed: int) -> None:
    k = min(k, n)
    x = np.random.default_rng(seed).normal(size=(n, 3))
    labels = peers.balanced_kmeans(x, k, seed=1)
    sizes = np.bincount(labels, minlength=k)
    assert sizes.sum() == n and sizes.max() - sizes.min() <= 1 and len(sizes) == k
    assert np.array_equal(labels, peers.balanced_kmeans(x, k, seed=1))   # deterministic


def test_balanced_kmeans_finds_well_separated_groups() -> None:
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    x = np.vstack([c + rng.normal(scale=0.5, size=(5, 2)) for c in centres])
    labels = peers.balanced_kmeans(x, 3)
    assert all(len(set(labels[i * 5:(i + 1) * 5])) == 1 for i in range(3))
    assert len(set(labels)) == 3
    with pytest.raises(ValueError):
        peers.balanced_kmeans(x, 0)


def test_npu_features_use_population_when_known_and_volume_otherwise() -> None:
    counts = np.array([[30, 20, 10, 10, 10, 5, 15], [60, 30, 20, 30, 20, 10, 30], [10, 10, 5, 5, 5, 5, 10]])
    x, names = peers.npu_feature_matrix([50_000, 80_000, 30_000], counts)
    assert x.shape == (3, 2 + 6) and names[:2] == ["log population", "crime per 1,000 residents"]
    y, names2 = peers.npu_feature_matrix([math.nan] * 3, counts)
    assert y.shape == (3, 1 + 6) and "volume" in names2[0]


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


# -- the comparison numbers --------------------------------------------------------------------------------


def test_group_average_is_the_pooled_rate_of_complete_members(data: DataAccess) -> None:
    c = compare.compare(data, "cheshire", "sanction_detection_rate", *FY)
    members = c.members[c.members["in_average"]]
    assert len(members) == 7 and not c.members.iloc[0]["in_average"]   # never the unit itself
    assert c.average == pytest.approx(100 * members["k"].sum() / members["n"].sum())
    assert c.average == pytest.approx(stats.weighted_average(members["value"], members["n"]))
    # funnel positions are stats.funnel_position against the group's proportion
    for r in c.members.itertuples():
        assert r.position == stats.funnel_position(r.k, r.n, c.average / 100, "proportion")
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


@settings(max_examples=30, deadline=None)
@given(k=st.lists(st.integers(0, 500), min_size=1, max_size=8), extra=st.lists(st.integers(0, 500),
                                                                                min_size=1, max_size=8))
def test_pooled_rate_is_the_denominator_weighted_mean(k: list[int], extra: list[int]) -> None:
    n = [a + b + 1 for a, b in zip(k, extra, strict=False)]
    k = k[: len(n)]
    v = [a / b for a, b in zip(k, n, strict=True)]
    assert stats.weighted_average(v, n) == pytest.approx(stats.pooled_rate(k, n))


# -- the real data ----------------------------------------------------------------------------------------


@pytest.mark.realdata
def test_compare_on_the_real_data_cheshire_against_the_other_forces(shared_data: Path) -> None:
    data = DataAccess(WarehouseReader(real_link(shared_data)))
    try:
        start, end = date(2018, 4, 1), date(2019, 2, 28)   # the default FY to date: clipped to the data
        c = compare.compare(data, "cheshire", "total_crime", start, end)
        assert c.group.label == "proxy, not the Home Office group" and c.group.is_proxy
        assert c.period.start == date(2018, 10, 1) and len(c.months) == 5
        assert len(c.group.members) == 7 and set(c.group.members) <= set(REAL_FORCES)
        assert c.members["in_average"].sum() == 7 and math.isfinite(c.average)
        everyone = compare.compare(data, "cheshire", "total_crime", start, end, scope="all")
        assert set(everyone.group.members) == set(REAL_FORCES) - {"cheshire"}
        assert everyone.members["value"].notna().all() and len(everyone.members) == 9
        # the numbers: crimes per 1,000 residents over the 5 months, from the cube
        ch = everyone.focus
        assert ch["value"] == pytest.approx(ch["k"] / (data.unit("cheshire").population / 1000))
        sdr = compare.compare(data, "cheshire", "sanction_detection_rate", start, end, scope="all")
        assert sdr.basis.kind == "proportion" and 0 < sdr.average < 100
        assert not compare.funnel_curves(sdr).empty
        # BCUs of real data have no population: per-head comparison is refused, in words
        b = compare.compare(data, "cheshire/northern", "crime_burglary", start, end)
        assert b.members["value"].isna().all()
        assert all("no population" in s for s in b.members["status_text"])
    finally:
        data.reader.close()


def test_msf_groups_file_can_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LG_DATA_DIR points at another data folder; without a groups file the proxy is used."""
    monkeypatch.setenv("LG_DATA_DIR", str(tmp_path))
    (tmp_path / "force_characteristics.csv").write_text(peers.REPO.joinpath(
        "data", "force_characteristics.csv").read_text())
    assert peers.load_msf_groups() is None
    g = peers.msf_group("cheshire", synthetic=True)
    assert g.is_proxy
