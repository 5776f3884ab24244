"""`python -m etl` as a user runs it on real police.uk files: exit codes and `status --json`
(usage errors are in tests/integration/test_cli.py)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import REPO
from tests.support.cli import etl, etl_here


def test_load_status_and_exit_codes(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "police_uk_street" / "geoinformation_in_society"
    wh = str(tmp_path / "w.duckdb")
    ok = etl("load", "police-uk", str(folder / "2019-01" / "2019-01-cheshire-street.csv"),
             str(folder / "2019-02" / "2019-02-cheshire-street.csv"), "--warehouse", wh)
    assert ok.returncode == 0, ok.stderr
    assert "loaded" in ok.stderr
    # the next step it names (the ETL cannot run it: it never imports the dashboard) works as printed
    [command] = [line.strip() for line in ok.stderr.splitlines()
                 if line.strip().startswith("python -m dashboard precompute")]
    assert command == f"python -m dashboard precompute --warehouse {wh} --force cheshire"
    stored = subprocess.run([sys.executable, *shlex.split(command)[1:]], cwd=REPO, capture_output=True,
                            text=True, timeout=300, env={**os.environ, "COLUMNS": "1000"})
    assert stored.returncode == 0, stored.stderr
    assert re.search(r"stored the assessments of [1-9]\d* unit-periods", stored.stderr), stored.stderr
    bad = tmp_path / "2019-03-cheshire-street.csv"
    bad.write_bytes(b"")
    # the load and the command it printed ran as processes; the rest through typer's runner
    refused = etl_here("load", "police-uk", str(bad), "--warehouse", wh)
    assert refused.returncode == 1
    assert "precompute" not in refused.stderr   # nothing loaded, no new version to store
    assert f"{bad}: empty file (0 bytes)" in refused.stderr.replace("\n", "")
    status = etl_here("status", "--json", "--warehouse", wh)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    [row] = info["sources"]
    assert (row["force_id"], row["months"], row["first_month"], row["last_month"]) == (
        "cheshire", 2, "2019-01", "2019-02")
    assert info["quarantined_rows"] > 0
    assert info["last_load"]["files_loaded"] == 2


def test_warehouse_from_environment(shared_data: Path, tmp_path: Path) -> None:
    import os

    f = shared_data / "police_uk_street" / "city_of_london_24m" / "2024-01-city-of-london-street.csv"
    env = {**os.environ, "LG_WAREHOUSE": str(tmp_path / "env.duckdb")}
    assert etl("load", "police-uk", str(f), env=env).returncode == 0
    assert (tmp_path / "env.duckdb").is_symlink()
