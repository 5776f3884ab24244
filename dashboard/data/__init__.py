"""The data layer: the only way pages, analysis and the API reach the warehouse.

    facade.py     DataAccess: every public read, the public version-keyed cache, the request
                  (version + actor)
    model.py      Unit, Source, View: what a view is about
    access.py     the one seam deciding what an actor may see
    cache.py      the version-keyed LRU behind DataAccess.cached
    warehouse.py  the read-only connection to the live warehouse version
    queries/      every SQL statement, grouped by the tables it reads

The levels themselves (force > BCU > NPU > team > officer) are etl.hierarchy's.

Import what callers need from here (`from dashboard.data import DataAccess, View`).
"""

from __future__ import annotations

from dashboard.data.access import OFFICER_OFF, Actor
from dashboard.data.facade import MAP_POINTS, RECORDS_CSV_LIMIT, DataAccess
from dashboard.data.model import (
    DEFAULT_MEASURE,
    SCORECARD_COLUMNS,
    SERIES_COLUMNS,
    SOURCE_LABELS,
    SOURCE_PREFERENCE,
    VALUES_COLUMNS,
    GrainUnavailable,
    ReferenceData,
    Source,
    Unit,
    View,
)
from dashboard.data.warehouse import WarehouseReader

__all__ = [
    "DEFAULT_MEASURE",
    "MAP_POINTS",
    "OFFICER_OFF",
    "RECORDS_CSV_LIMIT",
    "SCORECARD_COLUMNS",
    "SERIES_COLUMNS",
    "SOURCE_LABELS",
    "SOURCE_PREFERENCE",
    "VALUES_COLUMNS",
    "Actor",
    "DataAccess",
    "GrainUnavailable",
    "ReferenceData",
    "Source",
    "Unit",
    "View",
    "WarehouseReader",
]
