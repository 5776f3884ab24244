"""Helpers shared by every test tier (not test modules). Import as `from tests.support... import`.

`tests/` and each tier folder are packages, so pytest puts the repository root on sys.path and
`pytest tests/unit`, `pytest tests/browser/test_x.py` and a bare `pytest` all import these the same way.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
