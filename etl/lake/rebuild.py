"""`python -m etl rebuild`: every cube and reference table re-derived from the lake.

A new or changed measure, cube rule or reference file then needs a rebuild, not a reload of
every input. The rebuild reads only what a load leaves behind (the lake files the manifest
lists, the units and the LSOA mapping), builds the next version like any load, and switches
to it atomically: a rebuild killed at any moment leaves the previous version whole.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from etl.cubes.build import rebuild_all
from etl.lake.commit import LoadReport, Progress, new_load_id
from etl.lake.layout import relayout
from etl.lake.repair import repair, verify
from etl.lake.warehouse import WarehousePaths, new_version, new_version_upgrades, writer_lock
from etl.reference.tables import write_reference_tables
from etl.sqlutil import insert_rows

STAGE = "Rebuilding cubes from the lake"


def rebuild_warehouse(link: Path, progress: Progress | None = None) -> LoadReport:
    report = LoadReport(new_load_id())
    paths = WarehousePaths(link)
    if paths.live() is None:
        raise FileNotFoundError(f"no warehouse at {link}: build the demo or load data first")
    started = datetime.now()
    if verify(link):  # a damaged version or lake file: build a whole version around it
        with writer_lock(paths):
            report.notes.extend(repair(paths))
        report.committed = True
        report.notes.append("every cube and reference table re-derived from the lake")
        return report
    with writer_lock(paths), new_version(paths) as wcon:
        new_version_upgrades(wcon)  # a rebuild re-derives everything anyway
        if progress:
            progress(STAGE, 0, 1)
        write_reference_tables(wcon)
        moved = relayout(wcon, paths.lake)  # a lake of the layout before etl/lake/layout.py
        rebuild_all(wcon, str(paths.lake))
        insert_rows(wcon, "load_log",
                    ["load_id", "started_at", "finished_at", "command", "status", "rows_read",
                     "rows_loaded", "message"],
                    [(report.load_id, started, datetime.now(), "rebuild", "rebuilt", 0, 0,
                      "every cube re-derived from the lake")])
        if progress:
            progress(STAGE, 1, 1)
    report.committed = True
    report.notes.append("every cube and reference table re-derived from the lake")
    if moved:
        report.notes.append(f"{moved} lake file(s) moved to the lake layout every engine reads with "
                            "hive partitioning on (docs/scaling.md); the old paths go after the grace period")
    return report
