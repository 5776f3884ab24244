"""What the Calls page says about calls that count at force level only: nothing when every call
has its NPU, and otherwise how many, with the abandoned ones (pure: no warehouse)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from dashboard.pages import calls as page
from dashboard.periods import Period

VIEW = SimpleNamespace(period=Period(date(2007, 4, 1), date(2008, 3, 31)))


def test_nothing_is_said_when_every_call_is_placed() -> None:
    assert page.unplaced_text(None, VIEW) is None
    assert page.unplaced_text((0, 431_866, 0, 20_046), VIEW) is None


def test_the_count_share_and_abandoned_calls_are_said() -> None:
    text = page.unplaced_text((1_250, 50_000, 300, 2_000), VIEW)
    assert text is not None
    assert text.startswith("1,250 of the force's 50,000 calls in 2007/08 (2.5%) do not say which NPU")
    assert "; 300 of the 2,000 abandoned calls among them: they count at force level only" in text


def test_no_abandoned_clause_when_every_abandoned_call_is_placed() -> None:
    text = page.unplaced_text((7, 700, 0, 35), VIEW)
    assert text is not None and "abandoned calls among them" not in text and "(1.0%)" in text
