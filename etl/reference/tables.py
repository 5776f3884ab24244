"""The project's reference files, copied into every warehouse version as tables.

MSF groups, force characteristics and targets used to be read by the dashboard at request
time, outside the warehouse version that keys every cache: a changed file could be seen
half-way through a request and never invalidated a cached page. Now each load and each
`python -m etl rebuild` copies them into the version it builds, so a changed file takes
effect with the next version, atomically, like any data.

Tables hold the files' own columns as text (the dashboard checks and types them as before,
naming the file and line of a bad row) plus `line`, the row's line in the file; `ref_files`
keeps each file's comment header (its provenance statement) and a checksum.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from etl.errors import InputRefused

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ReferenceFile:
    table: str
    file: str                    # name inside the data directory
    columns: tuple[str, ...]     # required columns, in order; others kept too
    # The column a reader joins on, when each value must name one row: a repeated value is
    # refused with both lines, because a join would count a fact once per repeat (the place
    # queries join the weight tables directly). `fold`: compared upper-cased and trimmed, as
    # the join compares it.
    key: str | None = None
    fold: bool = False


REFERENCE_FILES: tuple[ReferenceFile, ...] = (
    ReferenceFile("ref_msf_groups", "msf_groups.csv", ("force", "peer")),
    ReferenceFile("ref_force_characteristics", "force_characteristics.csv",
                  ("force", "population", "area_km2", "officers_fte")),
    ReferenceFile("ref_targets", "targets.csv", ("unit", "measure", "period", "target", "note")),
    # The denominators of the stop-and-search rate ratios (2011 Census, ONS, OGL v3).
    ReferenceFile("ref_population_ethnicity", "reference/population_by_ethnicity_census2011.csv",
                  ("force_id", "all", "white", "black", "asian", "mixed", "other"), key="force_id"),
    # Crime harm: ONS Crime Severity Score weight per Home Office offence code, and the
    # approximate weight of a data.police.uk category (ONS, OGL v3; docs/harm-and-maps.md).
    ReferenceFile("ref_crime_severity", "reference/crime_severity_weights.csv",
                  ("code", "offence", "weight", "category"), key="code", fold=True),
    ReferenceFile("ref_crime_severity_category", "reference/crime_severity_category_weights.csv",
                  ("category", "weight", "codes", "min_weight", "max_weight", "basis"),
                  key="category"),
)
POPULATION_GROUPS = ("all", "white", "black", "asian", "mixed", "other")


def data_dir() -> Path:
    """Where the reference files live: `LG_DATA_DIR`, else `data/` in the repository."""
    env = os.environ.get("LG_DATA_DIR")
    return Path(env) if env else REPO / "data"


def _read(ref: ReferenceFile, path: Path) -> tuple[list[str], list[tuple], str, str]:
    """(header, rows with their line numbers, comment header, sha256) of one file."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputRefused(str(path), f"not UTF-8 text (byte offset {exc.start})") from None
    comments: list[str] = []
    header: list[str] | None = None
    rows: list[tuple] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if header is None:
                comments.append(line.lstrip()[1:].strip())
            continue
        fields = next(csv.reader(io.StringIO(line)))
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in ref.columns if c not in header and c != "note"]
            if missing:
                raise InputRefused(str(path), "missing column(s): " + ", ".join(missing), line_no)
            continue
        if len(fields) > len(header):
            raise InputRefused(
                str(path), f"{len(fields)} fields where the header has {len(header)}", line_no)
        fields += [""] * (len(header) - len(fields))
        rows.append((line_no, *fields))
    if header is None:
        raise InputRefused(str(path), "no header row")
    if ref.key is not None:
        _refuse_repeats(ref, path, header.index(ref.key), rows)
    return header, rows, "\n".join(comments), hashlib.sha256(raw).hexdigest()


def _refuse_repeats(ref: ReferenceFile, path: Path, column: int, rows: list[tuple]) -> None:
    """Refuse a file whose key column names one value on two rows (rows hold the line first)."""
    first: dict[str, int] = {}
    for line_no, *fields in rows:
        value = fields[column].strip().upper() if ref.fold else fields[column]
        if value in first:
            raise InputRefused(
                str(path), f"{ref.key} {fields[column]!r} is on line {first[value]} already; "
                "each must be on one line", line_no)
        first[value] = line_no


def _unchanged(con: duckdb.DuckDBPyConnection, directory: Path) -> bool:
    """Whether every ref_* table exists and was copied from files with the same checksums
    (and from the same files: none added or removed since)."""
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "ref_files" not in have or any(ref.table not in have for ref in REFERENCE_FILES):
        return False
    stored = dict(con.execute("SELECT name, sha256 FROM ref_files").fetchall())
    now = {ref.file: hashlib.sha256((directory / ref.file).read_bytes()).hexdigest()
           for ref in REFERENCE_FILES if (directory / ref.file).is_file()}
    return stored == now


def write_reference_tables(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> None:
    """(Re)create every ref_* table in the warehouse version being built. A missing file
    gives an empty table (no MSF groups, no targets); a malformed one refuses the load."""
    directory = directory or data_dir()
    if _unchanged(con, directory):
        return  # the version being built already holds exactly these files (most loads)
    con.execute("CREATE OR REPLACE TABLE ref_files (name VARCHAR PRIMARY KEY, origin VARCHAR, "
                "comments VARCHAR, sha256 VARCHAR)")
    for ref in REFERENCE_FILES:
        path = directory / ref.file
        if path.is_file():
            header, rows, comments, digest = _read(ref, path)
            con.execute("INSERT INTO ref_files VALUES (?, ?, ?, ?)",
                        [ref.file, str(path), comments, digest])
        else:
            header, rows = list(ref.columns), []
        columns = ["line", *header]
        defs = ", ".join(["line BIGINT", *(f'"{c}" VARCHAR' for c in header)])
        con.execute(f"CREATE OR REPLACE TABLE {ref.table} ({defs})")
        if rows:
            frame = pd.DataFrame(rows, columns=columns)
            con.register("_ref_rows", frame)
            con.execute(f"INSERT INTO {ref.table} SELECT * FROM _ref_rows")
            con.unregister("_ref_rows")
