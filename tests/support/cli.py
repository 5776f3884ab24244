"""`python -m etl` and `python -m dashboard` as a user runs them.

`etl` runs a separate process from the repository root. `dashboard` runs one when asked
(`process=True`: the entry point itself, its exit status and streams), else the same command
through typer's runner in this process: the same command code, without paying Python's start-up
and the command's imports (1-3 s a call) again for every call of a test about the command's
words. A test of a command keeps at least one call in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, NamedTuple

from tests.support import REPO


def etl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI. Rich wraps its messages at the terminal width (80 columns without a
    terminal) and so can break a long temporary path in two; a wide COLUMNS keeps each message
    on one line, whatever the length of the path the test happens to get."""
    env = {**(os.environ if env is None else env), "COLUMNS": "1000"}
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def etl_here(*args: str) -> Ran:
    """`python -m etl ARGS` through typer's runner in this process (the same command code as
    `etl`, without a new Python and the command's imports): for a test's further calls of a
    command whose own process it has already run once."""
    from rich.console import Console

    from etl import cli
    from etl.cli import app

    # as wide as `etl`'s COLUMNS=1000, so that no message is wrapped (see `dashboard` below)
    consoles = [v for v in vars(cli).values() if isinstance(v, Console)]
    return _invoke(app, consoles, 1000, args, None, {"COLUMNS": "1000"})


def _invoke(app: Any, consoles: list, columns: int, args: tuple[str, ...], stdin: str | None,
            env: dict[str, str | None]) -> Ran:
    """Typer's runner on `app`, the command modules' rich consoles as wide as `columns` while
    it runs (rich fixes a console's width when its module is imported) and put back after;
    an exception other than the command's own exit is the test's to see, not a status."""
    from typer.testing import CliRunner

    widths = [c._width for c in consoles]  # noqa: SLF001 - put back exactly as found
    for c in consoles:
        c.width = columns
    try:
        result = CliRunner().invoke(app, list(args), input=stdin, env=env)
    finally:
        for c, w in zip(consoles, widths, strict=True):
            c._width = w  # noqa: SLF001
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def _consoles() -> list:
    """Every rich Console of the dashboard's command modules (made when they are imported)."""
    from rich.console import Console

    from dashboard import cli
    from dashboard.store import audit_cli, signin_cli
    from dashboard.store import cli as store_cli

    return [v for m in (cli, store_cli, signin_cli, audit_cli) for v in vars(m).values()
            if isinstance(v, Console)]


def dashboard(*args: str, env: dict[str, str] | None = None, process: bool = False,
              stdin: str | None = None, columns: int = 1000) -> Ran:
    """`python -m dashboard ARGS` without the store URL of the test's environment (the store
    beside the warehouse is the one meant), with `stdin` as its standard input: in a new process
    when `process`, else through typer's runner in this one (see the module doc)."""
    from dashboard.store import db

    if process:
        base = {k: v for k, v in os.environ.items() if k != db.STORE_URL_ENV}
        done = subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO, capture_output=True,
                              text=True, env={**base, "COLUMNS": str(columns), **(env or {})},
                              input=stdin, timeout=120)
        return Ran(done.returncode, done.stdout, done.stderr)
    from dashboard.cli import app

    # as wide as the process's COLUMNS above, so that a table row is one line here too
    return _invoke(app, _consoles(), columns, args, stdin,
                   {db.STORE_URL_ENV: None, "COLUMNS": str(columns), **(env or {})})
