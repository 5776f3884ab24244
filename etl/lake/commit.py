"""One load, start to finish: stage -> lake partitions -> next warehouse version -> switch.

Every source ends in `commit()`: it writes the staged partitions as new immutable Parquet
files, then builds the next warehouse version listing them in `lake_manifest`. The
warehouse switch is the single commit point: a load killed before it leaves only orphan
files that nothing references (collected later); a load killed after it is complete.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl.cubes.build import rebuild, rebuild_all
from etl.cubes.crime import Partition
from etl.errors import InputRefused
from etl.lake.gate import passes_gate, screen
from etl.lake.layout import lake_path, month_path
from etl.lake.repair import check_version, looks_damaged, repair
from etl.lake.warehouse import (
    GRACE_SECONDS,
    WarehousePaths,
    fsync_dir,
    fsync_file,
    new_version,
    new_version_upgrades,
    recover_killed_loads,
)
from etl.reference.forces import FORCE_BY_SLUG
from etl.reference.lsoa_mapping import DEFAULT_NOTE, Assignment, default_assignment
from etl.reference.tables import write_reference_tables
from etl.sources.registry import DATASETS
from etl.sources.shapes import UNIT_COLUMNS, select_list
from etl.sqlutil import insert_rows


class Progress(Protocol):
    """A load's progress: `done` of `total` steps (files, partitions) of a stage, and for
    stages that read rows, `rows` = (rows done, rows in all) so a bar can show rows/s."""

    def __call__(self, stage: str, done: int, total: int,
                 rows: tuple[int, int] | None = None) -> None: ...


@dataclass
class LoadReport:
    load_id: str
    loaded: list[tuple[str, int]] = field(default_factory=list)   # (origin, rows)
    refused: list[InputRefused] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partitions: list[tuple[str, str, str, date, int]] = field(default_factory=list)
    committed: bool = False

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0


def new_load_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


@dataclass
class Staged:
    """What a source hands to commit(): temp tables in `con` plus bookkeeping."""

    con: duckdb.DuckDBPyConnection
    source: str
    crime_table: str | None = None          # shaped as CRIME_COLUMNS (+ optional _file)
    outcome_table: str | None = None        # shaped as OUTCOME_COLUMNS
    force_month_table: str | None = None    # shaped as FORCE_MONTH_COLUMNS
    unit_table: str | None = None           # shaped as UNIT_COLUMNS
    # Any dataset of etl.sources.registry.DATASETS -> its staged table (the three above are shortcuts).
    tables: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)  # _file -> origin for messages
    duplicates: list[tuple[str, str, date, int, str]] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    replace_force_months: bool = False      # drop every partition of the source's forces first
    # Memory `con` may keep once the lake files are written (a DuckDB size, e.g. '256MB'): the
    # build only asks it for small aggregates, and what it frees is what the version's
    # connection needs, so a big load's two connections never hold their full bound together.
    memory_after_write: str | None = None
    # Memory `con` may keep while the lake files are written, when most of its staged rows
    # have spilled already (a load of years): the stream reads them back in order and needs
    # few blocks at once, and the build that follows must not meet a full connection.
    memory_while_writing: str | None = None
    # Dataset -> the partitions a source wrote into the lake while it staged (LakeBatches):
    # commit() publishes them beside what the staged tables still hold.
    prewritten: dict[str, LakeBatches] = field(default_factory=dict)
    _parts: dict[str, list[tuple]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for dataset, table in (("crime", self.crime_table), ("outcome", self.outcome_table),
                               ("force_month", self.force_month_table)):
            if table:
                self.tables.setdefault(dataset, table)

    def parts(self, table: str) -> list[tuple[str, date, str | None, int, int | None, int | None]]:
        """(force_id, month, _file, rows, first rowid, last rowid) of every (force, month,
        file) of a staged table (file None without a _file column, rowids None for a view),
        from ONE scan, kept until forget(). The gate, the partition counts, the lake writer's
        runs, the units and the load report each scanned the staged table for these before:
        a national year's 6.25 M staged rows, spilled to disk, cost ~0.3-1 s a scan."""
        if table not in self._parts:
            file = "_file" if _has_column(self.con, table, "_file") else "NULL::VARCHAR"
            rowids = "min(rowid), max(rowid)" if _is_table(self.con, table) else "NULL, NULL"
            self._parts[table] = self.con.execute(
                f"SELECT force_id, month, {file}, count(*), {rowids} FROM {table} "
                "GROUP BY ALL ORDER BY ALL").fetchall()
        return self._parts[table]

    def forget(self) -> None:
        """Drop what parts() kept: a staged table's rows changed."""
        self._parts.clear()

    def forces(self) -> set[str]:
        """Every force of every staged table, and of the partitions written while staging."""
        return ({p[0] for t in self.tables.values() if t for p in self.parts(t)}
                | {p[0] for w in self.prewritten.values() for p in w.parts})

    def discard_prewritten(self) -> None:
        """Remove the partitions written while staging: the load publishes nothing."""
        for batches in self.prewritten.values():
            batches.discard()
        self.prewritten.clear()


class LakeBatches:
    """A dataset's staged batches written into the lake one batch at a time, as the source
    stages them (police.uk street files: `reader.parse(flush=...)`), so the staged table
    never holds more than one batch. A national year's 6.25 M staged rows outgrew the
    staging connection's 1 GiB bound and spilled to disk, to be read back by the lake
    writer and by the LSOA update (~2.5-4 s of CPU of ~30); a batch at a time nothing spills.

    A batch may be written only when no other batch holds rows of its partitions (the
    source guarantees it: police.uk batches hold whole force-months named by their files),
    and only when every row of it would pass the gate (etl/lake/gate.py): a batch that
    would not stays staged, for commit() to refuse its files as before. Each partition's
    file is written under its final name for this load (`lake_path`), after the load's
    `.incoming` marker is made (and earlier killed loads' files removed): a load killed or
    failing from here on leaves files nothing lists, removed by the next load, exactly as
    a load killed during commit()'s own writes. commit() lists them in the version.

    A batch is written in a background thread while the source reads its next one
    (`_write_behind`); the source calls finish() once it has staged everything, before
    anything reads `files` or `parts`."""

    def __init__(self, link: Path, load_id: str, source: str, dataset: str) -> None:
        self.paths = WarehousePaths(link)
        self.load_id, self.source, self.dataset = load_id, source, dataset
        # (force_id, month, _file, rows) of every (force, month, file) written, as Staged.parts
        self.parts: list[tuple[str, date, str | None, int]] = []
        self.files: dict[tuple[str, date], Path] = {}   # partition -> its final file
        self.started = False       # the marker made (and killed loads' files removed)
        self.lsoas: str | None = None  # temp table of the LSOAs seen (_upsert_lsoas)
        self.keys: set[tuple[str, date]] = set()  # partitions handed to a writer so far
        # The batch being written in the background (_write_behind), at most one at a time.
        self._writer: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._batches = 0

    def start(self) -> None:
        """Remove what killed loads left and mark this load unfinished (commit() does the
        same before its own writes); idempotent. Caller holds the writer lock."""
        if not self.started:
            recover_killed_loads(self.paths)
            (self.paths.lake / ".incoming" / self.load_id).mkdir(parents=True, exist_ok=True)
            self.started = True

    def flush(self, con: duckdb.DuckDBPyConnection, table: str) -> bool:
        """Write every partition of `table` (one staged batch) into the lake; the caller
        then makes the table again, empty (a table of the database is renamed away and
        written by the writer thread, `_write_behind`; a TEMP one is written here and now).
        False, having written nothing, when a row would fail the gate: the rows stay
        staged. What the writer thread wrote is listed (`files`, `parts`) once `wait()` or
        `finish()` has returned."""
        parts = con.execute(
            f"SELECT force_id, month, _file, count(*), min(rowid), max(rowid) FROM {table} "
            "GROUP BY ALL ORDER BY ALL").fetchall()
        if not parts:
            return True
        if not all(passes_gate(force_id, month) for force_id, month, *_ in parts):
            return False
        keys = sorted({(f, m) for f, m, *_ in parts})
        if any(k in self.keys for k in keys):
            raise RuntimeError(f"writing the lake: a partition of {self.dataset} is in two "
                               "staged batches")
        self.start()
        if self.lsoas is None:
            self.lsoas = "_seen_lsoa"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {self.lsoas} "
                        "(force_id VARCHAR, lsoa_code VARCHAR, lsoa_name VARCHAR)")
        con.execute(f"INSERT INTO {self.lsoas} SELECT force_id, lsoa_code, any_value(lsoa_name) "
                    f"FROM {table} WHERE lsoa_code IS NOT NULL GROUP BY ALL")
        self.keys.update(keys)
        if _is_temporary(con, table):  # no other connection sees it: written here and now
            self._write(con, table, keys, parts)
            return True
        self._write_behind(con, table, keys, parts)
        return True

    def _write_behind(self, con: duckdb.DuckDBPyConnection, table: str,
                      keys: list[tuple[str, date]], parts: list[tuple]) -> None:
        """Write the batch in a background thread while the source reads and stages its next
        one. The batch's table is renamed away (the source makes its staged table again,
        empty) and read through a cursor: another connection to the same in-memory
        database, which sees its tables (not its TEMP ones). The writer is DuckDB's scan to
        Arrow and pyarrow's Parquet encoding, ~1 core for ~5 s of a national year, which ran
        while the other core idled; the source's read and typed insert are DuckDB's, so the
        two threads seldom hold the GIL together. One batch is written at a time: the next
        flush waits for the one before (its rows, the next batch's raw and staged rows are
        what the connection holds at most), and finish() waits for the last."""
        self.wait()
        name = f"_lake_batch_{self._batches}"
        self._batches += 1
        con.execute(f"ALTER TABLE {table} RENAME TO {name}")
        cursor = con.cursor()
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lake-writer")
        self._pending = self._writer.submit(self._write_moved, cursor, name, keys, parts)

    def _write_moved(self, cursor: duckdb.DuckDBPyConnection, name: str,
                     keys: list[tuple[str, date]], parts: list[tuple]) -> None:
        try:
            self._write(cursor, name, keys, parts)
        finally:
            try:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            finally:
                cursor.close()

    def _write(self, con: duckdb.DuckDBPyConnection, table: str,
               keys: list[tuple[str, date]], parts: list[tuple]) -> None:
        """Write one batch's partitions and give each its final name; then (only then) list
        them as written."""
        spec = DATASETS[self.dataset]
        lake = self.paths.lake
        written = _write_partitions(con, table, spec.columns, lake, self.dataset, self.source,
                                    self.load_id, keys, spec.optional, parts)
        for (force_id, month), path in sorted(written.items()):
            final = lake / lake_path(self.dataset, self.source, force_id, month, self.load_id)
            os.replace(path, final)
            self.files[(force_id, month)] = final
        self.parts.extend((f, m, file, n) for f, m, file, n, _, _ in parts)

    def wait(self) -> None:
        """Return once the batch being written (if any) is in the lake; its error, if it
        failed, is raised here."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def finish(self, raise_error: bool = True) -> None:
        """Wait for the last batch's writer and stop its thread: called once the source has
        staged everything (and when it failed: a writer must not outlive the connection).
        `raise_error` False keeps a writer's error quiet (the caller is raising its own)."""
        try:
            self.wait()
        except BaseException:
            if raise_error:
                raise
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def discard(self) -> None:
        """Remove the files written and the load's marker (nothing will list them)."""
        self.finish(raise_error=False)
        for path in self.files.values():
            path.unlink(missing_ok=True)
        self.files.clear()
        self.parts.clear()
        self.keys.clear()
        if self.started:
            shutil.rmtree(self.paths.lake / ".incoming" / self.load_id, ignore_errors=True)


# A partition is written by its own COPY of its rows' rowid range when every partition of the
# table is one run of rows (as a source stages them: file by file, a file one force's month)
# and partitions hold this many rows on average: DuckDB's partitioned COPY costs about 1.6x
# its single-file COPY of the same rows (demo calls, 2.15 M rows in 60 partitions: 2.1 -> 1.3
# s of CPU; crimes, 0.5 M in 60: 0.9 -> 0.6 s), but a COPY costs ~1.4 ms however few its
# rows, so thousands of tiny partitions (the demo's 2,520 comparator files of 7 to 14 rows,
# before they became one file a month: 1.3 s partitioned, 3.6 s one by one) stay with the
# partitioned writer.
RANGE_MIN_ROWS = 4096


def _write_partitions(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                      lake: Path, dataset: str, source: str, load_id: str,
                      partitions: list[tuple[str, date]],
                      optional: dict[str, str] | None = None,
                      parts: list[tuple] | None = None) -> dict[tuple[str, date], Path]:
    """Write every (force, month) partition of `table` straight into its lake folder (the
    layout's `force_id=`/`month=` folders, which are also DuckDB's hive partition folders),
    each file named for this load; the caller renames each to its final name in the same
    folder. Returns partition -> file.

    Nothing lists these files until the warehouse switch, so a load killed or failing here
    leaves only unreferenced files named for its load id, which the next load removes
    (recover_killed_loads: the load's folder under `.incoming` marks it as unfinished).
    Writing in place, not into a staging folder renamed across, saves a mkdir, a rename
    across folders and two rmdirs per partition (the demo wrote 5,520; 600 since its
    force-level comparators are one file a month, `_write_months`)."""
    target = lake / dataset / f"source={source}"
    target.mkdir(parents=True, exist_ok=True)
    present = {c for c in (optional or {}) if _has_column(con, table, c)}
    select = select_list(columns, optional, present)
    spans = _spans(con, table, len(partitions), parts)
    if spans is not None:
        streamed = _write_stream(con, table, select, target, load_id, spans, dataset)
        if streamed is not None:
            if set(streamed) != set(partitions):
                raise _changed(dataset)
            return streamed
    ranges = _row_ranges(con, table, len(partitions), parts)
    if ranges is None and _small(con, table, len(partitions)):
        small = _write_small(con, table, select, target, load_id, partitions, dataset)
        if small is not None:
            return small
    if ranges is not None:
        out: dict[tuple[str, date], Path] = {}
        for (force_id, month), (first, last) in sorted(ranges.items()):
            folder = target / f"force_id={force_id}" / f"month={month:%Y-%m-%d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{load_id}.part0.parquet"
            con.sql(f"SELECT {select} FROM {table} WHERE rowid BETWEEN ? AND ?",
                    params=[first, last]).write_parquet(str(path), compression="snappy")
            out[(force_id, month)] = path
        if set(out) != set(partitions):
            raise RuntimeError(f"writing the lake: the partitions of {dataset} changed while "
                               "they were written")
        return out
    con.execute(
        f"COPY (SELECT {select} FROM {table}) "
        f"TO '{_sql_path(target)}' (FORMAT parquet, COMPRESSION snappy, "
        "PARTITION_BY (force_id, month), WRITE_PARTITION_COLUMNS true, "
        f"OVERWRITE_OR_IGNORE true, FILENAME_PATTERN '{_sql_path(Path(load_id))}.part{{i}}')"
    )
    # Each touched partition's folder, named as DuckDB names it (force ids are slugs, months
    # dates: nothing to escape); a listing of those folders only, not of the lake's history.
    out = {}
    pattern = f"{glob.escape(load_id)}.part*.parquet"
    for force_id, month in partitions:
        found = list((target / f"force_id={force_id}" / f"month={month:%Y-%m-%d}").glob(pattern))
        if len(found) != 1:
            # DuckDB split a partition into several files, or put it elsewhere: never publish
            # part of a partition (the load fails whole; its files are removed by the next).
            raise RuntimeError(f"writing the lake: {len(found)} files for {dataset} "
                               f"{force_id} {month:%Y-%m}, expected one")
        out[(force_id, month)] = found[0]
    return out


def _write_months(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str],
                  lake: Path, dataset: str, source: str, load_id: str,
                  partitions: list[tuple[str, date]],
                  optional: dict[str, str] | None = None) -> dict[date, Path]:
    """A force-level dataset's rows written one file a month holding every force
    (etl/lake/layout.py `month_path`), in force order, under a name the caller renames to the
    final one in the same folder. Returns month -> file. pyarrow writes them from one Arrow
    fetch where every column's type is one it writes as DuckDB does; DuckDB otherwise."""
    target = lake / dataset / f"source={source}"
    present = {c for c in (optional or {}) if _has_column(con, table, c)}
    select = select_list(columns, optional, present)
    order = "month, force_id" + (", rowid" if _is_table(con, table) else "")
    rel = con.sql(f"SELECT {select} FROM {table} ORDER BY {order}")
    runs = con.execute(f"SELECT month, count(*), list(DISTINCT force_id) FROM {table} "
                       "GROUP BY month ORDER BY month").fetchall()
    if {(f, m) for m, _, forces in runs for f in forces} != set(partitions):
        raise _changed(dataset)
    rows = rel.to_arrow_table() if {str(t) for t in rel.types} <= _ARROW_SAFE else None
    out: dict[date, Path] = {}
    start = 0
    for month, n, _ in runs:
        folder = target / f"month={month:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{load_id}.part0.parquet"
        if rows is not None:
            pq.write_table(rows.slice(start, n), path, compression="snappy")
        else:
            con.sql(f"SELECT {select} FROM {table} WHERE month = ? ORDER BY {order}",
                    params=[month]).write_parquet(str(path), compression="snappy")
        out[month] = path
        start += n
    return out


# Tables of at most this many rows whose partitions average fewer than RANGE_MIN_ROWS are
# fetched whole as Arrow and each partition written by pyarrow: DuckDB's partitioned COPY
# spends ~0.55 ms of CPU a file whatever its size, pyarrow ~0.3 ms (measured on the demo's
# 5,040 comparator files of 7 to 14 rows, since written one file a month: `_write_months`).
SMALL_TABLE_ROWS = 250_000
# Column types whose Parquet pyarrow writes as DuckDB does (read back as the same DuckDB types)
_ARROW_SAFE = {"BIGINT", "BOOLEAN", "DATE", "DOUBLE", "INTEGER", "TIMESTAMP", "VARCHAR"}


def _is_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                            [table]).fetchall()[0][0])


def _is_temporary(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` (as a query names it: a TEMP table first) is a TEMP table or a view:
    one that only `con` sees."""
    rows = con.execute("SELECT temporary FROM duckdb_tables() WHERE table_name = ? "
                       "ORDER BY temporary DESC", [table]).fetchall()
    return not rows or bool(rows[0][0])


def _small(con: duckdb.DuckDBPyConnection, table: str, partitions: int) -> bool:
    if not partitions or not _is_table(con, table):
        return False
    total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return total <= SMALL_TABLE_ROWS and total < RANGE_MIN_ROWS * partitions


def _write_small(con: duckdb.DuckDBPyConnection, table: str, select: str, target: Path,
                 load_id: str, partitions: list[tuple[str, date]],
                 dataset: str) -> dict[tuple[str, date], Path] | None:
    """Every partition of a small table written by pyarrow from one sorted Arrow fetch (rows
    in their staged order within a partition), named as the partitioned COPY names them.
    None, having written nothing, when a column's type is not one pyarrow writes as DuckDB
    does (the caller then uses DuckDB's own writer)."""
    rel = con.sql(f"SELECT {select} FROM {table} ORDER BY force_id, month, rowid")
    if not {str(t) for t in rel.types} <= _ARROW_SAFE:
        return None
    rows = rel.to_arrow_table()
    runs = con.execute(f"SELECT force_id, month, count(*) FROM {table} "
                       "GROUP BY ALL ORDER BY force_id, month").fetchall()
    if {(f, m) for f, m, _ in runs} != set(partitions):
        raise RuntimeError(f"writing the lake: the partitions of {dataset} changed while "
                           "they were written")
    out: dict[tuple[str, date], Path] = {}
    start = 0
    for force_id, month, n in runs:
        folder = target / f"force_id={force_id}" / f"month={month:%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{load_id}.part0.parquet"
        pq.write_table(rows.slice(start, n), path, compression="snappy")
        out[(force_id, month)] = path
        start += n
    return out


# The streaming writer (_write_stream). DuckDB hands the staged rows over STREAM_BATCH_ROWS at
# a time; a partition's rows are written as a Parquet row group once STREAM_GROUP_ROWS have
# gathered or the partition ends. What it holds is bounded whatever the table's size: pieces
# of at most STREAM_LIVE_BATCHES batches (~15 MB of street rows each) are kept alive at once
# (8 batches of 122,880 rows: the national year's load peaked at 1,576 MiB; 4 of 61,440: 1,444
# MiB, no slower).
# Partitions whose rows interleave (a staged batch's files are read in parallel, and DuckDB's
# joins do not keep the files' order) are written side by side, at most STREAM_MAX_OPEN
# files open at once; a table interleaved more than that, or in runs of fewer than
# STREAM_MIN_RUN rows on average in a batch, takes DuckDB's partitioned COPY instead.
STREAM_BATCH_ROWS = 61_440
STREAM_GROUP_ROWS = 245_760
STREAM_LIVE_BATCHES = 4
STREAM_MAX_OPEN = 64
STREAM_MIN_RUN = 256


# Columns the streamed Parquet files carry no min/max statistics for: values that are unique or
# nearly so (crime ids of random hex digits, addresses, LSOA names, coordinates, line
# numbers), whose row groups' ranges span nearly every value, so a reader's filter or join
# never skips a row group by them; nothing reads them but pruning (the rows read back are
# the same). pyarrow's statistics of these columns were ~20% of its CPU writing a national
# year's street rows (0.66 -> 0.55 s per 950,000 rows, ~0.7 s of the load).
NO_STATISTICS = frozenset({"crime_id", "location", "lsoa_name", "longitude", "latitude", "line"})


class _Interleaved(Exception):
    """The scan's rows came in runs too short to stream: the caller uses another writer."""


@dataclass
class _Part:
    """One partition being streamed: its file, its rows still to come, the pieces held."""

    path: Path
    left: int
    writer: pq.ParquetWriter | None = None
    pieces: list[tuple[int, pa.RecordBatch]] = field(default_factory=list)  # (batch no., rows)
    held: int = 0

    def flush(self, schema: pa.Schema, encoding: dict[str, list[str]]) -> None:
        if self.pieces:
            rows = pa.Table.from_batches([p for _, p in self.pieces], schema)
            if self.writer is None:
                if "dictionary" not in encoding:
                    encoding["dictionary"] = _dictionary_columns(rows)
                self.writer = pq.ParquetWriter(
                    self.path, schema, compression="snappy",
                    use_dictionary=encoding["dictionary"],
                    write_statistics=[c for c in schema.names if c not in NO_STATISTICS])
            self.writer.write_table(rows, row_group_size=max(self.held, 1))
        self.pieces, self.held = [], 0


def _dictionary_columns(rows: pa.Table) -> list[str]:
    """The columns worth a Parquet dictionary: those whose values repeat (at most half as many
    distinct values as values), judged once per stream on the first partition's rows written.
    A dictionary of unique values (crime ids, coordinates, line numbers) is built, then
    thrown away for plain pages by pyarrow: on a national year of police.uk street rows,
    dictionaries for the repeating columns only cut pyarrow's CPU by ~25% (0.33 -> 0.25 s
    per 450k rows) and the files by ~7%. Only the encoding differs: the rows and types read
    back are the same."""
    out = []
    for name, column in zip(rows.column_names, rows.columns, strict=True):
        values = len(column) - column.null_count
        if values == 0 or 2 * pc.count_distinct(column).as_py() <= values:
            out.append(name)
    return out


def _partition_runs(con: duckdb.DuckDBPyConnection, table: str, partitions: int,
                    parts: list[tuple] | None = None) -> list[tuple[str, date, int, int, int]] | None:
    """(force_id, month, first rowid, last rowid, rows) of each partition of `table`, for the
    writers that cut the table by rowid (`_spans`, `_row_ranges`); None for a view (no rowids)
    or partitions averaging fewer than RANGE_MIN_ROWS rows. From `parts` (Staged.parts) when
    given, else a scan of the table."""
    if parts is not None:
        runs: dict[tuple[str, date], list[int]] = {}
        for force_id, month, _, n, first, last in parts:
            if first is None:
                return None  # a view
            run = runs.setdefault((force_id, month), [first, last, 0])
            run[0], run[1], run[2] = min(run[0], first), max(run[1], last), run[2] + n
        if partitions == 0 or sum(r[2] for r in runs.values()) < RANGE_MIN_ROWS * partitions:
            return None
        return [(f, m, first, last, n) for (f, m), (first, last, n) in runs.items()]
    if not _is_table(con, table):
        return None
    total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if partitions == 0 or total < RANGE_MIN_ROWS * partitions:
        return None
    return con.execute(
        f"SELECT force_id, month, min(rowid), max(rowid), count(*) FROM {table} GROUP BY ALL"
    ).fetchall()


def _spans(con: duckdb.DuckDBPyConnection, table: str, partitions: int,
           parts: list[tuple] | None = None) -> dict[tuple[str, date], tuple[int, int, int]] | None:
    """(first rowid, last rowid, rows) of each (force, month) partition of `table`, when the
    rows of at most STREAM_MAX_OPEN partitions interleave anywhere in row order and the
    partitions average RANGE_MIN_ROWS rows or more; else None (a view has no rowids)."""
    runs = _partition_runs(con, table, partitions, parts)
    if runs is None:
        return None
    # The most partitions open at once when the rows are read in rowid order: a sweep.
    events = sorted([(first, 1) for _, _, first, _, _ in runs]
                    + [(last + 1, -1) for _, _, _, last, _ in runs])
    depth = most = 0
    for _, step in events:
        depth += step
        most = max(most, depth)
    if most > STREAM_MAX_OPEN:
        return None
    return {(f, m): (first, last, n) for f, m, first, last, n in runs}


def _write_stream(con: duckdb.DuckDBPyConnection, table: str, select: str, target: Path,
                  load_id: str, spans: dict[tuple[str, date], tuple[int, int, int]],
                  dataset: str) -> dict[tuple[str, date], Path] | None:
    """Every partition written by pyarrow from ONE scan of the staged table in row order,
    each partition's rows cut from the stream as they pass and written to its own file.

    One COPY a partition (the rowid-range writer) reads at least one whole 122,880-row block
    of the table per COPY: a national year's 516 partitions of ~12,000 rows read a staged
    table spilled to disk about ten times over; DuckDB's partitioned COPY costs ~1.6x its
    single-file COPY. None, having written nothing that stays, when a column's type is not one
    pyarrow writes as DuckDB does, or the rows turn out too finely interleaved: the caller
    then uses DuckDB's COPY.

    Each row goes to the partition its own force_id and month name (so the scan's order only
    decides how the files' row groups fall, never which rows a file holds), and each
    partition must end with exactly its row count, or the load fails (its files are
    unreferenced and removed by the next load)."""
    rel = con.sql(f"SELECT {select} FROM {table}")
    if not {str(t) for t in rel.types} <= _ARROW_SAFE:
        return None
    parts: dict[tuple[str, date], _Part] = {}
    for key, (_, _, n) in spans.items():
        folder = target / f"force_id={key[0]}" / f"month={key[1]:%Y-%m-%d}"
        parts[key] = _Part(folder / f"{load_id}.part0.parquet", n)
    made: set[Path] = set()
    live: dict[int, int] = {}          # batch no. -> pieces held from it
    encoding: dict[str, list[str]] = {}  # the columns given a dictionary (_dictionary_columns)
    try:
        schema: pa.Schema | None = None
        for number, batch in enumerate(rel.to_arrow_reader(STREAM_BATCH_ROWS)):
            schema = batch.schema
            for key, start, stop in _key_runs(batch):
                part = parts.get(key)
                if part is None or stop - start > part.left:
                    raise _changed(dataset)
                if part.writer is None and not part.pieces:
                    part.path.parent.mkdir(parents=True, exist_ok=True)
                    made.add(part.path)
                part.pieces.append((number, batch.slice(start, stop - start)))
                live[number] = live.get(number, 0) + 1
                part.held += stop - start
                part.left -= stop - start
                if part.left == 0 or part.held >= STREAM_GROUP_ROWS:
                    _release(part, live)
                    part.flush(schema, encoding)
                    if part.left == 0:  # complete: no row may come for it any more
                        part.writer.close()  # type: ignore[union-attr]  # flush made it
                        part.writer = None   # what it kept (its file's metadata) is freed
            while len(live) > STREAM_LIVE_BATCHES:
                # the partition holding the oldest batch writes what it holds (a row group)
                oldest = min(live)
                part = next(p for p in parts.values()
                            if p.pieces and p.pieces[0][0] == oldest)
                _release(part, live)
                part.flush(schema, encoding)
        if any(p.left for p in parts.values()):
            raise _changed(dataset)
    except _Interleaved:
        _discard(parts.values(), made)
        return None
    except BaseException:
        _discard(parts.values(), made)
        raise
    return {key: part.path for key, part in parts.items()}


def _release(part: _Part, live: dict[int, int]) -> None:
    for number, _ in part.pieces:
        live[number] -= 1
        if not live[number]:
            del live[number]


def _discard(parts: Iterable[_Part], made: set[Path]) -> None:
    """Close and remove what a stream that did not finish wrote (the next load would remove
    it too, but a fallback writer is about to write the same names)."""
    for part in parts:
        if part.writer is not None:
            with contextlib.suppress(Exception):
                part.writer.close()
    for path in made:
        path.unlink(missing_ok=True)


def _changed(dataset: str) -> RuntimeError:
    return RuntimeError(f"writing the lake: the partitions of {dataset} changed while they "
                        "were written")


def _key_runs(batch: pa.RecordBatch) -> list[tuple[tuple[str, date], int, int]]:
    """(partition, first row, row after the last) of each run of one (force_id, month) in
    the batch, in order."""
    force, month = batch.column("force_id"), batch.column("month")
    n = batch.num_rows
    if n == 0:
        return []
    if force.null_count or month.null_count:
        raise RuntimeError("writing the lake: a staged row has no force or month")
    change = pc.or_(pc.not_equal(force[1:], force[:-1]), pc.not_equal(month[1:], month[:-1]))
    starts = [0, *(np.flatnonzero(change.to_numpy(zero_copy_only=False)) + 1).tolist()]
    if len(starts) > 1 and n / len(starts) < STREAM_MIN_RUN:
        raise _Interleaved
    stops = [*starts[1:], n]
    return [((force[i].as_py(), month[i].as_py()), i, j) for i, j in zip(starts, stops, strict=True)]


def _row_ranges(con: duckdb.DuckDBPyConnection, table: str, partitions: int,
                parts: list[tuple] | None = None) -> dict[tuple[str, date], tuple[int, int]] | None:
    """(first rowid, last rowid) of each (force, month) partition of `table` when each is one
    unbroken run of rows and they average RANGE_MIN_ROWS rows or more; else None. A run is
    unbroken when its rowids span exactly its row count (rowids are unique, so no other row
    lies inside it); a view, or a table with rows deleted inside a run, takes the other path."""
    runs = _partition_runs(con, table, partitions, parts)
    if runs is None:
        return None
    if any(last - first + 1 != n for _, _, first, last, n in runs):
        return None
    return {(force_id, month): (first, last) for force_id, month, first, last, _ in runs}


# Threads for the many small filesystem calls of a load with thousands of partitions (a
# national year writes 516; the demo wrote 5,520 before its comparators became month files):
# each fsync or rmdir waits on the journal, a thread pool lets the filesystem
# commit many at once (measured on ext4: 1,000 fsyncs 1.9 s -> 0.18 s, 2,000 rmdirs 5.3 s ->
# 0.4 s). The calls release the GIL.
_IO_THREADS = 16


def _each(fn: Callable[[Path], object], items: list[Path]) -> None:
    """`fn` on every item, in a thread pool when there are many; the first error is raised."""
    if len(items) < 8:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        for _ in pool.map(fn, items):
            pass


def _fsync_files(files: list[Path]) -> None:
    """Make the renamed partition files, and the renames, durable before the warehouse
    lists them (every file before any directory, as before)."""
    _each(fsync_file, files)
    _each(fsync_dir, sorted({p.parent for p in files}))


def _sql_path(path: Path) -> str:
    """COPY TO takes no parameter for its target; the path is ours (never user text
    beyond the warehouse folder), and quotes are escaped anyway."""
    return str(path).replace("'", "''")


def commit(link: Path, staged: Staged, report: LoadReport, command: str,
           progress: Progress | None = None) -> None:
    """Write lake partitions and publish the next warehouse version. Caller holds the lock.
    Files holding rows of unknown forces or implausible months are refused first (gate.py);
    when nothing is left, nothing is written."""
    if not screen(staged, report):
        staged.discard_prewritten()
        return
    paths = WarehousePaths(link)
    if not any(w.started for w in staged.prewritten.values()):  # (else done before they wrote)
        recover_killed_loads(paths)
    con = staged.con
    lake = paths.lake
    # Marks this load as unfinished until its switch (recover_killed_loads): made before any
    # lake file is written.
    (lake / ".incoming" / report.load_id).mkdir(parents=True, exist_ok=True)
    loaded_at = datetime.now()
    manifest: list[tuple] = []
    datasets = [(d, t, DATASETS[d].columns) for d, t in staged.tables.items()]
    datasets += [(d, None, DATASETS[d].columns) for d in staged.prewritten
                 if d not in staged.tables]
    dup_count: dict[tuple[str, date], int] = {}
    for _, force_id, month, _, _ in staged.duplicates:
        dup_count[(force_id, month)] = dup_count.get((force_id, month), 0) + 1
    moved: list[Path] = []
    if staged.memory_while_writing and _mostly_spilled(con):
        con.execute("SET memory_limit = ?", [staged.memory_while_writing])
    for dataset, table, columns in datasets:
        parts = staged.parts(table) if table else []
        pre = staged.prewritten.get(dataset)
        done = pre.files if pre else {}
        by_partition: dict[tuple[str, date], list] = {}
        merged = parts if pre is None else sorted(
            [*pre.parts, *(p[:4] for p in parts)], key=lambda p: (p[0], p[1], p[2] or "", p[3]))
        for force_id, month, file, n, *_ in merged:  # in order: a partition's first file named
            by_partition.setdefault((force_id, month), [0, file])[0] += n
        counts = [(f, m, n, file) for (f, m), (n, file) in sorted(by_partition.items())]
        if not counts:
            continue
        if progress:
            progress(f"Writing {dataset} partitions", 0, 1)
        left = sorted({(f, m) for f, m, *_ in parts})
        if any(k in done for k in left):
            raise RuntimeError(f"writing the lake: a partition of {dataset} is both written "
                               "and staged")
        by_month = DATASETS[dataset].force_level and table is not None and not done
        if by_month:
            months = _write_months(con, table, columns, lake, dataset, staged.source,
                                   report.load_id, left, DATASETS[dataset].optional)
            written = {}
        else:
            written = _write_partitions(con, table, columns, lake, dataset, staged.source,
                                        report.load_id, left, DATASETS[dataset].optional,
                                        parts) if left and table else {}
        for force_id, month, rows, origin in counts:
            if by_month:  # every force's rows of the month in one file
                rel = month_path(dataset, staged.source, month, report.load_id)
                final = lake / rel
                if month in months:
                    os.replace(months.pop(month), final)
                    moved.append(final)
            else:
                rel = lake_path(dataset, staged.source, force_id, month, report.load_id)
                final = lake / rel
                if (force_id, month) not in done:  # (a prewritten one has its final name)
                    os.replace(written[(force_id, month)], final)
                moved.append(final)
            manifest.append((dataset, staged.source, force_id, month, rel, rows,
                             report.load_id, loaded_at, staged.origins.get(origin, origin),
                             dup_count.get((force_id, month), 0) if dataset == "crime" else 0))
            report.partitions.append((dataset, staged.source, force_id, month, rows))
        if progress:
            progress(f"Writing {dataset} partitions", 1, 1)
    if staged.memory_after_write:
        con.execute("SET memory_limit = ?", [staged.memory_after_write])  # spills what it holds
    if progress:
        progress("Syncing lake files", 0, 1)
    # The lake files are made durable in a thread while the version is built from them (the
    # build reads them from the page cache): the fsyncs wait on the disk, not the CPU (the
    # demo's 5,520 files took ~1.7 s of wall on their own; it writes 600 now). The version is
    # published only after they are all durable (_build_version waits for them before its switch).
    with ThreadPoolExecutor(max_workers=1) as pool:
        synced = pool.submit(_fsync_files, moved)
        said: list[bool] = []

        def durable() -> None:
            synced.result()
            if progress and not said:
                said.append(True)
                progress("Syncing lake files", 1, 1)
        try:
            _build_version(paths, staged, report, command, loaded_at, manifest, progress,
                           durable)
        except duckdb.Error as exc:
            # A damaged live version (a checksum error) must not stop every later load: build
            # a whole version from the last good one and the lake, then this load on top of it.
            live = paths.live()
            if not looks_damaged(exc) or live is None or check_version(live) is None:
                raise
            report.notes.extend(repair(paths))
            _build_version(paths, staged, report, command, loaded_at, manifest, progress,
                           durable)
    report.committed = True
    shutil.rmtree(lake / ".incoming" / report.load_id, ignore_errors=True)


def _build_version(paths: WarehousePaths, staged: Staged, report: LoadReport, command: str,
                   loaded_at: datetime, manifest: list[tuple], progress: Progress | None,
                   durable: Callable[[], None] = lambda: None) -> None:
    """The next version, built and switched to; `durable` returns once the lake files it
    lists are on disk (or raises), and is called before the switch."""
    con, lake = staged.con, paths.lake
    with new_version(paths) as wcon:
        upgrading = new_version_upgrades(wcon)
        if progress:
            progress("Building warehouse", 0, 1)
        _replace_demo(wcon, staged, manifest, report)
        _publish_manifest(wcon, staged, manifest)
        _upsert_units(wcon, staged, con)
        rebuild_forces = _upsert_lsoas(wcon, staged, con)
        write_reference_tables(wcon)
        if upgrading:
            rebuild_all(wcon, str(lake))  # an older schema's cubes: re-derive them all
        else:
            touched: dict[str, set[Partition]] = {}
            for d, s_, f, m, *_ in manifest:
                touched.setdefault(d, set()).add((s_, f, m))
            rebuild(wcon, str(lake), touched, rebuild_forces)
        _log(wcon, staged, report, command, loaded_at)
        _collect_superseded(wcon, lake)
        durable()  # the switch (new_version's exit) lists only files already on disk
        if progress:
            progress("Building warehouse", 1, 1)


def _mostly_spilled(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection holds less in memory than it has spilled to disk."""
    held, spilled = con.execute(
        "SELECT sum(memory_usage_bytes), sum(temporary_storage_bytes) FROM duckdb_memory()"
    ).fetchall()[0]
    return (spilled or 0) > (held or 0)


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return any(r[0] == column for r in con.execute(f"DESCRIBE {table}").fetchall())


DEMO_SOURCE = "demo"
_CUBES = ("cube_crime_month", "cube_crime_day", "cube_measure_month", "cube_measure_day",
          "month_status")


def _replace_demo(wcon: duckdb.DuckDBPyConnection, staged: Staged, manifest: list[tuple],
                  report: LoadReport) -> None:
    """Real data for a force the warehouse holds synthetic demo data for replaces that demo
    data (every dataset, and the demo's invented units below the force), and the load says
    so: otherwise the dashboard, which prefers one source per force, could go on showing
    invented figures in front of the real ones."""
    if staged.source == DEMO_SOURCE:
        return
    forces = sorted({m[2] for m in manifest})
    found = wcon.execute(
        """SELECT force_id, list(DISTINCT dataset ORDER BY dataset), min(month), max(month)
           FROM lake_manifest WHERE source = ? AND force_id IN (SELECT unnest(?::VARCHAR[]))
           GROUP BY force_id ORDER BY force_id""", [DEMO_SOURCE, forces]).fetchall()
    for force_id, datasets, first, last in found:
        wcon.execute("INSERT INTO lake_garbage SELECT path, now() FROM lake_manifest "
                     "WHERE source = ? AND force_id = ?", [DEMO_SOURCE, force_id])
        wcon.execute("DELETE FROM lake_manifest WHERE source = ? AND force_id = ?",
                     [DEMO_SOURCE, force_id])
        for table in _CUBES:
            wcon.execute(f"DELETE FROM {table} WHERE source = ? AND force_id = ?",
                         [DEMO_SOURCE, force_id])
        wcon.execute("DELETE FROM dim_unit WHERE force_id = ? AND synthetic AND level <> 'force'",
                     [force_id])
        ref = FORCE_BY_SLUG.get(force_id)
        wcon.execute(
            "UPDATE dim_unit SET synthetic = FALSE, population = ?, households = NULL, "
            "area_km2 = NULL, note = ? WHERE unit_id = ? AND synthetic",
            [ref.population if ref else None,
             "population: approximate reference figure" if ref else None, force_id])
        report.notes.append(
            f"{force_id}: the synthetic demo data for this force ({', '.join(datasets)}, "
            f"{first:%Y-%m} to {last:%Y-%m}) is REPLACED by the data loaded now; the demo data "
            "of other forces is kept. Run `python -m etl demo` to go back to the demo.")


def _publish_manifest(wcon: duckdb.DuckDBPyConnection, staged: Staged,
                      manifest: list[tuple]) -> None:
    if staged.replace_force_months:
        forces = sorted({m[2] for m in manifest})
        wcon.execute(
            "INSERT INTO lake_garbage SELECT path, now() FROM lake_manifest WHERE source = ? "
            "AND force_id IN (SELECT unnest(?::VARCHAR[]))", [staged.source, forces])
        wcon.execute(
            "DELETE FROM lake_manifest WHERE source = ? AND force_id IN "
            "(SELECT unnest(?::VARCHAR[]))", [staged.source, forces])
        for table in ("cube_crime_month", "cube_crime_day", "cube_measure_month",
                      "cube_measure_day"):
            wcon.execute(
                f"DELETE FROM {table} WHERE source = ? AND force_id IN "
                "(SELECT unnest(?::VARCHAR[]))", [staged.source, forces])
        wcon.execute(
            "DELETE FROM month_status WHERE source = ? AND force_id IN "
            "(SELECT unnest(?::VARCHAR[]))", [staged.source, forces])
    frame = pd.DataFrame(manifest, columns=[
        "dataset", "source", "force_id", "month", "path", "rows", "load_id", "loaded_at",
        "origin", "duplicates"])
    wcon.register("_manifest", frame)
    wcon.execute(
        """INSERT INTO lake_garbage SELECT l.path, now() FROM lake_manifest l
           JOIN _manifest m USING (dataset, source, force_id)
           WHERE l.month = CAST(m.month AS DATE)""")
    wcon.execute(
        """INSERT OR REPLACE INTO lake_manifest SELECT dataset, source, force_id,
           CAST(month AS DATE), path, rows, load_id, loaded_at, origin, duplicates FROM _manifest""")
    wcon.unregister("_manifest")


def _collect_superseded(wcon: duckdb.DuckDBPyConnection, lake: Path) -> None:
    """Delete lake files replaced by earlier loads once no reader can still want them. A
    force-level month file stays while the manifest lists it for any force (one force's rows
    replaced, the others' still live in it)."""
    old = wcon.execute(
        "SELECT DISTINCT path FROM lake_garbage WHERE superseded_at < now() - to_seconds(?) "
        "AND path NOT IN (SELECT path FROM lake_manifest)",
        [GRACE_SECONDS],
    ).fetchall()
    for (rel,) in old:
        (lake / rel).unlink(missing_ok=True)
    wcon.execute(
        "DELETE FROM lake_garbage WHERE superseded_at < now() - to_seconds(?)", [GRACE_SECONDS]
    )


def _upsert_units(wcon: duckdb.DuckDBPyConnection, staged: Staged,
                  con: duckdb.DuckDBPyConnection) -> None:
    """Units a source defines, plus a force unit for every force it touched."""
    rows: list[tuple] = []
    if staged.unit_table:
        rows = con.execute(f"SELECT {select_list(UNIT_COLUMNS)} FROM {staged.unit_table}").fetchall()
    defined = {r[0] for r in rows}
    forces = staged.forces()
    existing = {r[0] for r in wcon.execute(
        "SELECT unit_id FROM dim_unit WHERE level = 'force'").fetchall()}
    # A force the demo touches without defining it (the 42 comparison forces, whose only data
    # are the demo's invented aggregates) is as synthetic as the demo force: the one flag every
    # page, chart and API reads. Real data for it later clears the flag (_replace_demo).
    synthetic = staged.source == DEMO_SOURCE
    for f in sorted(forces - defined - existing):
        ref = FORCE_BY_SLUG.get(f)
        rows.append((f, "force", None, f, ref.name if ref else f, ref.population if ref else None,
                     None, None, synthetic, None, None,
                     "population: approximate reference figure" if ref else None))
    for a in staged.assignments:
        for unit_id, level, parent, name, pop, hh in (
            (a.bcu_id, "bcu", a.force_id, a.bcu, a.bcu_population, a.bcu_households),
            (a.npu_id, "npu", a.bcu_id, a.npu, a.npu_population, a.npu_households),
        ):
            if unit_id not in defined:
                defined.add(unit_id)
                rows.append((unit_id, level, parent, a.force_id, name, pop, hh, None,
                             False, None, None,
                             DEFAULT_NOTE if pop is not None else "from the LSOA -> NPU mapping"))
    if rows:
        # An upsert that keeps what is already known: a later source that names a unit
        # without its population must not blank the population another source gave.
        frame = pd.DataFrame(rows, columns=list(UNIT_COLUMNS))
        wcon.register("_units", frame)
        keep = ", ".join(
            f"{c} = coalesce(excluded.{c}, dim_unit.{c})" for c in UNIT_COLUMNS if c != "unit_id")
        wcon.execute(
            f"INSERT INTO dim_unit SELECT {select_list(UNIT_COLUMNS)} FROM _units "
            f"ON CONFLICT (unit_id) DO UPDATE SET {keep}")
        wcon.unregister("_units")


def _upsert_lsoas(wcon: duckdb.DuckDBPyConnection, staged: Staged,
                  con: duckdb.DuckDBPyConnection) -> set[str]:
    """Record every LSOA seen, with its NPU (file > default > none). Returns the forces
    whose mapping changed for LSOAs already loaded, so their history is re-cubed."""
    changed: set[str] = set()
    if staged.assignments:
        mapping = pd.DataFrame(
            [(a.force_id, a.lsoa_code, a.npu_id) for a in staged.assignments],
            columns=["force_id", "lsoa_code", "npu_id"],
        ).drop_duplicates(["force_id", "lsoa_code"], keep="last")
        wcon.register("_mapping", mapping)
        changed = {r[0] for r in wcon.execute(
            """SELECT DISTINCT l.force_id FROM dim_lsoa l JOIN _mapping m USING (force_id, lsoa_code)
               WHERE l.npu_id IS DISTINCT FROM m.npu_id""").fetchall()}
        wcon.execute(
            """INSERT OR REPLACE INTO dim_lsoa
               SELECT m.force_id, m.lsoa_code, l.lsoa_name, m.npu_id, 'file'
               FROM _mapping m LEFT JOIN dim_lsoa l USING (force_id, lsoa_code)""")
        wcon.unregister("_mapping")
    if not staged.crime_table:
        return changed
    rows = f"SELECT force_id, lsoa_code, lsoa_name FROM {staged.crime_table}"
    pre = staged.prewritten.get("crime")
    if pre is not None and pre.lsoas:  # each written batch's LSOAs (LakeBatches.flush)
        rows += f" UNION ALL SELECT force_id, lsoa_code, lsoa_name FROM {pre.lsoas}"
    seen = con.execute(
        f"SELECT force_id, lsoa_code, any_value(lsoa_name) AS lsoa_name FROM ({rows}) "
        "WHERE lsoa_code IS NOT NULL GROUP BY ALL"
    ).df()
    wcon.register("_seen", seen)
    # New LSOAs, and LSOAs first seen without a name (so without a default mapping) that
    # now have one: the result must not depend on the order sources were loaded in.
    new = wcon.execute(
        """SELECT s.force_id, s.lsoa_code, s.lsoa_name FROM _seen s
           LEFT JOIN dim_lsoa l USING (force_id, lsoa_code)
           WHERE l.lsoa_code IS NULL
              OR (l.mapping = 'none' AND l.lsoa_name IS NULL AND s.lsoa_name IS NOT NULL)"""
    ).fetchall()
    # names for LSOAs first seen in a hierarchy file
    wcon.execute(
        """UPDATE dim_lsoa l SET lsoa_name = s.lsoa_name FROM _seen s
           WHERE l.force_id = s.force_id AND l.lsoa_code = s.lsoa_code AND l.lsoa_name IS NULL""")
    wcon.unregister("_seen")
    defaults: list[Assignment] = []
    rows = []
    for force_id, code, name in new:
        a = default_assignment(force_id, code, name)
        if a:
            defaults.append(a)
        rows.append((force_id, code, name, a.npu_id if a else None, "default" if a else "none"))
    if rows:
        wcon.register("_new", pd.DataFrame(
            rows, columns=["force_id", "lsoa_code", "lsoa_name", "npu_id", "mapping"]))
        wcon.execute("INSERT OR REPLACE INTO dim_lsoa SELECT * FROM _new")
        wcon.unregister("_new")
    if defaults:
        _upsert_units(wcon, Staged(con=con, source=staged.source, assignments=defaults), con)
    return changed


def _log(wcon: duckdb.DuckDBPyConnection, staged: Staged, report: LoadReport,
         command: str, started: datetime) -> None:
    finished = datetime.now()
    insert_rows(
        wcon, "load_log",
        ["load_id", "started_at", "finished_at", "command", "file", "status", "rows_read",
         "rows_loaded", "message"],
        [(report.load_id, started, finished, command, origin, "loaded", rows, rows, None)
         for origin, rows in report.loaded]
        + [(report.load_id, started, finished, command, r.file, "refused", None, 0, str(r))
           for r in report.refused],
    )
    if staged.duplicates:
        insert_rows(
            wcon, "quarantine",
            ["load_id", "source", "force_id", "month", "file", "line", "reason", "record"],
            [(report.load_id, staged.source, f, m, staged.origins.get(file, file), line,
              "repeated Crime ID", cid) for file, f, m, line, cid in staged.duplicates],
        )
        counts: dict[tuple[str, str, date], int] = {}
        for file, f, m, _, _ in staged.duplicates:
            key = (staged.origins.get(file, file), f, m)
            counts[key] = counts.get(key, 0) + 1
        insert_rows(
            wcon, "dq_log",
            ["load_id", "source", "force_id", "month", "file", "kind", "detail", "rows"],
            [(report.load_id, staged.source, f, m, file, "duplicate_crime_id",
              f"{n} row(s) repeat a Crime ID already seen in this force's month; counted once",
              n) for (file, f, m), n in counts.items()],
        )
    if staged.crime_table:
        wcon.execute(
            """INSERT INTO dq_log BY NAME
               SELECT ? AS load_id, ms.source, ms.force_id, ms.month, 'unassigned_lsoa' AS kind,
                      'records with a blank LSOA, an LSOA outside the force area, or no NPU '
                      || 'mapping: counted for the force, not assigned to an NPU' AS detail,
                      ms.unassigned AS rows
               FROM month_status ms
               WHERE ms.source = ? AND ms.unassigned > 0
               AND EXISTS (SELECT 1 FROM lake_manifest lm WHERE lm.load_id = ?
                           AND lm.force_id = ms.force_id AND lm.month = ms.month)""",
            [report.load_id, staged.source, report.load_id],
        )
    insert_rows(wcon, "dq_log", ["load_id", "source", "kind", "detail"],
                [(report.load_id, staged.source, "note", n) for n in report.notes])
    wcon.execute("DELETE FROM dq_log WHERE kind = 'suspect_month' AND source = ?", [staged.source])
    wcon.execute(
        """INSERT INTO dq_log BY NAME
           SELECT ? AS load_id, source, force_id, month, 'suspect_month' AS kind,
                  reason AS detail FROM month_status WHERE source = ? AND suspect""",
        [report.load_id, staged.source],
    )
