"""Every measure, collected once: the crime measures and each source's own (etl/sources/).

Built by a function from declarations, never by one module mutating another's dict at
import time, so the list is the same whatever was imported first.
"""

from __future__ import annotations

from etl.measures.crime import crime_measures
from etl.measures.model import Measure
from etl.sources.registry import SOURCES


def all_measures() -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    for m in [*crime_measures(), *(m for s in SOURCES for m in s.measures())]:
        if m.id in out:
            raise ValueError(f"measure {m.id!r} is declared twice")
        out[m.id] = m
    return out


MEASURES: dict[str, Measure] = all_measures()


def get(measure_id: str) -> Measure:
    try:
        return MEASURES[measure_id]
    except KeyError:
        raise KeyError(
            f"unknown measure {measure_id!r}; known: {', '.join(sorted(MEASURES))}"
        ) from None
