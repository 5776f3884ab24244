"""Month arithmetic, once: every module that steps through months uses this."""

from __future__ import annotations

from datetime import date


def add_months(d: date, k: int) -> date:
    """The first day of the month `k` months after `d`'s month (k may be negative)."""
    total = d.year * 12 + d.month - 1 + k
    return date(total // 12, total % 12 + 1, 1)
