"""`python -m etl` as a user runs it: usage errors exit 2. Loads of real files and `status --json`
are in tests/realdata/test_cli.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import etl


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert etl("load", "police-uk").returncode == 2
    assert etl("no-such-command").returncode == 2
    assert etl("status", "--warehouse", str(tmp_path / "none.duckdb")).returncode == 2
