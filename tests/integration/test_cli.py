"""`python -m etl` as a user runs it: usage errors exit 2. Loads of real files and `status --json`
are in tests/realdata/test_cli.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import etl, etl_here


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert etl("load", "police-uk").returncode == 2   # the entry point, in a process of its own
    # the same command code through typer's runner here (no new Python and imports per call)
    assert etl_here("no-such-command").returncode == 2
    assert etl_here("status", "--warehouse", str(tmp_path / "none.duckdb")).returncode == 2


def test_demo_prints_its_progress(tmp_path: Path) -> None:
    """Without a terminal (a log, CI) the rich bars are off, so `etl demo` says each stage as it
    finishes, with its time (issue 11): a long build is never silent."""
    done = etl("demo", "--years", "1", "--warehouse", str(tmp_path / "warehouse.duckdb"))
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    stages = [line.split(": done in ")[0] for line in lines if ": done in " in line]
    for stage in ("Generating synthetic data", "Staging", "Writing crime partitions",
                  "Writing force_month partitions", "Syncing lake files", "Building warehouse"):
        assert stage in stages, lines
    # in the order they ran, each once, and before the report
    assert stages.index("Generating synthetic data") < stages.index("Writing crime partitions") \
        < stages.index("Building warehouse")
    assert len(stages) == len(set(stages))
    assert any("warehouse switched" in line for line in lines[lines.index(next(
        line for line in lines if line.startswith("Building warehouse: done in"))):])
