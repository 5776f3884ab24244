"""The measure cubes: every measure, of every source, as numerator and denominator by unit
and month (cube_measure_month) and by day (cube_measure_day).

Three builders feed them, each deleting and recomputing the rows of exactly the
(source, force, month) partitions a load touched:
- `rebuild_dataset`: a service dataset's lake rows (read with hive_partitioning = false, as
  everywhere), each of its measures by the measure's own aggregate SQL, for every unit at
  every level the rows support: force; BCU (the NPU's parent in dim_unit, or the BCU a
  workforce row names); NPU; officer where rows name one. A row whose NPU or officer the
  warehouse does not know counts at force level (and its NPU's levels).
- `rebuild_crime_measures`: the crime measures from the category cube (cube_crime_month/day),
  by the categories, column and kind each declares, so a crime measure is valued like any
  other at read time.
- `rebuild_comparators`: force x month x measure aggregates of other forces.

The dataset builder also writes the data-quality rows of the partitions it builds to dq_log,
with the load and file that wrote each partition: 'unknown_unit' (rows naming an NPU, BCU or
officer not in dim_unit), and for survey respondents and domestic incidents 'crime_link'
and 'officer_link' (how many references matched a recorded crime of the same force, any
source, and an officer in dim_unit). etl.lake.ingest uses the same functions to tell the
user at load time.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from etl.cubes.crime import listed_rows
from etl.measures.kinds import KINDS
from etl.measures.model import Measure
from etl.reference.tables import POPULATION_GROUPS
from etl.sources.base import Dataset
from etl.sqlutil import insert_rows

Partition = tuple[str, str, date]  # (source, force_id, month)
MONTH_TABLE = "cube_measure_month"
DAY_TABLE = "cube_measure_day"


def _has(ds: Dataset, column: str) -> bool:
    return column in ds.columns


# --------------------------------------------------------------------------- quality


def unknown_units(con: duckdb.DuckDBPyConnection, relation: str, dataset: Dataset,
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


def _quality(con: duckdb.DuckDBPyConnection, lake: str, dataset: Dataset,
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
                     describe_unknown(dataset.name, what, n, refs, None), n))
    if _has(dataset, "incident_ref"):
        forces = sorted({f for _, f, _ in where})
        crimes = crime_ids(con, lake_crime_paths(Path(lake), con, forces))
        noun = dataset.noun
        for source, force_id, month, total, with_ref, linked, officers, known in links(
                con, "_svc_facts", crimes, group):
            load_id, origin = where[(source, force_id, month)]
            crime_note, *officer_note = describe_links(
                dataset.name, noun, with_ref, linked, total - with_ref, officers, known)
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


def _clear(con: duckdb.DuckDBPyConnection, dataset: str,
           lake_datasets: tuple[str, ...] | None = None) -> None:
    """Delete the touched partitions' rows, and rows of the touched (source, force) series
    whose partition is no longer in the lake (a replaced demo with fewer months).
    `lake_datasets`: the lake datasets the rows come from (default: `dataset` itself)."""
    feeds = list(lake_datasets or (dataset,))
    for table, month in ((MONTH_TABLE, "t.month"),
                         (DAY_TABLE, "CAST(date_trunc('month', t.day) AS DATE)")):
        con.execute(
            f"""DELETE FROM {table} t USING _svc_touched p WHERE t.dataset = ?
                AND t.source = p.source AND t.force_id = p.force_id AND {month} = p.month""",
            [dataset])
        con.execute(
            f"""DELETE FROM {table} t WHERE t.dataset = ?
                AND EXISTS (SELECT 1 FROM _svc_touched p
                            WHERE p.source = t.source AND p.force_id = t.force_id)
                AND NOT EXISTS (SELECT 1 FROM lake_manifest m
                                WHERE m.dataset IN (SELECT unnest(?::VARCHAR[]))
                                AND m.source = t.source AND m.force_id = t.force_id
                                AND m.month = {month})""",
            [dataset, feeds])


def _files(con: duckdb.DuckDBPyConnection, dataset: str) -> list[tuple]:
    return con.execute(
        """SELECT m.source, m.force_id, m.month, m.path, m.load_id, m.origin
           FROM lake_manifest m JOIN _svc_touched p
           ON m.source = p.source AND m.force_id = p.force_id AND m.month = p.month
           WHERE m.dataset = ? ORDER BY m.path""", [dataset]).fetchall()


def _read(con: duckdb.DuckDBPyConnection, lake: str, ds: Dataset, files: list[tuple],
          view: bool = False) -> None:
    """`_svc_facts`: the partitions' rows with their source and `_bcu` (the BCU they count in).
    `view`: a view over the lake files rather than a table of their rows, for a build that
    reads every row once (the fine groups) and then only a few columns (the quality checks):
    copying the rows first cost as much as that one read (the demo's 2.15 M calls, ~0.7 s)."""
    parts, params = [], []
    for source in sorted({f[0] for f in files}):
        parts.append("SELECT ? AS source, * FROM read_parquet(?, union_by_name = true, "
                     "hive_partitioning = false)")
        params += [source, [f"{lake}/{f[3]}" for f in files if f[0] == source]]
    if _has(ds, "npu_id"):
        bcu = "coalesce(n.parent_id, f.bcu_id)" if _has(ds, "bcu_id") else "n.parent_id"
        join = "LEFT JOIN dim_unit n ON n.unit_id = f.npu_id"
    else:
        bcu, join = "NULL::VARCHAR", ""
    query = f"WITH f AS ({' UNION ALL '.join(parts)}) SELECT f.*, {bcu} AS _bcu FROM f {join}"
    if view:
        # a view of a relation: DuckDB binds the paths as values, nothing is pasted into SQL
        con.sql(query, params=params).create_view("_svc_facts", replace=True)
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _svc_facts AS {query}", params)


def _levels(ds: Dataset, officer: bool, relation: str = "_svc_facts") -> str:
    levels = [("force", "force_id"), ("bcu", "_bcu")]
    if _has(ds, "npu_id"):
        levels.append(("npu", "npu_id"))
    if officer and _has(ds, "officer_id"):
        levels.append(("officer", "officer_id"))
    return " UNION ALL ".join(
        f"SELECT '{lvl}' AS _level, {col} AS _unit, * FROM {relation} WHERE {col} IS NOT NULL"
        for lvl, col in levels)


_ADDITIVE = {"count", "count_star", "sum"}


def additive(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    """Whether an aggregate is one whose value over a group is the sum of its values over any
    split of the group: a plain count(...) or sum(...) (FILTER allowed), nothing around it,
    no DISTINCT. Decided on DuckDB's own parse of the SQL (json_serialize_sql), not by
    matching text, so an unusual spelling falls back to the safe path rather than to a wrong
    sum."""
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)",
                                      [f"SELECT {sql}"]).fetchall()[0][0])
    except duckdb.Error:
        return False
    if tree.get("error"):
        return False
    node = tree["statements"][0]["node"]["select_list"]
    if len(node) != 1:
        return False
    node = node[0]
    return (node.get("class") == "FUNCTION" and node.get("function_name") in _ADDITIVE
            and not node.get("distinct") and not node.get("schema")
            and not node.get("order_bys", {}).get("orders"))


def _values(measures: list[Measure]) -> list[tuple[str, str | None]]:
    """(column, its SQL) for every value of every measure: n, d, s, e; None: NULL."""
    out: list[tuple[str, str | None]] = []
    for i, m in enumerate(measures):
        out += [(f"n{i}", m.num_sql), (f"d{i}", m.den_sql), (f"s{i}", m.num2_sql),
                (f"e{i}", m.den2_sql)]
    return out


def _fine(con: duckdb.DuckDBPyConnection, ds: Dataset, measures: list[Measure],
          day: bool) -> None:
    """`_svc_fine`: every measure's values over the finest groups any cube row is made of
    (source, force, BCU, NPU, officer, month and day), so each level and period is then a
    sum over a few thousand groups instead of the measures' filters over every row once per
    level. Only for additive aggregates (`additive`). On the demo's 2.15 M calls this is
    one pass of the filters (~0.75 s of CPU) where the levels took two passes of three."""
    keys = ["source", "force_id", "_bcu"]
    keys += [k for k in ("npu_id", "officer_id") if _has(ds, k)]
    keys.append("month")
    if day:
        keys.append(f"{ds.day_sql} AS _day")
    values = ", ".join(f"{sql} AS {col}" for col, sql in _values(measures) if sql)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _svc_fine AS SELECT {', '.join(keys)}, {values} "
                "FROM _svc_facts GROUP BY ALL")


def _group_order(table: str, unit: str, level: str) -> str:
    """The order a builder writes its groups in (each group's measures follow in id order).

    The day cube by day before unit: the dashboard reads it for one source's measure over a
    week or a custom range (dashboard/data/queries/cubes.py `_measure_rows`), and DuckDB skips
    a row group only by its min/max (zone map), which for VARCHARs keeps just the first 8
    bytes: every unit of a force starts 'cheshire/...', so ordering by unit prunes nothing
    within a force, while ordering by day leaves each row group a narrow span of days. Unit
    first, a week of one NPU read 12 of the demo's 31 row groups; day first, 2 (the one
    holding the week and the one where the dataset before ends). A load appends its
    partitions' rows in the same order, so the newest months go on the end in day order.
    The month cube keeps unit first: its reads span years and prune no better by month
    (benchmarks/README.md, "Day cube order")."""
    if table == DAY_TABLE:
        return f"source, force_id, _period, {unit}, {level}"
    return f"source, force_id, {unit}, {level}, _period"


def _aggregate(con: duckdb.DuckDBPyConnection, ds: Dataset, table: str, period: str,
               officer: bool, measures: list[Measure],
               fine: list[Measure] | None = None) -> None:
    """One scan computes every measure for every unit and period; then one row per measure.
    `fine`: the measures `_svc_fine` was made for; the scan reads it (each value a partial
    count or sum, added up here; `period` one of its columns) instead of the rows."""
    cols = []
    for i, m in enumerate(measures):
        j = fine.index(m) if fine is not None else i
        for out, src, sql in ((f"n{i}", f"n{j}", m.num_sql), (f"d{i}", f"d{j}", m.den_sql),
                              (f"s{i}", f"s{j}", m.num2_sql), (f"e{i}", f"e{j}", m.den2_sql)):
            if not sql:
                cols.append(f"CAST(NULL AS DOUBLE) AS {out}")
            elif fine is not None:
                cols.append(f"CAST(sum({src}) AS DOUBLE) AS {out}")
            else:
                cols.append(f"CAST(({sql}) AS DOUBLE) AS {out}")
    relation = "_svc_fine" if fine is not None else "_svc_facts"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _svc_agg AS
            SELECT source, force_id, _unit, _level, {period} AS _period, {', '.join(cols)}
            FROM ({_levels(ds, officer, relation)}) GROUP BY source, force_id, _unit, _level, _period""")
    # One row per measure for every group, in the order a sort of every row by the group key
    # (`_group_order`: the day cube day before unit), then measure_id, would give: the groups
    # sorted, each one's measures unnested in id order, the rows a measure does not value
    # dropped after. Sorting the groups rather
    # than the rows is measures-times less work (as in rebuild_crime_measures below).
    order = sorted(range(len(measures)), key=lambda i: measures[i].id)
    groups = _group_order(table, "_unit", "_level")
    keeps = ", ".join(
        f"(n{i} IS NOT NULL" + (f" AND d{i} IS NOT NULL AND d{i} <> 0)" if measures[i].den_sql
                                 else ")") for i in order)
    con.execute(
        f"""INSERT INTO {table}
            SELECT dataset, source, force_id, _unit, _level, _period, measure_id, n, d, s, e
            FROM (SELECT ? AS dataset, source, force_id, _unit, _level, _period,
                         unnest(?::VARCHAR[]) AS measure_id,
                         unnest([{', '.join(f'n{i}' for i in order)}]::DOUBLE[]) AS n,
                         unnest([{', '.join(f'd{i}' for i in order)}]::DOUBLE[]) AS d,
                         unnest([{', '.join(f's{i}' for i in order)}]::DOUBLE[]) AS s,
                         unnest([{', '.join(f'e{i}' for i in order)}]::DOUBLE[]) AS e,
                         unnest([{keeps}]::BOOLEAN[]) AS _keep
                  FROM (SELECT * FROM _svc_agg ORDER BY {groups}))
            WHERE _keep""",
        [ds.name, [measures[i].id for i in order]])


def rebuild_dataset(con: duckdb.DuckDBPyConnection, lake: str, partitions: list[Partition],
                    ds: Dataset, measures: list[Measure]) -> None:
    """Delete and recompute the measure cube rows of one service dataset's partitions."""
    if not partitions:
        return
    _touched(con, partitions)
    _clear(con, ds.name)
    files = _files(con, ds.name)
    if not files:
        return
    measures = [m for m in measures if m.num_sql]
    daily = [m for m in measures if m.aggregate == "sum"]
    day = bool(ds.day_sql and daily)
    fine = bool(measures) and all(additive(con, sql) for m in measures
                                  for sql in (m.num_sql, m.den_sql, m.num2_sql, m.den2_sql) if sql)
    _read(con, lake, ds, files, view=fine)
    if measures:
        if fine:
            # the levels and periods summed from one pass over the rows (same values)
            _fine(con, ds, measures, day)
            _aggregate(con, ds, MONTH_TABLE, "month", True, measures, fine=measures)
            if day:
                _aggregate(con, ds, DAY_TABLE, "_day", False, daily, fine=measures)
            con.execute("DROP TABLE IF EXISTS _svc_fine")
        else:
            _aggregate(con, ds, MONTH_TABLE, "month", True, measures)
            if day:
                _aggregate(con, ds, DAY_TABLE, ds.day_sql, False, daily)
        _reference_denominators(con, ds.name, measures)
    _quality(con, lake, ds, files)
    con.execute(f"DROP {'VIEW' if fine else 'TABLE'} IF EXISTS _svc_facts")
    con.execute("DROP TABLE IF EXISTS _svc_agg")


def _reference_denominators(con: duckdb.DuckDBPyConnection, dataset: str,
                            measures: list[Measure]) -> None:
    """Denominators the rows cannot give, filled in after aggregation: the unit's resident
    population (rate per population) and the reference populations of a rate ratio's two
    groups (force level: ref_population_ethnicity). A unit without one keeps den NULL, so its
    value is undefined rather than wrong."""
    per_population = [m.id for m in measures if KINDS[m.kind].denominator == "population"]
    ratios = [m for m in measures if KINDS[m.kind].denominator == "reference"]
    for table, month in ((MONTH_TABLE, "t.month"),
                         (DAY_TABLE, "CAST(date_trunc('month', t.day) AS DATE)")):
        touched = (f"t.dataset = ? AND EXISTS (SELECT 1 FROM _svc_touched p WHERE p.source = t.source "
                   f"AND p.force_id = t.force_id AND p.month = {month})")
        if per_population:
            con.execute(
                f"""UPDATE {table} t SET den = CAST(u.population AS DOUBLE) FROM dim_unit u
                    WHERE u.unit_id = t.unit_id AND t.measure_id IN (SELECT unnest(?::VARCHAR[]))
                    AND {touched}""", [per_population, dataset])
        for m in ratios:
            a, b = m.population_groups
            if a not in POPULATION_GROUPS or b not in POPULATION_GROUPS:
                raise ValueError(f"measure {m.id}: unknown population group in {m.population_groups}")
            con.execute(
                f"""UPDATE {table} t SET den = TRY_CAST(r."{a}" AS DOUBLE),
                           den2 = TRY_CAST(r."{b}" AS DOUBLE)
                    FROM ref_population_ethnicity r
                    WHERE r.force_id = t.force_id AND t.level = 'force' AND t.measure_id = ?
                    AND {touched}""", [m.id, dataset])


def rebuild_comparators(con: duckdb.DuckDBPyConnection, lake: str, partitions: list[Partition],
                        ds: Dataset) -> None:
    """Force-level comparators (measure_id, num, den per force and month)."""
    if not partitions:
        return
    _touched(con, partitions)
    _clear(con, ds.name)
    files = _files(con, ds.name)
    for source in sorted({f[0] for f in files}):
        rows, params = listed_rows(con, lake, [(f[3], f[1], f[2]) for f in files if f[0] == source])
        con.execute(
            f"""INSERT INTO {MONTH_TABLE}
               SELECT ?, ?, force_id, force_id, 'force', month, measure_id, sum(num), sum(den),
                      NULL, NULL
               FROM ({rows})
               GROUP BY ALL HAVING sum(den) IS NULL OR sum(den) <> 0 ORDER BY ALL""",
            [ds.name, source, *params])


# --------------------------------------------------------------------------- crime measures


def _crime_select(measures: list[Measure]) -> tuple[str, list]:
    """Per measure, SQL for num and den over one (unit, period) group of the category cube."""
    cols: list[str] = []
    params: list = []
    for i, m in enumerate(measures):
        value = {"sd": "sd", "harm": "harm"}.get(m.column, "n")
        # harm to the hundredth (weights are days of custody: far finer than they are known),
        # so DuckDB's decimal-aware float compression keeps the cubes small
        agg = f"sum({value}) FILTER (WHERE list_contains(?::VARCHAR[], category))"
        cols.append(f"round({agg}, 2) AS n{i}" if m.column == "harm" else f"{agg} AS n{i}")
        params.append(list(m.categories))
        if m.column == "harm":  # the compound Poisson variance of a weighted count
            cols.append(f"round(sum(harm2) FILTER (WHERE list_contains(?::VARCHAR[], category)), 2) AS s{i}")
            params.append(list(m.categories))
        else:
            cols.append(f"NULL::DOUBLE AS s{i}")
        den = KINDS[m.kind].denominator
        if den == "crimes":
            cols.append(f"sum(n) FILTER (WHERE list_contains(?::VARCHAR[], category)) AS d{i}")
            params.append(list(m.categories))
        elif den == "population":
            cols.append(f"CAST(any_value(u.population) AS DOUBLE) AS d{i}")
        else:
            cols.append(f"NULL::DOUBLE AS d{i}")
    return ", ".join(cols), params


def rebuild_crime_measures(con: duckdb.DuckDBPyConnection, partitions: list[Partition],
                           measures: list[Measure]) -> None:
    """Every crime measure of these (source, force, month) partitions, from the category
    cube: run after the category cube itself is rebuilt. A unit-month with any crime-cube
    row gets a row for every crime measure (0 where none of its categories occurred)."""
    if not partitions or not measures:
        return
    _touched(con, partitions)
    _clear(con, "crime", ("crime", "force_month"))
    select, params = _crime_select(measures)
    for table, src, period in ((MONTH_TABLE, "cube_crime_month", "month"),
                               (DAY_TABLE, "cube_crime_day", "day")):
        month_of = "c.month" if period == "month" else "CAST(date_trunc('month', c.day) AS DATE)"
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _crime_agg AS
                SELECT c.source, c.force_id, c.unit_id, c.level, c.{period} AS _period, {select}
                FROM {src} c JOIN _svc_touched p ON p.source = c.source
                     AND p.force_id = c.force_id AND p.month = {month_of}
                LEFT JOIN dim_unit u ON u.unit_id = c.unit_id
                GROUP BY c.source, c.force_id, c.unit_id, c.level, c.{period}""", params)
        # One row per measure for every group, in the order a sort of every row by the group
        # key (`_group_order`), then measure_id, would give: the groups sorted and
        # each one's measures unnested in id order. Sorting the groups, not the rows, is
        # measures-times less work (5 s of a demo build's 9 s day insert was the sort).
        order = sorted(range(len(measures)), key=lambda i: measures[i].id)
        nums = ", ".join(f"coalesce(n{i}, 0)" for i in order)
        dens = ", ".join(f"d{i}" for i in order)
        num2s = ", ".join(f"coalesce(s{i}, 0)" if measures[i].column == "harm" else "NULL"
                          for i in order)
        con.execute(
            f"""INSERT INTO {table}
                SELECT 'crime', source, force_id, unit_id, level, _period,
                       unnest(?::VARCHAR[]), unnest([{nums}]::DOUBLE[]), unnest([{dens}]::DOUBLE[]),
                       unnest([{num2s}]::DOUBLE[]), NULL
                FROM (SELECT * FROM _crime_agg ORDER BY {_group_order(table, "unit_id", "level")})""",
            [[measures[i].id for i in order]])
    con.execute("DROP TABLE IF EXISTS _crime_agg")


def lake_crime_paths(lake: Path, con: duckdb.DuckDBPyConnection, forces: list[str]) -> list[str]:
    """Absolute paths of the live crime partitions of these forces (any source)."""
    return [str(lake / r[0]) for r in con.execute(
        "SELECT path FROM lake_manifest WHERE dataset = 'crime' "
        "AND force_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY path", [forces]).fetchall()]
