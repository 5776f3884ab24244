"""Early warning's pure parts (dashboard/analysis/exception_scan.py): the seasonal index and the
polarity-aware judgement. The charts on demo warehouses are in tests/integration/test_early_warning.py."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dashboard.analysis import exception_scan as ew
from dashboard.periods import add_months


def test_seasonal_index_recovers_a_known_profile() -> None:
    profile = 1 + 0.2 * np.cos(2 * np.pi * (np.arange(12) - 6) / 12)   # peak in July
    profile /= profile.mean()
    months = [add_months(date(2003, 4, 1), i) for i in range(60)]
    lam = np.array([20_000 * profile[m.month - 1] for m in months])   # large: the method, not the noise
    counts = np.random.default_rng(7).poisson(lam).astype(float)
    idx = ew.seasonal_index(months, counts)
    assert idx is not None and idx.mean() == pytest.approx(1.0)
    np.testing.assert_allclose(idx, profile, atol=0.02)
    assert ew.seasonal_index(months[:20], counts[:20]) is None       # too short
    gappy = counts.copy()
    gappy[::10] = np.nan                                               # no 24-month stretch
    assert ew.seasonal_index(months, gappy) is None


def test_judgement_is_polarity_aware() -> None:
    assert ew.judgement("above", "down") == "concern"        # burglary up
    assert ew.judgement("above", "up") == "improvement"      # detections up: good news
    assert ew.judgement("down", "up") == "concern"
    assert ew.judgement("up", "neutral") == "neutral"
