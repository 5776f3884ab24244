"""LSOA -> NPU -> BCU: a force's own file, or the shipped default for Cheshire.

The default groups Cheshire's LSOAs by local authority into the three 2007 BCUs (Halton +
Warrington = Northern, Cheshire West and Chester = Western, Cheshire East = Eastern) and by
MSOA number bands into 18 NPUs. The HMIC report does not name the real NPUs, so these are
labelled by their MSOA band: honest, stable, and replaced as soon as a force supplies a file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from etl.errors import InputRefused
from etl.sources.identity import column_force, force_problem
from etl.units import slugify

# local authority -> (BCU, [(first MSOA, last MSOA), ...]) ; one band = one NPU
CHESHIRE_DEFAULT: dict[str, tuple[str, list[tuple[int, int]]]] = {
    "Halton": ("Northern", [(1, 8), (9, 999)]),
    "Warrington": ("Northern", [(1, 9), (10, 18), (19, 999)]),
    "Cheshire West and Chester": (
        "Western", [(1, 7), (8, 14), (15, 21), (22, 28), (29, 35), (36, 999)]),
    "Cheshire East": (
        "Eastern", [(1, 7), (8, 14), (15, 21), (22, 28), (29, 35), (36, 42), (43, 999)]),
}
_LSOA_NAME = re.compile(r"^(.*) (\d{3})[A-Z]$")


@dataclass(frozen=True)
class Assignment:
    force_id: str
    lsoa_code: str
    bcu: str          # display name
    npu: str          # display name

    @property
    def bcu_id(self) -> str:
        return f"{self.force_id}/{slugify(self.bcu)}"

    @property
    def npu_id(self) -> str:
        return f"{self.bcu_id}/{slugify(self.npu)}"


def default_assignment(force_id: str, lsoa_code: str, lsoa_name: str | None) -> Assignment | None:
    """The shipped default (Cheshire only). None = not assigned to an NPU."""
    if force_id != "cheshire" or not lsoa_name:
        return None
    m = _LSOA_NAME.match(lsoa_name)
    if not m:
        return None
    la, msoa = m.group(1), int(m.group(2))
    if la not in CHESHIRE_DEFAULT:
        return None  # geolocated outside the force area
    bcu, bands = CHESHIRE_DEFAULT[la]
    for first, last in bands:
        if first <= msoa <= last:
            label = f"{la} MSOA {first:03d}" + (f"-{last:03d}" if last != 999 else "+")
            return Assignment(force_id, lsoa_code, bcu, label)
    return None


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
