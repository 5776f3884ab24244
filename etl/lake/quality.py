"""Data-quality rules that are statistics, kept pure so they can be tested on any series."""

from __future__ import annotations

from datetime import date
from statistics import median

SUSPECT_TOLERANCE = 0.2   # a month more than 20% below its expected level is suspect
HISTORY_MONTHS = 6


def suspect_months(
    totals: dict[date, int], tolerance: float = SUSPECT_TOLERANCE
) -> dict[date, tuple[float | None, bool, str | None]]:
    """month -> (expected, suspect, reason).

    Expected level: the median of up to 6 preceding months when at least 3 exist (a month
    is judged against the history it follows, so a load of a short new month is caught);
    otherwise the median of all other months (so the first months are judged too). With
    fewer than 2 other months nothing can be said. Data.police.uk counts run to thousands,
    so Poisson noise is a few percent; 20% below is far outside it and outside seasonality.
    """
    months = sorted(totals)
    out: dict[date, tuple[float | None, bool, str | None]] = {}
    for i, m in enumerate(months):
        before = [totals[x] for x in months[max(0, i - HISTORY_MONTHS):i]]
        if len(before) >= 3:
            expected = float(median(before))
            basis = f"median of the {len(before)} preceding months"
        else:
            others = [totals[x] for x in months if x != m]
            if len(others) < 2:
                out[m] = (None, False, None)
                continue
            expected = float(median(others))
            basis = f"median of the other {len(others)} months"
        value = totals[m]
        suspect = expected > 0 and value < (1 - tolerance) * expected
        reason = (
            f"{value:,} records is {100 * (1 - value / expected):.0f}% below the expected "
            f"{expected:,.0f} ({basis})"
            if suspect else None
        )
        out[m] = (expected, suspect, reason)
    return out
