"""The default hierarchy (etl/reference/areas.py) built from the national tables grouped once
per process is the one the per-force scans built: every LSOA in the same NPU and BCU, every
unit with the same population and households, for forces of every shape (a county force
with HMIC-named BCUs, the smallest force, a large Welsh one, the largest)."""

from __future__ import annotations

import pytest

from etl.reference import areas

FORCES = ("cheshire", "city-of-london", "dyfed-powys", "metropolitan")


def _reference(force_id: str) -> dict[str, tuple[str, str]]:
    """LSOA -> (BCU, NPU) the way hierarchy() built it before the tables were grouped once:
    each authority's MSOAs found by scanning every MSOA, each MSOA's LSOAs looked up in a
    grouping of every LSOA made here."""
    las = {c: n for c, (n, f) in areas.local_authorities().items() if f == force_id}
    groups = areas.BCU_GROUPS.get(force_id, {})
    in_msoa: dict[str, list[areas.Lsoa]] = {}
    for x in areas.lsoas().values():
        in_msoa.setdefault(x.msoa, []).append(x)
    out: dict[str, tuple[str, str]] = {}
    for la_code, la_name in sorted(las.items(), key=lambda kv: kv[1]):
        mine = sorted((m for m in areas.msoas().values() if m.la_code == la_code),
                      key=lambda m: m.code)
        if not mine:
            continue
        mine = [mine[i] for i in areas.hilbert_order([(m.lon, m.lat) for m in mine])]
        pops = [sum(x.population for x in in_msoa.get(m.code, [])) for m in mine]
        k = min(areas.npu_count(sum(pops)), len(mine))
        bounds = [-1, *areas._cuts(pops, k), len(mine) - 1]
        parts = [mine[a + 1:b + 1] for a, b in zip(bounds, bounds[1:], strict=False)]
        part_pops = [pops[a + 1:b + 1] for a, b in zip(bounds, bounds[1:], strict=False)]
        names = [la_name] if k == 1 else areas.compass_names(
            la_name, areas._centre(mine, pops),
            [areas._centre(p, q) for p, q in zip(parts, part_pops, strict=True)])
        for part, name in zip(parts, names, strict=True):
            for m in part:
                for x in in_msoa.get(m.code, []):
                    out[x.code] = (groups.get(la_name, la_name), name)
    return out


@pytest.mark.parametrize("force_id", FORCES)
def test_the_hierarchy_places_every_lsoa_as_the_per_force_scan_did(force_id: str) -> None:
    h = areas.hierarchy(force_id)
    assert h is not None
    expected = _reference(force_id)
    assert expected and h.lsoa_npu == expected
    lsoas = areas.lsoas()
    for npu, unit in h.npus.items():
        members = [lsoas[c] for c, (_, n) in expected.items() if n == npu]
        assert (unit.population, unit.households) == (
            sum(x.population for x in members), sum(x.households for x in members))


def test_cheshire_keeps_its_three_named_bcus_and_eighteen_npus() -> None:
    h = areas.hierarchy("cheshire")
    assert h is not None
    assert sorted(h.bcus) == ["Eastern", "Northern", "Western"]
    assert len(h.npus) == 18
    assert h.population == 1_027_709
