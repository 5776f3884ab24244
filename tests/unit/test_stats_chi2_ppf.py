"""The count intervals' chi-squared quantile without scipy's per-call machinery
(stats._chi2_ppf): the same doubles as scipy.stats.chi2.ppf, the oracle here, bit for bit."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats as sps

from dashboard.analysis import stats


def _garwood(k: int, conf: float) -> tuple[float, float]:
    """The interval as poisson_interval computed it with scipy's ppf (the formula of its doc)."""
    a = 1.0 - conf
    lower = 0.0 if k == 0 else float(sps.chi2.ppf(a / 2.0, 2 * k) / 2.0)
    return lower, float(sps.chi2.ppf(1.0 - a / 2.0, 2 * k + 2) / 2.0)


@pytest.mark.parametrize("conf", [0.95, 0.998, 0.8])
def test_poisson_interval_equals_scipy_exactly(conf: float) -> None:
    rng = random.Random(7)
    ks = [*range(0, 400), *(rng.randint(400, 10**7) for _ in range(400)), 10**12]
    for k in ks:
        assert stats.poisson_interval(k, conf) == _garwood(k, conf), k


def test_known_garwood_values() -> None:
    # k = 0: (0, 3.6889) and k = 10: (4.7954, 18.3904), the published 95% table (Garwood 1936)
    lo, hi = stats.poisson_interval(0)
    assert lo == 0.0 and round(hi, 4) == 3.6889
    lo, hi = stats.poisson_interval(10)
    assert (round(lo, 4), round(hi, 4)) == (4.7954, 18.3904)


def test_weighted_interval_equals_scipy_exactly() -> None:
    rng = random.Random(11)
    a = 1.0 - 0.95
    for _ in range(1500):
        total = rng.choice([rng.uniform(0.001, 1e7), float(rng.randint(1, 5000)), rng.uniform(1e-9, 1e-3)])
        total_sq = total * total / rng.choice([rng.uniform(0.01, 5000.0), 1.0, 1e-6, 0.3])
        n_eff, k = total * total / total_sq, total_sq / total
        expected = (float(k * sps.chi2.ppf(a / 2.0, 2.0 * n_eff) / 2.0),
                    float(k * sps.chi2.ppf(1.0 - a / 2.0, 2.0 * n_eff + 2.0) / 2.0))
        assert stats.weighted_count_interval(total, total_sq) == expected, (total, total_sq)


@pytest.mark.parametrize("q, df", [(0.0, 4.0), (1.0, 4.0), (0.5, 0.0), (0.5, -1.0), (0.5, math.nan),
                                   (-0.1, 3.0), (0.025, 2.0**60)])
def test_outside_the_fast_bounds_is_scipy(q: float, df: float) -> None:
    expected = float(sps.chi2.ppf(q, df))
    got = stats._chi2_ppf(q, df)
    assert got == expected or (math.isnan(got) and math.isnan(expected))
