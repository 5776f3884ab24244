"""Pure rules: the suspect-month rule on textbook cases, and the measures registry (the same on
the real police.uk files: tests/realdata/test_quality_and_measures.py)."""

from __future__ import annotations

from datetime import date

from etl.lake.quality import suspect_months
from etl.measures import crime as crime_measures
from etl.measures import registry as measures


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
            continue  # service measures: checked in tests/unit/test_services_load.py
        assert m.model in ("poisson", "binomial", "weighted")
        assert m.categories and set(m.categories) <= set(crime_measures.CATEGORY_LABELS)
        if m.model == "binomial":
            assert m.per == "crimes" and m.denominator
    assert "anti-social-behaviour" not in measures.get("total_crime").categories
    assert measures.get("asb_incidents").categories == ("anti-social-behaviour",)
    assert measures.get("sanction_detection_rate").polarity == "up"


