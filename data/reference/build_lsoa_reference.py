"""Build the shipped small-area reference for the default hierarchy of real forces.

Not run at run time: the files beside this script are committed and the ETL reads them
(etl/reference/areas.py). Same inputs give byte-identical outputs:

    python data/reference/build_lsoa_reference.py [SHARED_DATA_DIR]

Inputs (../shared/data/PROVENANCE.md sections 8 and 9; ONS, OGL v3):
- lookups/oa_lsoa_msoa_lad_gb_2011.csv.gz: output area -> 2011 LSOA -> MSOA -> local authority;
- lookups/lsoa_2011_population_census2011_qs101ew_census-atlas.csv: 2011 Census usual residents
  per LSOA (column "0");
- lookups/lsoa_2011_households_census2011_qs406ew_census-atlas.csv: 2011 Census households (column "0");
- lookups/lsoa_2011_names_lad2020_census-atlas.csv: LSOA names ("Halton 007A"), from which an
  MSOA's name is its LSOAs' name without the letter ("Halton 007").

Outputs, England and Wales only (the forces data.police.uk covers), only the columns the
hierarchy needs:
- lsoa_2011_ew.csv.gz: lsoa_code, msoa_code, population, households (34,753 rows);
- msoa_2011_ew.csv: msoa_code, msoa_name, la_code, lon, lat (7,201 rows): the centre ONS gives
  each MSOA in its boundary file (geography/msoa_2011_ew_bsc_v2_shp.zip, fields LONG and LAT,
  read with pyshp), which places the default hierarchy's NPUs on the ground. The local
  authority's name and police force area are in population_by_ethnicity_census2011_la.csv.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ("# 2011 LSOAs of England and Wales: MSOA, 2011 Census usual residents (QS101EW) and households\n"
          "# (QS406EW). Contains ONS data (c) Crown copyright and database right. Open Government\n"
          "# Licence v3.0. Built by data/reference/build_lsoa_reference.py from ../shared/data/lookups.\n")


def _census(path: Path) -> dict[str, int]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {r["GEOGRAPHY_CODE"]: int(r["0"]) for r in csv.DictReader(fh)}


def build(shared: Path, out: Path = HERE) -> None:
    lookups = shared / "lookups"
    pop = _census(lookups / "lsoa_2011_population_census2011_qs101ew_census-atlas.csv")
    hh = _census(lookups / "lsoa_2011_households_census2011_qs406ew_census-atlas.csv")
    with (lookups / "lsoa_2011_names_lad2020_census-atlas.csv").open(newline="", encoding="utf-8") as fh:
        names = {r["code"]: r["name"] for r in csv.DictReader(fh)}
    lsoa_msoa: dict[str, str] = {}
    msoa_la: dict[str, str] = {}
    with gzip.open(lookups / "oa_lsoa_msoa_lad_gb_2011.csv.gz", "rt", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["LSOA"] in pop:
                lsoa_msoa[r["LSOA"]] = r["MSOA"]
                msoa_la[r["MSOA"]] = r["LAD"]
    if set(lsoa_msoa) != set(pop) or set(pop) != set(hh) or set(pop) != set(names):
        raise SystemExit("the LSOA sets of the inputs differ")
    msoa_name: dict[str, str] = {}
    for lsoa, msoa in lsoa_msoa.items():
        name = names[lsoa][:-1]
        if msoa_name.setdefault(msoa, name) != name:
            raise SystemExit(f"{msoa}: LSOAs of two names ({msoa_name[msoa]!r}, {name!r})")
    import shapefile  # script dependency only (extra 'maps-build'), not needed at run time

    centre = {r["MSOA11CD"]: (float(r["LONG"]), float(r["LAT"])) for r in
              shapefile.Reader(str(shared / "geography" / "msoa_2011_ew_bsc_v2_shp.zip")).iterRecords()}
    if set(centre) != set(msoa_name):
        raise SystemExit("the boundary file's MSOAs differ from the lookup's")
    buf = io.StringIO()
    buf.write(HEADER)
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["lsoa_code", "msoa_code", "population", "households"])
    for lsoa in sorted(lsoa_msoa):
        w.writerow([lsoa, lsoa_msoa[lsoa], pop[lsoa], hh[lsoa]])
    with gzip.GzipFile(out / "lsoa_2011_ew.csv.gz", "wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    with (out / "msoa_2011_ew.csv").open("w", newline="", encoding="utf-8") as fh:
        fh.write(HEADER.replace("2011 LSOAs of England and Wales: MSOA, 2011 Census usual residents "
                                "(QS101EW) and households\n# (QS406EW)",
                                "2011 MSOAs of England and Wales with their name and 2011 local "
                                "authority\n# (ONS lookup)"))
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["msoa_code", "msoa_name", "la_code", "lon", "lat"])
        for msoa in sorted(msoa_name):
            w.writerow([msoa, msoa_name[msoa], msoa_la[msoa], f"{centre[msoa][0]:.5f}",
                        f"{centre[msoa][1]:.5f}"])


if __name__ == "__main__":
    default = HERE.parents[1].parent / "shared" / "data"
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
