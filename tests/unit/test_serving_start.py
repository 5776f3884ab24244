"""What a serving process does once at start-up instead of in its first requests (issue 11
item 3: cold single calls over 100 ms were first-call costs): the map's reference data and the
pack modules are loaded by `create_app`, and `serving_app` then freezes the start-up objects
out of the garbage collector (a full collection walking them cost the first large request
~0.2 s)."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

from dashboard.app import serving_app
from etl.reference import geo


def test_serving_app_loads_the_maps_and_packs_and_freezes_what_start_up_made(tmp_path: Path) -> None:
    # create_app opens nothing: a warehouse path that does not exist yet is enough here
    app = serving_app(tmp_path / "warehouse.duckdb")
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 100_000       # the modules and the reference data, not a handful
        read = geo._boundaries.cache_info().currsize
        assert read >= 1                                      # read already: the first map will not
        assert len(geo.boundaries()) > 7000                   # England and Wales's 7,201 MSOAs
        # and read once: the default folder and None are the same entry (they were two)
        assert geo.boundaries(None) is geo.boundaries() and geo.centroids() is geo.boundaries().centres
        assert geo._boundaries.cache_info().currsize == read
        assert "dashboard.packs.pdf" in sys.modules           # the Packs page imports nothing more
        assert app.server.test_client().get("/").status_code == 200
    finally:
        gc.unfreeze()   # the test process goes on: let what the app made be freed
