"""Early-warning benchmark: the exceptions list for the whole demo force, against baselines.

    .venv/bin/python benchmarks/early_warning.py [--warehouse LINK] [--repeat 5] [--json PATH]
                                                 [--tmpdir DIR]

Goal (issue "Most-similar-force comparison, early warning ..."): the exceptions list for the
whole demo force (every unit x every headline measure) computes in under 1 second of server
time. Server time = the call `dashboard.analysis.exception_scan.exceptions(...)` on a DataAccess whose
cache was emptied first, in a process that has served a request before (imports and the first
connection done), i.e. the first request after a new warehouse version is published.

Contenders, all computing the same list (the script checks that the frames are identical):
- ours: one read of the measure cube for every unit x month x measure, then numpy and the pure
  statistics;
- per-unit queries: the same computation, but the panel is read with one query per unit and
  measure -- the obvious way to write it.

Headline numbers are ratios of timings taken in the same run (see benchmarks/README.md); the
seconds are shown beside them. It is a measurement, not a test: it exits 0 whether the goal is
met or missed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from dashboard.analysis import exception_scan as ew  # noqa: E402
from dashboard.analysis import kinds  # noqa: E402
from dashboard.data.facade import DataAccess  # noqa: E402
from dashboard.data.queries import cubes as queries  # noqa: E402
from dashboard.data.warehouse import WarehouseReader  # noqa: E402
from etl.demo.build import build_demo  # noqa: E402
from etl.measures.registry import MEASURES  # noqa: E402

FORCE = "cheshire"
END = date(2008, 3, 1)
GOAL_SECONDS = 1.0


def per_unit_panel(
    data: DataAccess, force_id: str, end_month: date, measure_ids: tuple[str, ...],
    unit_ids: tuple[str, ...] | None = None,
) -> ew.Panel | None:
    """ew.read_panel, but reading one unit and measure at a time (queries.measure_rows)."""
    source = data.source_for(force_id)
    if source is None:
        return None
    months = [ew.add_months(end_month, -i) for i in range(ew.HISTORY - 1, -1, -1)]
    months = [m for m in months if m >= ew.month_start(source.first_month)] or [end_month]
    units = ew.scan_units(data, force_id)
    if unit_ids is not None:
        units = [u for u in units if u.unit_id in {force_id, *unit_ids}]
    uindex = {u.unit_id: i for i, u in enumerate(units)}
    mindex = {m: i for i, m in enumerate(months)}
    out = ew.Panel(force_id, source.source, units, uindex, months)
    for mid in sorted(set(measure_ids)):
        measure = MEASURES[mid]
        src = data.source_for(force_id, measure.dataset)
        num = np.full((len(units), len(months)), np.nan)
        den = np.full_like(num, np.nan)
        has = np.zeros(len(units), dtype=bool)
        if src is not None:
            with data.cursor() as cur:
                for u in units:
                    rows = queries.measure_rows(
                        cur, src.source, [u.unit_id], mid, months[0], months[-1], "month"
                    )
                    for r in rows.itertuples(index=False):
                        j = mindex.get(pd.Timestamp(r.t).date())
                        if j is not None:
                            num[uindex[u.unit_id], j] = r.num
                            den[uindex[u.unit_id], j] = r.den
                            has[uindex[u.unit_id]] = True
        if not kinds.has_denominator(measure):
            num = np.where(np.isnan(num) & has[:, None], 0.0, num)
        st, reasons = ew.month_status(data, force_id, measure.dataset, months)
        out.measures[mid] = ew.Series(num, den, has, st, reasons)
    return out


@contextlib.contextmanager
def patched(name: str) -> Iterator[None]:
    saved = ew.read_panel
    if name == "per-unit queries":
        ew.read_panel = per_unit_panel  # type: ignore[assignment]
    try:
        yield
    finally:
        ew.read_panel = saved


def run(data: DataAccess, name: str, warm_units: bool) -> tuple[float, pd.DataFrame]:
    data.clear_cache()
    if warm_units:   # units and sources already known (the server answered other pages)
        data.units()
        data.source_for(FORCE)
    with patched(name):
        t = time.perf_counter()
        frame = ew.exceptions(data, FORCE, END)
        return time.perf_counter() - t, frame


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warehouse", type=Path, help="an existing demo warehouse link (else one is built)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--tmpdir", type=Path)
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        link = args.warehouse
        if link is None:
            link = Path(tmp) / "warehouse.duckdb"
            log("building the demo warehouse (seed 2007, 5 years; not timed) ...")
            build_demo(link)
        data = DataAccess(WarehouseReader(link))
        try:
            return report(data, args, log)
        finally:
            data.reader.close()


def report(data: DataAccess, args: argparse.Namespace, log: Callable[[str], None]) -> int:
    contenders = ["ours", "per-unit queries"]
    for name in contenders:            # warm-up: imports, first connection, scipy's first calls
        run(data, name, True)
    times: dict[tuple[str, bool], list[float]] = {}
    frames: dict[str, pd.DataFrame] = {}
    for i in range(args.repeat):
        order = contenders[i % 2:] + contenders[:i % 2]
        for name in order:
            for warm in (False, True):
                t, frame = run(data, name, warm)
                times.setdefault((name, warm), []).append(t)
                frames[name] = frame
        log(f"repeat {i + 1}/{args.repeat} done")
    same = all(frames[n].equals(frames["ours"]) for n in contenders)
    charts = ew.charts(data, FORCE, END, ew.sensitivity("standard"))
    units = len({u for u, _ in charts})
    med = {k: statistics.median(v) for k, v in times.items()}
    ours_cold = med[("ours", False)]
    cached = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        ew.exceptions(data, FORCE, END)
        cached.append(time.perf_counter() - t)

    print(f"Exceptions list, whole demo force ({FORCE}, {END:%b %Y}): {len(charts)} unit x measure series, "
          f"{units} units, {len(frames['ours'])} rows listed; median of {args.repeat}")
    print(f"{'contender':<22}{'cold cache (s)':>16}{'units known (s)':>17}{'ratio to ours':>15}")
    for name in contenders:
        c, w = med[(name, False)], med[(name, True)]
        print(f"{name:<22}{c:>16.3f}{w:>17.3f}{c / ours_cold:>14.1f}x")
    print(f"{'ours, cached':<22}{statistics.median(cached):>16.4f}")
    verdict = "PASS" if ours_cold < GOAL_SECONDS else "MISS"
    print(f"goal: ours (cold cache) < {GOAL_SECONDS:.1f} s: {ours_cold:.3f} s  {verdict}")
    print(f"per-unit queries / ours: {med[('per-unit queries', False)] / ours_cold:.1f}x;  "
          f"identical lists: {'yes' if same else 'NO'}")
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    if args.json:
        args.json.write_text(json.dumps({
            "series": len(charts), "units": units, "rows": len(frames["ours"]), "identical": same,
            "median_seconds": {f"{n}|{'units_known' if w else 'cold'}": v for (n, w), v in med.items()},
            "cached_seconds": statistics.median(cached), "goal_seconds": GOAL_SECONDS, "verdict": verdict,
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
