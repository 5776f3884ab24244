"""What an input may name (etl/sources/identity.py) and the limits' words (etl/limits.py)."""

from __future__ import annotations

from datetime import date

import pytest

from etl import limits
from etl.sources import identity


@pytest.mark.parametrize(("text", "slug"), [
    ("cheshire", "cheshire"), ("City-Of-London", "city-of-london"), (" DYFED-POWYS ", "dyfed-powys"),
    ("nowhere", None), ("..", None), ("<img src=x onerror=alert(1)>", None), ("btp", None), ("", None),
])
def test_a_file_name_force_is_a_known_slug_in_any_case(text: str, slug: str | None) -> None:
    assert identity.known_slug(text) == slug


def test_a_column_force_may_be_a_slug_or_a_name_but_never_made_up() -> None:
    assert identity.column_force("Cheshire Constabulary") == "cheshire"
    assert identity.column_force("Devon & Cornwall Police") == "devon-and-cornwall"
    assert identity.column_force("KENT") == "kent"
    assert identity.column_force("Atlantis Police") is None


def test_the_month_window_is_1990_to_the_current_month() -> None:
    today = date(2026, 12, 6)
    assert identity.month_problem(date(1990, 1, 1), today) is None
    assert identity.month_problem(date(2026, 12, 1), today) is None
    assert "1990-01 to 2026-12" in identity.month_problem(date(1989, 12, 1), today)
    assert "2027-01 is outside" in identity.month_problem(date(2027, 1, 1), today)
    assert identity.next_month(date(2026, 12, 31)) == date(2027, 1, 1)


def test_messages_quote_bad_values_briefly() -> None:
    assert identity.shown("x" * 500) == repr("x" * 60 + "…")
    assert "'nowhere'" in identity.force_problem("nowhere", "the file name")


def test_limits_read_the_environment_and_ignore_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LG_MAX_ROWS_PER_FILE", "1_000")
    assert limits.max_rows_per_file() == 1000
    monkeypatch.setenv("LG_MAX_ROWS_PER_FILE", "-5")
    assert limits.max_rows_per_file() == 20_000_000
    assert limits.size(1 << 30) == "1.0 GiB" and limits.size(400 << 20) == "400 MiB"
    assert limits.staging_config(100 << 20, "/x")["memory_limit"] == "456MB"
