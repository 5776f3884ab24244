"""Small hand-built warehouses: a few rows written straight into a new version, in milliseconds.

For tests of the reader, the query layer and the shell that need a warehouse but not the demo's
volume. Each call publishes a new version of the warehouse at `link`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from etl.cubes.measures import rebuild_crime_measures
from etl.lake.warehouse import WarehousePaths, new_version, writer_lock
from etl.measures.crime import crime_measures

FORCE = "cheshire"


def build_warehouse(
    link: Path, force_id: str = FORCE, months: int = 2, *, suspect_last: bool = False
) -> Path:
    """Publish a new version holding `months` months for one force, replacing earlier rows."""
    paths = WarehousePaths(link)
    with writer_lock(paths), new_version(paths) as con:
        con.execute("DELETE FROM month_status")
        for i in range(months):
            suspect = suspect_last and i == months - 1
            con.execute(
                "INSERT INTO month_status VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?)",
                [
                    "police_uk",
                    force_id,
                    date(2024 + i // 12, 1 + i % 12, 1),
                    10 if suspect else 1000 + i,
                    200,
                    1000.0,
                    suspect,
                    "far below expected" if suspect else None,
                ],
            )
        con.execute(
            "INSERT INTO load_log VALUES (?, ?, ?, ?, ?, 'loaded', ?, ?, ?)",
            [
                f"load-{force_id}",
                datetime(2026, 11, 1, 9, 0, 0),
                datetime(2026, 11, 1, 9, 0, 5),
                "load police-uk",
                f"{force_id}-street.csv",
                1234,
                1200,
                # Markup in data must come out as text, never as HTML.
                "<b>not bold</b>",
            ],
        )
    live = paths.live()
    assert live is not None
    return live


def publish(link: Path, rows: dict[str, list[tuple]]) -> None:
    """A new version whose unit, manifest, status and crime cube tables hold exactly `rows`;
    the measure cube is derived from the crime cube, as every load derives it."""
    paths = WarehousePaths(link)
    with writer_lock(paths), new_version(paths) as con:
        for table in ("dim_unit", "lake_manifest", "month_status", "cube_crime_month", "cube_measure_month"):
            con.execute(f"DELETE FROM {table}")
        for table, values in rows.items():
            for row in values:
                con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", list(row))
        parts = sorted({(r[0], r[1], r[4]) for r in rows.get("cube_crime_month", [])})
        rebuild_crime_measures(con, parts, crime_measures())


def unit_row(uid: str, name: str, pop: int | None = 1000) -> tuple:
    return (uid, "force", None, uid, name, pop, None, None, False, None, None, None)


def manifest_row(source: str, force: str, month: date) -> tuple:
    return (
        "crime",
        source,
        force,
        month,
        f"x/{source}-{month}.parquet",
        1,
        "l1",
        "2026-01-01 00:00:00",
        None,
        0,
    )


def status_row(source: str, force: str, month: date, suspect: bool = False) -> tuple:
    return (source, force, month, 10, 0, 0, 0, None, suspect, "far below" if suspect else None)


def cube_row(source: str, force: str, month: date, n: int) -> tuple:
    return (source, force, force, "force", month, "burglary", n, 0, 0.0, 0.0, 0)
