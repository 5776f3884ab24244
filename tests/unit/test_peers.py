"""Peer groups: the MSF file, the proxy, clusters of NPUs (dashboard/analysis/peers.py), and the pooled rate.
The comparison numbers on the demo are in tests/integration/test_peers.py, on the real police.uk
data in tests/realdata/test_peers.py."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.analysis import peers, stats
from etl.errors import InputRefused
from etl.reference.forces import FORCES
from etl.sources.national import DEMO_MSF

REAL_FORCES = ("cheshire", "derbyshire", "leicestershire", "merseyside", "north-wales", "northamptonshire",
               "nottinghamshire", "staffordshire", "warwickshire")


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
    # the demo data were generated with this group (etl/sources/national.py)
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


# -- the comparison numbers --------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(k=st.lists(st.integers(0, 500), min_size=1, max_size=8), extra=st.lists(st.integers(0, 500),
                                                                                min_size=1, max_size=8))
def test_pooled_rate_is_the_denominator_weighted_mean(k: list[int], extra: list[int]) -> None:
    n = [a + b + 1 for a, b in zip(k, extra, strict=False)]
    k = k[: len(n)]
    v = [a / b for a, b in zip(k, n, strict=True)]
    assert stats.weighted_average(v, n) == pytest.approx(stats.pooled_rate(k, n))



def test_msf_groups_file_can_move(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LG_DATA_DIR points at another data folder; without a groups file the proxy is used."""
    monkeypatch.setenv("LG_DATA_DIR", str(tmp_path))
    (tmp_path / "force_characteristics.csv").write_text(peers.REPO.joinpath(
        "data", "force_characteristics.csv").read_text())
    assert peers.load_msf_groups() is None
    g = peers.msf_group("cheshire", synthetic=True)
    assert g.is_proxy
