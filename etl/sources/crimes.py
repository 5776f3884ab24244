"""A force's own crime extract (one row per recorded crime) -> clean staging tables.

Two ways in, one set of rules: a CSV file (docs/input-formats.md, "Force crime extract") or
a SQL query run through SQLAlchemy against the force's own database. Both become one raw
all-VARCHAR table, and every check then runs once, in DuckDB, over that table. The extract is
all-or-nothing: any bad row refuses the whole input, naming the first bad line, because a
partly loaded month would publish wrong counts that look right.

CSV files are read with DuckDB's `read_csv` (explicit VARCHAR columns, no sniffing, strict
mode), which parses in parallel; Python does only what needs no parsing (size, UTF-8,
header) and, on the error path or for files with multi-line values or blank lines, maps
DuckDB's record numbers back to physical line numbers. About 3 s for 600,000 rows on two
cores, most of it in the checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from etl.demo.common import DemoContext
from etl.errors import InputRefused
from etl.measures.crime import ASB, CATEGORY_LABELS, CRIME_CATEGORIES, SANCTION_TYPES
from etl.reference import severity
from etl.reference.forces import FORCE_BY_SLUG
from etl.sources.base import Source
from etl.sources.csvscan import (
    as_text,
    first_row,
    quoted_value,
    read_query,
    read_strict,
    record_lines,
    scan_file,
)
from etl.sources.identity import EARLIEST_MONTH, column_force, month_window_text, next_month
from etl.sources.shapes import CRIME, CRIME_COLUMNS, CRIME_OPTIONAL_COLUMNS, UNIT_COLUMNS, select_list
from etl.units import slugify

REQUIRED_COLUMNS: tuple[str, ...] = (
    "crime_ref", "recorded_date", "offence_group", "force", "bcu", "npu",
)
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "beat", "team", "officer", "detection_type", "detection_date",
    "longitude", "latitude", "lsoa_code", "offence_code",
)
COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

CRIME_TABLE = "stg_force_crime"
UNIT_TABLE = "stg_force_unit"
UNIT_NOTE = "from force crime extract"

# Words forces use for a sanction detection -> etl.measures.SANCTION_TYPES key. Keys are
# compared after _normal_word(): lower case, runs of space/'_'/'-'/'/' as one space.
DETECTION_WORDS: dict[str, str] = {
    **{key: key for key in SANCTION_TYPES},
    **{label: key for key, label in SANCTION_TYPES.items()},
    "charge": "charge_summons",
    "charged": "charge_summons",
    "summons": "charge_summons",
    "summonsed": "charge_summons",
    "charge summons": "charge_summons",
    "charge or summons": "charge_summons",
    "charge and summons": "charge_summons",
    "cautioned": "caution",
    "conditional caution": "caution",
    "pnd": "penalty_notice",
    "penalty notice": "penalty_notice",
    "cannabis warning": "cannabis_warning",
    "drugs warning": "cannabis_warning",
    "drugs possession warning": "cannabis_warning",
    "taken into consideration": "tic",
    "offence taken into consideration": "tic",
}

_CHUNK = 1 << 23
_CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")



def _normal_word(text: str) -> str:
    """Python twin of the SQL normalisation applied to detection_type values."""
    return re.sub(r"[\s_\-/]+", " ", text.strip().lower()).strip()


_DETECTIONS = {_normal_word(k): v for k, v in DETECTION_WORDS.items()}
_DETECTION_SQL = r"trim(regexp_replace(lower(trim({col})), '[\s_\-/]+', ' ', 'g'))"


@dataclass
class Parsed:
    """What a parse leaves behind: the two staging tables, and what to tell the user."""

    file: str                 # the `_file` value in the crime table
    origin: str               # what messages and the load log name (never a password)
    rows: int
    crime_table: str = CRIME_TABLE
    unit_table: str = UNIT_TABLE
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- CSV files




def _check_columns(header: list[str], origin: str, line: int | None) -> tuple[list[str], list[str]]:
    """Header -> (column names for the reader, notes). Names match without regard to case or
    surrounding spaces; unknown columns are read and ignored, and named in a note."""
    names = [h.strip().lower() or f"_column_{i + 1}" for i, h in enumerate(header)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputRefused(
            origin, "column(s) named more than once: " + ", ".join(repr(n) for n in repeated), line)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        hint = ""
        if len(header) == 1 and any(sep in header[0] for sep in (";", "\t", "|")):
            hint = " (the file does not look comma-separated)"
        raise InputRefused(
            origin,
            "missing required column(s): " + ", ".join(repr(c) for c in missing) + hint
            + ". Required: " + ", ".join(REQUIRED_COLUMNS),
            line,
        )
    extra = [h for h, n in zip(header, names, strict=True) if n not in COLUMNS]
    notes = []
    if extra:
        notes.append(f"{origin}: column(s) not part of the extract format, ignored: "
                     + ", ".join(repr(h) for h in extra))
    return names, notes




def parse_file(con: duckdb.DuckDBPyConnection, path: Path, origin: str | None = None) -> Parsed:
    """Read one CSV extract into the staging tables. Raises InputRefused."""
    origin = origin or str(path)
    if not path.exists():
        hint = " (a database URL needs --query)" if "://" in origin else ""
        raise InputRefused(origin, "no such file" + hint)
    if not path.is_file():
        raise InputRefused(origin, "not a file")
    scan = scan_file(path, origin)
    names, notes = _check_columns(scan.header, origin, 1)
    rows = read_strict(con, "_crimes_raw", path, origin, names, COLUMNS)
    if rows == 0:
        raise InputRefused(origin, "no data rows: the file holds a header only")
    if scan.lines == rows + 1 and not scan.blank:
        con.execute("UPDATE _crimes_raw SET _line = _rn + 1")
    else:  # multi-line quoted fields or blank lines: number rows by their physical line
        lines = [start for start, blank in record_lines(path)[1:] if not blank]
        if len(lines) != rows:  # cannot happen unless the two readers disagree: stay usable
            lines = [r + 1 for r in range(1, rows + 1)]
        frame = pd.DataFrame({"_rn": range(1, rows + 1), "_line": lines})
        con.register("_line_map", frame)
        con.execute("UPDATE _crimes_raw r SET _line = m._line FROM _line_map m WHERE r._rn = m._rn")
        con.unregister("_line_map")
    rows = _stage(con, str(path), origin)
    return Parsed(file=str(path), origin=origin, rows=rows, notes=notes + offence_code_notes(con, origin))


# --------------------------------------------------------------------------- SQL queries






def parse_query(con: duckdb.DuckDBPyConnection, url: str, query: str) -> Parsed:
    """Run `query` against the SQLAlchemy `url` and stage its rows like a CSV extract's.
    Row n of the result is reported as line n + 1, as if it were a file with a header."""
    origin, frame = read_query(url, query)
    names, notes = _check_columns([str(c) for c in frame.columns], origin, None)
    if frame.empty:
        raise InputRefused(origin, "the query returned no rows")
    frame.columns = names
    rows = len(frame)
    raw = pd.DataFrame({c: as_text(frame[c]) if c in names else [None] * rows for c in COLUMNS},
                       dtype=object)
    raw["_rn"] = range(1, rows + 1)
    raw["_line"] = raw["_rn"] + 1
    con.register("_query_rows", raw)
    cols = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _crimes_raw AS SELECT {cols}, "
                "CAST(_rn AS BIGINT) AS _rn, CAST(_line AS BIGINT) AS _line FROM _query_rows")
    con.unregister("_query_rows")
    rows = _stage(con, origin, origin)
    return Parsed(file=origin, origin=origin, rows=rows, notes=notes + offence_code_notes(con, origin))


# --------------------------------------------------------------------------- shared rules


def offence_code_notes(con: duckdb.DuckDBPyConnection, origin: str) -> list[str]:
    """What the load says about the optional offence_code column (crime harm): how many crimes
    carry a code the shipped ONS Crime Severity Score table knows, and which codes it does not
    know or that fall in another category than the row's offence_group. Such crimes are kept,
    weighted by their category's approximate weight; a code never refuses the file, because
    the Home Office adds codes more often than a weights table is updated."""
    known = {o.code.upper(): o.category for o in severity.offences()}
    rows = con.execute(
        f"SELECT offence_code, category, count(*), min(line) FROM {CRIME_TABLE} "
        "WHERE offence_code IS NOT NULL GROUP BY ALL ORDER BY min(line)").fetchall()
    if not rows:
        return []
    total = sum(r[2] for r in rows)
    unknown = [r for r in rows if r[0] not in known]
    other = [r for r in rows if r[0] in known and known[r[0]] != r[1]]
    notes = [f"{origin}: {total - sum(r[2] for r in unknown)} crime(s) carry a Home Office "
             "offence_code with an ONS Crime Severity Score weight: their harm is exact"]
    if unknown:
        shown = ", ".join(f"'{r[0]}' (line {r[3]})" for r in unknown[:5])
        notes.append(f"{origin}: {sum(r[2] for r in unknown)} crime(s) carry an offence_code the "
                     f"weights table does not know: {shown}{' ...' if len(unknown) > 5 else ''}; "
                     "weighted by their category's approximate weight")
    if other:
        shown = ", ".join(f"'{r[0]}' with {r[1]} (line {r[3]})" for r in other[:5])
        notes.append(f"{origin}: {sum(r[2] for r in other)} crime(s) carry an offence_code of "
                     f"another category than their offence_group: {shown}; weighted by the code")
    return notes


def _lookups(con: duckdb.DuckDBPyConnection) -> None:
    offences: dict[str, str] = {}
    for name, cid in CRIME_CATEGORIES.items():
        offences[name.lower()] = cid
    for cid in CATEGORY_LABELS:
        offences[cid.lower()] = cid
    con.execute("CREATE OR REPLACE TEMP TABLE _offence (key VARCHAR, id VARCHAR)")
    con.executemany("INSERT INTO _offence VALUES (?, ?)", sorted(offences.items()))
    con.execute("CREATE OR REPLACE TEMP TABLE _detection (key VARCHAR, type VARCHAR, label VARCHAR)")
    con.executemany("INSERT INTO _detection VALUES (?, ?, ?)",
                    [(k, v, SANCTION_TYPES[v]) for k, v in sorted(_DETECTIONS.items())])


def _names(con: duckdb.DuckDBPyConnection) -> None:
    """Force slugs and unit slugs, computed in Python over distinct values only (a few
    hundred), so that ids match etl.units.slugify exactly."""

    forces = [r[0] for r in con.execute(
        "SELECT DISTINCT trim(force) FROM _crimes_raw WHERE NULLIF(trim(force), '') IS NOT NULL"
    ).fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _forces (raw VARCHAR, force_id VARCHAR)")
    if forces:  # (executemany refuses an empty list; a file of blank forces is refused below)
        con.executemany("INSERT INTO _forces VALUES (?, ?)", [(f, column_force(f)) for f in forces])
    names = [r[0] for r in con.execute(
        """SELECT DISTINCT v FROM (
            SELECT trim(bcu) AS v FROM _crimes_raw UNION ALL SELECT trim(npu) FROM _crimes_raw
            UNION ALL SELECT trim(team) FROM _crimes_raw
            UNION ALL SELECT trim(officer) FROM _crimes_raw) WHERE NULLIF(v, '') IS NOT NULL"""
    ).fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _slugs (name VARCHAR, slug VARCHAR)")
    if names:
        con.executemany("INSERT INTO _slugs VALUES (?, ?)", [(n, slugify(n)) for n in names])


def _date_sql(col: str) -> str:
    v = f"trim({col})"
    return (f"CASE WHEN regexp_full_match({v}, '\\d{{4}}-\\d{{2}}-\\d{{2}}') "
            f"THEN TRY_CAST({v} AS DATE) END")



def _problems_sql() -> str:
    keys = ", ".join(SANCTION_TYPES)
    checks = [
        ("t.crime_ref IS NULL", "'blank crime_ref (required)'"),
        ("t.recorded_raw IS NULL", "'blank recorded_date (required)'"),
        ("t.recorded IS NULL",
         f"'unparsable recorded_date ' || {quoted_value('t.recorded_raw')} || ' (expected YYYY-MM-DD)'"),
        ("t.offence_raw IS NULL", "'blank offence_group (required)'"),
        (f"t.category = '{ASB}'",
         f"'offence_group ' || {quoted_value('t.offence_raw')} || ' is anti-social behaviour: ASB "
         "incidents are not crimes and do not belong in a crime extract'"),
        ("t.category IS NULL",
         f"'unknown offence_group ' || {quoted_value('t.offence_raw')} || ' (expected a data.police.uk "
         "crime type such as ''Burglary'', or its id such as ''burglary'')'"),
        ("t.force_raw IS NULL", "'blank force (required)'"),
        ("t.force_id IS NULL",
         f"'force ' || {quoted_value('t.force_raw')} || ' is not one of the {len(FORCE_BY_SLUG)} forces of "
         "England and Wales (a data.police.uk slug such as ''cheshire'', or the force''s name)'"),
        (f"t.recorded < DATE '{EARLIEST_MONTH}' OR t.recorded >= DATE '{next_month()}'",
         f"'recorded_date ' || CAST(t.recorded AS VARCHAR) || ' is outside the months that can be "
         f"loaded ({month_window_text()})'"),
        ("t.bcu IS NULL", "'blank bcu (required)'"),
        ("t.npu IS NULL", "'blank npu (required)'"),
        ("t.detection_raw IS NOT NULL AND t.detection_type IS NULL",
         f"'unknown detection_type ' || {quoted_value('t.detection_raw')} || ' (expected blank or one "
         f"of: {keys})'"),
        ("t.detection_date_raw IS NOT NULL AND t.detection_date IS NULL",
         f"'unparsable detection_date ' || {quoted_value('t.detection_date_raw')} || "
         "' (expected YYYY-MM-DD or blank)'"),
        ("t.detection_date < t.recorded",
         "'detection_date ' || CAST(t.detection_date AS VARCHAR) || ' is before recorded_date ' "
         "|| CAST(t.recorded AS VARCHAR)"),
        ("t.longitude_raw IS NOT NULL AND (t.longitude IS NULL OR NOT isfinite(t.longitude) "
         "OR t.longitude NOT BETWEEN -180 AND 180)",
         f"'longitude ' || {quoted_value('t.longitude_raw')} || ' is not a decimal between -180 and 180'"),
        ("t.latitude_raw IS NOT NULL AND (t.latitude IS NULL OR NOT isfinite(t.latitude) "
         "OR t.latitude NOT BETWEEN -90 AND 90)",
         f"'latitude ' || {quoted_value('t.latitude_raw')} || ' is not a decimal between -90 and 90'"),
        ("(t.longitude_raw IS NULL) <> (t.latitude_raw IS NULL)",
         "'longitude and latitude must both be given or both be blank'"),
        ("d.first_line IS NOT NULL",
         f"'crime_ref ' || {quoted_value('t.crime_ref')} || ' repeats line ' || "
         "CAST(d.first_line AS VARCHAR) || ' (crime_ref must be unique within a force)'"),
    ]
    cases = "\n".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks)
    return f"""
        WITH d AS (
            SELECT force_id, crime_ref, min(_rn) AS first_rn, arg_min(_line, _rn) AS first_line
            FROM _crimes_typed WHERE crime_ref IS NOT NULL AND force_id IS NOT NULL
            GROUP BY ALL HAVING count(*) > 1)
        SELECT line, problem FROM (
            SELECT t._rn, t._line AS line, CASE {cases} END AS problem
            FROM _crimes_typed t LEFT JOIN d ON d.force_id = t.force_id
                 AND d.crime_ref = t.crime_ref AND t._rn > d.first_rn)
        WHERE problem IS NOT NULL ORDER BY _rn LIMIT 1"""


def _stage(con: duckdb.DuckDBPyConnection, file: str, origin: str) -> int:
    """`_crimes_raw` (all VARCHAR, `_rn`, `_line`) -> checked CRIME_TABLE and UNIT_TABLE.
    Raises InputRefused naming the first bad line; returns the number of crimes."""
    _lookups(con)
    _names(con)
    # One pass: typed values, lookups, and unit ids. Ids are slug paths (etl.units):
    # force/bcu/npu[/team]; an officer sits under the team, or straight under the NPU when
    # the row names no team. A row with a blank bcu/npu gets NULL ids and is refused below.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _crimes_typed AS
        WITH t AS (
            SELECT r._rn, r._line,
                NULLIF(trim(r.crime_ref), '') AS crime_ref,
                NULLIF(trim(r.recorded_date), '') AS recorded_raw,
                {_date_sql('r.recorded_date')} AS recorded,
                NULLIF(trim(r.offence_group), '') AS offence_raw, o.id AS category,
                NULLIF(trim(r.force), '') AS force_raw, f.force_id,
                NULLIF(trim(r.bcu), '') AS bcu, NULLIF(trim(r.npu), '') AS npu,
                NULLIF(trim(r.team), '') AS team, NULLIF(trim(r.officer), '') AS officer,
                NULLIF(trim(r.detection_type), '') AS detection_raw,
                dt.type AS detection_type, dt.label AS detection_label,
                NULLIF(trim(r.detection_date), '') AS detection_date_raw,
                {_date_sql('r.detection_date')} AS detection_date,
                NULLIF(trim(r.longitude), '') AS longitude_raw,
                TRY_CAST(NULLIF(trim(r.longitude), '') AS DOUBLE) AS longitude,
                NULLIF(trim(r.latitude), '') AS latitude_raw,
                TRY_CAST(NULLIF(trim(r.latitude), '') AS DOUBLE) AS latitude,
                NULLIF(trim(r.lsoa_code), '') AS lsoa_code,
                upper(NULLIF(trim(r.offence_code), '')) AS offence_code
            FROM _crimes_raw r
            LEFT JOIN _offence o ON o.key = lower(trim(r.offence_group))
            LEFT JOIN _detection dt ON dt.key = {_DETECTION_SQL.format(col='r.detection_type')}
            LEFT JOIN _forces f ON f.raw = trim(r.force)),
        b AS (
            SELECT t.*, t.force_id || '/' || sb.slug AS bcu_id,
                   t.force_id || '/' || sb.slug || '/' || sn.slug AS npu_id,
                   st.slug AS team_slug, so.slug AS officer_slug
            FROM t
            LEFT JOIN _slugs sb ON sb.name = t.bcu LEFT JOIN _slugs sn ON sn.name = t.npu
            LEFT JOIN _slugs st ON st.name = t.team LEFT JOIN _slugs so ON so.name = t.officer),
        u AS (SELECT *, npu_id || '/' || team_slug AS team_id FROM b)
        SELECT * EXCLUDE (team_slug, officer_slug),
               coalesce(team_id, npu_id) || '/' || officer_slug AS officer_id
        FROM u"""
    )
    bad = first_row(con, _problems_sql())
    if bad:
        raise InputRefused(origin, bad[1], int(bad[0]))
    clash = first_row(
        con,
        """SELECT _line, officer_id FROM _crimes_typed
        WHERE officer_id IN (SELECT team_id FROM _crimes_typed WHERE team_id IS NOT NULL)
        ORDER BY _rn LIMIT 1""",
    )
    if clash:
        raise InputRefused(
            origin, f"officer id '{clash[1]}' is also a team's id: give the officer's team, "
            "or name the officer differently from the NPU's teams", int(clash[0]))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {CRIME_TABLE} AS
        SELECT {select_list(CRIME_COLUMNS, CRIME_OPTIONAL_COLUMNS, set(CRIME_OPTIONAL_COLUMNS))},
               CAST(? AS VARCHAR) AS _file FROM (
            SELECT force_id, CAST(date_trunc('month', recorded) AS DATE) AS month,
                   crime_ref AS crime_id, recorded AS date, category, FALSE AS is_asb,
                   lsoa_code, NULL AS lsoa_name, longitude, latitude, NULL AS location,
                   detection_label AS outcome, detection_type IS NOT NULL AS sanction,
                   detection_type, detection_date, npu_id, team_id, officer_id,
                   _line AS line, _rn, offence_code
            FROM _crimes_typed) ORDER BY _rn""",
        [file],
    )
    _stage_units(con)
    return first_row(con, f"SELECT count(*) FROM {CRIME_TABLE}")[0]


def _stage_units(con: duckdb.DuckDBPyConnection) -> None:
    """Every unit the extract names, with its parent; display names as first written."""

    forces = [r[0] for r in con.execute("SELECT DISTINCT force_id FROM _crimes_typed").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _force_units (force_id VARCHAR, name VARCHAR, "
                "population BIGINT, note VARCHAR)")
    con.executemany("INSERT INTO _force_units VALUES (?, ?, ?, ?)", [
        (f, FORCE_BY_SLUG[f].name, FORCE_BY_SLUG[f].population,
         UNIT_NOTE + "; population: approximate reference figure")
        if f in FORCE_BY_SLUG else (f, f, None, UNIT_NOTE)
        for f in forces
    ])
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {UNIT_TABLE} AS
        SELECT {select_list(UNIT_COLUMNS)} FROM (
            SELECT force_id AS unit_id, 'force' AS level, NULL AS parent_id, force_id, name,
                   population, note FROM _force_units
            UNION ALL
            SELECT bcu_id, 'bcu', force_id, force_id, arg_min(bcu, _rn), NULL, ? FROM _crimes_typed
            GROUP BY ALL
            UNION ALL
            SELECT npu_id, 'npu', bcu_id, force_id, arg_min(npu, _rn), NULL, ? FROM _crimes_typed
            GROUP BY ALL
            UNION ALL
            SELECT team_id, 'team', npu_id, force_id, arg_min(team, _rn), NULL, ? FROM _crimes_typed
            WHERE team_id IS NOT NULL GROUP BY ALL
            UNION ALL
            SELECT officer_id, 'officer', coalesce(team_id, npu_id), force_id,
                   arg_min(officer, _rn), NULL, ? FROM _crimes_typed
            WHERE officer_id IS NOT NULL GROUP BY ALL
        ) u CROSS JOIN (SELECT NULL AS households, NULL AS area_km2, FALSE AS synthetic,
                               NULL AS valid_from, NULL AS valid_to) k
        ORDER BY CASE level WHEN 'force' THEN 1 WHEN 'bcu' THEN 2 WHEN 'npu' THEN 3
                 WHEN 'team' THEN 4 ELSE 5 END, unit_id""",
        [UNIT_NOTE] * 4,
    )


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    """The demo force's recorded crimes (generated with its units in etl/demo/force.py)."""
    return {"crime": ctx.crimes}


SOURCE = Source(
    name="crimes",
    summary="Load a force's own crime extract: a CSV file, or a SQLAlchemy URL with --query.",
    datasets=(CRIME,),
    cli="extract",
    demo=demo,
)
