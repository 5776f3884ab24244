"""ETL benchmark: our police.uk load against bare DuckDB and a pandas baseline.

    .venv/bin/python benchmarks/etl.py [--data ../shared/data] [--repeat 3] [--json PATH]
                                       [--profile] [--tmpdir DIR]

Every headline number is a ratio of two timings taken in the same run on the same machine,
so it carries across machines; the seconds are shown alongside. See benchmarks/README.md.
It is a measurement, not a test: it exits 0 whether the goals are met or missed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import glob
import io
import json
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import sqlalchemy  # noqa: E402

from etl.demo.build import build_demo  # noqa: E402
from etl.lake.ingest import load_police_uk  # noqa: E402

INCREMENTAL_FILE = "police_uk_street/geoinformation_in_society/2019-01/2019-01-cheshire-street.csv"

# name, description, comparison operator, threshold
GOALS = [
    ("ours_vs_duckdb", "ours / bare DuckDB read_csv (time)", "<=", 2.0),
    ("pandas_vs_ours", "pandas+to_sql into DuckDB / ours (time)", ">=", 10.0),
    ("pandas_sqlite_vs_ours", "pandas+to_sql into SQLite / ours (reference)", ">=", None),
    ("incremental", "1 file into 5-year demo / into empty (time)", "<=", 1.5),
]


# --------------------------------------------------------------------------- inputs

def street_files(data: Path) -> list[Path]:
    root = data / "police_uk_street"
    months = sorted(Path(p) for p in glob.glob(str(root / "geoinformation_in_society" / "*" / "*.csv")))
    city = sorted(Path(p) for p in glob.glob(str(root / "city_of_london_24m" / "*.csv")))
    return months + city


def count_rows(files: list[Path]) -> int:
    """Data rows in the files (DuckDB's own count; also warms the OS file cache so the
    first contender of the first repeat is not charged for cold reads)."""
    con = duckdb.connect()
    try:
        return con.execute(
            "SELECT count(*) FROM read_csv(?, header = true)", [[str(f) for f in files]]
        ).fetchone()[0]
    finally:
        con.close()


# --------------------------------------------------------------------------- contenders

def run_ours(files: list[Path], work: Path) -> int:
    report = load_police_uk(work / "warehouse.duckdb", files)
    if report.refused or not report.committed:
        raise RuntimeError(f"load_police_uk refused input or did not commit: {report.refused[:3]}")
    return sum(n for _, n in report.loaded)


def run_duckdb(files: list[Path], work: Path) -> int:
    con = duckdb.connect(str(work / "bare.duckdb"))
    try:
        con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)",
                    [[str(f) for f in files]])
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return rows


def run_pandas(files: list[Path], work: Path, url: str | None = None) -> int:
    """pandas read_csv + to_sql: into DuckDB through SQLAlchemy (duckdb-engine), the same
    engine our warehouse uses and the obvious build with the named stack; or, with a
    sqlite URL, into SQLite for reference (SQLite's executemany is much faster)."""
    engine = sqlalchemy.create_engine(url or f"duckdb:///{work / 'pandas.duckdb'}")
    rows = 0
    try:
        for f in files:
            frame = pd.read_csv(f)
            frame.to_sql("street", engine, if_exists="append", index=False)
            rows += len(frame)
    finally:
        engine.dispose()
    return rows


CONTENDERS: dict[str, tuple[str, Callable[[list[Path], Path], int]]] = {
    "ours": ("(a) ours: load_police_uk -> lake + warehouse", run_ours),
    "duckdb": ("(b) bare DuckDB read_csv -> table (on disk)", run_duckdb),
    "pandas": ("(c) pandas read_csv + to_sql -> DuckDB (duckdb-engine)", run_pandas),
    "pandas_sqlite": (
        "(d) pandas read_csv + to_sql -> SQLite (reference)",
        lambda files, work: run_pandas(files, work, f"sqlite:///{work / 'pandas.sqlite'}"),
    ),
}


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    t0 = time.perf_counter()
    rows = fn()
    return time.perf_counter() - t0, rows


def rotated(names: list[str], i: int) -> list[str]:
    k = i % len(names)
    return names[k:] + names[:k]


# --------------------------------------------------------------------------- benchmarks

def bench_full(files: list[Path], repeat: int, tmp: Path | None, log) -> dict:
    names = list(CONTENDERS)
    runs: dict[str, list[float]] = {n: [] for n in names}
    rows_out: dict[str, int] = {}
    for i in range(repeat):
        order = rotated(names, i)
        for name in order:
            with tempfile.TemporaryDirectory(prefix=f"bench-{name}-", dir=tmp) as d:
                seconds, rows = timed(lambda: CONTENDERS[name][1](files, Path(d)))  # noqa: B023
            runs[name].append(seconds)
            rows_out[name] = rows
            log(f"  repeat {i + 1}/{repeat}  {name:<7} {seconds:8.2f} s  ({rows:,} rows)")
    return {"runs": runs, "median": {n: statistics.median(v) for n, v in runs.items()},
            "rows_out": rows_out}


def bench_incremental(data: Path, repeat: int, tmp: Path | None, log) -> dict:
    source = data / INCREMENTAL_FILE
    with tempfile.TemporaryDirectory(prefix="bench-incr-", dir=tmp) as root_s:
        root = Path(root_s)
        csv = root / "input" / source.name
        csv.parent.mkdir()
        shutil.copyfile(source, csv)
        demo_dir = root / "demo"
        log("  building the 5-year demo warehouse (not timed) ...")
        t0 = time.perf_counter()
        build_demo(demo_dir / "warehouse.duckdb", seed=2007, years=5)
        demo_build = time.perf_counter() - t0
        demo_info = _warehouse_info(demo_dir / "warehouse.duckdb")
        log(f"  demo built in {demo_build:.1f} s: {demo_info['crime_rows']:,} crime rows, "
            f"{demo_info['lake_files']:,} lake files, {demo_info['warehouse_mb']:.1f} MB warehouse")

        def empty(work: Path) -> int:
            return run_ours([csv], work)

        def into_demo(work: Path) -> int:
            # copied before the clock starts: every repeat starts from the same state
            return run_ours([csv], work / "demo")

        cases = {"empty": empty, "demo": into_demo}
        runs: dict[str, list[float]] = {n: [] for n in cases}
        rows = 0
        for i in range(repeat):
            for name in rotated(list(cases), i):
                with tempfile.TemporaryDirectory(prefix=f"bench-incr-{name}-", dir=tmp) as d:
                    work = Path(d)
                    if name == "demo":
                        shutil.copytree(demo_dir, work / "demo", symlinks=True)
                    seconds, rows = timed(lambda: cases[name](work))  # noqa: B023
                runs[name].append(seconds)
                log(f"  repeat {i + 1}/{repeat}  {name:<7} {seconds:8.2f} s  ({rows:,} rows)")
    return {"file": str(source), "rows": rows, "demo_build_seconds": demo_build, "demo": demo_info,
            "runs": runs, "median": {n: statistics.median(v) for n, v in runs.items()}}


def _warehouse_info(link: Path) -> dict:
    live = link.resolve()
    con = duckdb.connect(str(live), read_only=True)
    try:
        crime_rows, files = con.execute(
            "SELECT coalesce(sum(rows) FILTER (WHERE dataset = 'crime'), 0), count(*) "
            "FROM lake_manifest").fetchone()
    finally:
        con.close()
    return {"crime_rows": int(crime_rows), "lake_files": int(files),
            "warehouse_mb": live.stat().st_size / 1e6}


# --------------------------------------------------------------------------- profile

def profile_load(files: list[Path], tmp: Path | None, top: int) -> str:
    """cProfile one full load: where the wall time goes, by our functions (cumulative)
    and by own time (DuckDB calls count to the function making them: cProfile cannot see
    into the extension)."""
    prof = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="bench-profile-", dir=tmp) as d:
        prof.enable()
        load_police_uk(Path(d) / "warehouse.duckdb", files)
        prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    total = stats.total_tt
    ours = []
    for (path, line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        if f"{os.sep}etl{os.sep}" in path and str(REPO) in path:
            ours.append((ct, tt, f"{Path(path).relative_to(REPO)}:{line} {func}"))
    ours.sort(reverse=True)
    leaf = sorted(((tt, ct, f"{Path(p).name}:{ln} {fn}" if p != "~" else fn)
                   for (p, ln, fn), (_cc, _nc, tt, ct, _c) in stats.stats.items()), reverse=True)
    lines = [f"cProfile of one full load: {total:.2f} s in total", "",
             f"  {'cumulative s':>12} {'share':>6}  our function"]
    for ct, _tt, name in ours[:top]:
        lines.append(f"  {ct:12.2f} {ct / total:6.0%}  {name}")
    lines += ["", f"  {'own s':>12} {'share':>6}  own time (a DuckDB call counts to the function making it)"]
    for tt, _ct, name in leaf[:top]:
        lines.append(f"  {tt:12.2f} {tt / total:6.0%}  {name}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- report

def machine() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        affinity = os.cpu_count()
    return {
        "nproc": affinity, "cpu_count": os.cpu_count(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(), "duckdb": duckdb.__version__,
        "pandas": pd.__version__, "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
    }


def verdict(op: str, value: float, goal: float | None) -> str:
    if goal is None:
        return "(info)"
    ok = value <= goal if op == "<=" else value >= goal
    return "PASS" if ok else "MISS"


def render(result: dict) -> str:
    m, full, incr = result["machine"], result["full"], result["incremental"]
    rows = result["input_rows"]
    out = [
        "",
        "Looking Glass ETL benchmark",
        f"machine : nproc {m['nproc']} (of {m['cpu_count']}), {m['platform']}",
        f"software: Python {m['python']}, duckdb {m['duckdb']}, pandas {m['pandas']}, "
        f"SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}",
        f"input   : {result['input_files']} street CSVs ({result['input_mb']:.1f} MB, {rows:,} data rows)"
        f" from {result['data']}",
        f"method  : median of {result['repeat']} repeats, fresh temp dir per run, order rotated each repeat",
        "",
        "1. Full load of all street CSVs",
        f"   {'contender':<50} {'median s':>9} {'rows/s':>10}   runs (s)",
    ]
    for name, (label, _fn) in CONTENDERS.items():
        med = full["median"][name]
        runs = " ".join(f"{s:.2f}" for s in full["runs"][name])
        out.append(f"   {label:<50} {med:9.2f} {rows / med:10,.0f}   {runs}")
    out.append(f"   (rows/s = {rows:,} input data rows / median seconds; ours keeps "
               f"{full['rows_out']['ours']:,} after dropping repeated Crime IDs)")
    d = incr["demo"]
    out += [
        "",
        f"2. Incremental load of one file: {Path(incr['file']).name} ({incr['rows']:,} rows)",
        f"   {'case':<50} {'median s':>9} {'rows/s':>10}   runs (s)",
    ]
    labels = {"empty": "(i)  into an empty warehouse",
              "demo": f"(ii) into the 5-year demo ({d['crime_rows']:,} crimes)"}
    for name in ("empty", "demo"):
        med = incr["median"][name]
        runs = " ".join(f"{s:.2f}" for s in incr["runs"][name])
        out.append(f"   {labels[name]:<50} {med:9.2f} {incr['rows'] / med:10,.0f}   {runs}")
    out += [
        "",
        "Ratios (the headline; same-run baselines, so comparable across machines)",
        f"   {'ratio':<50} {'value':>9} {'goal':>10}   result",
    ]
    for key, label, op, goal in GOALS:
        value = result["ratios"][key]
        shown = "-" if goal is None else op + " " + format(goal, ".1f")
        out.append(f"   {label:<50} {value:8.2f}x {shown:>10}   "
                   f"{verdict(op, value, goal)}")
    if result.get("profile"):
        out += ["", result["profile"]]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                        help="folder holding police_uk_street/ (default: ../shared/data)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (median is reported)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, cProfile one full load and print where its time goes")
    parser.add_argument("--tmpdir", type=Path, default=None,
                        help="where the temp warehouses go (default: the system temp dir)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    files = street_files(args.data)
    if not files or not (args.data / INCREMENTAL_FILE).exists():
        print(f"benchmarks/etl.py: no police.uk street CSVs under {args.data}/police_uk_street "
              "(pass --data)", file=sys.stderr)
        return 2

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log(f"counting rows in {len(files)} files ...")
    rows = count_rows(files)
    log("1. full load")
    full = bench_full(files, args.repeat, args.tmpdir, log)
    log("2. incremental load")
    incr = bench_incremental(args.data, args.repeat, args.tmpdir, log)
    result = {
        "machine": machine(),
        "data": str(args.data),
        "repeat": args.repeat,
        "input_files": len(files),
        "input_mb": sum(f.stat().st_size for f in files) / 1e6,
        "input_rows": rows,
        "full": full,
        "incremental": incr,
        "ratios": {
            "ours_vs_duckdb": full["median"]["ours"] / full["median"]["duckdb"],
            "pandas_vs_ours": full["median"]["pandas"] / full["median"]["ours"],
            "pandas_sqlite_vs_ours": full["median"]["pandas_sqlite"] / full["median"]["ours"],
            "incremental": incr["median"]["demo"] / incr["median"]["empty"],
        },
    }
    result["goals"] = {
        key: {"op": op, "goal": goal, "value": result["ratios"][key],
              "result": verdict(op, result["ratios"][key], goal)}
        for key, _label, op, goal in GOALS
    }
    if args.profile:
        log("profiling one full load ...")
        result["profile"] = profile_load(files, args.tmpdir, top=15)
    print(render(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
