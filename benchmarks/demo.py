"""Demo build benchmark: `python -m etl demo` against the bare cost of writing the same rows.

    .venv/bin/python benchmarks/demo.py [--years 5] [--seed 2007] [--repeat 1] [--json PATH]
                                        [--tmpdir DIR]

Times, in one run: (a) the whole build as the CLI runs it (build_demo: generate, stage, lake
partitions fsynced, cubes, the warehouse version and switch), with the time of every stage it
reports; (b) generating the same frames alone; (c) the bare floor: those frames written with
DuckDB into one on-disk table per dataset, CHECKPOINTed, plus one Parquet file per dataset.
The headline is (a) against the goal (15 s, issue 11) and (a - b) / c: what our lake and
cubes cost over writing the same rows once. Wall seconds move with the machine's load (it is
shared), so the load average before and after, and the process's own CPU seconds, are printed
beside them. A measurement, not a test: it exits 0 whether the goal is met or missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402

from etl.demo.build import build_demo, demo_frames  # noqa: E402

GOAL_SECONDS = 15.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_build(work: Path, seed: int, years: int) -> dict:
    """Each stage the build reports: wall and process CPU seconds (every thread) from its first
    report to its last, and the 1-minute load average at its end. Stages may overlap (the
    staging runs while the generators are still at work), so their CPU is not additive."""
    stages: dict[str, dict[str, float]] = {}
    started: dict[str, tuple[float, float]] = {}

    def progress(stage: str, done: int, total: int, rows: object = None) -> None:
        now, cpu = time.perf_counter(), _cpu()
        started.setdefault(stage, (now, cpu))
        if done >= total:
            stages[stage] = {"seconds": now - started[stage][0],
                             "cpu_seconds": cpu - started[stage][1],
                             "load": os.getloadavg()[0]}

    cpu, t = _cpu(), time.perf_counter()
    report = build_demo(work / "warehouse.duckdb", seed=seed, years=years, progress=progress)
    wall = time.perf_counter() - t
    if not report.committed:
        raise RuntimeError("the demo build did not commit")
    lake = work / "warehouse.lake"
    files = sum(1 for _ in lake.rglob("*.parquet"))
    return {"seconds": wall, "cpu_seconds": _cpu() - cpu, "stages": stages,
            "partitions": len(report.partitions), "lake_files": files,
            "lake_bytes": sum(p.stat().st_size for p in lake.rglob("*.parquet")),
            "warehouse_bytes": (work / "warehouse.duckdb").resolve().stat().st_size}


def run_generate(seed: int, years: int) -> tuple[float, dict]:
    t = time.perf_counter()
    data, frames = demo_frames(seed, years)
    return time.perf_counter() - t, {"units": data.units, **frames}


def run_bare(frames: dict, work: Path) -> tuple[float, int]:
    """The same rows, written once with DuckDB: a table per dataset in an on-disk file and a
    Parquet file per dataset, then CHECKPOINT. No partitions, no cubes, no checks."""
    t = time.perf_counter()
    con = duckdb.connect(str(work / "bare.duckdb"))
    rows = 0
    try:
        for name, frame in frames.items():
            con.register("_f", frame)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _f')
            con.execute(f"COPY \"{name}\" TO '{work / (name + '.parquet')}' (FORMAT parquet)")
            con.unregister("_f")
            rows += len(frame)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return time.perf_counter() - t, rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2007)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the median is reported")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--tmpdir", type=Path)
    args = ap.parse_args(argv)

    load_before = os.getloadavg()
    builds, gens, bares = [], [], []
    rows = 0
    with tempfile.TemporaryDirectory(prefix="lg-bench-demo-", dir=args.tmpdir) as tmp:
        for i in range(args.repeat):
            work = Path(tmp) / f"build{i}"
            work.mkdir()
            print(f"build {i + 1}/{args.repeat} ...", file=sys.stderr)
            builds.append(run_build(work, args.seed, args.years))
            shutil.rmtree(work)
            seconds, frames = run_generate(args.seed, args.years)
            gens.append(seconds)
            bare = Path(tmp) / f"bare{i}"
            bare.mkdir()
            seconds, rows = run_bare(frames, bare)
            bares.append(seconds)
            shutil.rmtree(bare)
            del frames
    load_after = os.getloadavg()

    med = statistics.median
    build = sorted(builds, key=lambda b: b["seconds"])[len(builds) // 2]
    over = (build["seconds"] - med(gens)) / med(bares)
    result = {
        "years": args.years, "seed": args.seed, "repeat": args.repeat, "cpus": os.cpu_count(),
        "load_average_before": load_before, "load_average_after": load_after,
        "build_seconds": build["seconds"], "build_cpu_seconds": build["cpu_seconds"],
        "generate_seconds": med(gens), "bare_write_seconds": med(bares), "rows": rows,
        "lake_and_cubes_over_bare_write": over, "goal_seconds": GOAL_SECONDS,
        "goal_met": build["seconds"] < GOAL_SECONDS, **{k: build[k] for k in (
            "stages", "partitions", "lake_files", "lake_bytes", "warehouse_bytes")},
    }
    print(f"Demo build, {args.years} years, seed {args.seed}, median of {args.repeat} "
          f"({os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after)")
    print(f"  (a) build_demo, end to end   {build['seconds']:7.1f} s   "
          f"(CPU {build['cpu_seconds']:.1f} s)   goal < {GOAL_SECONDS:.0f} s: "
          f"{'met' if result['goal_met'] else 'MISSED'}")
    for stage, t in build["stages"].items():
        print(f"        {stage:<34} {t['seconds']:6.1f} s   (CPU {t['cpu_seconds']:5.1f} s, "
              f"load {t['load']:.1f})")
    print(f"  (b) generating the frames    {med(gens):7.1f} s")
    print(f"  (c) bare DuckDB write        {med(bares):7.1f} s   ({rows:,} rows, a table and a "
          "Parquet file per dataset)")
    print(f"  (a - b) / c                  {over:7.1f} x   what partitions, cubes and the version "
          "cost over writing the rows once")
    print(f"  lake: {build['lake_files']:,} files, {build['lake_bytes'] / 1e6:.1f} MB; "
          f"warehouse {build['warehouse_bytes'] / 1e6:.1f} MB; {build['partitions']:,} partitions")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
