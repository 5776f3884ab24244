"""Reads of the reference tables: ref_msf_groups, ref_force_characteristics, ref_targets and
ref_files (each file's origin and comment header).

Every load and rebuild copies data/msf_groups.csv, force_characteristics.csv and targets.csv
into the warehouse version it builds (etl/reference/tables.py), so the dashboard reads them
under the same version key as every number: a changed file takes effect with the next
version, never half-way through a request. The tables keep the files' own columns as text
plus `line`; the analysis modules check and type them, naming the file and line of a bad row.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data.queries import Cursor, pick

# file name -> table. The only identifiers a caller chooses.
REFERENCE_TABLES: dict[str, str] = {
    "msf_groups.csv": "ref_msf_groups",
    "force_characteristics.csv": "ref_force_characteristics",
    "targets.csv": "ref_targets",
}


def reference_rows(cur: Cursor, file: str) -> pd.DataFrame:
    """The rows of one reference file as loaded: [line, <the file's columns>...], in file order."""
    table = pick("reference file", file, REFERENCE_TABLES)
    return cur.execute(f"SELECT * FROM {table} ORDER BY line").df()


def reference_file(cur: Cursor, file: str) -> tuple[str, str] | None:
    """(origin path, comment header) of a file the load found, or None if it had none."""
    pick("reference file", file, REFERENCE_TABLES)
    row = cur.execute("SELECT origin, comments FROM ref_files WHERE name = ?", [file]).fetchone()
    return None if row is None else (str(row[0] or ""), str(row[1] or ""))
