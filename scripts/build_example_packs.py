"""Rebuild the example packs in docs/examples/packs/ from a fresh 5-year demo.

Why a script: the examples must be rebuilt whenever the demo or the packs change, and by hand
that was five commands, a demo build and three actions typed into the tracker. Run from the
repository root:

    .venv/bin/python scripts/build_example_packs.py [--work /tmp/example-packs]

It builds the demo warehouse in the work folder (never in data/), raises the three sample
actions for Western BCU in the store beside it, and writes every pack as HTML and PDF through
the same command line a user runs (`python -m dashboard pack`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "examples" / "packs"

# (file stem, arguments after --unit)
PACKS = [
    ("force-pack_cheshire_2007-08", ["cheshire"]),
    ("bcu-pack_western_2007-08", ["cheshire/western", "--period", "2007/08"]),
    ("thematic-burglary_cheshire_q4-2007-08",
     ["cheshire", "--theme", "burglary", "--period", "Q4 2007/08"]),
    ("pa-bulletin_cheshire_q4-2007-08", ["cheshire", "--audience", "authority"]),
]

# What a PIM of 12 March 2008 might have given Western BCU (shown in its pack).
ACTIONS = [
    ("Kept informed: every victim of burglary contacted within 7 days of the report",
     "Supt Hughes", date(2008, 3, 31), "open", "satisfaction_kept_informed"),
    ("Burglary dwelling in Chester: a targeted patrol plan and a repeat-victim visit within 48 hours",
     "Ch Insp Morgan", date(2008, 4, 30), "in_progress", "crime_burglary"),
    ("Review the 999 answering in the control room at weekend peaks",
     "Ch Insp Patel", date(2008, 5, 15), "open", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/example-packs"))
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    warehouse = args.work / "warehouse.duckdb"
    subprocess.run([sys.executable, "-m", "etl", "demo", "--warehouse", str(warehouse)],
                   cwd=REPO, check=True)

    from dashboard.store import actions as tracker
    from dashboard.store.db import open_store

    store = open_store(warehouse)
    for description, owner, due, status, measure in ACTIONS:
        tracker.create_action(store, unit_id="cheshire/western", description=description,
                              owner=owner, due=due, meeting=date(2008, 3, 12),
                              actor="example-packs", status=status, measure_id=measure)
    for stem, unit_args in PACKS:
        for ext in ("html", "pdf"):
            out = OUT / f"{stem}.{ext}"
            subprocess.run([sys.executable, "-m", "dashboard", "pack", "--warehouse", str(warehouse),
                            "--unit", *unit_args, "--out", str(out)], cwd=REPO, check=True)
            print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
