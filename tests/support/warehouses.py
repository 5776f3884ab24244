"""Shared by the dashboard tests (not a test module): warehouses built once per test run.

The demo warehouse takes seconds to build and the generated facts ~1 s, so every dashboard
test module reuses the same ones (cached in this process, removed at exit). Tests only read
them. Two years (April 2006 to March 2008) are enough for "this financial year against the
last" and a 13-month sparkline, at less than half the build time of the default five.
"""

from __future__ import annotations

import atexit
import csv
import functools
import shutil
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from etl.demo import DemoData, generate
from etl.demo_load import build_demo
from etl.load import load_police_uk

_DIRS: list[Path] = []


def _tmpdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _DIRS.append(path)
    return path


@atexit.register
def _cleanup() -> None:
    for path in _DIRS:
        shutil.rmtree(path, ignore_errors=True)


DEMO_SEED = 2007
DEMO_YEARS = 2


@functools.cache
def demo_link() -> Path:
    """The synthetic demo warehouse (seed 2007, April 2006 to March 2008), built once."""
    link = _tmpdir("lg-dash-demo-") / "warehouse.duckdb"
    build_demo(link, seed=DEMO_SEED, years=DEMO_YEARS)
    return link


@functools.cache
def demo_facts() -> DemoData:
    """The same demo's generated facts, for counting independently with pandas."""
    return generate(seed=DEMO_SEED, years=DEMO_YEARS)


def street_files(shared_data: Path) -> list[Path]:
    root = shared_data / "police_uk_street" / "geoinformation_in_society"
    return sorted(p for p in root.glob("*/*-street.csv"))


@functools.cache
def real_link(shared_data: Path) -> Path:
    """A warehouse of the real data.police.uk street files (9 forces x 5 months), built once."""
    link = _tmpdir("lg-dash-real-") / "warehouse.duckdb"
    load_police_uk(link, street_files(shared_data))
    return link


def raw_counts(shared_data: Path) -> dict[tuple[str, date, str], int]:
    """Crimes per (force slug, month, crime type) counted from the raw CSVs with the csv module,
    independently of the loader: ASB rows are incidents (counted under their own type), and
    a Crime ID repeated within a force's month is one crime (blank IDs each count)."""
    counts: Counter[tuple[str, date, str]] = Counter()
    seen: set[tuple[str, date, str]] = set()
    for path in street_files(shared_data):
        # 2018-10-cheshire-street.csv -> cheshire
        force = path.name[len("2018-10-") : -len("-street.csv")]
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                year, month = row["Month"].split("-")
                m = date(int(year), int(month), 1)
                kind = row["Crime type"]
                crime_id = row["Crime ID"].strip()
                if kind != "Anti-social behaviour" and crime_id:
                    key = (force, m, crime_id)
                    if key in seen:
                        continue
                    seen.add(key)
                counts[(force, m, kind)] += 1
    return dict(counts)
