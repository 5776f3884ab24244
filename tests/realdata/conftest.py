"""The real data.police.uk street files (9 forces x 5 months) loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.lake.commit import LoadReport
from etl.lake.ingest import load_police_uk
from tests.conftest import build_once
from tests.support.warehouses import month_folders


@pytest.fixture(scope="session")
def real_load(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LoadReport]:
    """The warehouse `load police-uk` builds from the month folders as downloaded, and its report.
    Read only: a test that loads into it again works on a copy (copy_warehouse)."""
    def load(folder: Path) -> tuple[Path, LoadReport]:
        link = folder / "warehouse.duckdb"
        return link, load_police_uk(link, month_folders(shared_data))

    return build_once(tmp_path_factory, "real-police-uk", load)


@pytest.fixture(scope="session")
def real_link(real_load: tuple[Path, LoadReport]) -> Path:
    return real_load[0]
