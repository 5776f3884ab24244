"""Exports on the real police.uk warehouse (9 forces x 5 months, no service data): the
scorecard's CSV answered a 500 on any warehouse that was not the full demo (issue 13)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from dashboard import exports
from dashboard.auth import current_actor
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import NAV  # noqa: F401 - registers every page's exports


def test_every_export_on_the_real_warehouse(real_link: Path) -> None:
    data = DataAccess(WarehouseReader(real_link))
    try:
        for search in ("?unit=cheshire", "?unit=cheshire&preset=month", "?unit=merseyside&preset=12m"):
            # (the audit log's export is an administrator's: refused here, tested in test_audit.py)
            for name in sorted(set(exports.EXPORTS) - {"data-audit"}):
                with data.request(current_actor()):
                    payload = exports.build(data, name, search)
                if payload is None:
                    continue  # an export with nothing to draw for this view
                rows = list(csv.reader(io.StringIO(payload["content"])))
                assert rows and rows[0], (name, search)
        with data.request(current_actor()):
            card = exports.build(data, "scorecard", "?unit=cheshire&preset=month")
        assert card is not None
        table = list(csv.DictReader(io.StringIO(card["content"])))
        assert {r["unit_id"] for r in table} == {"cheshire"}
        burglary = next(r for r in table if r["measure_id"] == "crime_burglary")
        assert float(burglary["numerator"]) > 0  # a real month of a real force
    finally:
        data.reader.close()
