"""Crime harm: the compound Poisson interval and test, and the shipped weights tables."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from dashboard.analysis import metrics, stats
from etl.measures.registry import MEASURES
from etl.reference import severity

REPO = Path(__file__).resolve().parents[2]


def test_equal_weights_give_the_garwood_interval_scaled() -> None:
    # Hand-worked: weights 2, 2, 2 -> S = 6, V = 12, n_eff = 36 / 12 = 3 crimes of weight 2.
    # Garwood 95% interval for a count of 3 (published tables, e.g. Ulm 1990): 0.6187 to 8.7673,
    # so the harm interval is 1.2374 to 17.5345.
    lo, hi = stats.weighted_count_interval(6.0, 12.0)
    assert lo == pytest.approx(1.2374, abs=1e-3) and hi == pytest.approx(17.5345, abs=1e-3)


def test_unequal_weights_widen_the_interval_against_a_count_of_the_same_total() -> None:
    # One robbery (799.63) and one cannabis possession (1.77): S = 801.40, V = 639,409.6,
    # n_eff = 801.40^2 / 639,409.6 = 1.0044 effective crimes of weight 797.87.
    s, v = 799.63 + 1.77, 799.63**2 + 1.77**2
    lo, hi = stats.weighted_count_interval(s, v)
    k = v / s
    assert k == pytest.approx(797.87, abs=0.01)
    # lower = k * chi2.ppf(0.025, 2 * 1.0044) / 2, upper = k * chi2.ppf(0.975, 2 * 2.0044) / 2;
    # for n_eff = 1 exactly these are 0.0253 and 5.5716 (Garwood, count 1): about 20 and 4,445
    assert 15 < lo < 25 and 4400 < hi < 4500
    assert hi - lo > 10 * (stats.poisson_interval(801)[1] - stats.poisson_interval(801)[0])


def test_no_harm_has_no_upper_limit_and_bad_input_is_refused() -> None:
    lo, hi = stats.weighted_count_interval(0.0, 0.0)
    assert lo == 0.0 and math.isnan(hi)
    with pytest.raises(ValueError):
        stats.weighted_count_interval(-1.0, 1.0)


def test_compare_weighted_by_hand() -> None:
    # S1 = 1,200 (V1 = 90,000), S0 = 1,000 (V0 = 70,000): z = 200 / sqrt(160,000) = 0.5,
    # two-sided p = 2 * (1 - Phi(0.5)) = 0.6171
    ch = stats.compare_weighted(1200.0, 90000.0, 1000.0, 70000.0)
    assert ch.p_value == pytest.approx(0.6171, abs=1e-4) and not ch.significant
    ch = stats.compare_weighted(2000.0, 90000.0, 1000.0, 70000.0)   # z = 2.5
    assert ch.p_value == pytest.approx(0.01242, abs=1e-4) and ch.direction == "up"


def test_harm_measures_value_and_interval_through_metrics() -> None:
    harm, per_1000 = MEASURES["crime_harm"], MEASURES["crime_harm_per_1000"]
    assert metrics.value(harm, 6.0, math.nan, 12.0) == 6.0
    assert metrics.interval(harm, 6.0, math.nan, 12.0) == pytest.approx((1.2374, 17.5345), abs=1e-3)
    # per 1,000 of a population of 2,000: value 3.0, interval halved
    assert metrics.value(per_1000, 6.0, 2000.0, 12.0) == pytest.approx(3.0)
    assert metrics.interval(per_1000, 6.0, 2000.0, 12.0) == pytest.approx((0.6187, 8.7673), abs=1e-3)
    comp = metrics.compare(harm, 2000.0, math.nan, 1000.0, math.nan, 90000.0, 70000.0)
    assert comp.verdict == "worse" and comp.change is not None


def test_weights_tables_match_the_source_and_carry_the_attribution() -> None:
    offences = {o.code: o for o in severity.offences()}
    assert len(offences) == 128   # 134 rows, five homicide rows share one code, ...
    assert offences["34B"].weight == pytest.approx(799.6288702)   # robbery of personal property
    assert offences["92E"].weight == pytest.approx(1.770623478)   # possession of cannabis
    assert offences["19C"].category == "violent-crime"
    cats = severity.category_weights()
    v = cats["violent-crime"]
    assert (round(v.min_weight, 1), round(v.max_weight, 0)) == (7.5, 7973)
    # the median of the category's distinct codes, recomputed here from the offence table
    ws = sorted(o.weight for o in offences.values() if o.category == "violent-crime")
    assert v.weight == pytest.approx((ws[len(ws) // 2 - 1] + ws[len(ws) // 2]) / 2)
    for name in (severity.OFFENCE_FILE, severity.CATEGORY_FILE):
        text = (REPO / "data" / name).read_text()
        assert "Contains ONS data (c) Crown copyright and database right" in text
        assert "Open Government Licence v3.0" in text
        rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))
        assert all(len(r) == len(rows[0]) for r in rows)


def test_shares_and_basis_of_a_breakdown() -> None:
    import pandas as pd

    from dashboard.analysis import harm

    frame = pd.DataFrame({
        "category": ["robbery", "shoplifting"], "n": [1, 9], "harm": [800.0, 90.0],
        "harm2": [640000.0, 900.0], "harm_approx": [0, 9], "weight": [800.0, 10.0],
        "min_weight": [800.0, 10.0], "max_weight": [800.0, 10.0], "codes": [2, 1]})
    out = harm.shares(frame)
    assert out["category"].tolist() == ["robbery", "shoplifting"]
    assert out["harm_share"].round(2).tolist() == [89.89, 10.11]     # 800 / 890, 90 / 890
    assert out["crime_share"].tolist() == [10.0, 90.0]
    assert out["weighted_by"].tolist() == ["offence", "category"]
    how = harm.basis(frame)
    assert how.approximate and how.approximate_crimes == 9 and how.exact_crimes == 1
    assert how.text().startswith("Partly approximate: 9 of 10 crimes")
    assert harm.basis(frame.assign(harm_approx=[1, 9])).text().startswith("Approximate: all 10")
    assert not harm.basis(frame.assign(harm_approx=[0, 0])).approximate


def test_harm_is_formatted_to_fit() -> None:
    harm, per_1000 = MEASURES["crime_harm"], MEASURES["crime_harm_per_1000"]
    assert metrics.fmt(harm, 1_608_941.2) == "1,609k"
    assert metrics.fmt_interval(harm, 1_486_780.4, 1_738_454.9) == "1,487k to 1,738k"
    assert metrics.fmt(harm, 52_345.6) == "52,346"
    assert metrics.fmt(per_1000, 27_740.3) == "27,740"
