"""Which measures a pack covers.

A force or BCU pack follows the scorecard: its headline measures, one page per measure family
(the scorecard's `domain`: Crime, Detections, Satisfaction...). A thematic pack takes one
family (every measure in it, headline or not) or one measure, across the unit and every unit
below it to NPU: "burglary", "satisfaction".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from etl.measures.registry import MEASURES


@dataclass(frozen=True)
class Theme:
    id: str                      # 'satisfaction', 'crime-burglary'
    title: str                   # 'Satisfaction', 'Burglary'
    measure_ids: tuple[str, ...]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# Short names a PIM uses for a family, beside its slug ('vulnerable' for 'Protecting vulnerable people').
FAMILY_ALIASES = {
    "calls": "call-handling",
    "vulnerable": "protecting-vulnerable-people",
    "ppu": "protecting-vulnerable-people",
}


def families(headline_only: bool) -> list[Theme]:
    """The measure families in registry order, each with its measures."""
    headline: set[str] = set()
    if headline_only:
        # `python -m dashboard`'s help names every family (headline or not), and its users,
        # tokens and audit commands none: only a pack needs the headline list
        from dashboard.analysis.metrics import headline_ids  # lazy: it imports scipy (~1.5 s)

        headline = set(headline_ids())
    out: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for m in MEASURES.values():
        if headline_only and m.id not in headline:
            continue
        key = _slug(m.domain)
        titles[key] = m.domain
        out.setdefault(key, []).append(m.id)
    return [Theme(k, titles[k], tuple(v)) for k, v in out.items()]


def scorecard_themes() -> list[Theme]:
    """A force/BCU pack's pages: the scorecard's headline measures by family."""
    return families(headline_only=True)


def _measure_theme(measure_id: str) -> Theme:
    m = MEASURES[measure_id]
    return Theme(_slug(measure_id.removeprefix("crime_")), m.label, (measure_id,))


def thematic(name: str) -> Theme:
    """The theme a user typed: a family ('satisfaction', 'call-handling', 'vulnerable') or a
    measure ('burglary', 'crime_burglary', 'dv_arrest_rate'). ValueError listing what there is."""
    key = _slug(name)
    key = FAMILY_ALIASES.get(key, key)
    for t in families(headline_only=False):
        if t.id == key:
            return t
    for mid in MEASURES:
        if key in (_slug(mid), _slug(mid.removeprefix("crime_"))):
            return _measure_theme(mid)
    raise ValueError(f"unknown theme {name!r}; a theme is a measure family ({', '.join(choices())}) "
                     "or a measure id (e.g. burglary, dv_arrest_rate)")


def choices() -> list[str]:
    """The families by their slug, for help text and the Packs page."""
    return [t.id for t in families(headline_only=False)]


def measure_choices() -> list[tuple[str, str]]:
    """(theme id, label) for every measure: the Packs page's single-measure themes."""
    return [(_measure_theme(mid).id, MEASURES[mid].label) for mid in MEASURES]
