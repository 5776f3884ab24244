"""data.police.uk stop-and-search CSVs (`YYYY-MM-<force>-stop-and-search.csv`): parse,
validate and stage; the stop-and-search measures; a synthetic demo in the same shape.

Why a module of its own: the third data.police.uk file type has nothing in common with the
street and outcomes files beyond the download (no Crime ID, no LSOA, a timestamp rather than
a month, people's age, gender and ethnicity), so it gets its own dataset (`stop_search`,
shaped as COLUMNS) and its own measures. It reuses the street reader's batch machinery
(etl/sources/police_uk/reader.py: one DuckDB `read_csv` over every file, a file DuckDB cannot parse
refused and the scan retried without it) and follows its rule: a file with any bad row is
refused whole, naming the file and the first bad line, and the other files still load. A
partly loaded month would publish a search count that looks right and is not.

Times. `Date` is published as an ISO timestamp with an offset (`2019-01-03T10:15:00+00:00`).
`searched_at` keeps the clock time as written and drops the offset, and the month check uses
that clock time: converting to UTC would move a search at 00:30 on 1 July BST (+01:00) into
June and refuse a correct July file.

Ethnic group. `ethnic_group` is one of the census's five groups (White, Black, Asian, Mixed,
Other) or NULL, from the self-defined ethnicity first and the officer-defined one where the
person did not define their own; see `ETHNIC_GROUP_SQL` for the rule and where it comes from.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.demo.common import DemoContext
from etl.errors import InputRefused
from etl.measures.model import Measure
from etl.sources.csvscan import quoted_value, record_lines, scan_file
from etl.sources.police_uk.reader import (
    OUTCOME_HEADER,
    STREET_HEADER,
    InputFile,
    ParseResult,
    header_problem,
    read_batch,
)
from etl.sources.tabular import sql_text

HEADER: list[str] = [
    "Type", "Date", "Part of a policing operation", "Policing operation", "Latitude",
    "Longitude", "Gender", "Age range", "Self-defined ethnicity", "Officer-defined ethnicity",
    "Legislation", "Object of search", "Outcome", "Outcome linked to object of search",
    "Removal of more than just outer clothing",
]
FILE_SUFFIX = "stop-and-search"
DATASET = "stop_search"
STAGED_TABLE = "stg_stop_search"

# The clean staging shape: one row per search, any force, any month.
COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",                  # data.police.uk slug from the file name
    "month": "DATE",                        # first day of the file name's month
    "searched_at": "TIMESTAMP",             # 'Date', clock time as published (offset dropped)
    "date": "DATE",                         # the day of searched_at
    "type": "VARCHAR",                      # one of TYPES
    "part_of_operation": "BOOLEAN",         # NULL = not recorded
    "operation": "VARCHAR",
    "latitude": "DOUBLE",                   # anonymised to a nearby map point by data.police.uk
    "longitude": "DOUBLE",
    "gender": "VARCHAR",
    "age_range": "VARCHAR",
    "self_defined_ethnicity": "VARCHAR",    # 2011 census 18+1 wording, as published
    "officer_defined_ethnicity": "VARCHAR", # one of OFFICER_DEFINED, or NULL
    "ethnic_group": "VARCHAR",              # derived: one of ETHNIC_GROUPS, or NULL
    "legislation": "VARCHAR",
    "object_of_search": "VARCHAR",
    "outcome": "VARCHAR",
    "arrest": "BOOLEAN",                    # outcome is an arrest; NULL when no outcome is given
    "outcome_linked": "BOOLEAN",            # 'Outcome linked to object of search'
    "removal_outer": "BOOLEAN",             # 'Removal of more than just outer clothing'
    "line": "BIGINT",                       # physical line in the source file (header = 1)
}

TYPES = ("Person search", "Person and Vehicle search", "Vehicle search")
OFFICER_DEFINED = ("White", "Black", "Asian", "Other", "Mixed")
ETHNIC_GROUPS = ("White", "Black", "Asian", "Mixed", "Other")
# 'Arrest' since 2015/16; 'Suspect arrested' in the older outcome wording.
ARREST_OUTCOMES = ("Arrest", "Suspect arrested")
BOOLEAN_COLUMNS = {
    "Part of a policing operation": "part_of_operation",
    "Outcome linked to object of search": "outcome_linked",
    "Removal of more than just outer clothing": "removal_outer",
}

# The 2011 census 18+1 self-defined categories as data.police.uk writes them -> the census's
# five top-level groups (the grouping of the population denominators in
# data/reference/population_by_ethnicity_census2011.csv, so numerator and denominator count
# the same people). 'Not stated' is no ethnic group: it falls back to officer-defined.
SELF_DEFINED_ETHNICITY: dict[str, str | None] = {
    "White - English/Welsh/Scottish/Northern Irish/British": "White",
    "White - Irish": "White",
    "White - Gypsy or Irish Traveller": "White",
    "White - Any other White background": "White",
    "Mixed/Multiple ethnic groups - White and Black Caribbean": "Mixed",
    "Mixed/Multiple ethnic groups - White and Black African": "Mixed",
    "Mixed/Multiple ethnic groups - White and Asian": "Mixed",
    "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": "Mixed",
    "Asian/Asian British - Indian": "Asian",
    "Asian/Asian British - Pakistani": "Asian",
    "Asian/Asian British - Bangladeshi": "Asian",
    "Asian/Asian British - Chinese": "Asian",
    "Asian/Asian British - Any other Asian background": "Asian",
    "Black/African/Caribbean/Black British - African": "Black",
    "Black/African/Caribbean/Black British - Caribbean": "Black",
    "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": "Black",
    "Other ethnic group - Arab": "Other",
    "Other ethnic group - Any other ethnic group": "Other",
    "Other ethnic group - Not stated": None,
}
# Other wordings (older files, e.g. 'Asian or Asian British - Indian') are grouped by the
# word they begin with; anything else counts as not self-defined.
_PREFIX_GROUPS = ("White", "Mixed", "Asian", "Black", "Other")


def _self_group_sql(col: str) -> str:
    whens = [f"WHEN {col} IN ({', '.join(sql_text(k) for k, v in SELF_DEFINED_ETHNICITY.items() if v == g)})"
             f" THEN '{g}'" for g in ETHNIC_GROUPS]
    not_stated = [k for k, v in SELF_DEFINED_ETHNICITY.items() if v is None]
    whens.insert(0, f"WHEN {col} IN ({', '.join(sql_text(k) for k in not_stated)}) THEN NULL")
    whens += [f"WHEN starts_with({col}, '{g}') THEN '{g}'" for g in _PREFIX_GROUPS]
    return "CASE " + " ".join(whens) + " END"


# ethnic_group from the trimmed self-defined (`sd`) and officer-defined (`od`) ethnicity.
#
# Self-defined first, officer-defined where there is none: this is ExtractSS's "combined"
# definition (BlackThrive/ExtractSS R/summarise_stops.R, ethnicity_definition = "combined":
# "use self-defined and where self-defined is missing will use officer-defined. This reduces
# the number of missing cases (by approximately 24%)"). Their data dictionary
# (../shared/data/stop_search_derived/blackthrive_data_dictionary.csv) describes both fields but
# does not say which one their published ratios used; their analysis scripts
# (R/analyse_records_2.R, R/analyse_ss_records.R) use the self-defined field alone, collapsed
# to five groups. We follow the "combined" rule, with two deliberate differences, both so
# that a search is grouped as the census groups the population it is divided by:
# - mixed White-and-Black people are Mixed (the census does that); ExtractSS's 2023-06 version
#   counted them as Black (its August 2023 version split them out as 'Mixed_Black');
# - 'Other ethnic group - Not stated' is no group and falls back to officer-defined
#   (ExtractSS counts it as Other); 'White - Gypsy or Irish Traveller' is White (ExtractSS's
#   August 2023 version moved it to Other).
# Only the counts matter for the comparison with their published ratios, which uses their
# counts (tests/realdata/test_stop_search_rate_ratio.py), so the differences do not affect it.
ETHNIC_GROUP_SQL = (
    f"coalesce({_self_group_sql('sd')}, "
    f"CASE WHEN od IN ({', '.join(sql_text(g) for g in OFFICER_DEFINED)}) THEN od END)"
)


def ethnic_group(self_defined: str | None, officer_defined: str | None) -> str | None:
    """Python twin of ETHNIC_GROUP_SQL (for the demo generator and the tests)."""
    sd = (self_defined or "").strip() or None
    od = (officer_defined or "").strip() or None
    if sd is not None:
        if sd in SELF_DEFINED_ETHNICITY:
            if SELF_DEFINED_ETHNICITY[sd] is not None:
                return SELF_DEFINED_ETHNICITY[sd]
        else:
            for g in _PREFIX_GROUPS:
                if sd.startswith(g):
                    return g
    return od if od in OFFICER_DEFINED else None


def file_name(force_id: str, month: date) -> str:
    """The data.police.uk name of a force's month file, e.g. 2019-01-cheshire-stop-and-search.csv."""
    return f"{month:%Y-%m}-{force_id}-{FILE_SUFFIX}.csv"


# --------------------------------------------------------------------------- parsing

_RAW = "_raw_ss"
_TYPED = "_ss_typed"
_NAMES = "_ss_names"
# ISO date and time; seconds, fraction and offset optional ('T' or a space between).
_DATE_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?"
_OFFSET_RE = r"(Z|[+-]\d{2}(:?\d{2})?)$"


def _precheck(item: InputFile) -> None:
    """What needs no CSV parsing, in one streaming pass (etl.sources.csvscan.scan_file): the
    file is not empty, is UTF-8 (a bad byte is named at its line), has no endless line, holds
    no more rows than the limit, and its first line is the stop-and-search header.
    Raises InputRefused."""
    header = scan_file(item.path, item.origin).header
    if header != HEADER:
        raise InputRefused(item.origin, _header_problem(header), 1)


def looks_like(path: Path) -> bool:
    """True when the file's first line is the stop-and-search header."""
    try:
        with open(path, "rb") as fh:
            first = fh.readline(1 << 16).decode("utf-8-sig", "replace")
    except OSError:
        return False
    return next(csv.reader([first.rstrip("\r\n")]), []) == HEADER


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    months = pd.date_range(ctx.start, ctx.end, freq="MS").date.tolist()
    return {DATASET: generate_demo(ctx.seed, months, population=int(
        ctx.units.loc[ctx.units["level"] == "force", "population"].iloc[0]))}


def _header_problem(header: list[str]) -> str:
    if header == STREET_HEADER or header == OUTCOME_HEADER:
        kind = "street" if header == STREET_HEADER else "outcomes"
        return f"this is a data.police.uk {kind} file, not a stop-and-search file"
    return header_problem(header, HEADER, "stop-and-search")


def _problems_sql() -> str:
    """One CASE over the typed rows: the first problem of each row, in words (NULL = good)."""
    types = ", ".join(sql_text(t) for t in TYPES)
    types_in_message = types.replace("'", "''")  # the list, quoted, inside a SQL string
    officer = ", ".join(sql_text(e) for e in OFFICER_DEFINED)
    checks = [
        ("t.date_raw IS NULL", "'blank Date (every search has a date and time)'"),
        ("t.searched_at IS NULL",
         f"'Date ' || {quoted_value('t.date_raw')} || ' is not an ISO date and time "
         "(expected e.g. 2019-01-03T10:15:00+00:00)'"),
        ("date_trunc('month', t.searched_at) <> n.month",
         f"'Date ' || {quoted_value('t.date_raw')} || ' is not in ' || strftime(n.month, '%Y-%m') || "
         "', the month in the file name'"),
        ("t.type IS NULL", f"'blank Type (expected one of {types_in_message})'"),
        (f"t.type NOT IN ({types})",
         f"'unknown Type ' || {quoted_value('t.type')} || ' (expected one of {types_in_message})'"),
    ]
    for col, raw, lo, hi in (("latitude", "lat_raw", -90, 90), ("longitude", "lon_raw", -180, 180)):
        checks.append((
            f"t.{raw} IS NOT NULL AND (t.{col} IS NULL OR NOT (t.{col} BETWEEN {lo} AND {hi}))",
            f"'{col.capitalize()} ' || {quoted_value('t.' + raw)} || ' is not a number between {lo} "
            f"and {hi}'"))
    checks.append(("(t.lat_raw IS NULL) <> (t.lon_raw IS NULL)",
                   "'Latitude and Longitude must both be given or both be blank'"))
    for i, name in enumerate(BOOLEAN_COLUMNS):
        checks.append((
            f"t.b{i}_raw IS NOT NULL AND lower(t.b{i}_raw) NOT IN ('true', 'false')",
            f"'{name} ' || {quoted_value(f't.b{i}_raw')} || ' is not True, False or blank'"))
    checks.append((
        f"t.od IS NOT NULL AND t.od NOT IN ({officer})",
        f"'unknown Officer-defined ethnicity ' || {quoted_value('t.od')} || ' (expected White, Black, "
        "Asian, Mixed, Other or blank)'"))
    cases = "\n".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks)
    return f"CASE {cases} END"


def _typed(con: duckdb.DuckDBPyConnection) -> None:
    """`_raw_ss` (VARCHAR as read) -> `_ss_typed`: trimmed text (NULL when blank), typed values,
    the file's force and month, and the row's index within its file."""
    def t(col: str) -> str:
        return f"NULLIF(trim(r.\"{col}\"), '')"

    bools = ", ".join(f"{t(name)} AS b{i}_raw" for i, name in enumerate(BOOLEAN_COLUMNS))
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_TYPED} AS
        WITH r AS (SELECT rowid AS _rn, * FROM {_RAW}),
        s AS (
            SELECT r._file, r._rn, r._rn - m.r0 AS _idx,
                   {t('Date')} AS date_raw, {t('Type')} AS type,
                   {t('Latitude')} AS lat_raw, {t('Longitude')} AS lon_raw,
                   {t('Policing operation')} AS operation, {t('Gender')} AS gender,
                   {t('Age range')} AS age_range, {t('Self-defined ethnicity')} AS sd,
                   {t('Officer-defined ethnicity')} AS od, {t('Legislation')} AS legislation,
                   {t('Object of search')} AS object_of_search, {t('Outcome')} AS outcome,
                   {bools}
            FROM r JOIN (SELECT _file, min(rowid) AS r0 FROM {_RAW} GROUP BY _file) m USING (_file))
        SELECT s.*,
               CASE WHEN regexp_full_match(date_raw, ?) THEN TRY_CAST(replace(
                   regexp_replace(date_raw, ?, ''), 'T', ' ') AS TIMESTAMP) END
                   AS searched_at,
               TRY_CAST(lat_raw AS DOUBLE) AS latitude, TRY_CAST(lon_raw AS DOUBLE) AS longitude
        FROM s""", [_DATE_RE, _OFFSET_RE]
    )


def _line_map(item: InputFile, rows: int) -> list[int] | None:
    """Physical line of each data row of a file, where it is not simply index + 2 (blank
    lines, which DuckDB skips, or quoted values spanning lines); None when it is."""
    scan = scan_file(item.path, item.origin)  # streaming: the file may be large
    if scan.lines == rows + 1 and not scan.blank:
        return None
    lines = [start for start, blank in record_lines(item.path)[1:] if not blank]
    return lines if len(lines) == rows else None


def _refuse_bad_files(con: duckdb.DuckDBPyConnection, items: list[InputFile],
                      refused: list[InputRefused]) -> list[InputFile]:
    """Refuse every file with a bad row, naming its first bad line; drop its rows."""
    bad = con.execute(
        f"""SELECT _file, arg_min(problem, _rn), arg_min(_idx, _rn)
            FROM (SELECT t._file, t._rn, t._idx, {_problems_sql()} AS problem
                  FROM {_TYPED} t JOIN {_NAMES} n USING (_file))
            WHERE problem IS NOT NULL GROUP BY _file ORDER BY _file"""
    ).fetchall()
    by_path = {str(i.path): i for i in items}
    counts = dict(con.execute(f"SELECT _file, count(*) FROM {_TYPED} GROUP BY _file").fetchall())
    gone: set[str] = set()
    for file, problem, idx in bad:
        item = by_path[file]
        lines = _line_map(item, counts[file])
        refused.append(InputRefused(item.origin, problem, lines[idx] if lines else idx + 2))
        gone.add(file)
    for item in items:  # read fine, but nothing in it
        if str(item.path) not in counts:
            refused.append(InputRefused(item.origin, "no data rows: the file holds a header only"))
            gone.add(str(item.path))
    if gone:
        con.execute(f"DELETE FROM {_TYPED} WHERE _file IN (SELECT unnest(?::VARCHAR[]))",
                    [sorted(gone)])
    return [i for i in items if str(i.path) not in gone]


def _make_empty(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in COLUMNS.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGED_TABLE} ({cols}, _file VARCHAR)")


def _stage(con: duckdb.DuckDBPyConnection, items: list[InputFile]) -> None:
    arrests = ", ".join(sql_text(o.lower()) for o in ARREST_OUTCOMES)
    bools = ", ".join(
        f"CASE lower(t.b{i}_raw) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END AS {col}"
        for i, col in enumerate(BOOLEAN_COLUMNS.values()))
    con.execute(
        f"""INSERT INTO {STAGED_TABLE}
        WITH t AS (SELECT t.*, {bools} FROM {_TYPED} t)
        SELECT n.force_id, n.month, t.searched_at, CAST(t.searched_at AS DATE), t.type,
               t.part_of_operation, t.operation, t.latitude, t.longitude, t.gender, t.age_range,
               t.sd, t.od, {ETHNIC_GROUP_SQL}, t.legislation, t.object_of_search, t.outcome,
               CASE WHEN t.outcome IS NOT NULL THEN lower(t.outcome) IN ({arrests}) END,
               t.outcome_linked, t.removal_outer, t._idx + 2, t._file
        FROM t JOIN {_NAMES} n USING (_file) ORDER BY t._rn"""
    )
    counts = dict(con.execute(f"SELECT _file, count(*) FROM {STAGED_TABLE} GROUP BY _file").fetchall())
    for item in items:  # rare: files with blank lines or values spanning lines
        rows = counts[str(item.path)]
        lines = _line_map(item, rows)
        if lines:
            con.register("_ss_line_map", pd.DataFrame({"idx2": range(2, rows + 2), "phys": lines}))
            con.execute(f"""UPDATE {STAGED_TABLE} s SET line = m.phys FROM _ss_line_map m
                            WHERE s._file = ? AND s.line = m.idx2""", [str(item.path)])
            con.unregister("_ss_line_map")


def parse(con: duckdb.DuckDBPyConnection,
          files: list[tuple[Path, str, str, date]]) -> tuple[str | None, list[InputRefused]]:
    """Read, validate and stage stop-and-search files in one DuckDB scan.

    `files` are (path on disk, origin for messages, force_id slug and month from the file
    name). A file is refused whole (InputRefused naming its origin, the problem and the line)
    if its header is not the stop-and-search header, DuckDB cannot parse it, it has no rows, or
    any row has: a blank or unparsable Date, a Date outside the file name's month, a blank or
    unknown Type, a Latitude/Longitude that is not a number in range (or only one of the two),
    a boolean column that is not True/False/blank, or an unknown Officer-defined ethnicity.
    Other values (outcome, legislation, object of search, self-defined ethnicity) are
    kept as published: their wording has changed over the years.

    Returns the temp table `stg_stop_search` (COLUMNS plus `_file`, the path read, as the street
    staging has), or None when no file was accepted; and the refusals."""
    refused: list[InputRefused] = []
    items: list[InputFile] = []
    for path, origin, force_id, month in files:
        item = InputFile(origin, Path(path), kind=DATASET, name_month=month, name_force=force_id)
        try:
            _precheck(item)
        except InputRefused as refusal:
            refused.append(refusal)
            continue
        items.append(item)
    _make_empty(con)
    if not items:
        return None, refused
    result = ParseResult()
    items = read_batch(con, _RAW, items, HEADER, result)
    refused += result.refused
    if not items:
        return None, refused
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_NAMES} (_file VARCHAR, force_id VARCHAR, month DATE)")
    con.executemany(f"INSERT INTO {_NAMES} VALUES (?, ?, ?)",
                    [(str(i.path), i.name_force, i.name_month) for i in items])
    _typed(con)
    items = _refuse_bad_files(con, items, refused)
    if items:
        _stage(con, items)
    for table in (_RAW, _TYPED):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return (STAGED_TABLE if items else None), refused


# --------------------------------------------------------------------------- measures

_DOMAIN = "Stop and search"
_SOURCE = "data.police.uk stop-and-search files (python -m etl load police-uk), or the synthetic demo"
_POPULATION = ("2011 Census resident population by ethnic group, "
               "data/reference/population_by_ethnicity_census2011.csv (ONS, OGL v3)")


def measures() -> list[Measure]:
    """The stop-and-search measures, for the registry (etl/measures/registry.py).

    num_sql / den_sql are aggregate SQL over the stop_search dataset's rows, as the service
    measures are (etl/sources/satisfaction.py ...), except where a denominator is a resident
    population: rows cannot give it, so den_sql (and den2_sql) is None and the cube builder
    takes it from the unit (`stop_search_per_1000`) or from the reference table
    data/reference/population_by_ethnicity_census2011.csv (the rate ratios)."""

    out = [
        Measure(
            id="stop_search_searches", label="Stop and searches", domain=_DOMAIN,
            description=("Stop and searches carried out: people, vehicles, or both, searched under "
                         "any power. More or fewer is neither good nor bad in itself."),
            numerator="searches (rows of the stop-and-search file)", denominator=None,
            unit="searches", polarity="neutral", source=_SOURCE,
            dataset=DATASET, kind="count", num_sql="count(*)",
            target_source="none: there is no national target for the number of searches",
        ),
        Measure(
            id="stop_search_per_1000", label="Stop and searches per 1,000 residents", domain=_DOMAIN,
            description="Stop and searches per 1,000 resident population of the unit.",
            numerator="searches", denominator="resident population / 1,000",
            unit="per 1,000 population", polarity="neutral",
            source=_SOURCE + "; population from the unit dimension", scale=1000.0,
            dataset=DATASET, kind="rate_per_population", num_sql="count(*)",
            # den_sql None: the denominator is the unit's resident population (dim_unit), not
            # something the search rows hold; the cube builder divides by it.
            den_sql=None,
            target_source="none: there is no national target for the rate of searches",
        ),
        Measure(
            id="stop_search_arrest_rate", label="Stop and searches ending in arrest", domain=_DOMAIN,
            description=("Searches whose outcome was an arrest ('Arrest', or 'Suspect arrested' in "
                         "older files), as a share of searches with an outcome recorded."),
            numerator="searches with the outcome 'Arrest' (or 'Suspect arrested')",
            denominator="searches with an outcome recorded (a blank Outcome is left out)",
            unit="%", polarity="up", source=_SOURCE, scale=100.0,
            dataset=DATASET, kind="proportion",
            num_sql="count(*) FILTER (WHERE arrest)", den_sql="count(arrest)",
            target_source="none: no national target; a higher share suggests better-grounded searches",
        ),
        Measure(
            id="stop_search_find_rate",
            label="Stop and searches that found what was searched for (find rate)", domain=_DOMAIN,
            description=("Searches whose outcome was linked to the object of the search (the officer "
                         "found what they were looking for), as a share of searches where the force "
                         "recorded whether it was linked. Searches with the field blank are left out "
                         "rather than counted as finds or misses: some forces leave it blank, and "
                         "counting blanks as misses would make their find rate look worse than it is. "
                         "Compare forces with care where many are blank."),
            numerator="searches with 'Outcome linked to object of search' = True",
            denominator="searches with 'Outcome linked to object of search' True or False (blank left out)",
            unit="%", polarity="up", source=_SOURCE, scale=100.0,
            dataset=DATASET, kind="proportion",
            num_sql="count(*) FILTER (WHERE outcome_linked)", den_sql="count(outcome_linked)",
            target_source="none: no national target; a higher find rate suggests better-grounded searches",
        ),
    ]
    for group, mid in (("Black", "stop_search_rr_black_white"), ("Asian", "stop_search_rr_asian_white")):
        out.append(Measure(
            id=mid,
            label=f"{group} people stopped and searched, compared with White people (times as likely)",
            domain=_DOMAIN,
            description=(
                f"How many times as likely a {group} resident is to be stopped and searched as a White "
                f"resident: searches of {group} people per {group} resident, divided by searches of "
                "White people per White resident. 1 means equal rates; 3 means three times as likely. "
                "Ethnicity is self-defined, or officer-defined where the person gave none; searches "
                "with neither are left out of both rates. 95% interval by the log (Katz) method "
                "(dashboard.stats.rate_ratio). Residents are not the only people searched (visitors, "
                "commuters), so small or central units can show large ratios."),
            numerator=f"searches of {group} people / {group} residents (2011 Census)",
            denominator="searches of White people / White residents (2011 Census)",
            unit="times the White rate",
            # Neutral, not 'down': a ratio below 1 is as disproportionate as one above, so a fall
            # from 1.0 to 0.5 is not good news. Better is closer to 1 in either direction, which
            # the one-directional polarity cannot say; the page shows the ratio against 1.
            polarity="neutral",

            source=_SOURCE + "; " + _POPULATION,
            dataset=DATASET, kind="rate_ratio",
            num_sql=f"count(*) FILTER (WHERE ethnic_group = '{group}')",
            num2_sql="count(*) FILTER (WHERE ethnic_group = 'White')",
            # den_sql / den2_sql None: the groups' resident populations are reference data, not
            # rows. The cube builder fills den ({group} residents) and den2 (White residents) of
            # each unit from data/reference/population_by_ethnicity_census2011.csv.
            den_sql=None, den2_sql=None, population_groups=(group.lower(), "white"),
            target_source="none: the aim is 1 (equal rates); no force sets a figure",
        ))
    return out


# --------------------------------------------------------------------------- demo

# Cheshire's 2011 Census residents by group (data/reference/population_by_ethnicity_census2011.csv).
_CHESHIRE_2011 = {"White": 995_998, "Black": 3_264, "Asian": 16_011, "Mixed": 10_423, "Other": 2_013}
_CHESHIRE_ALL = 1_027_709
# Search rate of each group relative to White: gives rate ratios of about 3 (Black/White) and
# 1.5 (Asian/White), near the published Cheshire figures (BlackThrive 2019-2021: 0.8 to 4.9 by LA).
_RELATIVE_RATE = {"White": 1.0, "Black": 3.0, "Asian": 1.5, "Mixed": 2.0, "Other": 1.5}
_SUBGROUPS = {
    "White": {"White - English/Welsh/Scottish/Northern Irish/British": 0.90, "White - Irish": 0.02,
              "White - Gypsy or Irish Traveller": 0.01, "White - Any other White background": 0.07},
    "Black": {"Black/African/Caribbean/Black British - African": 0.40,
              "Black/African/Caribbean/Black British - Caribbean": 0.45,
              "Black/African/Caribbean/Black British - Any other Black/African/Caribbean background": 0.15},
    "Asian": {"Asian/Asian British - Indian": 0.30, "Asian/Asian British - Pakistani": 0.40,
              "Asian/Asian British - Bangladeshi": 0.10, "Asian/Asian British - Chinese": 0.05,
              "Asian/Asian British - Any other Asian background": 0.15},
    "Mixed": {"Mixed/Multiple ethnic groups - White and Black Caribbean": 0.45,
              "Mixed/Multiple ethnic groups - White and Black African": 0.10,
              "Mixed/Multiple ethnic groups - White and Asian": 0.20,
              "Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background": 0.25},
    "Other": {"Other ethnic group - Arab": 0.30, "Other ethnic group - Any other ethnic group": 0.70},
}
# (object of search, share, {legislation: share})
_OBJECTS = [
    ("Controlled drugs", 0.60, {"Misuse of Drugs Act 1971 (section 23)": 1.0}),
    ("Offensive weapons", 0.12, {"Police and Criminal Evidence Act 1984 (section 1)": 0.85,
                                 "Criminal Justice and Public Order Act 1994 (section 60)": 0.15}),
    ("Stolen goods", 0.12, {"Police and Criminal Evidence Act 1984 (section 1)": 1.0}),
    ("Article for use in theft", 0.08, {"Police and Criminal Evidence Act 1984 (section 1)": 1.0}),
    ("Articles for use in criminal damage", 0.04,
     {"Police and Criminal Evidence Act 1984 (section 1)": 1.0}),
    ("Firearms", 0.02, {"Firearms Act 1968 (section 47)": 1.0}),
    ("Anything to threaten or harm anyone", 0.02,
     {"Police and Criminal Evidence Act 1984 (section 1)": 1.0}),
]
_OUTCOMES = {
    "A no further action disposal": 0.70, "Arrest": 0.15, "Community resolution": 0.08,
    "Khat or Cannabis warning": 0.04, "Summons / charged by post": 0.02,
    "Penalty Notice for Disorder": 0.005, "Caution (simple or conditional)": 0.005,
}
_TYPE_SHARES = {"Person search": 0.85, "Person and Vehicle search": 0.09, "Vehicle search": 0.06}
_AGES = {"under 10": 0.002, "10-17": 0.17, "18-24": 0.37, "25-34": 0.26, "over 34": 0.198}
_OPERATIONS = ("Operation Hawk", "Operation Tornado", "Operation Stealth")


def _pick(rng: np.random.Generator, shares: dict, n: int) -> list:
    keys = list(shares)
    p = np.array([shares[k] for k in keys], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum())]


def generate_demo(seed: int, months: list[date], force_id: str = "cheshire",
                  population: int = 1_000_000) -> pd.DataFrame:
    """Synthetic searches in the COLUMNS shape (no `_file`), deterministic for a seed.

    About 650 searches a month (Poisson, kept within 500-800), with plausible mixes: object of
    search mostly 'Controlled drugs'; outcome about 70% 'A no further action disposal' and 15%
    'Arrest'; ethnic groups drawn in proportion to resident population x _RELATIVE_RATE, with
    Cheshire's 2011 Census shares scaled to `population`, so the Black/White rate ratio is about
    3 and the Asian/White about 1.5. Every value is one a real file may hold and passes
    parse()'s checks (write_police_uk_csv() writes the file; the tests parse it back); the
    derived columns come from the same rules (ethnic_group(), ARREST_OUTCOMES)."""
    rng = np.random.default_rng(seed)
    scale = population / _CHESHIRE_ALL
    weights = {g: _CHESHIRE_2011[g] * scale * _RELATIVE_RATE[g] for g in ETHNIC_GROUPS}
    rows: list[dict] = []
    for month in sorted(months):
        month = date(month.year, month.month, 1)
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        minutes = (nxt - month).days * 24 * 60
        n = int(np.clip(rng.poisson(650), 500, 800))
        at = sorted(datetime(month.year, month.month, 1) + timedelta(minutes=int(m))
                    for m in rng.integers(0, minutes, size=n))
        types = _pick(rng, _TYPE_SHARES, n)
        groups = _pick(rng, weights, n)
        objects = [_OBJECTS[i] for i in rng.choice(
            len(_OBJECTS), size=n, p=np.array([o[1] for o in _OBJECTS]) / sum(o[1] for o in _OBJECTS))]
        outcomes = _pick(rng, _OUTCOMES, n)
        ages = _pick(rng, _AGES, n)
        # drawn for every row, used where they apply (one vectorised draw per month is
        # ~50x faster than a draw per row)
        subgroup = {g: _pick(rng, _SUBGROUPS[g], n) for g in ETHNIC_GROUPS}
        law = {o[0]: _pick(rng, o[2], n) for o in _OBJECTS}
        officer_other = _pick(rng, dict.fromkeys(OFFICER_DEFINED, 1.0), n)
        operations = _pick(rng, dict.fromkeys(_OPERATIONS, 1.0), n)
        lon = rng.random(n)
        u = rng.random((n, 10))
        for i in range(n):
            person = types[i] != "Vehicle search"
            group = groups[i]
            sd = od = gender = age = None
            removal = None
            if person:
                gender = "Male" if u[i, 0] < 0.87 else ("Female" if u[i, 0] < 0.99 else "Other")
                age = None if u[i, 1] < 0.03 else ages[i]
                removal = False if u[i, 2] < 0.96 else (True if u[i, 2] < 0.99 else None)
                if u[i, 3] < 0.04:
                    pass  # neither ethnicity recorded
                elif u[i, 4] < 0.75:
                    sd = subgroup[group][i]
                    od = group if u[i, 5] < 0.92 else officer_other[i]
                else:  # self-defined blank or 'Not stated': officer-defined carries the group
                    sd = "Other ethnic group - Not stated" if u[i, 4] < 0.80 else None
                    od = group
            obj = objects[i][0]
            outcome = outcomes[i]
            if outcome == "A no further action disposal":
                linked = False if u[i, 6] < 0.90 else None
            else:
                linked = True if u[i, 6] < 0.75 else (False if u[i, 6] < 0.95 else None)
            part = False if u[i, 7] < 0.88 else (True if u[i, 7] < 0.90 else None)
            located = u[i, 8] < 0.95
            rows.append({
                "force_id": force_id, "month": month, "searched_at": at[i], "date": at[i].date(),
                "type": types[i], "part_of_operation": part,
                "operation": operations[i] if part else None,
                "latitude": round(float(53.0 + 0.45 * u[i, 9]), 6) if located else None,
                "longitude": round(float(-3.05 + 0.8 * lon[i]), 6) if located else None,
                "gender": gender, "age_range": age, "self_defined_ethnicity": sd,
                "officer_defined_ethnicity": od, "ethnic_group": ethnic_group(sd, od),
                "legislation": law[obj][i], "object_of_search": obj, "outcome": outcome,
                "arrest": outcome in ARREST_OUTCOMES, "outcome_linked": linked,
                "removal_outer": removal, "line": i + 2,
            })
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    for col in ("part_of_operation", "arrest", "outcome_linked", "removal_outer"):
        frame[col] = frame[col].astype("boolean")
    frame["latitude"] = frame["latitude"].astype("float64")
    frame["longitude"] = frame["longitude"].astype("float64")
    frame["line"] = frame["line"].astype("int64")
    frame["searched_at"] = pd.to_datetime(frame["searched_at"])
    return frame


def write_police_uk_csv(rows: pd.DataFrame, path: Path) -> None:
    """Rows in the COLUMNS shape -> a stop-and-search CSV as data.police.uk publishes it (rows
    in their order; Date with a +00:00 offset; booleans True/False; blanks empty)."""
    def text(v) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, bool | np.bool_):
            return "True" if v else "False"
        return str(v)

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        for r in rows.itertuples(index=False):
            writer.writerow([
                r.type, pd.Timestamp(r.searched_at).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                text(r.part_of_operation), text(r.operation), text(r.latitude), text(r.longitude),
                text(r.gender), text(r.age_range), text(r.self_defined_ethnicity),
                text(r.officer_defined_ethnicity), text(r.legislation), text(r.object_of_search),
                text(r.outcome), text(r.outcome_linked), text(r.removal_outer),
            ])
