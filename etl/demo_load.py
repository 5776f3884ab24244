"""`python -m etl demo`: the synthetic warehouse, written through the same path as real loads.

The demo is not a special case downstream: its frames become staging tables, then lake
partitions, cubes and a warehouse version exactly as a force's own extract would.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.demo import DEMO_NOTE, generate
from etl.demo_services import generate_services
from etl.facts import CRIME_COLUMNS, DATASETS, FORCE_MONTH_COLUMNS, UNIT_COLUMNS, select_list
from etl.load import LoadReport, Progress, Staged, commit, new_load_id
from etl.warehouse import WarehousePaths, writer_lock


def build_demo(link: Path, seed: int = 2007, years: int = 5,
               progress: Progress | None = None) -> LoadReport:
    report = LoadReport(new_load_id())
    if progress:
        progress("Generating synthetic data", 0, 1)
    data = generate(seed=seed, years=years)
    services = generate_services(seed, years, data.crimes["month"].max().date(), data.units,
                                 data.crimes)
    if progress:
        progress("Generating synthetic data", 1, 1)
    con = duckdb.connect()
    for name, frame, columns in (
        ("_demo_units", data.units, UNIT_COLUMNS),
        ("_demo_crimes", data.crimes, CRIME_COLUMNS),
        ("_demo_force_month", data.force_month, FORCE_MONTH_COLUMNS),
        *((f"_demo_{name}", frame, DATASETS[name]) for name, frame in services.items()),
    ):
        con.register(name, frame)
        con.execute(f"CREATE TEMP TABLE {name[1:]} AS SELECT {select_list(columns)} FROM {name}")
        con.unregister(name)
    staged = Staged(
        con=con, source="demo", crime_table="demo_crimes",
        force_month_table="demo_force_month", unit_table="demo_units",
        tables={name: f"demo_{name}" for name in services},
        replace_force_months=True,
    )
    report.loaded = [(f"synthetic demo (seed {seed}, {years} years)", len(data.crimes))]
    report.notes.append(DEMO_NOTE)
    paths = WarehousePaths(link)
    paths.directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(paths):
        commit(link, staged, report, f"demo --seed {seed} --years {years}", progress)
    con.close()
    return report
