"""What an input may name: a force the product knows, a month in a plausible window.

Every reader asks here before it trusts a force named in a file name or a column, or a month,
so that `2024-01-nowhere-street.csv` cannot create a force called 'nowhere', a file named for
Cheshire cannot carry Merseyside's rows, and a month of 2099 cannot make every default view
jump to the end of the century. `etl.lake.gate` applies the same rules to every staged row of
every source just before anything is written, as the last line of defence.
"""

from __future__ import annotations

from datetime import date

from etl.reference.forces import FORCE_BY_SLUG, FORCES, force_slug

EARLIEST_MONTH = date(1990, 1, 1)  # before any force's digital records (and data.police.uk's 2010)
_SHOWN = 60  # the most characters of a bad value a message repeats


def shown(value: object) -> str:
    """A value as a message quotes it: repr, cut to a readable length."""
    text = str(value)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def latest_month(today: date | None = None) -> date:
    """The current month: no input can hold a later one."""
    today = today or date.today()
    return date(today.year, today.month, 1)


def next_month(today: date | None = None) -> date:
    """The first day after the latest month that can be loaded."""
    m = latest_month(today)
    return date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def month_window_text(today: date | None = None) -> str:
    return f"{EARLIEST_MONTH:%Y-%m} to {latest_month(today):%Y-%m}"


def month_problem(month: date, today: date | None = None) -> str | None:
    """Why a month cannot be loaded, or None: before 1990 or after the current month."""
    if EARLIEST_MONTH <= date(month.year, month.month, 1) <= latest_month(today):
        return None
    return (f"month {month:%Y-%m} is outside the months that can be loaded "
            f"({month_window_text(today)}): a date typed wrongly?")


def known_slug(text: str) -> str | None:
    """The canonical slug of a force named by its slug in any case ('City-Of-London' ->
    'city-of-london'), else None."""
    slug = text.strip().lower()
    return slug if slug in FORCE_BY_SLUG else None


def force_problem(text: str, where: str, *, by_name: bool = False) -> str:
    """The sentence refusing an unknown force named in `where` ('the file name')."""
    names = ", or by the force's name" if by_name else ""
    return (f"{where} names force {shown(text)}, which is not one of the {len(FORCES)} forces of "
            "England and Wales (written as data.police.uk writes them, such as 'cheshire' or "
            f"'city-of-london'{names}; the list is in etl/reference/forces.py)")


def column_force(text: str) -> str | None:
    """A force named in a column: its slug (any case) or its name ('Cheshire Constabulary'),
    else None. Never a new force made up from the text."""
    return known_slug(text) or force_slug(text.strip())
