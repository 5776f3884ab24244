"""Real forces: the default hierarchy (NPUs of MSOAs with 2011 Census populations) and crime
harm on the real data.police.uk files.

Expected values come from outside the code under test: Cheshire's 2011 population is the
published 2011 Census figure quoted in issue 12 (1,027,709; PROVENANCE.md section 9), and the
harm totals are recomputed here with the csv and statistics modules from the raw street files
and the ONS weights file in ../shared/data.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from etl.lake.commit import LoadReport
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import connect_readonly
from tests.support.warehouses import street_files

CHESHIRE_2011 = 1_027_709
# data.police.uk crime types -> the weights file's POLICE_UK_CAT_MAP_category, by hand
TYPE_TO_WEIGHTS_CATEGORY = {
    "Bicycle theft": "Bicycle Theft", "Burglary": "Burglary",
    "Criminal damage and arson": "Criminal Damage and Arson", "Drugs": "Drugs",
    "Other crime": "Other Crime", "Other theft": "Other Theft",
    "Possession of weapons": "Possession of Weapons", "Public order": "Public Order",
    "Robbery": "Robbery", "Shoplifting": "Shoplifting",
    "Theft from the person": "Theft from the Person", "Vehicle crime": "Vehicle Crime",
    "Violence and sexual offences": "Violence and Sexual Offences",
}


def category_weights(shared: Path) -> dict[str, float]:
    """The median of each category's distinct offence codes' weights, from the source file."""
    codes: dict[str, dict[str, float]] = defaultdict(dict)
    with open(shared / "reference" / "ons_crime_severity_weights_policeuk_join.csv", newline="",
              encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            codes[r["POLICE_UK_CAT_MAP_category"]][r["ONS_SEVERITY_code"]] = float(r["ONS_SEVERITY_weight"])
    return {cat: statistics.median(ws.values()) for cat, ws in codes.items()}


def units(link: Path, force: str) -> list[tuple]:
    con = connect_readonly(link)
    try:
        return con.execute("SELECT level, unit_id, name, population, households FROM dim_unit "
                           "WHERE force_id = ? ORDER BY level, unit_id", [force]).fetchall()
    finally:
        con.close()


def test_cheshire_bcus_and_npus_carry_the_2011_census_population(real_link: Path) -> None:
    rows = units(real_link, "cheshire")
    bcus = {r[1]: r for r in rows if r[0] == "bcu"}
    npus = [r for r in rows if r[0] == "npu"]
    assert sorted(bcus) == ["cheshire/eastern", "cheshire/northern", "cheshire/western"]
    assert sum(r[3] for r in bcus.values()) == CHESHIRE_2011
    assert sum(r[3] for r in npus) == CHESHIRE_2011
    # the four authorities' published 2011 figures (PROVENANCE.md section 9)
    assert bcus["cheshire/eastern"][3] == 370_127 and bcus["cheshire/western"][3] == 329_608
    assert bcus["cheshire/northern"][3] == 125_746 + 202_228
    assert sum(r[4] for r in bcus.values()) == 439_335          # households
    assert len(npus) == 18 and all(r[3] and r[3] > 30_000 for r in npus)
    # named after their authority and where they lie in it (etl/reference/areas.py)
    assert {"cheshire/northern/halton-east", "cheshire/northern/halton-west"} <= {r[1] for r in npus}
    assert all(r[2].startswith(("Cheshire East: ", "Cheshire West and Chester: ", "Halton: ", "Warrington: "))
               for r in npus)


def test_every_force_in_the_shared_data_gets_npus_with_populations(
        real_load: tuple[Path, LoadReport], shared_data: Path, tmp_path: Path) -> None:
    link, _ = real_load
    forces = sorted({f.name[8:-len("-street.csv")] for f in street_files(shared_data)})
    assert len(forces) == 9
    # the City of London's own 24 months (a force of one local authority), two of them
    city = tmp_path / "city"
    city.mkdir()
    for f in sorted((shared_data / "police_uk_street" / "city_of_london_24m").glob("*.csv"))[:2]:
        (city / f.name).write_bytes(f.read_bytes())
    city_link = tmp_path / "w.duckdb"
    assert load_police_uk(city_link, [city]).refused == []
    for force, at in [*((f, link) for f in forces), ("city-of-london", city_link)]:
        rows = units(at, force)
        npus = [r for r in rows if r[0] == "npu"]
        bcus = [r for r in rows if r[0] == "bcu"]
        assert npus and bcus, force
        assert all(r[3] and r[3] > 0 and r[4] for r in npus + bcus), force
        assert sum(r[3] for r in npus) == sum(r[3] for r in bcus), force
    city_npus = [r for r in units(city_link, "city-of-london") if r[0] == "npu"]
    assert [(r[2], r[3]) for r in city_npus] == [("City of London", 7_375)]


def test_cheshire_harm_equals_an_independent_computation(real_link: Path, shared_data: Path) -> None:
    weights = category_weights(shared_data)
    assert min(weights) and round(weights["Robbery"], 4) == 799.6289
    expected: dict[str, float] = defaultdict(float)
    for f in street_files(shared_data):
        if "-cheshire-" not in f.name:
            continue
        seen: set[str] = set()
        with open(f, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                if r["Crime type"] == "Anti-social behaviour" or r["Crime ID"] in seen:
                    continue
                seen.add(r["Crime ID"])
                expected[r["Month"]] += weights[TYPE_TO_WEIGHTS_CATEGORY[r["Crime type"]]]
    con = connect_readonly(real_link)
    try:
        got = {m.strftime("%Y-%m"): (num, approx) for m, num, approx in con.execute(
            """SELECT m.month, m.num, (SELECT sum(harm_approx) FROM cube_crime_month c
                    WHERE c.unit_id = 'cheshire' AND c.month = m.month AND c.source = 'police_uk')
               FROM cube_measure_month m WHERE m.measure_id = 'crime_harm' AND m.unit_id = 'cheshire'
               AND m.source = 'police_uk'""").fetchall()}
        per_1000 = con.execute(
            "SELECT num, den FROM cube_measure_month WHERE measure_id = 'crime_harm_per_1000' "
            "AND level = 'npu' AND force_id = 'cheshire' LIMIT 1").fetchone()
    finally:
        con.close()
    assert sorted(got) == sorted(expected) and len(got) == 5
    for month, total in expected.items():
        assert got[month][0] == pytest.approx(total, abs=0.1), month   # cubes keep harm to 0.01
        assert got[month][1] > 0   # every police.uk crime is weighted approximately
    assert per_1000[1] and per_1000[1] > 30_000   # NPU harm rates have a population


def test_every_msoa_of_the_shared_street_files_is_drawn(shared_data: Path) -> None:
    """Every LSOA the real files name lies in an MSOA the shipped GeoJSON draws, by the ONS
    lookup in ../shared/data (read here with the csv module)."""
    import gzip

    from etl.reference import geo

    lsoa_msoa: dict[str, str] = {}
    with gzip.open(shared_data / "lookups" / "oa_lsoa_msoa_lad_gb_2011.csv.gz", "rt", newline="",
                   encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            lsoa_msoa[r["LSOA"]] = r["MSOA"]
    named: set[str] = set()
    files = [*street_files(shared_data),
             *sorted((shared_data / "police_uk_street" / "city_of_london_24m").glob("*.csv"))]
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            named |= {r["LSOA code"] for r in csv.DictReader(fh) if r["LSOA code"]}
    msoas = {lsoa_msoa[c] for c in named if c in lsoa_msoa}
    assert len(msoas) > 1000 and msoas <= set(geo.boundaries())
    # the City of London's 2024 files name 23 LSOAs of the 2021 geography (new codes, none in
    # the 2011 lookup): their 48 rows count for the force as not assigned to an NPU
    assert len({c for c in named if c not in lsoa_msoa}) == 23
