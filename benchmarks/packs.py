"""Packs benchmark: how long a force PIM pack takes to build, HTML and PDF, from cold.

    .venv/bin/python benchmarks/packs.py [--warehouse PATH] [--repeat 3] [--json PATH]

What `python -m dashboard pack --unit cheshire --out pack.pdf` pays, step by step, each in a
fresh DataAccess (an empty result cache, as on a new warehouse version) in one process:

- baseline: the assessments alone (the force's scorecard rows and its exceptions list, i.e.
  every unit to NPU x every headline measure): what the scorecard page and the API compute;
- content: the whole pack (assessments, the drill-down's series and children, every chart
  drawn to SVG by kaleido);
- HTML: content + rendering to one file;
- PDF: content + HTML + printing to A4 by Chromium (Playwright).

The ratios against the baseline say what the pack adds to what the dashboard computes anyway;
the goal is a force pack (PDF) under 15 s. The first repeat also pays Chromium's start-up
for kaleido (about 2 s, started in the background while the assessments run); later repeats
reuse it, as a server process does. Medians are reported. It is a measurement, not a test:
it exits 0 whether the goal is met or missed. Without --warehouse a 2-year demo warehouse
is built in a temp dir (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.analysis import assessment  # noqa: E402
from dashboard.data.access import ANONYMOUS  # noqa: E402
from dashboard.data.facade import DataAccess  # noqa: E402
from dashboard.data.warehouse import WarehouseReader  # noqa: E402
from dashboard.packs import content  # noqa: E402
from dashboard.packs.pdf import render_pdf  # noqa: E402
from dashboard.packs.render import render_html  # noqa: E402
from etl.demo.build import build_demo  # noqa: E402

GOAL_S = 15.0
UNIT = "cheshire"


def fresh(link: Path) -> DataAccess:
    return DataAccess(WarehouseReader(link))


def timed(link: Path, step: str) -> tuple[float, dict[str, Any]]:
    data = fresh(link)
    info: dict[str, Any] = {}
    try:
        with data.request(ANONYMOUS):
            unit = content.check_unit(data, UNIT)
            period = content.parse_period(None, content.as_of(data, unit))
            t0 = time.perf_counter()
            if step == "baseline":
                assessment.assess(data, UNIT, period.start, period.end)
                assessment.exceptions(data, UNIT, period.start, period.end)
            else:
                with content.drawing():
                    pack = content.build_pack(data, UNIT, period)
                info["charts"] = len([c.svg for s in pack.sections for c in s.charts])  # wait for them
                if step in ("html", "pdf"):
                    html = render_html(pack)
                    info["html_kb"] = len(html.encode()) // 1024
                    if step == "pdf":
                        info["pdf_kb"] = len(render_pdf(pack, html)) // 1024
            return time.perf_counter() - t0, info
    finally:
        data.reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    tmp = None
    link = args.warehouse
    if link is None:
        tmp = tempfile.TemporaryDirectory(prefix="lg-bench-packs-")
        link = Path(tmp.name) / "warehouse.duckdb"
        print("building a 2-year demo warehouse...", file=sys.stderr)
        build_demo(link, years=2)
    steps = ["baseline", "content", "html", "pdf"]
    times: dict[str, list[float]] = {s: [] for s in steps}
    info: dict[str, Any] = {}
    for r in range(args.repeat):
        for s in steps[r % len(steps):] + steps[:r % len(steps)]:   # rotate the order
            seconds, extra = timed(link, s)
            times[s].append(seconds)
            info.update(extra)
            print(f"  repeat {r + 1} {s:8s} {seconds:6.2f} s", file=sys.stderr)
    med = {s: statistics.median(v) for s, v in times.items()}
    base = med["baseline"]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nForce pack ({UNIT}, financial year to date), median of {args.repeat}, "
          f"{platform.node()} ({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load} at the end: other work shares the cores)")
    print(f"{'step':10s} {'seconds':>8s} {'x baseline':>11s}")
    for s in steps:
        print(f"{s:10s} {med[s]:8.2f} {med[s] / base:11.2f}")
    print(f"charts: {info.get('charts')}, HTML {info.get('html_kb')} KB, PDF {info.get('pdf_kb')} KB")
    verdict = "met" if med["pdf"] < GOAL_S else "MISSED"
    print(f"goal: force pack PDF under {GOAL_S:.0f} s: {verdict} ({med['pdf']:.2f} s)")
    if args.json:
        args.json.write_text(json.dumps({"median_s": med, "runs_s": times, "info": info,
                                         "goal_s": GOAL_S}, indent=2))
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
