"""Pure rules: the suspect-month rule on a real series, and the measures registry."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from pathlib import Path

from etl import measures
from etl.quality import suspect_months


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


def test_suspect_rule_textbook_cases() -> None:
    flat = {date(2020, m, 1): 1000 for m in range(1, 13)}
    assert not any(v[1] for v in suspect_months(flat).values())
    flat[date(2020, 7, 1)] = 799  # just over 20% below the median of 1,000
    out = suspect_months(flat)
    assert [m for m, v in out.items() if v[1]] == [date(2020, 7, 1)]
    assert out[date(2020, 7, 1)][0] == 1000.0
    flat[date(2020, 7, 1)] = 800  # exactly 20% below is not "far below"
    assert not any(v[1] for v in suspect_months(flat).values())
    assert suspect_months({date(2020, 1, 1): 5, date(2020, 2, 1): 1}) == {
        date(2020, 1, 1): (None, False, None), date(2020, 2, 1): (None, False, None)}


def test_registry_entries_are_complete_and_consistent() -> None:
    assert {"total_crime", "crime_per_1000", "asb_incidents", "sanction_detections",
            "sanction_detection_rate"} <= set(measures.MEASURES)
    for m in measures.MEASURES.values():
        assert m.polarity in ("up", "down", "neutral")
        if getattr(m, "dataset", "crime") != "crime":
            continue  # service measures: checked in tests/test_services_load.py
        assert m.model in ("poisson", "binomial")
        assert m.categories and set(m.categories) <= set(measures.CATEGORY_LABELS)
        if m.model == "binomial":
            assert m.per == "crimes" and m.denominator
    assert "anti-social-behaviour" not in measures.get("total_crime").categories
    assert measures.get("asb_incidents").categories == ("anti-social-behaviour",)
    assert measures.get("sanction_detection_rate").polarity == "up"


def test_every_police_uk_category_and_outcome_in_the_real_files_is_known(shared_data: Path) -> None:
    """Counted from the aggregate of every street CSV in the snapshot (41 forces)."""
    f = shared_data / "police_uk_street" / "geoinformation_in_society" / \
        "aggregate_all_forces_2018-10_to_2019-02.csv"
    types, outcomes = set(), set()
    with open(f, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            types.add(row["crime_type"])
            outcomes.add(row["last_outcome_category"])
    assert all(measures.category_id(t) for t in types), types
    # 2007 sanction detections among them: caution, penalty notice, drugs warning, court
    assert "Offender given a caution" in measures.SANCTION_OUTCOMES
    assert "Investigation complete; no suspect identified" not in measures.SANCTION_OUTCOMES
    assert "Local resolution" not in measures.SANCTION_OUTCOMES
    unmapped = outcomes - set(measures.SANCTION_OUTCOMES) - {""}
    assert unmapped <= {
        "Investigation complete; no suspect identified", "Unable to prosecute suspect",
        "Local resolution", "Action to be taken by another organisation",
        "Further investigation is not in the public interest", "Status update unavailable",
        "Formal action is not in the public interest", "Under investigation",
        "Further action is not in the public interest",
    }, unmapped
