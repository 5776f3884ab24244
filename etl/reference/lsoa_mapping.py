"""LSOA -> NPU -> BCU: a force's own file, or the default built from ONS geography.

The default (etl/reference/areas.py) serves every force of England and Wales: BCUs are its
local authorities (Cheshire's are the HMIC report's three 2007 BCUs), NPUs are groups of
whole MSOAs inside an authority named after them ("Warrington 001-007"), and every unit has
its 2011 Census population. A force's own file replaces it as soon as one is supplied.
"""

from __future__ import annotations

import csv
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.errors import InputRefused
from etl.reference import areas
from etl.sources.identity import column_force, force_problem
from etl.units import slugify

# A national load's LSOA update asks each default assignment for its BCU and NPU ids a few
# times (dim_lsoa, then dim_unit): ~210,000 slugs of a few hundred distinct names, ~0.5 s of
# one core at the end of a load. The slug of a name never changes: cached per process.
_slug = cache(slugify)

DEFAULT_NOTE = ("default hierarchy: NPUs are groups of 2011 MSOAs inside a local authority "
                "(etl/reference/areas.py); population: 2011 Census usual residents")


@dataclass(frozen=True)
class Assignment:
    force_id: str
    lsoa_code: str
    bcu: str          # display name
    npu: str          # display name
    # the default hierarchy's units carry their 2011 Census population and households
    bcu_population: int | None = None
    bcu_households: int | None = None
    npu_population: int | None = None
    npu_households: int | None = None

    @property
    def bcu_id(self) -> str:
        return f"{self.force_id}/{_slug(self.bcu)}"

    @property
    def npu_id(self) -> str:
        return f"{self.bcu_id}/{_slug(self.npu)}"


def default_assignment(force_id: str, lsoa_code: str, lsoa_name: str | None = None) -> Assignment | None:
    """The default NPU of an LSOA; None = not assigned (outside the force's local
    authorities, or a force the lookup does not know). The name is not needed: codes join."""
    h = areas.hierarchy(force_id)
    if h is None or lsoa_code not in h.lsoa_npu:
        return None
    bcu, npu = h.lsoa_npu[lsoa_code]
    b, n = h.bcus[bcu], h.npus[npu]
    return Assignment(force_id, lsoa_code, bcu, npu, b.population, b.households,
                      n.population, n.households)


def warm_defaults(forces: Iterable[str]) -> threading.Thread:
    """Build these forces' default hierarchies (areas.hierarchy, cached per process) on a
    thread of their own, started now: a load starts this while its files are read, so the
    LSOA update at its end (one core, after the last batch) finds them built. A national
    year's 43 forces took ~0.5 s of CPU there (reading the national LSOA and MSOA tables,
    then each force's NPUs). The caller joins the thread before the update: a hierarchy
    asked for while the thread builds it would be built twice (the cache holds one). An
    error here is left for the update to meet again, in its own thread, and report."""
    wanted = sorted(set(forces))

    def build() -> None:
        for force_id in wanted:
            try:
                areas.hierarchy(force_id)
            except Exception:  # noqa: BLE001 - raised again by the update's own call
                return

    thread = threading.Thread(target=build, name="default-hierarchies", daemon=True)
    thread.start()
    return thread


def read_hierarchy_file(path: Path, default_forces: list[str]) -> list[Assignment]:
    """CSV with columns lsoa_code, npu, bcu and optionally force (docs/input-formats.md)."""
    origin = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputRefused(origin, "no such file") from None
    except UnicodeDecodeError as exc:
        raise InputRefused(origin, f"not UTF-8 text (byte offset {exc.start})") from None
    reader = csv.DictReader(text.splitlines())
    fields = reader.fieldnames or []
    missing = [c for c in ("lsoa_code", "npu", "bcu") if c not in fields]
    if missing:
        raise InputRefused(origin, "missing column(s): " + ", ".join(missing), 1)
    out: list[Assignment] = []
    seen: dict[tuple[str, str], tuple[int, str, str]] = {}  # (force, LSOA) -> (line, bcu, npu)
    for row in reader:
        line = reader.line_num
        code, npu, bcu = (row.get("lsoa_code") or "").strip(), (row["npu"] or "").strip(), \
            (row["bcu"] or "").strip()
        if not code or not npu or not bcu:
            raise InputRefused(origin, "blank lsoa_code, npu or bcu", line)
        if "force" in fields and (row.get("force") or "").strip():
            force = column_force(row["force"])  # units only ever under a force the product knows
            if force is None:
                raise InputRefused(origin, force_problem(row["force"], "the force column", by_name=True),
                                   line)
            forces = [force]
        else:
            forces = default_forces
        if not forces:
            raise InputRefused(origin, "no force column and no force in this load", line)
        for f in forces:
            first = seen.setdefault((f, code), (line, bcu, npu))
            if (slugify(first[1]), slugify(first[2])) != (slugify(bcu), slugify(npu)):
                raise InputRefused(
                    origin, f"LSOA {code} of {f} is mapped to NPU {first[2]!r} ({first[1]}) on line "
                    f"{first[0]} and to NPU {npu!r} ({bcu}) on line {line}: an LSOA belongs to one NPU",
                    line)
        out.extend(Assignment(f, code, bcu, npu) for f in forces)
    if not out:
        raise InputRefused(origin, "no data rows: the file holds a header only")
    return out
