"""The suspect-month rule and the measures registry against the real police.uk files.
The textbook cases and the registry's own consistency are in tests/unit/test_quality_and_measures.py."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

from etl.lake.quality import suspect_months
from etl.measures import crime as crime_measures


def test_devon_and_cornwall_november_2022_is_suspect(shared_data: Path) -> None:
    """A third party reports D&C's Nov-Dec 2022 police.uk files as missing/partial
    (PROVENANCE.md): 7,741 records against ~10,000 in the months before."""
    f = shared_data / "police_uk_derived" / "devon_cornwall" / "lsoa_monthly_counts_2022-05_2025-04.csv"
    totals: Counter[date] = Counter()
    with open(f, newline="") as fh:
        for row in csv.DictReader(fh):
            totals[date.fromisoformat(row["month"] + "-01")] += int(row["crime_count"])
    assert totals[date(2022, 11, 1)] == 7741
    flags = suspect_months(dict(totals))
    assert flags[date(2022, 11, 1)][1] is True
    assert "below the expected" in flags[date(2022, 11, 1)][2]
    # the first months, judged against all others, are not flagged
    assert flags[date(2022, 5, 1)][1] is False


def test_every_police_uk_category_and_outcome_in_the_real_files_is_known(shared_data: Path) -> None:
    """Counted from the aggregate of every street CSV in the snapshot (41 forces)."""
    f = shared_data / "police_uk_street" / "geoinformation_in_society" / \
        "aggregate_all_forces_2018-10_to_2019-02.csv"
    types, outcomes = set(), set()
    with open(f, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            types.add(row["crime_type"])
            outcomes.add(row["last_outcome_category"])
    assert all(crime_measures.category_id(t) for t in types), types
    # 2007 sanction detections among them: caution, penalty notice, drugs warning, court
    assert "Offender given a caution" in crime_measures.SANCTION_OUTCOMES
    assert "Investigation complete; no suspect identified" not in crime_measures.SANCTION_OUTCOMES
    assert "Local resolution" not in crime_measures.SANCTION_OUTCOMES
    unmapped = outcomes - set(crime_measures.SANCTION_OUTCOMES) - {""}
    assert unmapped <= {
        "Investigation complete; no suspect identified", "Unable to prosecute suspect",
        "Local resolution", "Action to be taken by another organisation",
        "Further investigation is not in the public interest", "Status update unavailable",
        "Formal action is not in the public interest", "Under investigation",
        "Further action is not in the public interest",
    }, unmapped
