"""The only list of sources. A new source is one module declaring a `SOURCE` and one line
here; the CLI's load commands, the lake datasets, the cube builders, the measures registry
and the demo all come from this list.

(It lives here rather than in etl/sources/__init__.py so that importing any one source
module never runs the whole list: no import cycle through the package.)
"""

from __future__ import annotations

from etl import hierarchy
from etl.sources import calls, crimes, dv, missing, national, rso, satisfaction, workforce
from etl.sources.base import Dataset, Source
from etl.sources.police_uk import source as police_uk

SOURCES: tuple[Source, ...] = (
    police_uk.SOURCE,
    crimes.SOURCE,
    satisfaction.SOURCE,
    calls.SOURCE,
    dv.SOURCE,
    missing.SOURCE,
    rso.SOURCE,
    workforce.SOURCE,
    national.SOURCE,
)
REGISTRY: dict[str, Source] = {s.name: s for s in SOURCES}


def _datasets() -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    for source in SOURCES:
        for ds in source.datasets:
            if ds.name in out and out[ds.name] is not ds:
                raise ValueError(f"dataset {ds.name!r} is declared twice, differently")
            out[ds.name] = ds
    return out


# Every dataset the lake holds: name -> its declaration (columns, cube kind, day column).
DATASETS: dict[str, Dataset] = _datasets()


def source(name: str) -> Source:
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(REGISTRY)}") from None


def recorded_down_to(dataset: str | Dataset) -> str:
    """The lowest level (etl/hierarchy.py id) at which a dataset's rows say anything, derived
    from its declared columns: 'officer' for crimes (team and officer in charge), 'npu' for
    the service datasets that name only an NPU (missing persons, domestic abuse, RSOs,
    satisfaction, calls, workforce), 'force' for stop-and-search and other forces' aggregates.
    Pages show a unit below it as "not recorded at <level> level", never as 0."""
    ds = dataset if isinstance(dataset, Dataset) else DATASETS[dataset]
    return hierarchy.recorded_down_to_columns(ds.columns)
