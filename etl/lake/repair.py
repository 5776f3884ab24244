"""Finding damaged files and building a whole version again (`etl status --verify`, `etl rebuild`).

A disk error, a full disk in another program, or a hand that copied over a file can damage a
lake Parquet file or a warehouse version. DuckDB notices a damaged version only when it reads
the damaged block (a checksum error), so without this module one bad block stopped every
later load with that error and no way out.

- `verify(link)` reads every table of the live version and every lake file its manifest
  lists, in full, and says what is damaged and what to do about it.
- `repair(paths)` builds the next version from the newest version that still reads whole
  (versions are kept two at a time) and the lake, taking the manifest, units and LSOA
  mapping from the damaged version where those tables still read, and leaving out (and
  naming) lake files that are damaged or missing, so that their input can be loaded again.
  `etl rebuild` and any load that finds the live version damaged call it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl.cubes.build import rebuild_all
from etl.lake import layout
from etl.lake.warehouse import WarehousePaths, new_version, new_version_upgrades
from etl.reference.tables import write_reference_tables

# The tables a version holds that cannot be re-derived from the lake.
KEPT = ("lake_manifest", "dim_unit", "dim_lsoa")
_DAMAGE_WORDS = ("corrupt", "checksum", "not a valid duckdb", "invalid", "magic", "i/o error",
                 "could not read", "serialization", "unexpected end", "truncated")


@dataclass(frozen=True)
class Damage:
    path: str       # the damaged file
    problem: str    # what is wrong, in words
    remedy: str     # what to do


class Unrecoverable(Exception):
    """No version reads whole: nothing to rebuild from."""


def looks_damaged(exc: BaseException) -> bool:
    """An error DuckDB raises for a damaged file (rather than for a bug of ours)."""
    text = str(exc).lower()
    return any(w in text for w in _DAMAGE_WORDS)


def check_version(path: Path) -> str | None:
    """None when every table of the version file reads in full; else what failed."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        return f"it cannot be opened ({_gist(exc)})"
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
        for table in tables:
            try:
                con.execute(f'SELECT count(*), max(hash(COLUMNS(*))) FROM "{table}"').fetchall()
            except duckdb.Error as exc:
                return f"table {table} cannot be read ({_gist(exc)})"
    finally:
        con.close()
    return None


def _gist(exc: BaseException) -> str:
    """DuckDB's message without its class name, first line, cut to a readable length."""
    text = str(exc).splitlines()[0] if str(exc) else "unreadable"
    text = re.sub(r"^[A-Za-z ]*Error: ", "", text)  # DuckDB's class of error is not for users
    return text if len(text) <= 160 else text[:160] + "…"


def check_lake_file(path: Path, rows: int, forces: list[str] | None = None) -> str | None:
    """None when the Parquet file reads in full and holds `rows` rows (of `forces` only,
    when given: a force-level month file the manifest lists for some of its forces)."""
    if not path.exists():
        return "it is missing"
    con = duckdb.connect()
    try:
        if forces is None:
            found = con.execute("SELECT count(*) FROM (SELECT hash(COLUMNS(*)) FROM read_parquet(?))",
                                [str(path)]).fetchone()[0]
        else:
            found = con.execute(
                "SELECT count(*) FILTER (WHERE list_contains(?::VARCHAR[], force_id)) "
                "FROM (SELECT force_id, hash(COLUMNS(*)) FROM read_parquet(?))",
                [forces, str(path)]).fetchone()[0]
    except duckdb.Error as exc:
        return f"it cannot be read ({_gist(exc)})"
    finally:
        con.close()
    if found != rows:
        return f"it holds {found:,} rows; the manifest says {rows:,}"
    return None


# Each lake file once, with the rows the manifest lists in it (a force-level month file is
# listed once per force) and, for a month file, the forces it is listed for.
_BY_FILE = """SELECT path, sum(rows) AS rows, any_value(origin) AS origin,
                     list(DISTINCT force_id ORDER BY force_id) AS forces
              FROM lake_manifest GROUP BY path ORDER BY path"""


def _check(lake: Path, rel: str, rows: int, forces: list[str]) -> str | None:
    return check_lake_file(lake / rel, rows, list(forces) if layout.is_month_file(rel) else None)


def _manifest(path: Path) -> pd.DataFrame | None:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(_BY_FILE).df()
    except duckdb.Error:
        return None
    finally:
        con.close()


def verify(link: Path) -> list[Damage]:
    """Every damaged file of the live warehouse: its version, then its lake files."""
    paths = WarehousePaths(link)
    live = paths.live()
    if live is None:
        raise FileNotFoundError(f"No warehouse at {link}.")
    out: list[Damage] = []
    problem = check_version(live)
    if problem:
        out.append(Damage(str(live), f"the live warehouse version is damaged: {problem}",
                          "run `python -m etl rebuild`: it builds a whole version from the "
                          "previous version and the lake"))
    manifest = _manifest(live)
    if manifest is None:  # the damaged version's own manifest is lost: the newest that reads
        versions = paths.versions()
        for number in sorted(versions, reverse=True):
            manifest = _manifest(versions[number]) if versions[number] != live else None
            if manifest is not None:
                break
    for rel, rows, origin, forces in ([] if manifest is None else manifest.itertuples(index=False)):
        problem = _check(paths.lake, rel, int(rows), forces)
        if problem:
            out.append(Damage(str(paths.lake / rel), f"lake file {rel} is damaged: {problem}",
                              f"load its input again ({origin or 'the file named in the load log'}): "
                              "that replaces the file; `python -m etl rebuild` leaves it out meanwhile"))
    return out


def good_base(paths: WarehousePaths) -> Path | None:
    """The newest version file that reads in full, or None."""
    for number in sorted(paths.versions(), reverse=True):
        path = paths.versions()[number]
        if check_version(path) is None:
            return path
    return None


def _salvage(path: Path) -> dict[str, pd.DataFrame]:
    """The KEPT tables of a damaged version that still read in full."""
    out: dict[str, pd.DataFrame] = {}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return out
    try:
        for table in KEPT:
            try:
                out[table] = con.execute(f'SELECT * FROM "{table}"').df()
            except duckdb.Error:
                continue
    finally:
        con.close()
    return out


def repair(paths: WarehousePaths) -> list[str]:
    """Publish a whole next version: from the newest version that reads, the tables that
    still read from the damaged live one, and every lake file that reads. The caller holds
    the writer lock. Returns notes saying what was done and what was left out."""
    live = paths.live()
    damaged = check_version(live) if live is not None else None
    base = live if damaged is None else good_base(paths)
    if base is None:
        raise Unrecoverable(
            "no version of the warehouse reads whole, so there is nothing to rebuild from: load "
            "the inputs again into a new warehouse (the lake's Parquet files hold every loaded row)")
    notes: list[str] = []
    salvaged = _salvage(live) if damaged and live is not None else {}
    if damaged:
        notes.append(f"{live.name} was damaged ({damaged}); rebuilt from {base.name}"
                     + (f", with {', '.join(sorted(salvaged))} from the damaged version" if salvaged else "")
                     + " and the lake")
    with new_version(paths, base=base) as wcon:
        new_version_upgrades(wcon)
        for table, frame in salvaged.items():
            wcon.execute(f'DELETE FROM "{table}"')
            wcon.register("_salvaged", frame)
            wcon.execute(f'INSERT INTO "{table}" SELECT * FROM _salvaged')
            wcon.unregister("_salvaged")
        if damaged and "lake_manifest" not in salvaged:
            found = _later_lake_files(wcon, paths)
            if found:
                notes.append(f"the damaged version's manifest is unreadable: {found} lake file(s) of "
                             f"later loads were found in the lake itself and kept")
        bad = []
        for rel, rows, origin, forces in wcon.execute(_BY_FILE).fetchall():
            problem = _check(paths.lake, rel, int(rows), forces)
            if problem:
                bad.append(rel)
                notes.append(f"left out lake file {rel} ({problem}): load {origin or 'its input'} again")
        if bad:
            wcon.execute("DELETE FROM lake_manifest WHERE path IN (SELECT unnest(?::VARCHAR[]))", [bad])
        write_reference_tables(wcon)
        rebuild_all(wcon, str(paths.lake))
    return notes



def _later_lake_files(wcon: duckdb.DuckDBPyConnection, paths: WarehousePaths) -> int:
    """Add to the manifest the lake files of loads after the base version (their path says
    dataset, source, force, month and load; a load id starts with its time to the second):
    the loads whose manifest was lost with the damaged version. A file counts when its
    partition is new and its load no older than the base's newest, or when it is newer than
    the base's file of the same partition; the newest file of a partition wins."""
    known = {(d, s, f, m.strftime("%Y-%m")): lid for d, s, f, m, lid in wcon.execute(
        "SELECT dataset, source, force_id, month, load_id FROM lake_manifest").fetchall()}
    newest = max(known.values(), default="")[:15]  # 'YYYYMMDDTHHMMSS'
    latest: dict[tuple[str, ...], tuple[str, str, int | None]] = {}
    con = duckdb.connect()
    try:
        files = [*paths.lake.glob(layout.GLOB), *paths.lake.glob(layout.MONTH_GLOB)]
        for file in sorted(files):  # either layout, and force-level month files (layout.py)
            rel = file.relative_to(paths.lake).as_posix()
            parsed = layout.parse(rel)
            if not parsed:
                continue
            dataset, source, force, month, load_id = parsed
            found: list[tuple[str, int | None]] = [(force, None)]
            if force == layout.EVERY_FORCE:  # a month file: one partition per force in it
                try:
                    found = con.execute(
                        "SELECT force_id, count(*) FROM read_parquet(?) GROUP BY 1 ORDER BY 1",
                        [str(file)]).fetchall()
                except duckdb.Error:
                    continue  # unreadable, and which forces it held is unknown: not added
            for force_id, n in found:
                key = (dataset, source, force_id, month)
                later = load_id > known[key] if key in known else load_id[:15] >= newest
                if later and (key not in latest or latest[key][0] < load_id):
                    latest[key] = (load_id, rel, n)
        for (dataset, source, force, month), (load_id, rel, n) in sorted(latest.items()):
            try:
                rows = n if n is not None else con.execute(
                    "SELECT count(*) FROM read_parquet(?)", [str(paths.lake / rel)]).fetchone()[0]
            except duckdb.Error:
                rows = -1  # unreadable: check_lake_file leaves it out and says so
            wcon.execute(
                "INSERT OR REPLACE INTO lake_manifest (dataset, source, force_id, month, path, rows, "
                "load_id, loaded_at, origin) "
                "VALUES (?, ?, ?, CAST(? || '-01' AS DATE), ?, ?, ?, now(), NULL)",
                [dataset, source, force, month, rel, rows, load_id])
    finally:
        con.close()
    return len(latest)
