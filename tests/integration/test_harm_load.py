"""Crime harm from a force's own extract: crimes with a Home Office offence code are weighted
exactly, others by their category's approximate weight; expected sums are computed here with
the csv module from the shipped weights files, not with the code under test."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from etl.lake.ingest import load_crimes
from etl.lake.warehouse import connect_readonly
from tests.support import EXAMPLES

REPO = Path(__file__).resolve().parents[2]
CATEGORY = {
    "burglary": "burglary", "violence and sexual offences": "violent-crime",
    "vehicle-crime": "vehicle-crime", "vehicle crime": "vehicle-crime",
    "shoplifting": "shoplifting", "drugs": "drugs",
    "criminal damage and arson": "criminal-damage-arson", "robbery": "robbery",
    "public order": "public-order", "other theft": "other-theft",
    "theft from the person": "theft-from-the-person", "bicycle theft": "bicycle-theft",
    "possession of weapons": "possession-of-weapons", "other crime": "other-crime",
}


def _table(name: str) -> dict[str, float]:
    text = (REPO / "data" / "reference" / name).read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#"))))
    key = "code" if "code" in (rows.fieldnames or []) else "category"
    return {r[key]: float(r["weight"]) for r in rows}


def test_offence_codes_weight_crimes_exactly_and_the_rest_by_category(tmp_path: Path) -> None:
    offence, category = _table("crime_severity_weights.csv"), _table("crime_severity_category_weights.csv")
    with open(EXAMPLES / "crimes.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    # codes by hand: a burglary coded residential burglary, a violence row coded assault with
    # injury, one row with a code the table does not know, the rest blank
    codes = {0: "28E", 1: "8n", 2: "ZZ9"}
    path = tmp_path / "crimes.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, [*rows[0].keys(), "offence_code"])
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**r, "offence_code": codes.get(i, "")})
    assert CATEGORY[rows[0]["offence_group"].lower()] == "burglary"
    assert CATEGORY[rows[1]["offence_group"].lower()] == "violent-crime"
    harm = harm2 = 0.0
    approx = 0
    for i, r in enumerate(rows):
        code = codes.get(i, "").upper()
        wt = offence.get(code) or category[CATEGORY[r["offence_group"].lower()]]
        approx += code not in offence
        harm, harm2 = harm + wt, harm2 + wt * wt
    link = tmp_path / "warehouse.duckdb"
    report = load_crimes(link, str(path))
    said = " ".join(report.notes)
    assert "2 crime(s) carry a Home Office offence_code" in said
    assert "'ZZ9' (line 4)" in said and "weighted by their category's approximate weight" in said
    con = connect_readonly(link)
    try:
        got = con.execute("SELECT sum(harm), sum(harm2), sum(harm_approx), sum(n) FROM cube_crime_month "
                          "WHERE level = 'force'").fetchone()
        assert got[3] == len(rows)
        # the cubes keep harm to the hundredth per row (etl/cubes/crime.py)
        assert got[0] == pytest.approx(harm, abs=0.1) and got[1] == pytest.approx(harm2) and got[2] == approx
        num, num2 = con.execute(
            "SELECT sum(num), sum(num2) FROM cube_measure_month WHERE measure_id = 'crime_harm' "
            "AND level = 'force'").fetchone()
        assert num == pytest.approx(harm, abs=0.1) and num2 == pytest.approx(harm2)
        # the weights are in the version as reference tables, with their attribution
        comments = con.execute("SELECT comments FROM ref_files WHERE name LIKE '%severity%'").fetchall()
        assert len(comments) == 2 and all("Crown copyright" in c[0] for c in comments)
        assert con.execute("SELECT count(*) FROM ref_crime_severity").fetchone()[0] == 128
    finally:
        con.close()
