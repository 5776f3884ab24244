"""National-scale load benchmark (issue 11 item 2, first part): every force for N years of
data.police.uk street files, loaded by our loader, against DuckDB's bare read_csv of the same
files.

    .venv/bin/python benchmarks/national.py [--years 1] [--forces 43] [--scale 1.0] [--seed 11]
                                            [--data ../shared/data] [--tmpdir DIR] [--keep DIR]
                                            [--json PATH]

1. Generates `--forces` forces (all 43 by default; the forces with real files first) x
   `--years` years of street files (the months up to February 2019, the last real month),
   data.police.uk's columns and naming (`<month>/<month>-<force>-street.csv`), reproducible
   by `--seed`. What is real, taken from the real files in ../shared/data:
   - the crime type mix, and the mix of last outcomes within each crime type;
   - the volume: crimes (and ASB) per resident per month, the median over the real forces'
     months, times the force's 2011 population (etl/reference/forces.py), times `--scale`,
     Poisson-drawn per force and month;
   - where: for a force with real files, the LSOA codes and names its files name, in the
     proportions they occur; for the others, the force's own 2011 LSOAs (data/reference,
     ONS, the default hierarchy's areas) in proportion to their population, named
     "<MSOA name><letter>" like data.police.uk's; the share of rows with no location is the
     real one; locations are real "On or near ..." strings; coordinates are the LSOA's MSOA
     centre with a small jitter.
   - Crime IDs are 64 random hex digits (blank for ASB, as data.police.uk's).
2. Loads them with `python -m etl load police-uk` (a child process, as a user runs it), and
   then the bare floor, `CREATE TABLE t AS SELECT * FROM read_csv(files)` into an on-disk
   DuckDB file + CHECKPOINT (another child process), and prints rows/s of each, their ratio
   (goal: ours within 2x), each one's peak RSS (os.wait4 of the child; goal: ours under
   2 GB), the lake's and the live warehouse version's size.

3. One more month (March 2019, generated the same way for the same forces) loaded into a copy
   of that full warehouse and into an empty one, each by `python -m etl load police-uk`: the
   cost of a monthly load as history grows (goal: within 1.5x of into empty).
4. The dashboard's interactions at that size (benchmarks/dashboard.py, a child process, on
   the loaded warehouse and on a 5-year demo, or `--demo PATH`): p50/p95 of every page's
   callbacks and the API, cold and warm, each against the minimal cube query it depends on,
   and national's cold p95 beside the demo's. `--no-interactions` skips it.

The machine these run on may be shared: the load average before and after is printed. The
default (43 forces x 1 year, about 6 million rows) needs a few minutes and, today, several GB
of memory for our load (issue 11 item 1); try `--forces 4` first. It is a measurement, not a
test: it exits 0 whether goals are met or missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from etl.measures.crime import CRIME_CATEGORIES  # noqa: E402
from etl.reference import areas  # noqa: E402
from etl.reference.forces import FORCE_BY_SLUG, FORCES, Force  # noqa: E402
from tests.support.warehouses import copy_warehouse  # noqa: E402

COLUMNS = ["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
           "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context"]
ASB = "Anti-social behaviour"
LAST_MONTH = (2019, 2)  # the real files' last month
GOAL_RATIO = 2.0
GOAL_RSS_GB = 2.0
GOAL_MONTH = 1.5   # one more month into the full history, over into an empty warehouse
NEXT_MONTH = "2019-03"


# --------------------------------------------------------------------------- the real files

@dataclass
class Profile:
    """What the synthetic files take from the real ones."""

    types: list[str]
    type_p: np.ndarray
    outcomes: dict[str, tuple[list[str], np.ndarray]]  # crime type -> outcomes, probabilities
    per_resident_month: float
    no_location: float
    locations: list[str]
    lsoas: dict[str, tuple[list[str], list[str], np.ndarray]]  # force -> codes, names, p


def real_files(data: Path) -> list[Path]:
    root = data / "police_uk_street"
    return sorted(root.glob("geoinformation_in_society/*/*-street.csv")) + sorted(
        root.glob("city_of_london_24m/*-street.csv"))


def profile(data: Path) -> Profile:
    files = real_files(data)
    if not files:
        raise SystemExit(f"no street files under {data / 'police_uk_street'}")
    con = duckdb.connect()
    # A quick read of every file at once (not the loader's careful one): the few rows it
    # splits wrongly are dropped by keeping the known crime types and well-formed LSOA codes.
    con.execute("CREATE TEMP TABLE r AS SELECT * FROM read_csv(?, header = true, all_varchar = true, "
                "filename = true) WHERE \"Crime type\" IN (SELECT unnest(?::VARCHAR[])) "
                "AND (\"LSOA code\" IS NULL OR regexp_full_match(\"LSOA code\", '[EW]0[0-9]{7}'))",
                [[str(f) for f in files], list(CRIME_CATEGORIES)])
    types = con.execute('SELECT "Crime type", count(*) FROM r GROUP BY 1 ORDER BY 1').fetchall()
    n = sum(c for _, c in types)
    mix: dict[str, dict[str, int]] = {}
    for t, o, c in con.execute(
            """SELECT "Crime type", coalesce("Last outcome category", ''), count(*) FROM r
               GROUP BY ALL ORDER BY ALL""").fetchall():
        mix.setdefault(t, {})[o] = c
    outcomes = {t: (list(m), np.array(list(m.values()), dtype=float) / sum(m.values()))
                for t, m in mix.items()}
    # rows per force-month, per resident: the force is in the file name
    rates = []
    for fname, rows in con.execute("SELECT filename, count(*) FROM r GROUP BY 1").fetchall():
        slug = Path(fname).name[len("2018-10-"):-len("-street.csv")]
        if slug in FORCE_BY_SLUG:
            rates.append(rows / FORCE_BY_SLUG[slug].population)
    no_location = con.execute('SELECT avg(("LSOA code" IS NULL)::INT) FROM r').fetchone()[0]
    locations = [r[0] for r in con.execute(
        'SELECT DISTINCT "Location" FROM r WHERE "Location" IS NOT NULL ORDER BY 1 LIMIT 20000').fetchall()]
    lsoas: dict[str, tuple[list[str], list[str], np.ndarray]] = {}
    for fname_slug, codes, names, counts in con.execute(
            """SELECT slug, list(code ORDER BY code), list(name ORDER BY code), list(n ORDER BY code)
               FROM (SELECT regexp_extract(filename, '\\d{4}-\\d{2}-(.+)-street\\.csv$', 1) AS slug,
                            "LSOA code" AS code, any_value("LSOA name") AS name, count(*) AS n
                     FROM r WHERE "LSOA code" IS NOT NULL GROUP BY 1, 2) GROUP BY slug""").fetchall():
        p = np.array(counts, dtype=float)
        lsoas[fname_slug] = (list(codes), list(names), p / p.sum())
    con.close()
    return Profile([t for t, _ in types], np.array([c / n for _, c in types]), outcomes,
                   float(np.median(rates)), float(no_location), locations, lsoas)


def reference_lsoas(force: Force) -> tuple[list[str], list[str], np.ndarray]:
    """The force's 2011 LSOAs (its default hierarchy's), by population, named like
    data.police.uk's ("Cheshire East 001A": the MSOA's name and a letter by code order)."""
    h = areas.hierarchy(force.slug)
    if h is None:
        raise SystemExit(f"no areas for {force.slug}")
    lsoas, msoas = areas.lsoas(), areas.msoas()
    codes = sorted(h.lsoa_npu)
    letters: dict[str, int] = {}
    names = []
    for code in codes:
        msoa = lsoas[code].msoa
        letters[msoa] = letters.get(msoa, 0) + 1
        names.append(f"{msoas[msoa].name}{chr(64 + min(letters[msoa], 26))}")
    p = np.array([max(lsoas[c].population, 1) for c in codes], dtype=float)
    return codes, names, p / p.sum()


# --------------------------------------------------------------------------- generation

def months(years: int) -> list[str]:
    y, m = LAST_MONTH
    out = []
    for _ in range(12 * years):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return sorted(out)


def choose_forces(prof: Profile, k: int) -> list[Force]:
    real = [f for f in FORCES if f.slug in prof.lsoas]
    rest = [f for f in FORCES if f.slug not in prof.lsoas]
    return (real + rest)[:k]


def write_force_month(path: Path, force: Force, month: str, prof: Profile,
                      where: tuple[list[str], list[str], np.ndarray], scale: float,
                      rng: np.random.Generator) -> int:
    n = int(rng.poisson(prof.per_resident_month * force.population * scale))
    kinds = rng.choice(len(prof.types), size=n, p=prof.type_p)
    outcome = np.empty(n, dtype=object)
    for i, t in enumerate(prof.types):
        sel = np.flatnonzero(kinds == i)
        names, p = prof.outcomes[t]
        outcome[sel] = np.array(names, dtype=object)[rng.choice(len(names), size=len(sel), p=p)]
    codes, names, p = where
    place = rng.choice(len(codes), size=n, p=p)
    blank = rng.random(n) < prof.no_location
    loc = rng.integers(0, len(prof.locations), size=n)
    jitter = rng.normal(0, 0.01, size=(n, 2))
    msoa = areas.msoas()
    lsoa = areas.lsoas()
    ids = rng.bytes(32 * n).hex()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for j in range(n):
            kind = prof.types[kinds[j]]
            crime_id = "" if kind == ASB else ids[64 * j:64 * j + 64]
            if blank[j]:
                lon = lat = code = name = ""
                where_text = "No location"
            else:
                code, name = codes[place[j]], names[place[j]]
                m = msoa.get(lsoa[code].msoa) if code in lsoa else None
                lon = f"{(m.lon if m else -2.0) + jitter[j, 0]:.6f}"
                lat = f"{(m.lat if m else 53.0) + jitter[j, 1]:.6f}"
                where_text = prof.locations[loc[j]]
            w.writerow([crime_id, month, force.name, force.name, lon, lat, where_text, code, name, kind,
                        outcome[j], ""])
    return n


def generate(out: Path, prof: Profile, forces: list[Force], years: int, scale: float, seed: int,
             only: list[str] | None = None) -> int:
    """Every force's files for `years` years to LAST_MONTH (or the months in `only`)."""
    rows = 0
    for fi, force in enumerate(forces):
        where = prof.lsoas.get(force.slug) or reference_lsoas(force)
        for month in only or months(years):
            folder = out / month
            folder.mkdir(parents=True, exist_ok=True)
            # one stream per (force, month): the same files whatever --forces/--years select
            rng = np.random.default_rng([seed, FORCES.index(force), int(month[:4]) * 12 + int(month[5:])])
            rows += write_force_month(folder / f"{month}-{force.slug}-street.csv", force, month, prof,
                                      where, scale, rng)
        print(f"  generated {force.slug} ({fi + 1}/{len(forces)}), {rows:,} rows so far", file=sys.stderr)
    return rows


# --------------------------------------------------------------------------- contenders

def _hwm(pid: int) -> int:
    """The process's peak resident set (VmHWM) in bytes, 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, float]:
    """(wall seconds, peak RSS in bytes, exit status, CPU seconds) of a child process. The peak
    is the child's own VmHWM, polled every 50 ms (a high-water mark, so only the last 50 ms
    before it exits can be missed): getrusage's ru_maxrss of a child would count this
    benchmark's own memory, which Linux carries into a child through fork and exec. The CPU
    seconds (user + system, all its threads) are what a shared machine disturbs least: its
    wall seconds stretch with the other work on the machine, its CPU seconds much less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _hwm(proc.pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            err.seek(0)
            print(err.read().decode(errors="replace")[-2000:], file=sys.stderr)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak, proc.returncode, cpu


BARE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, header = true)", [sys.argv[2:]])
con.execute("CHECKPOINT")
con.close()
"""


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--forces", type=int, default=43, help="how many forces (1 to 43)")
    ap.add_argument("--scale", type=float, default=1.0, help="volume as a multiple of the real rate")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--tmpdir", type=Path)
    ap.add_argument("--keep", type=Path, help="write the files and warehouses here and keep them")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--demo", type=Path, help="a demo warehouse to compare the interactions with "
                    "(default: benchmarks/dashboard.py builds a 5-year one)")
    ap.add_argument("--demo-json", type=Path, help="the demo's interactions from an earlier "
                    "`benchmarks/dashboard.py --json` run, instead of timing them again")
    ap.add_argument("--repeat", type=int, default=10, help="calls per dashboard interaction (default 10)")
    ap.add_argument("--no-interactions", action="store_true", help="skip the dashboard's interactions")
    args = ap.parse_args(argv)
    if not 1 <= args.forces <= len(FORCES) or args.years < 1 or args.scale <= 0:
        ap.error("--forces must be 1 to 43, --years at least 1, --scale above 0")

    load_before = os.getloadavg()
    prof = profile(args.data)
    forces = choose_forces(prof, args.forces)
    with tempfile.TemporaryDirectory(prefix="lg-bench-national-", dir=args.tmpdir) as tmp:
        root = args.keep or Path(tmp)
        files_dir, ours_dir, bare_dir = root / "street", root / "ours", root / "bare"
        # --keep DIR from an earlier run with the same forces, years, scale and seed: its files
        # are the same bytes (one random stream per force and month), so they are reused rather
        # than generated again (10 minutes at 43 x 10). The stamp is written only after the
        # last file, so an interrupted generation is never reused.
        stamp = files_dir / "generated.json"
        wanted = {"forces": [f.slug for f in forces], "years": args.years, "scale": args.scale,
                  "seed": args.seed, "last_month": list(LAST_MONTH)}
        reused = stamp.exists() and json.loads(stamp.read_text()).get("params") == wanted
        for d in (ours_dir, bare_dir) if reused else (files_dir, ours_dir, bare_dir):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        t = time.perf_counter()
        if reused:
            rows = json.loads(stamp.read_text())["rows"]
            print(f"reusing the {rows:,} rows generated earlier in {files_dir}", file=sys.stderr)
        else:
            rows = generate(files_dir, prof, forces, args.years, args.scale, args.seed)
            stamp.write_text(json.dumps({"params": wanted, "rows": rows}))
        gen_seconds = time.perf_counter() - t
        files = sorted(str(p) for p in files_dir.glob("*/*-street.csv"))
        input_bytes = size(files_dir)
        # warm the OS cache so neither contender pays for cold reads
        duckdb.connect().execute("SELECT count(*) FROM read_csv(?, header = true)", [files]).fetchone()

        print(f"loading {len(files):,} files ({rows:,} rows) ...", file=sys.stderr)
        env = {**os.environ, "COLUMNS": "200"}
        link = ours_dir / "warehouse.duckdb"
        ours_s, ours_rss, ours_rc, ours_cpu = run_child(
            [sys.executable, "-m", "etl", "load", "police-uk", str(files_dir), "--warehouse", str(link)], env)
        if ours_rc != 0:
            # every later figure (one more month into the history, the interactions) needs the
            # loaded history: stop here rather than print ratios of an empty warehouse
            sys.exit(f"our load failed (exit {ours_rc}, after {ours_s:.1f} s, peak RSS "
                     f"{ours_rss / 1e9:.2f} GB; {shutil.disk_usage(root).free / 1e9:.1f} GB of "
                     "disk free now): its words are above. Nothing after it was measured.")
        bare_s, bare_rss, bare_rc, bare_cpu = run_child(
            [sys.executable, "-c", BARE, str(bare_dir / "bare.duckdb"), *files])
        # the floor's table is only timed: its disk (GBs at 43 x 10) is needed for what follows
        shutil.rmtree(bare_dir, ignore_errors=True)
        lake_bytes = size(ours_dir / "warehouse.lake")
        live = link.resolve()
        warehouse_bytes = live.stat().st_size if live.exists() else 0

        # one more month: into a copy of the full history, and into an empty warehouse
        month_dir = root / "next-month"
        shutil.rmtree(month_dir, ignore_errors=True)
        month_rows = generate(month_dir, prof, forces, 1, args.scale, args.seed, only=[NEXT_MONTH])
        shutil.rmtree(root / "full-copy", ignore_errors=True)  # an earlier run's, with --keep
        full = copy_warehouse(link, root / "full-copy")   # not timed
        empty = root / "empty" / "warehouse.duckdb"
        shutil.rmtree(empty.parent, ignore_errors=True)
        empty.parent.mkdir(parents=True)
        print(f"loading {NEXT_MONTH} ({month_rows:,} rows) into the full history and into an empty "
              "warehouse ...", file=sys.stderr)
        into_full_s, into_full_rss, into_full_rc, into_full_cpu = run_child(
            [sys.executable, "-m", "etl", "load", "police-uk", str(month_dir), "--warehouse", str(full)], env)
        into_empty_s, into_empty_rss, into_empty_rc, into_empty_cpu = run_child(
            [sys.executable, "-m", "etl", "load", "police-uk", str(month_dir), "--warehouse", str(empty)],
            env)

        interactions: dict[str, Any] = {}
        if not args.no_interactions and ours_rc == 0:
            force = "cheshire" if any(f.slug == "cheshire" for f in forces) else forces[0].slug
            if args.demo_json is not None:
                interactions["demo"] = json.loads(args.demo_json.read_text())
            for name, wh, extra in (("national", link, ["--force", force]),
                                    ("demo", args.demo, [])):
                if name in interactions:
                    continue
                out = root / f"interactions-{name}.json"
                cmd = [sys.executable, str(REPO / "benchmarks" / "dashboard.py"), "--repeat",
                       str(args.repeat), "--json", str(out), *extra]
                if wh is not None:
                    cmd += ["--warehouse", str(wh)]
                print(f"dashboard interactions on the {name} warehouse ...", file=sys.stderr)
                done = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=sys.stderr,
                                      check=False)
                if done.returncode == 0 and out.exists():
                    interactions[name] = json.loads(out.read_text())
    load_after = os.getloadavg()

    ratio = ours_s / bare_s
    result = {
        "forces": len(forces), "years": args.years, "scale": args.scale, "seed": args.seed,
        "files": len(files), "rows": rows, "input_bytes": input_bytes, "generate_seconds": gen_seconds,
        "ours_seconds": ours_s, "ours_rows_per_second": rows / ours_s, "ours_peak_rss_bytes": ours_rss,
        "ours_exit": ours_rc, "ours_cpu_seconds": ours_cpu, "bare_cpu_seconds": bare_cpu,
        "ours_vs_bare_cpu": ours_cpu / bare_cpu if bare_cpu else None,
        "into_full_cpu_seconds": into_full_cpu, "into_empty_cpu_seconds": into_empty_cpu,
        "bare_seconds": bare_s, "bare_rows_per_second": rows / bare_s,
        "bare_peak_rss_bytes": bare_rss, "bare_exit": bare_rc, "ours_vs_bare": ratio,
        "lake_bytes": lake_bytes, "warehouse_bytes": warehouse_bytes,
        "next_month": NEXT_MONTH, "next_month_rows": month_rows,
        "into_full_seconds": into_full_s, "into_full_peak_rss_bytes": into_full_rss,
        "into_full_exit": into_full_rc,
        "into_empty_seconds": into_empty_s, "into_empty_peak_rss_bytes": into_empty_rss,
        "into_empty_exit": into_empty_rc, "into_full_vs_empty": into_full_s / into_empty_s,
        "interactions": interactions,
        "load_average_before": load_before, "load_average_after": load_after, "cpus": os.cpu_count(),
    }
    gb = 10 ** 9   # decimal GB, as the goal (< 2 GB) is written
    print(f"National load: {len(forces)} forces x {args.years} year(s), scale {args.scale}, "
          f"seed {args.seed}: "
          f"{len(files):,} files, {rows:,} rows, {input_bytes / 1e6:,.0f} MB "
          f"({'reused from an earlier run' if reused else f'generated in {gen_seconds:.0f} s'})")
    print(f"  {os.cpu_count()} CPUs; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"  ours: etl load police-uk   {ours_s:8.1f} s  ({ours_cpu:6.1f} s CPU)  "
          f"{rows / ours_s:12,.0f} rows/s  peak RSS {ours_rss / gb:5.2f} GB (goal < {GOAL_RSS_GB:.0f}: "
          f"{'met' if ours_rss < GOAL_RSS_GB * gb else 'MISSED'})"
          f"{'' if ours_rc == 0 else f'  EXIT {ours_rc}'}")
    print(f"  bare: DuckDB read_csv      {bare_s:8.1f} s  ({bare_cpu:6.1f} s CPU)  "
          f"{rows / bare_s:12,.0f} rows/s  "
          f"peak RSS {bare_rss / gb:5.2f} GB")
    print(f"  ours / bare (time)         {ratio:8.2f} x  (goal <= {GOAL_RATIO:.0f}: "
          f"{'met' if ratio <= GOAL_RATIO else 'MISSED'})")
    if bare_cpu:
        cpu_ratio = ours_cpu / bare_cpu
        print(f"  ours / bare (CPU)          {cpu_ratio:8.2f} x  (goal <= {GOAL_RATIO:.0f}: "
              f"{'met' if cpu_ratio <= GOAL_RATIO else 'MISSED'}; compare this one on a busy machine)")
    print(f"  lake {lake_bytes / 1e6:,.1f} MB; warehouse version {warehouse_bytes / 1e6:,.1f} MB")
    month_ratio = into_full_s / into_empty_s
    print(f"  one more month ({NEXT_MONTH}, {month_rows:,} rows): into the full history {into_full_s:6.1f} s "
          f"(peak RSS {into_full_rss / gb:4.2f} GB), into an empty warehouse {into_empty_s:6.1f} s: "
          f"{month_ratio:.2f}x (goal <= {GOAL_MONTH}: {'met' if month_ratio <= GOAL_MONTH else 'MISSED'})"
          f"{'' if into_full_rc == into_empty_rc == 0 else f'  EXIT {into_full_rc}/{into_empty_rc}'}")
    if "national" in interactions:
        from benchmarks.dashboard import report  # the table's layout (imports the app: only here)

        nat = interactions["national"]
        demo = interactions.get("demo")
        print()
        report(nat["interactions"], f"interactions at national scale ({len(forces)} forces x {args.years} "
               f"year(s), units of {nat['force']})", (nat["machine"]["load_average_before"],),
               demo["interactions"] if demo else None, "demo cold")
        if demo:
            print()
            report(demo["interactions"], "interactions on the demo",
                   (demo["machine"]["load_average_before"],))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
