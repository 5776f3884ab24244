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
  NPU_SIZE)) groups of consecutive MSOA numbers (ONS numbers an authority's MSOAs roughly
  north to south, so neighbours in number are mostly neighbours on the ground), cut where
  the running population comes closest to each k-th share. NPU_SIZE is the size of a 2007
  Cheshire NPU: the force's 1,027,709 residents (2011) over the 18 NPUs it had, so real
  Cheshire gets 18 NPUs again and other forces NPUs of the same order. An NPU is named
  after its MSOAs ("Warrington 001-009"), so anyone can tell which streets it covers;
- populations and households are the 2011 Census counts of the unit's LSOAs, all of them
  (not only those with a crime).

Tables are read once per process (about 0.3 s); nothing is downloaded.
"""

from __future__ import annotations

import csv
import gzip
import re
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
_NUMBER = re.compile(r"^(.*) (\d{3})$")


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


@cache
def lsoas(directory: Path | None = None) -> dict[str, Lsoa]:
    rows = csv.DictReader(_lines((directory or data_dir()) / LSOA_FILE))
    return {r["lsoa_code"]: Lsoa(r["lsoa_code"], r["msoa_code"], int(r["population"]),
                                 int(r["households"])) for r in rows}


@cache
def msoas(directory: Path | None = None) -> dict[str, Msoa]:
    rows = csv.DictReader(_lines((directory or data_dir()) / MSOA_FILE))
    return {r["msoa_code"]: Msoa(r["msoa_code"], r["msoa_name"], r["la_code"]) for r in rows}


@cache
def local_authorities(directory: Path | None = None) -> dict[str, tuple[str, str]]:
    """2011 LA code -> (name, force_id)."""
    rows = csv.DictReader(_lines((directory or data_dir()) / LA_FILE))
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


def _npu_name(names: list[str]) -> str:
    first, last = _NUMBER.match(names[0]), _NUMBER.match(names[-1])
    if len(names) == 1 or not first or not last:
        return names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
    if first.group(1) != last.group(1):
        return f"{names[0]} to {names[-1]}"
    return f"{first.group(1)} {first.group(2)}-{last.group(2)}"


@cache
def hierarchy(force_id: str, directory: Path | None = None) -> Hierarchy | None:
    """The force's default hierarchy; None for a force with no local authority in the lookup."""
    las = {code: name for code, (name, f) in local_authorities(directory).items() if f == force_id}
    if not las:
        return None
    groups = BCU_GROUPS.get(force_id, {})
    by_msoa: dict[str, list[Lsoa]] = {}
    for lsoa in lsoas(directory).values():
        by_msoa.setdefault(lsoa.msoa, []).append(lsoa)
    all_msoas = msoas(directory)
    lsoa_npu: dict[str, tuple[str, str]] = {}
    bcu_pop: dict[str, list[int]] = {}
    npus: dict[str, Unit] = {}
    npu_msoas: dict[str, tuple[str, ...]] = {}
    for la_code, la_name in sorted(las.items(), key=lambda kv: kv[1]):
        bcu = groups.get(la_name, la_name)
        mine = sorted((m for m in all_msoas.values() if m.la_code == la_code), key=lambda m: m.name)
        if not mine:
            continue
        pops = [sum(x.population for x in by_msoa.get(m.code, [])) for m in mine]
        k = min(npu_count(sum(pops)), len(mine))
        bounds = [-1, *_cuts(pops, k), len(mine) - 1]
        for a, b in zip(bounds, bounds[1:], strict=False):
            part = mine[a + 1:b + 1]
            name = _npu_name([m.name for m in part])
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
