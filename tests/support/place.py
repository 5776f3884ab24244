"""A small data.police.uk street file for the concentration tests, loaded by the real loader.

Two months of Cheshire crimes spread unevenly over 40 LSOAs of Warrington and Halton (the
Northern BCU) and 20 of Cheshire West and Chester, with repeat map points, ASB rows (never
crime), blank LSOAs and a Merseyside LSOA (outside the area). Deterministic (seeded).
"""

from __future__ import annotations

import csv
import gzip
import random
from pathlib import Path

import pandas as pd

from etl.lake.ingest import load_police_uk
from etl.sources.police_uk.reader import STREET_HEADER

MONTHS = ("2019-01", "2019-02")
HALTON, WARRINGTON, CWAC, CHESHIRE_EAST = "E06000006", "E06000007", "E06000050", "E06000049"
CATEGORIES = ("Burglary", "Violence and sexual offences", "Shoplifting", "Criminal damage and arson",
              "Vehicle crime", "Robbery")
OUTSIDE_LSOA = "E01006512"   # Liverpool 036A (Merseyside)


def area_lsoas(repo: Path, la_codes: tuple[str, ...]) -> list[str]:
    """Every 2011 LSOA of these local authorities, read from the shipped tables with the csv
    module (not the project's code)."""
    def rows(path: Path) -> list[dict[str, str]]:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(line for line in fh if not line.startswith("#")))

    msoa_la = {r["msoa_code"]: r["la_code"] for r in rows(repo / "data/reference/msoa_2011_ew.csv")}
    return sorted(r["lsoa_code"] for r in rows(repo / "data/reference/lsoa_2011_ew.csv.gz")
                  if msoa_la.get(r["msoa_code"]) in la_codes)


def write_street_files(repo: Path, folder: Path, seed: int = 12) -> list[Path]:
    rng = random.Random(seed)
    northern = area_lsoas(repo, (HALTON, WARRINGTON))[:40]
    western = area_lsoas(repo, (CWAC,))[:20]
    places = northern + western
    # uneven: LSOA i gets weight 1 / (i + 1) (a Zipf law), so a few hold much of the crime
    weights = [1 / (i + 1) for i in range(len(places))]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for month in MONTHS:
        path = folder / f"{month}-cheshire-street.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(STREET_HEADER)
            for i in range(300):
                lsoa = rng.choices(places, weights)[0]
                k = places.index(lsoa)
                # 3 map points per LSOA: repeats are common
                point = rng.randrange(3)
                lon, lat = f"{-2.6 + k * 0.01 + point * 0.001:.6f}", f"{53.3 + k * 0.005:.6f}"
                w.writerow([f"c{month}-{i}", month, "Cheshire Constabulary", "Cheshire Constabulary",
                            lon, lat, f"On or near Street {k}-{point}", lsoa, "", rng.choice(CATEGORIES),
                            "Under investigation", ""])
            for _ in range(40):   # ASB: incidents, never crime
                lsoa = rng.choice(places)
                w.writerow(["", month, "Cheshire Constabulary", "Cheshire Constabulary", "-2.5", "53.2",
                            "On or near ASB Road", lsoa, "", "Anti-social behaviour", "", ""])
            for i in range(5):    # no LSOA, no location
                w.writerow([f"b{month}-{i}", month, "Cheshire Constabulary", "Cheshire Constabulary",
                            "", "", "No location", "", "", "Burglary", "Under investigation", ""])
            for i in range(3):    # an LSOA outside the force's area
                w.writerow([f"o{month}-{i}", month, "Cheshire Constabulary", "Cheshire Constabulary",
                            "-2.9", "53.4", "On or near Dock Road", OUTSIDE_LSOA, "", "Robbery",
                            "Under investigation", ""])
        paths.append(path)
    return paths


def build(repo: Path, directory: Path) -> tuple[Path, list[Path]]:
    """The warehouse the loader builds from the files (link, files)."""
    files = write_street_files(repo, directory / "in")
    link = directory / "warehouse.duckdb"
    report = load_police_uk(link, files)
    assert report.committed and not report.refused, report
    return link, files


def weights(repo: Path) -> dict[str, float]:
    """The ONS crime severity weight of each street-file crime type this module writes, read
    from the shipped reference file (the expected harm is counted from it, not from our query)."""
    table = pd.read_csv(repo / "data/reference/crime_severity_category_weights.csv", comment="#")
    labels = {"burglary": "Burglary", "violent-crime": "Violence and sexual offences",
              "shoplifting": "Shoplifting", "criminal-damage-arson": "Criminal damage and arson",
              "vehicle-crime": "Vehicle crime", "robbery": "Robbery"}
    pairs = zip(table["category"], table["weight"], strict=True)
    return {labels[c]: float(w) for c, w in pairs if c in labels}
