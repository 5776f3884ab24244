"""What a new version's clean-up removes beside the warehouse (etl/lake/warehouse.py
`_remove_stale_temporaries`). DuckDB spills to a folder named after its database file plus
`.tmp`, so a web worker reading the live version may have `warehouse.vN.duckdb.tmp/`, which the
clean-up's pattern for a killed load's leftovers also matches: a load must neither fail on that
folder (it once did: IsADirectoryError) nor take it from under the reader, while a killed load's
own temporary file, its WAL and its spill folder still go."""

from __future__ import annotations

from pathlib import Path

from tests.support.warehouses import copy_warehouse, publish_new_version


def test_a_readers_spill_folder_stays_and_a_killed_loads_leftovers_go(demo_link: Path,
                                                                      tmp_path: Path) -> None:
    link = copy_warehouse(demo_link, tmp_path / "wh")
    live = link.resolve()
    spill = live.parent / f"{live.name}.tmp"             # a reader's spill folder, in use
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
    stale = live.parent / f"{link.stem}.v999998.duckdb.tmp"   # a killed load's version file
    stale.write_bytes(b"half a database")
    wal = live.parent / f"{stale.name}.wal"
    wal.write_bytes(b"its log")
    stale_spill = live.parent / f"{stale.name}.tmp"           # and its own spill folder
    stale_spill.mkdir()
    (stale_spill / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")

    published = publish_new_version(link)

    assert published != live and link.resolve() == published
    assert (spill / "duckdb_temp_storage-0.tmp").read_bytes() == b"spilled"
    assert not stale.exists() and not wal.exists() and not stale_spill.exists()
