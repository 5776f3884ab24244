"""The Calls page's demand by weekday and hour of a preset period, kept beside the warehouse
version (`DataAccess.precompute_calls`, called by `python -m dashboard precompute`): a cold
worker reads it with the calls lake made unreadable, equal to counts made here with pyarrow and
pandas from the lake's call records (not the project's query); a custom range is computed and
not stored. Works on a private copy of the session's demo (the store writes beside it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dashboard.data.access import ANONYMOUS
from dashboard.data.facade import DataAccess
from dashboard.data.queries import facts
from dashboard.data.warehouse import WarehouseReader
from etl.lake.warehouse import WarehousePaths
from tests.support.warehouses import copy_warehouse

FORCE = "cheshire"


@pytest.fixture(scope="module")
def stored(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    link = copy_warehouse(demo_link, tmp_path_factory.mktemp("stored-calls"))
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        done = data.precompute_calls([FORCE])
    data.reader.close()
    return link, done


def _expected(link: Path, npus: set[str] | None, start: date, end: date) -> pd.DataFrame:
    """Calls received per (ISO weekday, hour, channel) in [start, end], counted from the
    force's call files with pandas; `npus`: only the calls from these NPUs (None: the force)."""
    folder = WarehousePaths(link).lake / "calls"
    frames = [pq.read_table(f, columns=["received", "channel", "npu_id"]).to_pandas()
              for f in sorted(folder.rglob("*.parquet")) if f"force_id={FORCE}" in str(f)]
    calls = pd.concat(frames)
    day = calls["received"].dt.date
    calls = calls[(day >= start) & (day <= end)]
    if npus is not None:
        calls = calls[calls["npu_id"].isin(npus)]
    out = (calls.assign(weekday=calls["received"].dt.isocalendar().day.astype("int64"),
                        hour=calls["received"].dt.hour.astype("int64"))
           .groupby(["weekday", "hour", "channel"]).size().rename("calls").reset_index())
    return out.sort_values(["weekday", "hour", "channel"]).reset_index(drop=True)


def _as_plain(frame: pd.DataFrame) -> list[tuple]:
    return [(int(w), int(h), str(c), int(n)) for w, h, c, n in
            frame[["weekday", "hour", "channel", "calls"]].itertuples(index=False, name=None)]


def test_every_unit_and_preset_is_stored_and_read_cold_without_the_lake(
        stored: tuple[Path, int], monkeypatch: pytest.MonkeyPatch) -> None:
    link, done = stored
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        units = [u for lv in ("force", "bcu", "npu") for u in data.units_at(FORCE, lv)]
        periods = sorted(data.preset_periods(FORCE))
        assert done == len(units) * len(periods) > 0
        bcu = next(u for u in units if u.level == "bcu")
        npus = {u.unit_id for u in data.children(bcu.unit_id)}
        start, end = periods[0]
        # a cold worker: the calls lake cannot be listed, so only the store can answer
        monkeypatch.setattr(facts, "lake_files", lambda *a, **k: (_ for _ in ()).throw(
            AssertionError("read the lake, not the store")))
        for unit, only in ((units[0], None), (bcu, npus)):
            got = data.call_demand(unit.unit_id, start, end)
            assert _as_plain(got) == _as_plain(_expected(link, only, start, end))
            assert int(got["calls"].sum()) > 0
    data.reader.close()


def test_a_custom_range_is_computed_and_not_stored(stored: tuple[Path, int]) -> None:
    link, _ = stored
    data = DataAccess(WarehouseReader(link))
    with data.request(ANONYMOUS):
        start, end = date(2007, 3, 5), date(2007, 3, 18)   # two weeks: no preset period
        assert (start, end) not in data.preset_periods(FORCE)
        got = data.call_demand(FORCE, start, end)
        assert _as_plain(got) == _as_plain(_expected(link, None, start, end))
        assert data.stored("calls.demand", (FORCE, start, end)) is None
    data.reader.close()
