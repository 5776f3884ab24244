"""Which cubes a load's partitions rebuild, and the full rebuild from the lake.

Each dataset's declaration (etl/sources/*) says how its rows are cubed (`Dataset.cube`); the
measures registry says which measures each dataset feeds. Nothing here is per source.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

import duckdb

from etl.cubes import crime, measures
from etl.cubes.crime import Partition
from etl.limits import batch_rows
from etl.measures.model import Measure
from etl.measures.registry import MEASURES
from etl.sources.registry import DATASETS

CUBE_TABLES = ("cube_crime_month", "cube_crime_day", "cube_measure_month", "cube_measure_day",
               "month_status")


def _measures_of(dataset: str) -> list[Measure]:
    return [m for m in MEASURES.values() if m.dataset == dataset]


# The chains run at once only for a load of at most this many batches of rows in all
# (LG_LOAD_BATCH_ROWS, default 1 M: the 5-year demo's 2.9 M rows, any month's load). Both
# share the version's memory limit, and the national loads (6.25 M rows a year, built in
# pieces within that limit: etl/cubes/crime.py `_chunks`) were measured one chain after the
# other; they stay so.
CONCURRENT_ROWS = 4


def _rows(con: duckdb.DuckDBPyConnection, touched: dict[str, set[Partition]],
          records: set[Partition]) -> int:
    """The lake rows of the partitions the cube build reads (every dataset)."""
    wanted = {(d, *p) for d, parts in touched.items() for p in parts}
    wanted |= {("crime", *p) for p in records}
    return sum(rows for *key, rows in con.execute(
        "SELECT dataset, source, force_id, month, rows FROM lake_manifest").fetchall()
        if tuple(key) in wanted)


def rebuild(con: duckdb.DuckDBPyConnection, lake: str, touched: dict[str, set[Partition]],
            remapped_forces: set[str]) -> None:
    """Rebuild every cube a load affected, then the completeness picture for crime.

    Two chains that share no table row, run at once: on `con`, the crime chain (the category
    cubes of the crime records, then the crime measures, then month_status, each reading the
    one before); on a second connection to the same version, in a thread, the force-level
    aggregates (category cube rows of other forces, which the crime measures also read: the
    crime chain waits for them before its measures) and then the service datasets and
    comparators, each from its own lake rows. Much of either chain is statements DuckDB runs
    on one core (ordered inserts of millions of cube rows: the 5-year demo's cubes took ~8.8
    s of CPU in ~6.4 s of wall, 1.4 cores, one after another), so the other chain fills the
    idle core. Only for loads of at most CONCURRENT_ROWS batches; bigger ones run the chains
    one after the other. Each statement commits on its own as before, and the version is published only
    once both chains are done, so a load stays atomic; a failure in either fails the load.
    The rows are the same; only the order in which the two chains' inserts land in a table
    differs (each insert's rows stay together, in their own order)."""
    kinds = {d: DATASETS[d].cube for d in touched}
    records = set().union(*(p for d, p in touched.items() if kinds[d] == "crime"))
    # Outcomes can arrive months after the crime, and a new LSOA -> NPU mapping moves
    # history: both rebuild the crime months of the forces concerned.
    outcome_forces = {f for d, p in touched.items() if kinds[d] == "outcome" for _, f, _ in p}
    records |= crime.crime_partitions_of(con, outcome_forces, "police_uk")
    records |= crime.crime_partitions_of(con, set(remapped_forces))
    aggregates: set[Partition] = set().union(
        *(p for d, p in touched.items() if kinds[d] == "force_month"))

    def force_level(c: duckdb.DuckDBPyConnection) -> None:
        for dataset, parts in touched.items():
            if kinds[dataset] == "force_month":
                crime.rebuild_force_month(c, lake, sorted(parts))

    def service(c: duckdb.DuckDBPyConnection) -> None:
        for dataset, parts in touched.items():
            if kinds[dataset] == "measures":
                measures.rebuild_dataset(c, lake, sorted(parts), DATASETS[dataset],
                                         _measures_of(dataset))
            elif kinds[dataset] == "comparators":
                measures.rebuild_comparators(c, lake, sorted(parts), DATASETS[dataset])

    def crimes(c: duckdb.DuckDBPyConnection, force_level_done: Callable[[], object]) -> None:
        crime.rebuild_crime(c, lake, sorted(records))
        force_level_done()
        measures.rebuild_crime_measures(c, sorted(records | aggregates), _measures_of("crime"))
        series = {(s, f) for s, f, _ in records | aggregates}
        crime.refresh_month_status(c, sorted(series))

    if _rows(con, touched, records) > CONCURRENT_ROWS * batch_rows():
        # one after the other, in the order measured at national scale
        crimes(con, lambda: (force_level(con), service(con)))
        return
    # A cursor is its own connection to the same database: its temp tables (each builder's
    # _svc_*, _touched) are its own, and it sees everything committed on `con` so far. One
    # worker: the aggregates, then the service datasets, in that order on that cursor.
    with con.cursor() as cur, ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(force_level, cur)
        other = pool.submit(service, cur)
        try:
            crimes(con, done.result)
        finally:
            wait([done, other])  # never leave the thread writing once this returns or raises
        other.result()


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
