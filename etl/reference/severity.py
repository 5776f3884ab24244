"""The ONS Crime Severity Score weights shipped in data/reference/ (crime harm).

Read here for the demo's offence codes and for checks; the cubes read the same files from the
warehouse (ref_crime_severity, ref_crime_severity_category, copied by etl/reference/tables.py),
so a changed file takes effect with the next version. How the category weights are formed, and
why they are approximate: data/reference/build_crime_severity_weights.py and
docs/harm-and-maps.md.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from etl.reference.tables import data_dir

OFFENCE_FILE = "reference/crime_severity_weights.csv"
CATEGORY_FILE = "reference/crime_severity_category_weights.csv"
ATTRIBUTION = ("Crime harm: ONS Crime Severity Score weights. Contains ONS data © Crown copyright "
               "and database right, Open Government Licence v3.0.")


@dataclass(frozen=True)
class Offence:
    code: str
    offence: str
    weight: float
    category: str


@dataclass(frozen=True)
class CategoryWeight:
    category: str
    weight: float        # used for a crime with no offence code (approximate)
    codes: int           # how many offence codes the category holds
    min_weight: float
    max_weight: float
    basis: str


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


@cache
def offences(directory: Path | None = None) -> tuple[Offence, ...]:
    rows = _rows((directory or data_dir()) / OFFENCE_FILE)
    return tuple(Offence(r["code"], r["offence"], float(r["weight"]), r["category"]) for r in rows)


@cache
def category_weights(directory: Path | None = None) -> dict[str, CategoryWeight]:
    rows = _rows((directory or data_dir()) / CATEGORY_FILE)
    return {r["category"]: CategoryWeight(r["category"], float(r["weight"]), int(r["codes"]),
                                          float(r["min_weight"]), float(r["max_weight"]), r["basis"])
            for r in rows}
