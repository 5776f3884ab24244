"""Children ranked against their parent (dashboard/analysis/ranking.py): by rate, with one
funnel verdict at the 99.8% limits, and the sentence the drill-down's bars are titled by."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard.analysis import ranking, stats
from etl.measures.registry import MEASURES

BURGLARY = MEASURES["crime_burglary"]   # a count, lower is better
SDR = MEASURES["sanction_detection_rate"]  # a proportion, higher is better
CALLS = MEASURES["calls_999"]  # a count, neutral


def _rows(rows: list[tuple[str, float, float | None, float]]) -> pd.DataFrame:
    """(name, numerator, population, denominator) -> rows shaped like DataAccess.values."""
    out = []
    for name, k, pop, den in rows:
        lo, hi = stats.poisson_interval(int(k))
        out.append({"unit_id": f"f/{name.lower()}", "name": name, "level": "bcu", "population": pop,
                    "numerator": k, "denominator": den, "num2": math.nan, "value": k, "lower": lo,
                    "upper": hi})
    return pd.DataFrame(out)


def test_counts_rank_by_rate_per_head_not_by_size() -> None:
    # Eastern has the most burglaries, Western the highest rate; the funnel says Western.
    kids = _rows([("Eastern", 2400, 400_000, math.nan), ("Western", 2300, 300_000, math.nan),
                  ("Northern", 1500, 300_000, math.nan)])
    parent = _rows([("Force", 6200, 1_000_000, math.nan)]).iloc[0]
    ranked = ranking.rank_against(BURGLARY, kids, parent, "the force")
    assert list(ranked["name"]) == ["Western", "Eastern", "Northern"]
    assert list(ranked["vs_parent"]) == ["worse", "same", "better"]
    assert ranked["rate"].iloc[0] == pytest.approx(2300 / 300_000 * 1000)
    assert ranked["rate_lower"].iloc[0] < ranked["rate"].iloc[0] < ranked["rate_upper"].iloc[0]
    assert ranked["parent_rate"].iloc[0] == pytest.approx(6.2)
    # The one test is the funnel around the parent's rate at the child's population.
    assert ranked["position"].iloc[0] == stats.funnel_position(2300, 300_000, 6200 / 1_000_000, "rate")
    title = ranking.headline(BURGLARY, ranked, "the force", "BCU", "BCUs")
    assert title == ("Western is significantly worse than the force: 7.67 per 1,000 against 6.20 "
                     "(99.8% limits)")


def test_no_child_beyond_chance() -> None:
    kids = _rows([("A", 100, 10_000, math.nan), ("B", 98, 10_000, math.nan)])
    parent = _rows([("P", 198, 20_000, math.nan)]).iloc[0]
    ranked = ranking.rank_against(BURGLARY, kids, parent, "Northern BCU")
    assert set(ranked["vs_parent"]) == {"same"}
    assert ranking.headline(BURGLARY, ranked, "Northern BCU", "NPU", "NPUs") == (
        "No NPU differs from Northern BCU beyond chance (99.8% limits); Northern BCU: 9.90 per 1,000")


def test_proportions_lowest_first_when_higher_is_better() -> None:
    kids = _rows([("A", 300, 1, 1000), ("B", 200, 1, 1000), ("C", 260, 1, 1000)])
    kids["value"] = kids["numerator"] / kids["denominator"] * 100
    kids["lower"], kids["upper"] = kids["value"] - 1, kids["value"] + 1
    parent = _rows([("P", 760, 3, 3000)]).iloc[0]
    parent["value"] = 760 / 3000 * 100
    ranked = ranking.rank_against(SDR, kids, parent, "the force")
    assert list(ranked["name"]) == ["B", "C", "A"] and not ranked["per_head"].any()
    assert list(ranked["vs_parent"]) == ["worse", "same", "better"]
    assert ranked["position"].iloc[0] == stats.funnel_position(200, 1000, 760 / 3000, "proportion")
    assert "B is significantly worse than the force: 20.0% against 25.3%" in ranking.headline(
        SDR, ranked, "the force", "BCU", "BCUs")


def test_neutral_measures_say_above_or_below() -> None:
    kids = _rows([("A", 3000, 100_000, math.nan), ("B", 1000, 100_000, math.nan)])
    parent = _rows([("P", 4000, 200_000, math.nan)]).iloc[0]
    ranked = ranking.rank_against(CALLS, kids, parent, "the force")
    assert list(ranked["vs_parent"]) == ["above", "below"]
    assert ranked["vs_parent_text"].iloc[0].startswith("▲ significantly above the force")
    assert ranking.headline(CALLS, ranked, "the force", "BCU", "BCUs").startswith(
        "2 of 2 BCUs are significantly different from the force (99.8% limits); the force: 20.00 per 1,000")


def test_no_population_ranks_by_count_untested() -> None:
    kids = _rows([("CID", 12, None, math.nan), ("Response", 40, None, math.nan)])
    parent = _rows([("NPU", 52, 50_000, math.nan)]).iloc[0]
    ranked = ranking.rank_against(BURGLARY, kids, parent, "Widnes NPU")
    assert list(ranked["name"]) == ["Response", "CID"] and set(ranked["vs_parent"]) == {"none"}
    assert list(ranked["rate"]) == [40, 12]
    assert ranking.headline(BURGLARY, ranked, "Widnes NPU", "team", "teams") == (
        "Response is highest of the 2 teams: 40 crimes; not tested (no population, so no rate per head)")


def test_warning_only_is_not_a_difference() -> None:
    assert ranking.verdict(BURGLARY, "above_95", "the force", "")[0] == "same"
    assert ranking.verdict(BURGLARY, "above_99.8", "the force", "")[0] == "worse"
    assert ranking.verdict(SDR, "above_99.8", "the force", "")[0] == "better"
    assert ranking.verdict(BURGLARY, None, "the force", "not tested (x)") == ("none", "not tested (x)")
