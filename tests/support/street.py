"""Tiny data.police.uk street files and readers of what a load left in the lake, shared by the
lake batch tests (test_etl_lake_batches, test_etl_lake_write_behind): each file's line n + 2
holds its n-th crime id, so a refusal's or a quarantined repeat's line is known by
construction, not from the code under test."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb

from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import STREET_HEADER

FORCES = {"cheshire": "Cheshire Constabulary", "dorset": "Dorset Police"}


def street_file(folder: Path, name: str, force: str, month: str, ids: list[str],
                falls_within: str | None = None) -> Path:
    """A street file whose line n + 2 holds the crime ids[n] (all burglaries at one point);
    `falls_within` overrides the force named in that column, for the refused-hierarchy case."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for crime_id in ids:
        w.writerow([crime_id, month, FORCES[force], falls_within or FORCES[force], "-2.59",
                    "53.39", "On or near High St", "E01012516", "Warrington 001A", "Burglary",
                    "Under investigation", ""])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def lake_crime_rows(link: Path) -> list[tuple]:
    """(force, month, crime id, line) of every crime row the live version's manifest lists,
    read from the Parquet files by DuckDB with hive partitioning, not by the loader."""
    live = WarehousePaths(link).live()
    assert live is not None
    con = duckdb.connect(str(live), read_only=True)
    try:
        paths = [str(WarehousePaths(link).lake / p) for (p,) in con.execute(
            "SELECT path FROM lake_manifest WHERE dataset = 'crime'").fetchall()]
    finally:
        con.close()
    return duckdb.connect().execute(
        "SELECT force_id, strftime(month, '%Y-%m'), crime_id, line FROM read_parquet(?, "
        "hive_partitioning = true) ORDER BY ALL", [paths]).fetchall()


def parquet_files(link: Path) -> list[Path]:
    """Every Parquet file under the warehouse's lake, listed or not."""
    return sorted(WarehousePaths(link).lake.rglob("*.parquet"))
