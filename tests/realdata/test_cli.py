"""`python -m etl` as a user runs it on real police.uk files: exit codes and `status --json`
(usage errors are in tests/integration/test_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import etl


def test_load_status_and_exit_codes(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "police_uk_street" / "geoinformation_in_society"
    wh = str(tmp_path / "w.duckdb")
    ok = etl("load", "police-uk", str(folder / "2019-01" / "2019-01-cheshire-street.csv"),
             str(folder / "2019-02" / "2019-02-cheshire-street.csv"), "--warehouse", wh)
    assert ok.returncode == 0, ok.stderr
    assert "loaded" in ok.stderr
    bad = tmp_path / "2019-03-cheshire-street.csv"
    bad.write_bytes(b"")
    refused = etl("load", "police-uk", str(bad), "--warehouse", wh)
    assert refused.returncode == 1
    assert f"{bad}: empty file (0 bytes)" in refused.stderr.replace("\n", "")
    status = etl("status", "--json", "--warehouse", wh)
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
