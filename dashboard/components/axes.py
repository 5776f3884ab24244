"""Time-axis ticks that read like a police paper, and never overlap.

Plotly's own date ticks know nothing of the police financial year: a quarter grain gets month
ticks and a financial-year grain "Jul 2003 ... Jan 2007". `ticks()` gives every chart the
same words as the rest of the dashboard (`dashboard.periods`): "Jan 2008" for a month,
"Q1 2007/08" for a quarter, "2007/08" for a financial year, "w/c 2 Apr 2007" for a week and
"2 Apr 2007" for a day, and keeps only every n-th label, n chosen so that the labels fit the
plot's width with a gap. Because the figure is drawn once on the server and then shown at
whatever width the reader's screen or printer gives it, pass the NARROWEST width the chart
must read at (a full-width chart printed on A4 is about 720 px of plot), not the widest.

Usage: ``figure(..., xaxis={"type": "date", **ticks(starts, "quarter", width_px=720)})`` with
the x values the ISO dates of `starts` (as the pages draw them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from dashboard.periods import GRAINS, bucket_label, fy_label, fy_quarter, fy_start

# An upper bound on the width of one character of the charts' 12 px sans-serif font (digits
# and capitals of Helvetica/Arial are 6.7-8 px; the average of a label is below 7), plus the
# space two neighbouring labels must keep between them.
CHAR_PX = 7.0
GAP_PX = 18.0
# What the figure's margins and the y axis take from its width (components.common.figure:
# 60 px left, 20 px right).
MARGIN_PX = 80.0

# The steps a grain may be thinned by, smallest first: whole numbers of the grain that keep
# the labels on the calendar's natural boundaries (quarters, financial years).
STEPS: dict[str, tuple[int, ...]] = {
    "day": (1, 2, 7, 14, 28, 91, 182, 364),
    "week": (1, 2, 4, 13, 26, 52, 104),
    "month": (1, 2, 3, 6, 12, 24, 60, 120),
    "quarter": (1, 2, 4, 8, 20, 40),
    "fy": (1, 2, 5, 10, 20, 50),
}


def label(start: date, grain: str) -> str:
    """The tick text of the bucket starting on `start`: 'Jan 2008', 'Q1 2007/08', '2007/08'
    (a financial year on an axis needs no "FY": every tick is one), 'w/c 2 Apr 2007'."""
    if grain == "fy":
        return fy_label(start)
    return bucket_label(start, grain)


def _position(start: date, grain: str) -> int:
    """The bucket's ordinal on a calendar counted from financial-year boundaries, so that a
    thinned axis keeps Q1s, Aprils and every other or fifth year rather than whatever came
    first in the data."""
    fy = fy_start(start).year
    if grain == "month":
        return fy * 12 + (start.month - 4) % 12
    if grain == "quarter":
        return fy * 4 + fy_quarter(start) - 1
    if grain == "fy":
        return fy
    return start.toordinal()


def _aligned(grain: str, step: int) -> Callable[[int, date], bool]:
    if grain in ("month", "quarter", "fy"):
        return lambda _i, d: _position(d, grain) % step == 0
    return lambda i, _d: i % step == 0


def ticks(starts: Sequence[date], grain: str, width_px: int = 1100) -> dict[str, object]:
    """Plotly x-axis settings (tickmode, tickvals, ticktext, tickangle) for a time axis whose
    points are the buckets starting on `starts` (any order, duplicates ignored) at `grain`
    ('day' | 'week' | 'month' | 'quarter' | 'fy'), thinned so no two labels overlap on a
    chart `width_px` wide. The tick values are the ISO dates of the kept starts.

    Labels stay horizontal (tickangle 0): plotly would otherwise turn crowded labels and push
    them into the axis title and legend.
    """
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}; known: {', '.join(GRAINS)}")
    points = sorted(set(starts))
    if not points:
        return {"tickmode": "array", "tickvals": [], "ticktext": [], "tickangle": 0}
    texts = [label(d, grain) for d in points]
    plot_px = max(float(width_px) - MARGIN_PX, 100.0)
    need_px = max(len(t) for t in texts) * CHAR_PX + GAP_PX
    # Gaps between neighbouring points on the axis: one bucket, whatever the grain (plotly
    # spaces dates by time, and buckets of a grain are near enough equal).
    spans = max(len(points) - 1, 1)
    per_bucket_px = plot_px / spans
    chosen = None
    for step in STEPS[grain]:
        keep = _aligned(grain, step)
        kept = [i for i, d in enumerate(points) if keep(i, d)]
        if len(kept) < 2 and len(points) > 1 and step > 1:
            # nothing or one left at this step: take the first point and every step-th after
            kept = list(range(0, len(points), step))
        gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
        if not gaps or min(gaps) * per_bucket_px >= need_px:
            chosen = kept
            break
    if chosen is None:  # even the widest step crowds: keep the first and last only
        chosen = sorted({0, len(points) - 1}) if plot_px >= 2 * need_px else [0]
    return {
        "tickmode": "array",
        "tickvals": [points[i].isoformat() for i in chosen],
        "ticktext": [texts[i] for i in chosen],
        "tickangle": 0,
    }
