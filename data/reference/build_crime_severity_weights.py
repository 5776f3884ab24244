"""Build the shipped ONS Crime Severity Score weights (crime harm) from ../shared/data.

Not run at run time: the two CSVs beside this script are committed, and the product reads
them (copied into every warehouse version as ref_crime_severity and
ref_crime_severity_category). Same input gives byte-identical output:

    python data/reference/build_crime_severity_weights.py [SHARED_DATA_DIR]

Input: reference/ons_crime_severity_weights_policeuk_join.csv (PROVENANCE.md section 8): 134
rows, one per (Home Office offence code, data.police.uk sub-class); the ONS weight is per
offence code, and five homicide rows share one code, so the offence table keeps one row per
distinct code (128).

Why the category weight is the median of the category's offence weights: data.police.uk rows
carry only a category, and a category holds offences whose weights differ a thousand-fold
(Violence and sexual offences: 7.5 for assault without injury on a constable to 7,973 for
homicide). The honest weight for a category would be the mean of its offences' weights, each
weighted by how often that offence is recorded; no offence-level counts are shipped, so that
mean cannot be formed here. The median of the distinct codes' weights is the stand-in: it is
reproducible from the shipped table and not dragged up by the one or two gravest offences as
an unweighted mean is (Violence: mean 1,822, median 1,025). It still overstates categories
whose commonest offences are the least severe (most violence recorded is assault without
injury, 13.5), so every figure built from it is labelled approximate, with the category's
range beside it. A force holding offence-level counts can replace the `weight` column of the
category file with count-weighted means; nothing else changes.
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from etl.measures.crime import category_id  # noqa: E402

SOURCE = "reference/ons_crime_severity_weights_policeuk_join.csv"
ATTRIBUTION = [
    "ONS Crime Severity Score weights by Home Office offence code, with the data.police.uk category",
    "each offence falls in. Source: ONS Crime Severity Score (experimental statistics) as joined by",
    "M-O-P-D/Police-Supply-Demand data/policeuk-ons-code-join.csv (see ../shared/data/PROVENANCE.md s8).",
    "Contains ONS data (c) Crown copyright and database right. Open Government Licence v3.0.",
    "Built by data/reference/build_crime_severity_weights.py; weight = ONS_SEVERITY_weight as published.",
]


def _rows(shared: Path) -> list[dict[str, str]]:
    with (shared / SOURCE).open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def build(shared: Path, out: Path = HERE) -> None:
    offences: dict[str, tuple[str, float, str]] = {}
    for r in _rows(shared):
        code = r["ONS_SEVERITY_code"].strip()
        cat = category_id(r["POLICE_UK_CAT_MAP_category"].strip())
        if cat is None:
            raise SystemExit(f"unknown police.uk category {r['POLICE_UK_CAT_MAP_category']!r}")
        weight = float(r["ONS_SEVERITY_weight"])
        seen = offences.get(code)
        if seen and (seen[1] != weight or seen[2] != cat):
            raise SystemExit(f"offence code {code} has two weights or categories")
        offences[code] = (r["ONS_SEVERITY_offence"].strip(), weight, cat)
    with (out / "crime_severity_weights.csv").open("w", newline="", encoding="utf-8") as fh:
        fh.write("".join(f"# {line}\n" for line in ATTRIBUTION))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "offence", "weight", "category"])
        for code, (offence, weight, cat) in sorted(offences.items(), key=lambda kv: (kv[1][2], kv[0])):
            w.writerow([code, offence, repr(weight), cat])
    by_cat: dict[str, list[float]] = {}
    for _, weight, cat in offences.values():
        by_cat.setdefault(cat, []).append(weight)
    with (out / "crime_severity_category_weights.csv").open("w", newline="", encoding="utf-8") as fh:
        fh.write("".join(f"# {line}\n" for line in ATTRIBUTION[:4]))
        fh.write("# Category weight for rows with no offence code (data.police.uk): the MEDIAN of the\n"
                 "# category's distinct offence weights, an approximation (see this file's build script).\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["category", "weight", "codes", "min_weight", "max_weight", "basis"])
        for cat in sorted(by_cat):
            ws = by_cat[cat]
            w.writerow([cat, repr(statistics.median(ws)), len(ws), repr(min(ws)),
                        repr(max(ws)), "median of offence weights"])


if __name__ == "__main__":
    default = HERE.parents[1].parent / "shared" / "data"
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
