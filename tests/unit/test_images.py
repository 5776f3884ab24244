"""File names for chart downloads: unit, measure and period, nothing unsafe in a file name."""

from __future__ import annotations

from datetime import date

from dashboard.images import image_name, slug


def test_image_name_reads_unit_measure_and_months() -> None:
    name = image_name("cheshire-western", "burglary", date(2007, 4, 1), date(2008, 3, 31), "svg")
    assert name == "cheshire-western_burglary_2007-04_2008-03.svg"


def test_image_name_slugs_unsafe_characters() -> None:
    name = image_name("Western BCU/../x", "Crime: all*", date(2007, 4, 5), date(2007, 4, 20), ".PNG")
    assert name == "western-bcu-x_crime-all_2007-04_2007-04.png"
    assert all(c.isalnum() or c in "-_." for c in name)


def test_slug_never_empty() -> None:
    assert slug("***") == "chart"
