"""The default hierarchy of a real force: LSOA -> NPU (MSOA groups) -> BCU (local authority),
every unit with its 2011 Census population, from the small-area tables in data/reference/.

data.police.uk files name a 2011 LSOA for each crime and nothing above it. Without a force's
own hierarchy file (--hierarchy), the ETL builds one from ONS geography:

- the force's area is the local authorities the 2011 lookup places in it
  (population_by_ethnicity_census2011_la.csv: la_code -> force_id); an LSOA elsewhere is
  outside the area: its crimes count for the force and are reported as not assigned;
- BCUs are the local authorities (the community safety partnerships of England and Wales
  follow them), except where the HMIC report names the force's BCUs: Cheshire's three 2007
  BCUs (Northern = Halton + Warrington, Western = Cheshire West and Chester, Eastern =
  Cheshire East);
- NPUs are groups of whole MSOAs inside one local authority: k = max(1, round(residents /
  NPU_SIZE)) groups. NPU_SIZE is the size of a 2007 Cheshire NPU: the force's 1,027,709
  residents (2011) over the 18 NPUs it had, so real Cheshire gets 18 NPUs again and other
  forces NPUs of the same order. The authority's MSOAs are put in the order of a Hilbert
  curve through their centres (a path that visits neighbours one after another, so a run
  of it is a compact patch of ground) and cut into k runs of near-equal population.
  (MSOA numbers were tried first: ONS numbers them roughly north to south, so a band of
  numbers is an east-west strip, and in Cheshire West and Chester one band held both
  Chester and Northwich.) An NPU is named after where it lies in its authority: the
  authority and a compass point from the authority's population centre to the NPU's
  ("Halton: East", "Warrington: Central"); an authority with one NPU gives it its own name;
- - populations and households are the 2011 Census counts of the unit's LSOAs, all of them
  (not only those with a crime).

Tables are read once per process (about 0.3 s); nothing is downloaded.
"""

from __future__ import annotations

import csv
import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.reference.tables import data_dir

LSOA_FILE = "reference/lsoa_2011_ew.csv.gz"
MSOA_FILE = "reference/msoa_2011_ew.csv"
LA_FILE = "reference/population_by_ethnicity_census2011_la.csv"
NPU_SIZE = 1_027_709 / 18
# BCUs the HMIC report names, as groups of local authorities (2011 names).
BCU_GROUPS: dict[str, dict[str, str]] = {
    "cheshire": {"Halton": "Northern", "Warrington": "Northern",
                 "Cheshire West and Chester": "Western", "Cheshire East": "Eastern"},
}
ATTRIBUTION = ("Areas and populations: ONS 2011 Census and geography lookups. Contains ONS data "
               "© Crown copyright and database right, Open Government Licence v3.0.")


@dataclass(frozen=True)
class Lsoa:
    code: str
    msoa: str
    population: int
    households: int


@dataclass(frozen=True)
class Msoa:
    code: str
    name: str          # "Warrington 012"
    la_code: str
    lon: float         # the centre ONS gives it (boundary file LONG, LAT)
    lat: float


@dataclass(frozen=True)
class Unit:
    name: str
    population: int
    households: int


@dataclass(frozen=True)
class Hierarchy:
    """One force's default hierarchy."""

    force_id: str
    lsoa_npu: dict[str, tuple[str, str]]     # LSOA code -> (BCU name, NPU name)
    bcus: dict[str, Unit]                    # BCU name -> unit
    npus: dict[str, Unit]                    # NPU name -> unit
    npu_msoas: dict[str, tuple[str, ...]]    # NPU name -> its MSOA codes

    @property
    def population(self) -> int:
        return sum(u.population for u in self.bcus.values())


def _lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        yield from (line for line in fh if not line.startswith("#"))


# Each lookup is cached by the folder it resolves to (f() and f(None) are one entry, as
# geo.boundaries): the map warms them at start-up, and the hierarchy asks with its directory.
def lsoas(directory: Path | None = None) -> dict[str, Lsoa]:
    return _lsoas(directory or data_dir())


def msoas(directory: Path | None = None) -> dict[str, Msoa]:
    return _msoas(directory or data_dir())


def local_authorities(directory: Path | None = None) -> dict[str, tuple[str, str]]:
    """2011 LA code -> (name, force_id)."""
    return _local_authorities(directory or data_dir())


@cache
def _lsoas(directory: Path) -> dict[str, Lsoa]:
    rows = csv.DictReader(_lines(directory / LSOA_FILE))
    return {r["lsoa_code"]: Lsoa(r["lsoa_code"], r["msoa_code"], int(r["population"]),
                                 int(r["households"])) for r in rows}


@cache
def _msoas(directory: Path) -> dict[str, Msoa]:
    rows = csv.DictReader(_lines(directory / MSOA_FILE))
    return {r["msoa_code"]: Msoa(r["msoa_code"], r["msoa_name"], r["la_code"], float(r["lon"]),
                                 float(r["lat"])) for r in rows}


@cache
def _local_authorities(directory: Path) -> dict[str, tuple[str, str]]:
    rows = csv.DictReader(_lines(directory / LA_FILE))
    return {r["la_code"]: (r["la_name"], r["force_id"]) for r in rows}


def _cuts(pops: list[int], k: int) -> list[int]:
    """Indexes after which to cut `pops` into k consecutive groups of near-equal total."""
    total = sum(pops)
    running, cum = 0, []
    for p in pops:
        running += p
        cum.append(running)
    cuts: list[int] = []
    for j in range(1, k):
        goal = total * j / k
        lo = cuts[-1] + 1 if cuts else 0
        hi = len(pops) - (k - j) - 1    # leave at least one MSOA for each later group
        best = min(range(lo, hi + 1), key=lambda i: (abs(cum[i] - goal), i))
        cuts.append(best)
    return cuts


def npu_count(population: int) -> int:
    return max(1, round(population / NPU_SIZE))


def hilbert_index(x: int, y: int, order: int = 16) -> int:
    """Position of the cell (x, y), 0 <= x, y < 2**order, along the Hilbert curve."""
    d, s = 0, 1 << (order - 1)
    while s > 0:
        rx, ry = int(x & s > 0), int(y & s > 0)
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = s - 1 - x, s - 1 - y
            x, y = y, x
        s >>= 1
    return d


def hilbert_order(points: list[tuple[float, float]]) -> list[int]:
    """Indexes of (lon, lat) points in the order of a Hilbert curve over their bounding box
    (longitude scaled by cos(latitude), so the box is square on the ground)."""
    if len(points) < 2:
        return list(range(len(points)))
    k = math.cos(math.radians(sum(p[1] for p in points) / len(points)))
    xs, ys = [p[0] * k for p in points], [p[1] for p in points]
    x0, y0 = min(xs), min(ys)
    span = max(max(xs) - x0, max(ys) - y0) or 1.0
    top = (1 << 16) - 1
    keys = [hilbert_index(int((x - x0) / span * top), int((y - y0) / span * top)) for x, y in zip(xs, ys,
                                                                                                  strict=True)]
    return sorted(range(len(points)), key=lambda i: (keys[i], i))


_POINTS8 = ("North", "North East", "East", "South East", "South", "South West", "West", "North West")
_POINTS16 = ("North", "North North East", "North East", "East North East", "East", "East South East",
             "South East", "South South East", "South", "South South West", "South West",
             "West South West", "West", "West North West", "North West", "North North West")


def _centre(msoas: list[Msoa], pops: list[int]) -> tuple[float, float]:
    total = sum(pops) or 1
    return (sum(m.lon * p for m, p in zip(msoas, pops, strict=True)) / total,
            sum(m.lat * p for m, p in zip(msoas, pops, strict=True)) / total)


def compass_names(la_name: str, centre: tuple[float, float], parts: list[tuple[float, float]]) -> list[str]:
    """'<authority>: <compass point>' for each part's centre seen from the authority's centre;
    the part nearest the centre, when much nearer than the rest, is '<authority>: Central'.
    Two parts on the same point of 8 are told apart on 16, then by number."""
    k = math.cos(math.radians(centre[1]))
    vec = [((x - centre[0]) * k, y - centre[1]) for x, y in parts]
    dist = [math.hypot(dx, dy) for dx, dy in vec]

    def point(i: int, names: tuple[str, ...]) -> str:
        bearing = math.degrees(math.atan2(vec[i][0], vec[i][1])) % 360
        return names[int((bearing + 180 / len(names)) // (360 / len(names))) % len(names)]

    labels = [point(i, _POINTS8) for i in range(len(parts))]
    nearest = min(range(len(parts)), key=lambda i: dist[i])
    others = sorted(d for i, d in enumerate(dist) if i != nearest)
    if len(parts) > 2 and dist[nearest] < 0.5 * others[len(others) // 2]:
        labels[nearest] = "Central"
    for lab in set(labels):
        same = [i for i, x in enumerate(labels) if x == lab]
        if len(same) > 1 and lab != "Central":
            for i in same:
                labels[i] = point(i, _POINTS16)
    seen: dict[str, int] = {}
    out = []
    for i in sorted(range(len(parts)), key=lambda i: dist[i]):
        seen[labels[i]] = seen.get(labels[i], 0) + 1
        out.append((i, labels[i] + (f" {seen[labels[i]]}" if seen[labels[i]] > 1 else "")))
    return [f"{la_name}: {lab}" for _, lab in sorted(out)]


@cache
def _groups(directory: Path) -> tuple[dict[str, list[Lsoa]], dict[str, list[Msoa]]]:
    """MSOA code -> its LSOAs (in the LSOA file's order), and LA code -> its MSOAs sorted by
    code: what hierarchy() needs of the national tables, grouped once per process. Each
    force's hierarchy grouped all 35,000 LSOAs and scanned all 7,201 MSOAs per authority
    itself before: ~1 s of a national load's 43 forces."""
    by_msoa: dict[str, list[Lsoa]] = {}
    for lsoa in lsoas(directory).values():
        by_msoa.setdefault(lsoa.msoa, []).append(lsoa)
    by_la: dict[str, list[Msoa]] = {}
    for m in msoas(directory).values():
        by_la.setdefault(m.la_code, []).append(m)
    for members in by_la.values():
        members.sort(key=lambda m: m.code)
    return by_msoa, by_la


@cache
def hierarchy(force_id: str, directory: Path | None = None) -> Hierarchy | None:
    """The force's default hierarchy; None for a force with no local authority in the lookup."""
    las = {code: name for code, (name, f) in local_authorities(directory).items() if f == force_id}
    if not las:
        return None
    groups = BCU_GROUPS.get(force_id, {})
    by_msoa, by_la = _groups(directory or data_dir())
    lsoa_npu: dict[str, tuple[str, str]] = {}
    bcu_pop: dict[str, list[int]] = {}
    npus: dict[str, Unit] = {}
    npu_msoas: dict[str, tuple[str, ...]] = {}
    for la_code, la_name in sorted(las.items(), key=lambda kv: kv[1]):
        bcu = groups.get(la_name, la_name)
        mine = by_la.get(la_code, [])
        if not mine:
            continue
        mine = [mine[i] for i in hilbert_order([(m.lon, m.lat) for m in mine])]
        pops = [sum(x.population for x in by_msoa.get(m.code, [])) for m in mine]
        k = min(npu_count(sum(pops)), len(mine))
        bounds = [-1, *_cuts(pops, k), len(mine) - 1]
        parts = [mine[a + 1:b + 1] for a, b in zip(bounds, bounds[1:], strict=False)]
        part_pops = [pops[a + 1:b + 1] for a, b in zip(bounds, bounds[1:], strict=False)]
        names = ([la_name] if k == 1 else compass_names(
            la_name, _centre(mine, pops), [_centre(p, q) for p, q in zip(parts, part_pops, strict=True)]))
        for part, name in zip(parts, names, strict=True):
            members = [x for m in part for x in by_msoa.get(m.code, [])]
            unit = Unit(name, sum(x.population for x in members), sum(x.households for x in members))
            npus[name] = unit
            npu_msoas[name] = tuple(m.code for m in part)
            tot = bcu_pop.setdefault(bcu, [0, 0])
            tot[0] += unit.population
            tot[1] += unit.households
            for x in members:
                lsoa_npu[x.code] = (bcu, name)
    bcus = {name: Unit(name, p, h) for name, (p, h) in bcu_pop.items()}
    return Hierarchy(force_id, lsoa_npu, bcus, npus, npu_msoas)
