"""`python -m etl`: build the demo, load sources, report status.

Exit status: 0 success, 1 when any input was refused, 2 on a usage error.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
import time
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from etl.config import warehouse_path
from etl.demo.build import build_demo
from etl.errors import out_of_space
from etl.lake.commit import LoadReport
from etl.lake.ingest import load_crimes, load_police_uk, load_service
from etl.lake.rebuild import rebuild_warehouse
from etl.lake.repair import Unrecoverable, looks_damaged, verify
from etl.lake.status import collect
from etl.sources.base import Source
from etl.sources.registry import SOURCES

app = typer.Typer(
    help="Looking Glass ETL: load police data into the DuckDB warehouse the dashboard reads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
load_app = typer.Typer(help="Load a source into the warehouse.", no_args_is_help=True)
app.add_typer(load_app, name="load")

console = Console(stderr=True)
out = Console()

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb)."),
]


class _Bars:
    """Rich progress bars keyed by stage name on a terminal; elsewhere (a log, CI) one line per
    stage as it finishes, with its time, so a long build still says what it did. A stage that
    reads rows (a load's CSV files) shows files, rows, rows/s and the time left, its bar
    measured in rows: files vary in size, rows are the work."""

    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
            TextColumn("{task.fields[eta]}"),
            console=console, transient=False, disable=not console.is_terminal,
        )
        self.tasks: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}

    def __enter__(self) -> _Bars:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int,
                 rows: tuple[int, int] | None = None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=max(total, 1), counts="",
                                                       eta="")
            self.started[stage] = time.perf_counter()
        if rows is None:
            self.progress.update(self.tasks[stage], completed=done, total=max(total, 1))
        else:
            self.rows[stage] = rows[0]
            took = time.perf_counter() - self.started.get(stage, time.perf_counter())
            self.progress.update(self.tasks[stage], completed=rows[0], total=max(rows[1], 1),
                                 counts=rows_text(done, total, rows[0], took),
                                 eta=eta_text(rows[0], rows[1], took))
        if self.progress.disable and done >= total and stage in self.started:
            took = time.perf_counter() - self.started.pop(stage)
            extra = (f", {self.rows[stage]:,} rows, {self.rows[stage] / max(took, 1e-9):,.0f} rows/s"
                     if stage in self.rows else "")
            console.print(f"{stage}: done in {took:.1f} s{extra}", highlight=False, markup=False)


def rows_text(files: int, total_files: int, rows: int, seconds: float) -> str:
    """'12/516 files  2,345,678 rows  123,456 rows/s'."""
    rate = f"{rows / seconds:,.0f} rows/s" if seconds > 0 and rows else "- rows/s"
    return f"{files:,}/{total_files:,} files  {rows:,} rows  {rate}"


def eta_text(rows: int, total_rows: int, seconds: float) -> str:
    """The time left at the rate so far: 'ETA 0:01:05', or 'ETA -' before any row is read."""
    if rows <= 0 or seconds <= 0:
        return "ETA -"
    left = max(total_rows - rows, 0) * seconds / rows
    return f"ETA {int(left) // 3600}:{int(left) // 60 % 60:02d}:{int(left) % 60:02d}"


def _report(report: LoadReport, link: Path) -> None:
    # File names and messages are data: printed as Text, never parsed as rich markup.
    for origin, rows in report.loaded:
        console.print(Text.assemble(("loaded", "green"), f"  {origin}  ({rows:,} rows)"))
    for refusal in report.refused:
        console.print(Text.assemble(("refused", "red"), f" {refusal}"))
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if report.committed:
        console.print(
            f"{len(report.partitions)} partition(s) written; warehouse switched "
            f"(load {report.load_id}).", highlight=False)
        # the ETL never imports the dashboard (docs/architecture.md), so it names the step that
        # stores the new version's assessments for the forces it touched (docs/precompute.md)
        forces = sorted({p[2] for p in report.partitions})
        if forces:
            named = " ".join(f"--force {shlex.quote(f)}" for f in forces) if len(forces) <= 5 else ""
            console.print("next: store this version's assessments, which the dashboard would "
                          "otherwise compute on first use (docs/precompute.md):", highlight=False)
            console.print(Text(f"  python -m dashboard precompute --warehouse {shlex.quote(str(link))} "
                               f"{named}".rstrip()), soft_wrap=True)
    else:
        console.print("Nothing loaded: the warehouse is unchanged.", highlight=False)


@app.command()
def demo(
    warehouse: WarehouseOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same numbers.")] = 2007,
    years: Annotated[int, typer.Option(min=1, max=20, help="Years of history.")] = 5,
) -> None:
    """Build a deterministic synthetic warehouse: a Cheshire-shaped force and 42 others."""
    link = warehouse_path(warehouse)
    with _Bars() as bars:
        report = build_demo(link, seed=seed, years=years, progress=bars)
    _report(report, link)
    raise typer.Exit(report.exit_code)


@app.command()
def status(
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    check: Annotated[bool, typer.Option(
        "--verify", help="Read every lake file and the live version in full; name what is damaged.")] = False,
) -> None:
    """Forces, months, rows, last load, suspect months and quarantined rows."""
    link = warehouse_path(warehouse)
    if check:
        _verify(link, as_json)
        return
    try:
        info = collect(link)
    except FileNotFoundError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps(info, default=str))
        return
    out.print(f"Warehouse {info['warehouse']} (version {info['version']}, built {info['built_at']})",
              highlight=False)
    table = Table("source", "force", "months", "first", "last", "crimes", "ASB", "suspect months")
    for s in info["sources"]:
        table.add_row(s["source"], s["force_id"], str(s["months"]), str(s["first_month"]),
                      str(s["last_month"]), f"{s['crimes']:,}", f"{s['asb']:,}",
                      ", ".join(s["suspect_months"]) or "-")
    out.print(table)
    datasets = Table("dataset", "source", "forces", "months", "first", "last", "rows",
                     title="Every dataset in the lake")
    for d in info["datasets"]:
        datasets.add_row(d["dataset"], d["source"], str(d["forces"]), str(d["months"]),
                         str(d["first_month"]), str(d["last_month"]), f"{d['rows']:,}")
    out.print(datasets)
    last = info["last_load"]
    if last:
        out.print(f"Last load {last['load_id']} at {last['finished_at']}: "
                  f"{last['files_loaded']} file(s) loaded, {last['files_refused']} refused",
                  highlight=False)
    out.print(f"Quarantined rows: {info['quarantined_rows']:,}", highlight=False)


def _verify(link: Path, as_json: bool) -> None:
    """`status --verify`: exit 0 when everything reads whole, 1 naming each damaged file."""
    try:
        damage = verify(link)
    except FileNotFoundError as exc:
        console.print(str(exc), markup=False)
        raise typer.Exit(2) from None
    if as_json:
        out.print_json(json.dumps({"damaged": [d.__dict__ for d in damage]}))
    elif not damage:
        out.print("Every lake file and the live warehouse version read whole.", highlight=False)
    for d in [] if as_json else damage:
        console.print(Text.assemble(("damaged", "red"), f" {d.problem}"))
        console.print(f"  what to do: {d.remedy}", highlight=False, markup=False)
    raise typer.Exit(1 if damage else 0)


@app.command()
def rebuild(warehouse: WarehouseOpt = None) -> None:
    """Re-derive every cube, and the reference tables, from the lake into a new version.

    For a new or changed measure (or reference file): no input needs loading again."""
    link = warehouse_path(warehouse)
    try:
        with _Bars() as bars:
            report = rebuild_warehouse(link, progress=bars)
    except Unrecoverable as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    _report(report, link)
    raise typer.Exit(report.exit_code)


class Engine(StrEnum):
    spark = "spark"
    duckdb = "duckdb"


@app.command()
def cubes(
    out: Annotated[str, typer.Option(
        "--out", help="Folder (or Spark URI) to write one Parquet folder per cube to.")],
    engine: Annotated[Engine, typer.Option(
        help="spark: build the crime cubes from the lake with Apache Spark (the spark extra); "
             "duckdb: write the cubes DuckDB built at load time, to compare.")] = Engine.spark,
    master: Annotated[str, typer.Option(help="Spark master: local[N] here; spark-submit's on a cluster.")]
        = "local[2]",
    lake: Annotated[str | None, typer.Option(
        help="Where Spark's executors read the lake (e.g. s3a://bucket/warehouse.lake); "
             "default: the warehouse's own lake folder.")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Build the crime cubes with Spark from the warehouse's lake, or export DuckDB's (docs/scaling.md).

    The warehouse itself is only read: DuckDB stays the engine loads use."""
    from etl.cubes import spark as spark_cubes  # lazy: keeps pyspark's import out of every other command

    link = warehouse_path(warehouse)
    started = time.perf_counter()
    try:
        if engine is Engine.spark:
            counts = spark_cubes.build_to(link, out, master=master, lake=lake)
        else:
            counts = spark_cubes.export_duckdb(link, out)
    except (spark_cubes.SparkMissing, FileNotFoundError) as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    for name, rows in counts.items():
        console.print(f"{name}: {rows:,} rows", markup=False)
    console.print(f"{engine.value}: {sum(counts.values()):,} rows written to {out} in "
                  f"{time.perf_counter() - started:.1f} s", markup=False)


# --------------------------------------------------------------------------- load commands
# One `load <name>` command per source in the registry, shaped by what the source declares.


def _files_command(spec: Source):
    def command(
        paths: Annotated[list[Path], typer.Argument(help="CSV files, folders, or zips.")],
        hierarchy: Annotated[
            Path | None,
            typer.Option(help="CSV mapping lsoa_code -> npu -> bcu (docs/input-formats.md)."),
        ] = None,
        warehouse: WarehouseOpt = None,
    ) -> None:
        link = warehouse_path(warehouse)
        with _Bars() as bars:
            report = load_police_uk(link, paths, hierarchy=hierarchy, progress=bars)
        _report(report, link)
        raise typer.Exit(report.exit_code)

    return command


def _table_command(spec: Source):
    def command(
        source: Annotated[str, typer.Argument(help="A CSV file, or a SQLAlchemy URL with --query.")],
        query: Annotated[
            str | None, typer.Option(help="SQL to run against SOURCE (a SQLAlchemy URL).")
        ] = None,
        warehouse: WarehouseOpt = None,
    ) -> None:
        link = warehouse_path(warehouse)
        with _Bars() as bars:
            if spec.cli == "extract":
                report = load_crimes(link, source, query=query, progress=bars)
            else:
                report = load_service(link, spec.name, source, query=query, progress=bars)
        _report(report, link)
        raise typer.Exit(report.exit_code)

    return command


def _register_load_commands() -> None:
    for spec in SOURCES:
        if spec.cli == "none":
            continue
        make = _files_command if spec.cli == "files" else _table_command
        command = make(spec)
        command.__doc__ = spec.summary
        command.__name__ = f"load_{spec.name.replace('-', '_')}"
        load_app.command(spec.name)(command)


_register_load_commands()


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure: a bug. Plain words here, the details in a log.
        log = bug_log()
        if looks_damaged(exc):
            console.print(
                "error: a warehouse or lake file could not be read: it looks damaged. "
                "`python -m etl status --verify` names it and `python -m etl rebuild` repairs it "
                f"(details in {log}).", markup=False)
            sys.exit(1)
        if out_of_space(exc):
            console.print(
                "error: the disk ran out of space. Nothing was changed: the previous warehouse is "
                "untouched (what this load staged in the lake is removed by the next command "
                "that writes to it). A load needs free space for "
                "its staged files beside the lake and for DuckDB's temporary files (LG_LOAD_MEMORY_MB "
                "bounds memory, not disk): free some, or load fewer months at a time "
                f"(details in {log}).", markup=False)
            sys.exit(1)
        command = " ".join(sys.argv[1:])
        command = command if len(command) <= 200 else command[:200] + "…"
        console.print(
            f"error: `python -m etl {command}` failed unexpectedly. This is a bug, not a problem "
            "with your files; "
            f"the previous warehouse is untouched. Please report it with {log}, which holds the details.",
            markup=False,
        )
        sys.exit(1)


def bug_log() -> Path:
    """Write the traceback being handled to a new file in the temp folder; its path."""
    fd, name = tempfile.mkstemp(prefix="looking-glass-etl-error-", suffix=".log")
    with os.fdopen(fd, "w") as fh:
        fh.write(" ".join(sys.argv) + "\n\n" + traceback.format_exc())
    return Path(name)


