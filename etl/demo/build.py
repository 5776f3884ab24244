"""`python -m etl demo`: the synthetic warehouse, written through the same path as real loads.

The demo is not a special case downstream: the demo force (etl/demo/force.py: its units,
crimes and the other forces' aggregates) and every source's own demo generator (declared
with the source, etl/sources/*) become staging tables, then lake partitions, cubes and a
warehouse version exactly as a force's own extract would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from numpy._core import multiarray

from etl.calendar import add_months
from etl.demo.common import DemoContext
from etl.demo.force import DEMO_NOTE, DemoData, generate
from etl.lake.commit import LoadReport, Progress, Staged, commit, new_load_id
from etl.lake.warehouse import WarehousePaths, writer_lock
from etl.sources.registry import DATASETS, SOURCES
from etl.sources.shapes import UNIT_COLUMNS, select_list


@contextlib.contextmanager
def _small_pages() -> Iterator[None]:
    """numpy asking the kernel for ordinary pages while the frames are made.

    The generators make and drop a few gigabytes of short-lived arrays, and numpy advises the
    kernel to back every large one with 2 MiB huge pages (where transparent huge pages are
    'madvise', as on this machine), which the kernel zeroes whole on first touch: with ~12 GB
    of memory free, `perf` put 26% of the generation's samples in the kernel's clear_page,
    and without the advice its system time fell 1.85 -> 0.8 s; with the page cache full (few
    huge pages to be had) the saving is 0.2-0.4 s. The same arrays either way. The setting is
    process-wide, so it is put back after; a numpy without the setter is left alone."""
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    huge = setter(False)
    try:
        yield
    finally:
        setter(huge)


def demo_frames(seed: int = 2007, years: int = 5, progress: Progress | None = None,
                made: Callable[[str, pd.DataFrame], None] | None = None
                ) -> tuple[DemoData, dict[str, pd.DataFrame]]:
    """The demo force's data and every source's demo frames, by dataset: what the build
    stages (benchmarks/demo.py writes the same frames as its baseline). `made(name, frame)`
    is called in this thread with the units ('units') and then each dataset's frame as soon
    as it is made, while the generators still at work go on in theirs."""
    with _small_pages():
        return _frames(seed, years, progress, made or (lambda name, frame: None))


def _frames(seed: int, years: int, progress: Progress | None,
            made: Callable[[str, pd.DataFrame], None]
            ) -> tuple[DemoData, dict[str, pd.DataFrame]]:
    generators = [s for s in SOURCES if s.demo is not None]
    step = "Generating synthetic data"
    if progress:
        progress(step, 0, len(generators) + 1)
    data = generate(seed=seed, years=years)
    end = data.crimes["month"].max().date()
    ctx = DemoContext(seed=seed, start=add_months(end, -(12 * years - 1)), end=end,
                      units=data.units, crimes=data.crimes, force_month=data.force_month)
    frames: dict[str, pd.DataFrame] = {}
    ctx.structure  # noqa: B018 - made once here, before the threads share it
    made("units", data.units)
    # Two threads: each generator draws from its own seeded stream and reads only `ctx`, so
    # the frames are the same in any order, and numpy releases the GIL for its array work
    # (the calls' 2.15 M rows alongside all the rest: about 1.5 s of wall on two cores).
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(lambda source: source.demo(ctx), generators)
        for i, produced in enumerate(results, start=1):
            if progress:
                progress(step, i, len(generators) + 1)
            for dataset, frame in produced.items():
                if dataset in frames:
                    raise ValueError(f"two demo generators produce dataset {dataset!r}")
                frames[dataset] = frame
                made(dataset, frame)
    if progress:
        progress(step, len(generators) + 1, len(generators) + 1)
    return data, frames


def build_demo(link: Path, seed: int = 2007, years: int = 5,
               progress: Progress | None = None) -> LoadReport:
    report = LoadReport(new_load_id())
    con = duckdb.connect()
    def stage(name: str, frame: pd.DataFrame) -> None:
        """A staging table of one frame, made while the generators still at work go on (DuckDB
        and numpy both let go of the GIL): the calls' 2.15 M rows are staged as the smaller
        datasets are generated, not after them all."""
        if progress:  # how many frames there are is known once the last is made
            progress("Staging", len(staged_names), len(staged_names) + 1)
        columns = UNIT_COLUMNS if name == "units" else DATASETS[name].columns
        optional = DATASETS[name].optional if name in DATASETS else {}
        # through Arrow: DuckDB scans an Arrow table in parallel and without converting
        # pandas' blocks (the calls' 2.15 M rows: 0.94 -> 0.65 s of CPU, same rows)
        con.register("_demo_frame", pa.Table.from_pandas(frame, preserve_index=False))
        con.execute(f"CREATE TEMP TABLE demo_{name} AS SELECT "
                    f"{select_list(columns, optional, set(frame.columns))} FROM _demo_frame")
        con.unregister("_demo_frame")
        staged_names.append(name)

    staged_names: list[str] = []
    data, frames = demo_frames(seed, years, progress, stage)
    if progress:
        progress("Staging", len(staged_names), len(staged_names))
    staged = Staged(
        con=con, source="demo", crime_table="demo_crime" if "crime" in frames else None,
        unit_table="demo_units", tables={name: f"demo_{name}" for name in frames},
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
