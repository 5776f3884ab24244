"""Cube builders for the service datasets: one per dataset, registered in etl.cubes.BUILDERS.

Each builder deletes and recomputes the cube_service_month / cube_service_day rows of exactly
the (source, force, month) partitions a load touched, from the lake files lake_manifest lists
for them (read with hive_partitioning = false, as everywhere). Every measure of the dataset in
the registry (etl.measures.MEASURES, `dataset` = this one) is evaluated with its own
aggregate SQL for every unit at every level the rows support: force; BCU (the NPU's parent
in dim_unit, or the BCU a workforce row names); NPU; officer where rows name one. A row whose
NPU or officer the warehouse does not know counts at force level (and its NPU's levels).

The builders also write the data-quality rows of the partitions they build to dq_log, with
the load and file that wrote each partition: 'unknown_unit' (rows naming an NPU, BCU or
officer not in dim_unit), and for survey respondents and domestic incidents 'crime_link'
and 'officer_link' (how many references matched a recorded crime of the same force, any
source, and an officer in dim_unit). etl.services_load uses the same functions to tell the
user at load time.

This module must not import etl.cubes (etl.cubes imports it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from etl.facts_services import SERVICE_DATASETS
from etl.sqlutil import insert_rows

Partition = tuple[str, str, date]  # (source, force_id, month)
Builder = Callable[[duckdb.DuckDBPyConnection, str, list[Partition]], None]


@dataclass(frozen=True)
class Shape:
    noun: str                # what a row is, in messages
    day: str | None = None   # SQL for a row's day; None: no day cube (stocks)


SHAPES: dict[str, Shape] = {
    "satisfaction": Shape("respondents", "interview_date"),
    "calls": Shape("calls", "CAST(received AS DATE)"),
    "dv": Shape("incidents", "CAST(reported AS DATE)"),
    "missing": Shape("reports", "CAST(reported AS DATE)"),
    "rso": Shape("offenders"),
    "workforce": Shape("unit returns"),
}


def _has(dataset: str, column: str) -> bool:
    return column in SERVICE_DATASETS[dataset]


def _measures(dataset: str) -> list:
    from etl.measures import MEASURES

    return [m for m in MEASURES.values() if m.dataset == dataset and m.num_sql]


# --------------------------------------------------------------------------- quality


def unknown_units(con: duckdb.DuckDBPyConnection, relation: str, dataset: str,
                  group: tuple[str, ...] = ("force_id", "month")) -> list[tuple]:
    """Rows naming a unit the warehouse does not know: (*group, what, rows, first line,
    example references) per group and kind of reference."""
    keys = ", ".join(group)
    parts = []
    if _has(dataset, "npu_ref"):
        parts.append(("NPU", "npu_ref", "npu_id IS NULL"))
    if _has(dataset, "unit_ref"):
        parts.append(("unit", "unit_ref", "npu_id IS NULL AND bcu_id IS NULL"))
    if _has(dataset, "officer_ref"):
        parts.append(("officer", "officer_ref", "officer_id IS NULL"))
    out: list[tuple] = []
    for what, ref, missing in parts:
        out += con.execute(
            f"""SELECT {keys}, '{what}', count(*), min(line),
                       list(DISTINCT {ref} ORDER BY {ref})[1:3]
                FROM {relation} WHERE {ref} IS NOT NULL AND {missing}
                GROUP BY {keys} ORDER BY {keys}""").fetchall()
    return out


def crime_ids(con: duckdb.DuckDBPyConnection, paths: list[str]) -> str:
    """A temp table of (force_id, crime_id) of every recorded crime in these lake files."""
    con.execute("CREATE OR REPLACE TEMP TABLE _svc_crime_ids (force_id VARCHAR, crime_id VARCHAR)")
    if paths:
        con.execute(
            """INSERT INTO _svc_crime_ids SELECT DISTINCT force_id, crime_id
               FROM read_parquet(?, union_by_name = true, hive_partitioning = false)
               WHERE crime_id IS NOT NULL AND NOT is_asb""", [paths])
    return "_svc_crime_ids"


def links(con: duckdb.DuckDBPyConnection, relation: str, crimes: str,
          group: tuple[str, ...] = ("force_id", "month")) -> list[tuple]:
    """(*group, rows, with a reference, linked to a crime, naming an officer, officer known)."""
    keys = ", ".join(f"f.{k}" for k in group)
    return con.execute(
        f"""SELECT {keys}, count(*), count(f.incident_ref), count(c.crime_id),
                   count(f.officer_ref), count(f.officer_id) FILTER (WHERE f.officer_ref IS NOT NULL)
            FROM {relation} f LEFT JOIN {crimes} c
                 ON c.force_id = f.force_id AND c.crime_id = f.incident_ref
            GROUP BY {keys} ORDER BY {keys}""").fetchall()


def describe_unknown(dataset: str, what: str, rows: int, refs: list[str], first_line: int | None,
                     more: int = 0) -> str:
    shown = ", ".join(repr(r) for r in refs) + (f" and {more} other(s)" if more > 0 else "")
    where = {"NPU": "counted at force level only",
             "unit": "counted at force level only",
             "officer": "counted for their NPU and force, not for an officer"}[what]
    at = f" (first at line {first_line})" if first_line else ""
    return (f"{dataset}: {rows} row(s) name {'an' if what != 'unit' else 'a'} {what} the "
            f"warehouse does not know: {shown}{at}; kept, {where}")


def describe_links(dataset: str, noun: str, with_ref: int, linked: int, without: int,
                   officers: int, officers_linked: int) -> list[str]:
    out = [f"{dataset}: {linked} of {with_ref} {noun} with an incident reference linked to a "
           f"recorded crime; {with_ref - linked} not found"
           + (f" ({without} gave no reference)" if without else "")]
    if officers:
        out.append(f"{dataset}: {officers_linked} of {officers} {noun} naming an officer linked "
                   f"to an officer in the warehouse; {officers - officers_linked} not found")
    return out


def _quality(con: duckdb.DuckDBPyConnection, lake: str, dataset: str,
             files: list[tuple]) -> None:
    """dq_log rows for the partitions just built."""
    if not (_has(dataset, "npu_ref") or _has(dataset, "unit_ref") or _has(dataset, "officer_ref")):
        return
    where = {(s, f, m): (load_id, origin) for s, f, m, _, load_id, origin in files}
    rows: list[tuple] = []
    group = ("source", "force_id", "month")
    for source, force_id, month, what, n, line, refs in unknown_units(con, "_svc_facts", dataset, group):
        load_id, origin = where[(source, force_id, month)]
        rows.append((load_id, source, force_id, month, origin, line, "unknown_unit",
                     describe_unknown(dataset, what, n, refs, None), n))
    if _has(dataset, "incident_ref"):
        forces = sorted({f for _, f, _ in where})
        crimes = crime_ids(con, lake_crime_paths(Path(lake), con, forces))
        noun = SHAPES[dataset].noun
        for source, force_id, month, total, with_ref, linked, officers, known in links(
                con, "_svc_facts", crimes, group):
            load_id, origin = where[(source, force_id, month)]
            crime_note, *officer_note = describe_links(
                dataset, noun, with_ref, linked, total - with_ref, officers, known)
            rows.append((load_id, source, force_id, month, origin, None, "crime_link",
                         crime_note, with_ref - linked))
            if officer_note:
                rows.append((load_id, source, force_id, month, origin, None, "officer_link",
                             officer_note[0], officers - known))
    insert_rows(con, "dq_log", ["load_id", "source", "force_id", "month", "file", "line", "kind",
                                "detail", "rows"], rows)


# --------------------------------------------------------------------------- cubes


def _touched(con: duckdb.DuckDBPyConnection, partitions: list[Partition]) -> None:
    con.execute("CREATE OR REPLACE TEMP TABLE _svc_touched (source VARCHAR, force_id VARCHAR, month DATE)")
    insert_rows(con, "_svc_touched", ["source", "force_id", "month"], list(partitions))


def _clear(con: duckdb.DuckDBPyConnection, dataset: str) -> None:
    """Delete the touched partitions' rows, and rows of the touched (source, force) series
    whose partition is no longer in the lake (a replaced demo with fewer months)."""
    for table, month in (("cube_service_month", "t.month"),
                         ("cube_service_day", "CAST(date_trunc('month', t.day) AS DATE)")):
        con.execute(
            f"""DELETE FROM {table} t USING _svc_touched p WHERE t.dataset = ?
                AND t.source = p.source AND t.force_id = p.force_id AND {month} = p.month""",
            [dataset])
        con.execute(
            f"""DELETE FROM {table} t WHERE t.dataset = ?
                AND EXISTS (SELECT 1 FROM _svc_touched p
                            WHERE p.source = t.source AND p.force_id = t.force_id)
                AND NOT EXISTS (SELECT 1 FROM lake_manifest m WHERE m.dataset = t.dataset
                                AND m.source = t.source AND m.force_id = t.force_id
                                AND m.month = {month})""",
            [dataset])


def _files(con: duckdb.DuckDBPyConnection, dataset: str) -> list[tuple]:
    return con.execute(
        """SELECT m.source, m.force_id, m.month, m.path, m.load_id, m.origin
           FROM lake_manifest m JOIN _svc_touched p
           ON m.source = p.source AND m.force_id = p.force_id AND m.month = p.month
           WHERE m.dataset = ? ORDER BY m.path""", [dataset]).fetchall()


def _read(con: duckdb.DuckDBPyConnection, lake: str, dataset: str, files: list[tuple]) -> None:
    """`_svc_facts`: the partitions' rows with their source and `_bcu` (the BCU they count in)."""
    parts, params = [], []
    for source in sorted({f[0] for f in files}):
        parts.append("SELECT ? AS source, * FROM read_parquet(?, union_by_name = true, "
                     "hive_partitioning = false)")
        params += [source, [f"{lake}/{f[3]}" for f in files if f[0] == source]]
    if _has(dataset, "npu_id"):
        bcu = "coalesce(n.parent_id, f.bcu_id)" if _has(dataset, "bcu_id") else "n.parent_id"
        join = "LEFT JOIN dim_unit n ON n.unit_id = f.npu_id"
    else:
        bcu, join = "NULL::VARCHAR", ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _svc_facts AS WITH f AS ({' UNION ALL '.join(parts)}) "
                f"SELECT f.*, {bcu} AS _bcu FROM f {join}", params)


def _levels(dataset: str, officer: bool) -> str:
    levels = [("force", "force_id"), ("bcu", "_bcu")]
    if _has(dataset, "npu_id"):
        levels.append(("npu", "npu_id"))
    if officer and _has(dataset, "officer_id"):
        levels.append(("officer", "officer_id"))
    return " UNION ALL ".join(
        f"SELECT '{lvl}' AS _level, {col} AS _unit, * FROM _svc_facts WHERE {col} IS NOT NULL"
        for lvl, col in levels)


def _aggregate(con: duckdb.DuckDBPyConnection, dataset: str, table: str, period: str,
               officer: bool, measures: list) -> None:
    """One scan computes every measure for every unit and period; then one row per measure."""
    cols = []
    for i, m in enumerate(measures):
        cols += [f"CAST(({m.num_sql}) AS DOUBLE) AS n{i}",
                 f"CAST(({m.den_sql or 'NULL'}) AS DOUBLE) AS d{i}",
                 f"CAST(({m.num2_sql or 'NULL'}) AS DOUBLE) AS s{i}"]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _svc_agg AS
            SELECT source, force_id, _unit, _level, {period} AS _period, {', '.join(cols)}
            FROM ({_levels(dataset, officer)}) GROUP BY source, force_id, _unit, _level, _period""")
    selects = []
    params: list = []
    for i, m in enumerate(measures):
        keep = f"n{i} IS NOT NULL" + (f" AND d{i} IS NOT NULL AND d{i} <> 0" if m.den_sql else "")
        selects.append(f"SELECT ? AS dataset, source, force_id, _unit, _level, _period, "
                       f"? AS measure_id, n{i}, d{i}, s{i} FROM _svc_agg WHERE {keep}")
        params += [dataset, m.id]
    con.execute(f"INSERT INTO {table} {' UNION ALL '.join(selects)} ORDER BY ALL", params)


def rebuild_service(con: duckdb.DuckDBPyConnection, lake: str, partitions: list[Partition],
                    dataset: str) -> None:
    if not partitions:
        return
    _touched(con, partitions)
    _clear(con, dataset)
    files = _files(con, dataset)
    if not files:
        return
    _read(con, lake, dataset, files)
    measures = _measures(dataset)
    if measures:
        _aggregate(con, dataset, "cube_service_month", "month", True, measures)
        day = SHAPES[dataset].day
        daily = [m for m in measures if m.aggregate == "sum"]
        if day and daily:
            _aggregate(con, dataset, "cube_service_day", day, False, daily)
    _quality(con, lake, dataset, files)
    con.execute("DROP TABLE IF EXISTS _svc_facts")
    con.execute("DROP TABLE IF EXISTS _svc_agg")


def rebuild_service_force_month(con: duckdb.DuckDBPyConnection, lake: str,
                                partitions: list[Partition]) -> None:
    """Force-level comparators (measure_id, num, den per force and month)."""
    dataset = "service_force_month"
    if not partitions:
        return
    _touched(con, partitions)
    _clear(con, dataset)
    files = _files(con, dataset)
    for source in sorted({f[0] for f in files}):
        con.execute(
            """INSERT INTO cube_service_month
               SELECT ?, ?, force_id, force_id, 'force', month, measure_id, sum(num), sum(den), NULL
               FROM read_parquet(?, hive_partitioning = false)
               GROUP BY ALL HAVING sum(den) IS NULL OR sum(den) <> 0 ORDER BY ALL""",
            [dataset, source, [f"{lake}/{f[3]}" for f in files if f[0] == source]])


def _builder(dataset: str) -> Builder:
    def build(con: duckdb.DuckDBPyConnection, lake: str, partitions: list[Partition]) -> None:
        rebuild_service(con, lake, partitions, dataset)

    build.__name__ = f"rebuild_{dataset}"
    build.__doc__ = f"Delete and recompute the {dataset} cube rows of these partitions."
    return build


SERVICE_BUILDERS: dict[str, Builder] = {
    **{dataset: _builder(dataset) for dataset in SHAPES},
    "service_force_month": rebuild_service_force_month,
}


def lake_crime_paths(lake: Path, con: duckdb.DuckDBPyConnection, forces: list[str]) -> list[str]:
    """Absolute paths of the live crime partitions of these forces (any source)."""
    return [str(lake / r[0]) for r in con.execute(
        "SELECT path FROM lake_manifest WHERE dataset = 'crime' "
        "AND force_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY path", [forces]).fetchall()]
