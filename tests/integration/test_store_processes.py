"""Several processes opening one fresh store at once, as gunicorn's workers do on their first
request: each migrates under the file lock, so every one of them opens it and the schema is
made once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from dashboard.store import db
from tests.support import REPO
from tests.support.browser import wait

# Each worker imports first, then waits for the go file, so that they open the store together
# (without the migration lock, 5 of 6 such workers failed on "table already exists").
OPEN_AND_WRITE = """
import os, sys, time
from datetime import date
from dashboard.store import actions, db
open(sys.argv[3] + "." + sys.argv[2], "w").close()  # ready
while not os.path.exists(sys.argv[3]):
    time.sleep(0.005)
store = db.open_store(url=sys.argv[1])
actions.create_action(store, unit_id="cheshire", description="from " + sys.argv[2], owner="Insp Hale",
                      due=date(2008, 5, 12), meeting=date(2008, 4, 14), actor="worker" + sys.argv[2])
"""


def run_workers(url: str, folder: Path, count: int = 6) -> list[tuple[int, str]]:
    """`count` processes, each opening the store at `url` at the same moment and raising one
    action; their exit codes and standard errors."""
    go = folder / "go"
    workers = [subprocess.Popen([sys.executable, "-c", OPEN_AND_WRITE, url, str(i), str(go)], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(count)]
    wait(lambda: len(list(folder.glob("go.*"))) == count, timeout=120, what="every worker ready")
    go.touch()
    return [(w.wait(timeout=120), w.stderr.read() if w.stderr else "") for w in workers]


def test_workers_opening_a_fresh_store_at_once_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.store.sqlite'}"
    results = run_workers(url, tmp_path)
    assert [code for code, _ in results] == [0] * 6, results
    store = db.open_store(url=url)
    assert db.current_revision(store.engine) == db.head_revision()
    with store.connect() as conn:
        owners = conn.execute(sa.text("SELECT created_by FROM actions ORDER BY created_by")).scalars().all()
    assert owners == [f"worker{i}" for i in range(6)]
    db.close_all()
