"""`python -m etl` as a user runs it: a separate process, from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support import REPO


def etl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI. Rich wraps its messages at the terminal width (80 columns without a
    terminal) and so can break a long temporary path in two; a wide COLUMNS keeps each message
    on one line, whatever the length of the path the test happens to get."""
    env = {**(os.environ if env is None else env), "COLUMNS": "1000"}
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)
