"""`python -m etl` as a user runs it: a separate process, from the repository root."""

from __future__ import annotations

import subprocess
import sys

from tests.support import REPO


def etl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=REPO, capture_output=True,
                          text=True, env=env, timeout=300)
