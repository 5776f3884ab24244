"""Crime cubes: crime records and force x month aggregates -> the category cubes
(cube_crime_month / cube_crime_day) and the completeness picture (month_status).

Incremental: only the partitions a load touched are rebuilt.

Cubes are what pages read, so every interaction is a small query. They are rebuilt from the
lake (not from the load's staging tables) so that a changed LSOA -> NPU mapping or a late
outcomes file can rebuild any partition the same way.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import date

import duckdb

from etl.lake.quality import suspect_months
from etl.limits import batch_rows
from etl.sqlutil import insert_rows

Partition = tuple[str, str, date]  # (source, force_id, month)


def _touched_table(con: duckdb.DuckDBPyConnection, partitions: list[Partition]) -> None:
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _touched (source VARCHAR, force_id VARCHAR, month DATE)"
    )
    # through a frame: executemany costs ~0.2 ms a row (the demo touches 2,580 partitions)
    insert_rows(con, "_touched", ["source", "force_id", "month"], list(partitions))


def lake_paths(con: duckdb.DuckDBPyConnection, lake: str, dataset: str,
               where: str = "TRUE", params: list | None = None) -> list[str]:
    rows = con.execute(
        f"SELECT path FROM lake_manifest WHERE dataset = ? AND ({where}) ORDER BY path",
        [dataset, *(params or [])],
    ).fetchall()
    return [f"{lake}/{r[0]}" for r in rows]


def rebuild_crime(con: duckdb.DuckDBPyConnection, lake: str,
                  partitions: list[Partition]) -> None:
    """Delete and recompute cube_crime_month / cube_crime_day for these partitions."""
    if not partitions:
        return
    _touched_table(con, partitions)
    for table in ("cube_crime_month", "cube_crime_day"):
        con.execute(
            f"DELETE FROM {table} t USING _touched p "
            "WHERE t.source = p.source AND t.force_id = p.force_id AND "
            + ("t.month = p.month" if table == "cube_crime_month"
               else "date_trunc('month', t.day) = p.month")
        )
    crime_files = con.execute(
        """SELECT m.force_id, m.source, m.path, m.rows FROM lake_manifest m JOIN _touched p
           ON m.source = p.source AND m.force_id = p.force_id AND m.month = p.month
           WHERE m.dataset = 'crime' ORDER BY m.force_id, m.month, m.path"""
    ).fetchall()
    if not crime_files:
        return
    weights(con)
    passes = []
    for piece in _statements(_chunks(crime_files, batch_rows()), batch_rows()):
        forces = sorted({f for f, *_ in piece})
        outcome_files = lake_paths(con, lake, "outcome",
                                   "force_id IN (SELECT unnest(?::VARCHAR[]))", [forces])
        passes.append(([(s, p) for _, s, p, _ in piece], outcome_files))
    if len(passes) < 2:
        for files, outcome_files in passes:
            _cube_files(con, lake, files, outcome_files)
        return
    _folded_ahead(con, lake, passes)


FOLDERS = 2  # threads folding passes' facts ahead of the inserts


def _folded_ahead(con: duckdb.DuckDBPyConnection, lake: str,
                  passes: list[tuple[list[tuple[str, str]], list[str]]]) -> None:
    """The passes' facts folded on FOLDERS threads (each on a cursor of its own: another
    connection to the version, which sees what `con` committed, with its own weights), up to
    FOLDERS passes ahead, and inserted here, one pass after the other in their order, so the
    cube tables' rows land in the order one connection gave them.

    Why: the fold (read the lake back, join, group) is ~3/4 of the build's CPU, and a pass's
    statements ran one after another on one connection, at the end of a load with nothing
    else to run: whether DuckDB's own second thread kept the other core busy was left to
    the plan (a national year's 7 passes on one connection, on a busy machine: 1.9 s of CPU
    at one DuckDB thread, 2.3 s at two, ~2-2.8 s of wall either way; folded ahead, 2.35 s
    of CPU). Two folds at once use both cores whatever each plan does. The folded facts
    are small (a pass of ~950,000 crimes folds to ~45,000 rows) and come over as Arrow:
    every type is one Arrow keeps exactly (VARCHAR, DATE, INT, BIGINT, DOUBLE). A fold's
    error is raised here; no thread outlives the call."""
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []
    lock = threading.Lock()

    def fold(files: list[tuple[str, str]], outcome_files: list[str]):  # noqa: ANN202 - pa.Table
        cur = getattr(local, "cur", None)
        if cur is None:
            cur = local.cur = con.cursor()
            with lock:
                cursors.append(cur)
            weights(cur)
        sql, params = _facts_select(cur, lake, files, outcome_files)
        return cur.sql(sql, params=params).to_arrow_table()

    try:
        with ThreadPoolExecutor(max_workers=FOLDERS, thread_name_prefix="cube-fold") as pool:
            ahead = [pool.submit(fold, *p) for p in passes[:FOLDERS]]
            try:
                for n in range(len(passes)):
                    facts = ahead.pop(0).result()
                    if n + FOLDERS < len(passes):
                        ahead.append(pool.submit(fold, *passes[n + FOLDERS]))
                    con.register("_facts_in", facts)
                    try:
                        _insert_cubes(con, "_facts_in")
                    finally:
                        con.unregister("_facts_in")
            finally:
                for f in ahead:
                    f.cancel()
                wait(ahead)
    finally:
        for cur in cursors:
            cur.close()


def _statements(chunks: list[list[tuple[str, str, str, int]]],
                budget: int) -> list[list[tuple[str, str, str, int]]]:
    """`_chunks`' pieces, consecutive ones joined while their rows stay within `budget`:
    what one pass of _cube_files builds. A national year's 43 forces (~145,000 crimes each)
    were 43 passes of a few statements each, now 7: ~20% less CPU for the same rows (each
    pass reads its files' footers, folds, and sorts its own inserts), and the statements are
    big enough for DuckDB's second thread. The cubes are the same rows in the same order: a
    pass inserts in (force, unit, month / day, category) order and the pieces are in force
    order, so one pass of two forces inserts what two passes did, one after the other; the
    facts fold per (force, ...) and the outcomes join on (force, crime id), so a pass of
    several forces folds and joins each force's rows as its own pass did. A piece over the
    budget alone (one partition bigger than it) stays a pass of its own."""
    out: list[list[tuple[str, str, str, int]]] = []
    size = 0
    for chunk in chunks:
        rows = sum(f[3] for f in chunk)
        if not out or size + rows > budget:
            out.append([])
            size = 0
        out[-1].extend(chunk)
        size += rows
    return out


def _chunks(files: list[tuple[str, str, str, int]], budget: int) -> list[list[tuple[str, str, str, int]]]:
    """The touched crime files, (force, source, path, rows) in force and month order, cut
    into pieces of one force and at most `budget` rows (a partition is never cut): the
    facts of one piece are what the cube build holds at once, so ten years of every force
    (62.5 M rows) build in the same bounded memory as a month. Measured on those 5,160
    partitions (benchmarks/national.py --years 10) at the build's 512 MiB limit: in one
    statement, a load and one of two rebuilds failed with DuckDB's "failed to pin block",
    the other took 183 s; in pieces of 1 M rows, 135 s and 0.67 GB peak RSS."""
    out: list[list[tuple[str, str, str, int]]] = []
    size = 0
    for f in files:
        if not out or out[-1][0][0] != f[0] or size + f[3] > budget:
            out.append([])
            size = 0
        out[-1].append(f)
        size += f[3]
    return out


def _cube_files(con: duckdb.DuckDBPyConnection, lake: str, crime_files: list[tuple[str, str]],
                outcome_files: list[str]) -> None:
    """Insert the crime cubes' rows of these lake files: every level, month
    and day. The caller has deleted the partitions' old rows and made the weights."""
    sql, params = _facts_select(con, lake, crime_files, outcome_files)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _facts AS {sql}", params)
    _insert_cubes(con)


def _facts_select(con: duckdb.DuckDBPyConnection, lake: str, crime_files: list[tuple[str, str]],
                  outcome_files: list[str]) -> tuple[str, list]:
    """The query folding these lake files' crimes to what the cubes group by (and its
    parameters), on a connection with the weights' temp tables."""
    # The lake's `source` is the partition's, carried in by a per-file literal.
    sources = sorted({s for s, _ in crime_files})
    parts = []
    params: list = []
    for source in sources:
        files = [f"{lake}/{p}" for s, p in crime_files if s == source]
        parts.append(
            "SELECT ? AS source, * FROM read_parquet(?, union_by_name = true, "
            "hive_partitioning = false)")
        params.extend([source, files])
    facts = " UNION ALL ".join(parts)
    code = "f.offence_code" if _has_code(con, facts, params) else "NULL::VARCHAR"
    # Crimes an outcomes file says were detected. Without outcomes files there are none, and
    # no join: a join to an empty relation still read every crime's 64-character id from the
    # lake (~0.07 s of CPU per million crimes; a national year of street files has none).
    if outcome_files:
        detected = ("d AS (SELECT DISTINCT force_id, crime_id FROM read_parquet(?, "
                    "hive_partitioning = false) WHERE sanction),")
        found = "d.crime_id IS NOT NULL"
        join = "LEFT JOIN d ON d.force_id = f.force_id AND d.crime_id = f.crime_id"
        params.append(outcome_files)
    else:
        detected, found, join = "", "FALSE", ""
    # The facts are folded to one row per distinct combination of what the cubes group by,
    # with its count `c`, before the five levels read them: a month of a force's crimes repeats
    # the same few keys thousands of times (police.uk's 6.25 M rows of a year fold to a few
    # hundred thousand), so each level's aggregate reads the folded rows, not every crime.
    return (
        f"""WITH f AS ({facts}),
        {detected}
        r AS (
        SELECT f.source, f.force_id, f.month, f.date, f.category,
               -- outcomes files are data.police.uk's: they speak for police.uk crimes only
               (f.sanction OR ({found} AND NOT f.is_asb
                               AND f.source = 'police_uk'))::INT AS sd,
               coalesce(f.npu_id, l.npu_id) AS npu_id,
               n.parent_id AS bcu_id, f.team_id, f.officer_id,
               -- crime harm: the offence's own weight, else the category's (approximate)
               CASE WHEN f.is_asb THEN 0 ELSE coalesce(wo.weight, wc.weight, 0) END AS w,
               (NOT f.is_asb AND wo.weight IS NULL)::INT AS w_approx
        FROM f
        LEFT JOIN _w_offence wo ON wo.code = upper(trim({code}))
        LEFT JOIN _w_category wc ON wc.category = f.category
        LEFT JOIN dim_lsoa l ON l.force_id = f.force_id AND l.lsoa_code = f.lsoa_code
        {join}
        LEFT JOIN dim_unit n ON n.unit_id = coalesce(f.npu_id, l.npu_id))
        SELECT *, count(*) AS c FROM r GROUP BY ALL""",
        params,
    )


def _insert_cubes(con: duckdb.DuckDBPyConnection, facts: str = "_facts") -> None:
    """cube_crime_month and cube_crime_day rows of the folded facts in `facts` (a temp
    table, or Arrow rows registered under that name)."""
    levels = [("force", "force_id"), ("bcu", "bcu_id"), ("npu", "npu_id"),
              ("team", "team_id"), ("officer", "officer_id")]
    union = " UNION ALL ".join(
        f"SELECT source, force_id, {col} AS unit_id, '{lvl}' AS level, month, date, category, sd,"
        f" w, w_approx, c"
        f" FROM {facts} WHERE {col} IS NOT NULL"
        for lvl, col in levels
    )
    con.execute(
        f"""INSERT INTO cube_crime_month
        SELECT source, force_id, unit_id, level, month, category, sum(c), sum(sd * c),
               round(sum(w * c), 2), round(sum(w * w * c), 2), sum(w_approx * c)
        FROM ({union}) GROUP BY source, force_id, unit_id, level, month, category
        ORDER BY force_id, unit_id, month, category"""
    )
    con.execute(
        f"""INSERT INTO cube_crime_day
        SELECT source, force_id, unit_id, level, date, category, sum(c), sum(sd * c),
               round(sum(w * c), 2), round(sum(w * w * c), 2), sum(w_approx * c)
        FROM ({union}) WHERE date IS NOT NULL AND level <> 'officer'
        GROUP BY source, force_id, unit_id, level, date, category
        ORDER BY force_id, unit_id, date, category"""
    )


def rebuild_force_month(con: duckdb.DuckDBPyConnection, lake: str,
                        partitions: list[Partition]) -> None:
    """Force-level-only aggregates (other forces in the demo, national comparators)."""
    if not partitions:
        return
    _touched_table(con, partitions)
    con.execute(
        "DELETE FROM cube_crime_month t USING _touched p WHERE t.source = p.source "
        "AND t.force_id = p.force_id AND t.month = p.month"
    )
    files = con.execute(
        """SELECT m.source, m.path, m.force_id, m.month FROM lake_manifest m JOIN _touched p
           ON m.source = p.source AND m.force_id = p.force_id AND m.month = p.month
           WHERE m.dataset = 'force_month'"""
    ).fetchall()
    weights(con)
    for source in sorted({f[0] for f in files}):
        rows, params = listed_rows(con, lake, [f[1:] for f in files if f[0] == source])
        # aggregates carry categories only: harm by the category weights (approximate)
        con.execute(
            f"""INSERT INTO cube_crime_month
            SELECT ?, a.force_id, a.force_id, 'force', a.month, a.category, sum(a.n), sum(a.sd),
                   sum(a.n) * coalesce(any_value(w.weight), 0),
                   sum(a.n) * coalesce(any_value(w.weight) * any_value(w.weight), 0),
                   CASE WHEN a.category = 'anti-social-behaviour' THEN 0 ELSE sum(a.n) END
            FROM ({rows}) a
            LEFT JOIN _w_category w ON w.category = a.category
                 AND a.category <> 'anti-social-behaviour'
            GROUP BY a.force_id, a.month, a.category""",
            [source, *params],
        )


def listed_rows(con: duckdb.DuckDBPyConnection, lake: str,
                files: list[tuple[str, str, date]]) -> tuple[str, list]:
    """SQL (and its parameters) for the rows of force-level lake files that the manifest
    lists: `files` are its (path, force_id, month) rows. A month file holds every force of
    the load that wrote it (etl/lake/layout.py), and the manifest may list it for some of
    them only (a later load replaced a force, or real data removed the demo's): a file is
    read once, and only its listed forces' rows are taken. Makes temp table `_listed`."""
    con.execute("CREATE OR REPLACE TEMP TABLE _listed (file VARCHAR, force_id VARCHAR, month DATE)")
    insert_rows(con, "_listed", ["file", "force_id", "month"],
                [(f"{lake}/{p}", f, m) for p, f, m in files])
    paths = sorted({f"{lake}/{p}" for p, _, _ in files})
    return ("SELECT r.* EXCLUDE (filename) FROM read_parquet(?, hive_partitioning = false, "
            "filename = true) r JOIN _listed l ON l.file = r.filename "
            "AND l.force_id = r.force_id AND l.month = r.month", [paths])


def weights(con: duckdb.DuckDBPyConnection) -> None:
    """Temp tables of the crime harm weights (ONS Crime Severity Score) from the reference
    tables of the version being built: per Home Office offence code (exact) and per
    data.police.uk category (approximate: see data/reference/build_crime_severity_weights.py)."""
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for temp, table, key in (("_w_offence", "ref_crime_severity", "upper(trim(code))"),
                             ("_w_category", "ref_crime_severity_category", "category")):
        source = (f"SELECT {key} AS key, TRY_CAST(weight AS DOUBLE) AS weight FROM {table}"
                  if table in have else "SELECT NULL::VARCHAR AS key, NULL::DOUBLE AS weight WHERE FALSE")
        name = "code" if temp == "_w_offence" else "category"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS "
                    f"SELECT key AS {name}, any_value(weight) AS weight FROM ({source}) GROUP BY key")


def _has_code(con: duckdb.DuckDBPyConnection, facts: str, params: list) -> bool:
    """Whether any of the lake files read carries the optional offence_code column."""
    cols = con.execute(f"SELECT * FROM ({facts}) LIMIT 0", params).description or []
    return any(c[0] == "offence_code" for c in cols)


def crime_partitions_of(con: duckdb.DuckDBPyConnection, forces: set[str],
                         source: str | None = None) -> set[Partition]:
    if not forces:
        return set()
    return set(con.execute(
        "SELECT DISTINCT source, force_id, month FROM lake_manifest "
        "WHERE dataset = 'crime' AND force_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND (? IS NULL OR source = ?)",
        [sorted(forces), source, source],
    ).fetchall())


def refresh_month_status(con: duckdb.DuckDBPyConnection,
                         series: list[tuple[str, str]]) -> None:
    """Recompute completeness and suspect flags for every month of these (source, force).

    The whole series is recomputed because a newly loaded earlier month changes the
    expected level of the months after it. Every series in one query, one delete and one
    insert (not three statements per series: the demo refreshes 43).
    """
    if not series:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE _series (source VARCHAR, force_id VARCHAR)")
    insert_rows(con, "_series", ["source", "force_id"], list(series))
    rows = con.execute(
        """WITH f AS (
            SELECT c.source, c.force_id, c.month,
                   sum(c.n) FILTER (WHERE c.category <> 'anti-social-behaviour') AS crimes,
                   sum(c.n) FILTER (WHERE c.category = 'anti-social-behaviour') AS asb
            FROM cube_crime_month c JOIN _series USING (source, force_id)
            WHERE c.level = 'force' GROUP BY ALL),
        a AS (
            SELECT c.source, c.force_id, c.month, sum(c.n) AS assigned FROM cube_crime_month c
            JOIN _series USING (source, force_id) WHERE c.level = 'npu' GROUP BY ALL),
        d AS (
            SELECT m.source, m.force_id, m.month, sum(m.duplicates) AS duplicates
            FROM lake_manifest m JOIN _series USING (source, force_id)
            WHERE m.dataset = 'crime' GROUP BY ALL)
        SELECT f.source, f.force_id, f.month, coalesce(f.crimes, 0), coalesce(f.asb, 0),
               CASE WHEN d.month IS NULL THEN 0  -- force-level aggregates have no NPUs
                    ELSE coalesce(f.crimes, 0) + coalesce(f.asb, 0)
                         - coalesce(a.assigned, 0) END,
               coalesce(d.duplicates, 0)
        FROM f LEFT JOIN a USING (source, force_id, month)
        LEFT JOIN d USING (source, force_id, month)
        ORDER BY f.source, f.force_id, f.month""").fetchall()
    by_series: dict[tuple[str, str], list[tuple]] = {}
    for source, force_id, *rest in rows:
        by_series.setdefault((source, force_id), []).append(tuple(rest))
    out: list[tuple] = []
    for (source, force_id), months in by_series.items():
        flags = suspect_months({r[0]: int(r[1] + r[2]) for r in months})
        out += [(source, force_id, m, crimes, asb, unassigned, dups, *flags[m])
                for m, crimes, asb, unassigned, dups in months]
    con.execute("DELETE FROM month_status t USING _series s "
                "WHERE t.source = s.source AND t.force_id = s.force_id")
    insert_rows(
        con, "month_status",
        ["source", "force_id", "month", "crimes", "asb", "unassigned", "duplicates",
         "expected", "suspect", "reason"], out)
