"""Packs without a warehouse: periods, themes, escaping and the SVG sanitiser."""

from __future__ import annotations

from datetime import date

import pytest

from dashboard.data.model import Unit
from dashboard.packs.build import format_of
from dashboard.packs.content import (
    ExceptionItem,
    Pack,
    PackError,
    Section,
    Table,
    clean_svg,
    last_complete_quarter,
    parse_period,
)
from dashboard.packs.render import render_html
from dashboard.packs.themes import thematic
from dashboard.periods import Period

AS_OF = date(2008, 2, 20)


@pytest.mark.parametrize(("text", "start", "end"), [
    (None, date(2007, 4, 1), AS_OF),                         # financial year to date
    ("month", date(2008, 1, 1), date(2008, 1, 31)),
    ("quarter", date(2007, 10, 1), date(2007, 12, 31)),      # the last complete quarter
    ("2006/07", date(2006, 4, 1), date(2007, 3, 31)),
    ("Q4 2006/07", date(2007, 1, 1), date(2007, 3, 31)),
    ("2007-05-01:2007-06-15", date(2007, 5, 1), date(2007, 6, 15)),
])
def test_periods(text: str | None, start: date, end: date) -> None:
    p = parse_period(text, AS_OF)
    assert (p.start, p.end) == (start, end)


def test_quarter_on_a_quarter_end_is_that_quarter() -> None:
    q = last_complete_quarter(date(2008, 3, 31))
    assert (q.start, q.end) == (date(2008, 1, 1), date(2008, 3, 31))


@pytest.mark.parametrize("bad", ["last week", "2007-13-01:2008-01-01", "Q5 2007/08"])
def test_bad_periods_say_what_is_allowed(bad: str) -> None:
    with pytest.raises(PackError, match="period"):
        parse_period(bad, AS_OF)


def test_themes_by_family_alias_and_measure() -> None:
    assert thematic("burglary").measure_ids == ("crime_burglary",)
    assert thematic("Satisfaction").measure_ids[0].startswith("satisfaction_")
    assert thematic("vulnerable").id == "protecting-vulnerable-people"
    with pytest.raises(ValueError, match="unknown theme 'parking'"):
        thematic("parking")


def test_format_follows_the_extension() -> None:
    assert format_of("a/b.PDF") == "pdf" and format_of("x.html") == "html"
    with pytest.raises(PackError, match=r"\.html or \.pdf"):
        format_of("pack.docx")


def test_clean_svg_strips_scripts_handlers_and_links() -> None:
    raw = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
           b'onload="alert(1)" width="10" height="10"><script>alert(2)</script>'
           b'<a xlink:href="https://evil.example/"><text>hi</text></a>'
           b'<use xlink:href="#clip1"/><rect style="fill: url(https://x/y)"/></svg>')
    out = clean_svg(raw, "A chart & <its> finding")
    assert "script" not in out and "onload" not in out and "http" not in out
    assert 'href="#clip1"' in out
    assert "<title>A chart &amp; &lt;its&gt; finding</title>" in out


def _pack(evil: str) -> Pack:
    unit = Unit("x", "force", None, "x", evil, 1.0, True)
    table = Table(evil, ("Unit", evil), ((evil, evil),), (True,))
    section = Section(evil, evil, evil, (), (table,), (evil,))
    return Pack(kind="force", title=evil, subtitle=evil, force=evil, unit=unit,
                period=Period(date(2007, 4, 1), date(2007, 4, 30)), period_label=evil,
                marking=evil, synthetic=True, as_of=evil, source=evil, verdict=evil,
                exceptions=(ExceptionItem(evil, evil, evil, evil),), exceptions_note=evil,
                sections=(section,), actions=section)


def test_every_data_string_is_escaped() -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    html = render_html(_pack(evil))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
