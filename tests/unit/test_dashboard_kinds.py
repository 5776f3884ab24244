"""dashboard/analysis/kinds.py: the dashboard's reading of every measure kind (pure, no warehouse)."""

from __future__ import annotations

import math

from dashboard.analysis import kinds, metrics
from etl.measures.kinds import KINDS
from etl.measures.registry import MEASURES


def test_every_measure_has_a_known_kind_and_chart() -> None:
    for m in MEASURES.values():
        assert m.kind in KINDS
        assert kinds.chart(m) in ("c", "u", "p", "xmr")
        assert kinds.target_kind(m) in ("count", "rate", "none")


def test_rate_per_head_takes_the_units_population_whatever_the_rows_say() -> None:
    m = MEASURES["crime_per_1000"]
    assert kinds.per_population(m) and not kinds.exposure_is_denominator(m)
    assert kinds.denominator(m, 2000.0, 24000.0) == 2000.0
    assert math.isnan(kinds.denominator(m, None, 24000.0))
    assert metrics.value(m, 30.0, 2000.0) == 15.0  # per 1,000 in the period, not annualised


def test_shares_proportions_and_counts() -> None:
    sdr, burglary = MEASURES["sanction_detection_rate"], MEASURES["crime_burglary"]
    assert kinds.is_proportion(sdr) and kinds.exposure_is_denominator(sdr)
    assert kinds.proportion_of(sdr) == "detections of recorded crimes"
    assert not kinds.has_denominator(burglary) and kinds.denominator_text(burglary) == "none (a count)"
    assert math.isnan(kinds.denominator(burglary, 1000.0, 5.0))
    assert kinds.per_word(sdr) == "crimes" and kinds.per_word(burglary) == "none"


def test_a_rate_ratio_is_shown_as_no_value_rather_than_a_wrong_one() -> None:
    m = next(m for m in MEASURES.values() if m.kind == "rate_ratio")
    assert not kinds.valued(m) and kinds.target_kind(m) == "none"
    assert math.isnan(metrics.value(m, 10.0, 100.0))
    assert all(math.isnan(x) for x in metrics.interval(m, 10.0, 100.0, 5.0))
