"""Which cubes a load's partitions rebuild, and the full rebuild from the lake.

Each dataset's declaration (etl/sources/*) says how its rows are cubed (`Dataset.cube`); the
measures registry says which measures each dataset feeds. Nothing here is per source.
"""

from __future__ import annotations

import duckdb

from etl.cubes import crime, measures
from etl.cubes.crime import Partition
from etl.measures.model import Measure
from etl.measures.registry import MEASURES
from etl.sources.registry import DATASETS

CUBE_TABLES = ("cube_crime_month", "cube_crime_day", "cube_measure_month", "cube_measure_day",
               "month_status")


def _measures_of(dataset: str) -> list[Measure]:
    return [m for m in MEASURES.values() if m.dataset == dataset]


def rebuild(con: duckdb.DuckDBPyConnection, lake: str, touched: dict[str, set[Partition]],
            remapped_forces: set[str]) -> None:
    """Rebuild every cube a load affected, then the completeness picture for crime."""
    kinds = {d: DATASETS[d].cube for d in touched}
    records = set().union(*(p for d, p in touched.items() if kinds[d] == "crime"))
    # Outcomes can arrive months after the crime, and a new LSOA -> NPU mapping moves
    # history: both rebuild the crime months of the forces concerned.
    outcome_forces = {f for d, p in touched.items() if kinds[d] == "outcome" for _, f, _ in p}
    records |= crime.crime_partitions_of(con, outcome_forces, "police_uk")
    records |= crime.crime_partitions_of(con, set(remapped_forces))
    crime.rebuild_crime(con, lake, sorted(records))
    aggregates: set[Partition] = set()
    for dataset, parts in touched.items():
        if kinds[dataset] == "force_month":
            crime.rebuild_force_month(con, lake, sorted(parts))
            aggregates |= parts
        elif kinds[dataset] == "measures":
            measures.rebuild_dataset(con, lake, sorted(parts), DATASETS[dataset],
                                     _measures_of(dataset))
        elif kinds[dataset] == "comparators":
            measures.rebuild_comparators(con, lake, sorted(parts), DATASETS[dataset])
    measures.rebuild_crime_measures(con, sorted(records | aggregates), _measures_of("crime"))
    series = {(s, f) for s, f, _ in records | aggregates}
    crime.refresh_month_status(con, sorted(series))


def rebuild_all(con: duckdb.DuckDBPyConnection, lake: str) -> None:
    """Every cube from nothing but the lake manifest, dim_unit and dim_lsoa: what
    `python -m etl rebuild` and a load on an older schema run. Same numbers as the loads
    that built them, because it is the same code over the same partitions."""
    for table in CUBE_TABLES:
        con.execute(f"DELETE FROM {table}")
    # the data-quality rows the cube builders write are written again with the cubes
    con.execute("DELETE FROM dq_log WHERE kind IN ('unknown_unit', 'crime_link', 'officer_link')")
    touched: dict[str, set[Partition]] = {}
    for dataset, source, force_id, month in con.execute(
            "SELECT dataset, source, force_id, month FROM lake_manifest ORDER BY ALL").fetchall():
        if dataset in DATASETS:
            touched.setdefault(dataset, set()).add((source, force_id, month))
    rebuild(con, lake, touched, set())
