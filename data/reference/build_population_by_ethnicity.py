"""Build the shipped 2011 Census population-by-ethnic-group reference files.

Not run at run time: the two CSVs beside this script are committed, and the product reads
them. Run it again only to rebuild them (same inputs give byte-identical outputs):

    python data/reference/build_population_by_ethnicity.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to ../shared/data beside the repository. Inputs (both ONS 2011
Census table KS201EW ethnic group counts, as republished by Resistance Lab; see
../shared/data/PROVENANCE.md section 4):

- lookups/force_census2011_ethnicity.csv: one row per police force area (PFA16NM);
- lookups/la_csp_pfa_2016_with_census2011_ethnicity.csv: one row per local authority with its
  police force area; local-authority codes are taken from lookups/oa_lsoa_msoa_lad_gb_2011.csv.gz
  (the 2011 codes, matched by name), because the Resistance Lab file carries names only.

Why only the five top-level groups: the stop-and-search measures compare searches of people
in one of the census's five groups (White, Mixed, Asian, Black, Other) with that group's
resident population, so the numerator and denominator must group people the same way. The
census puts 'White and Black Caribbean' etc. under Mixed and 'Gypsy or Irish Traveller' under
White, and etl/sources/stop_search.py derives a search's ethnic group the same way.

Contains ONS data (c) Crown copyright and database right. Open Government Licence v3.0.
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from etl.reference import force_slug  # noqa: E402

FORCE_FILE = "population_by_ethnicity_census2011.csv"
LA_FILE = "population_by_ethnicity_census2011_la.csv"
GROUPS = {
    "all": "Ethnic Group: All categories: Ethnic group; measures: Value",
    "white": "Ethnic Group: White; measures: Value",
    "black": "Ethnic Group: Black; measures: Value",
    "asian": "Ethnic Group: Asian; measures: Value",
    "mixed": "Ethnic Group: Mixed; measures: Value",
    "other": "Ethnic Group: Other; measures: Value",
}
# Resistance Lab's LA names that the 2011 OA lookup spells differently.
LA_NAME_ALIASES = {"Vale of Glamorgan": "The Vale of Glamorgan"}
CHESHIRE_2011 = 1_027_709  # published 2011 Census usual residents of the Cheshire PFA


def _counts(row: dict[str, str]) -> dict[str, int]:
    out = {k: int(row[col]) for k, col in GROUPS.items()}
    parts = sum(v for k, v in out.items() if k != "all")
    if parts != out["all"]:
        raise SystemExit(f"groups sum to {parts}, not the total {out['all']}: {row}")
    return out


def _slug(pfa_name: str) -> str:
    slug = force_slug(pfa_name)
    if slug is None:
        raise SystemExit(f"no data.police.uk force slug for police force area {pfa_name!r}")
    return slug


def _la_codes(shared: Path) -> dict[str, str]:
    codes: dict[str, set[str]] = {}
    with gzip.open(shared / "lookups" / "oa_lsoa_msoa_lad_gb_2011.csv.gz", "rt", encoding="utf-8",
                   newline="") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["LAD_NAME"], set()).add(row["LAD"])
    clash = {k: v for k, v in codes.items() if len(v) > 1}
    if clash:
        raise SystemExit(f"local authority names with more than one 2011 code: {clash}")
    return {k: next(iter(v)) for k, v in codes.items()}


def build(shared: Path, out_dir: Path) -> tuple[list[dict], list[dict]]:
    with open(shared / "lookups" / "force_census2011_ethnicity.csv", encoding="utf-8-sig",
              newline="") as fh:
        forces = [{"force_id": _slug(r["PFA16NM"]), **_counts(r)} for r in csv.DictReader(fh)]
    forces.sort(key=lambda r: r["force_id"])
    if len({r["force_id"] for r in forces}) != len(forces) or len(forces) != 43:
        raise SystemExit(f"expected 43 distinct forces, got {len(forces)}")

    codes = _la_codes(shared)
    las = []
    with open(shared / "lookups" / "la_csp_pfa_2016_with_census2011_ethnicity.csv",
              encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            # 'geography' and LAD16NM differ for two LAs (Folkestone and Hythe / Shepway,
            # Rhondda Cynon Taff / Taf); the 2011 lookup knows one of each pair.
            candidates = [LA_NAME_ALIASES.get(n, n) for n in (r["geography"], r["LAD16NM"])]
            name = next((n for n in candidates if n in codes), None)
            if name is None:
                raise SystemExit(f"no 2011 local authority code for {candidates}")
            code = codes[name]
            las.append({"la_code": code, "la_name": name, "force_id": _slug(r["PFA16NM"]),
                        **_counts(r)})
    las.sort(key=lambda r: r["la_code"])
    if len({r["la_code"] for r in las}) != len(las):
        raise SystemExit("a local authority code appears twice")

    # The local authorities must add up to their force, group by group.
    for f in forces:
        mine = [r for r in las if r["force_id"] == f["force_id"]]
        for k in GROUPS:
            total = sum(r[k] for r in mine)
            if total != f[k]:
                raise SystemExit(f"{f['force_id']} {k}: LAs sum to {total}, force file says {f[k]}")
    cheshire = next(r for r in forces if r["force_id"] == "cheshire")
    if cheshire["all"] != CHESHIRE_2011:
        raise SystemExit(f"Cheshire total {cheshire['all']} is not {CHESHIRE_2011}")

    _write(out_dir / FORCE_FILE, ["force_id", *GROUPS], forces)
    _write(out_dir / LA_FILE, ["la_code", "la_name", "force_id", *GROUPS], las)
    return forces, las


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "data"
    forces, las = build(shared, HERE)
    print(f"wrote {len(forces)} forces to {HERE / FORCE_FILE} and {len(las)} local authorities "
          f"to {HERE / LA_FILE}")
