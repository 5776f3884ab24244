"""The clean (staging) shapes that several sources share: crime records (data.police.uk
street files, a force's own extract, the demo), data.police.uk outcome events, force x month
x category aggregates, and units.

Sources parse their own format into exactly these columns; everything downstream (lake,
cubes, drill-through) reads only this shape. Like dbt's staging layer: parse once, cleanly.
A dataset only one source produces is declared in that source's module instead.
"""

from __future__ import annotations

from etl.sources.base import Dataset

# Crime and ASB records: one row per distinct crime (or ASB incident), any source.
# force_id/month are the lake partition keys and are also stored in the rows.
CRIME_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",        # data.police.uk slug, e.g. 'cheshire'
    "month": "DATE",              # first day of the month the crime was recorded in
    "crime_id": "VARCHAR",        # NULL for ASB incidents from data.police.uk
    "date": "DATE",               # day recorded; NULL where the source has months only
    "category": "VARCHAR",        # category id from etl.measures.CATEGORY_LABELS
    "is_asb": "BOOLEAN",          # ASB incidents are never counted as crime
    "lsoa_code": "VARCHAR",
    "lsoa_name": "VARCHAR",
    "longitude": "DOUBLE",
    "latitude": "DOUBLE",
    "location": "VARCHAR",
    "outcome": "VARCHAR",         # police.uk last outcome category, or the force's wording
    "sanction": "BOOLEAN",        # a sanction detection (2007 definition)
    "detection_type": "VARCHAR",  # key of etl.measures.SANCTION_TYPES, or NULL
    "detection_date": "DATE",
    "npu_id": "VARCHAR",          # set by force data; NULL -> assigned from dim_lsoa by LSOA
    "team_id": "VARCHAR",
    "officer_id": "VARCHAR",      # officer in charge (OIC)
    "line": "BIGINT",             # line in the source file, for messages and drill-through
}

# data.police.uk outcomes files: one row per outcome event.
OUTCOME_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "crime_id": "VARCHAR",
    "outcome": "VARCHAR",
    "sanction": "BOOLEAN",
    "detection_type": "VARCHAR",
    "line": "BIGINT",
}

# Force x month x category aggregates (other forces in the demo, national comparators).
FORCE_MONTH_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "category": "VARCHAR",
    "n": "BIGINT",
    "sd": "BIGINT",
}

# Units a source defines (force data, demo): rows for dim_unit.
UNIT_COLUMNS: dict[str, str] = {
    "unit_id": "VARCHAR",
    "level": "VARCHAR",
    "parent_id": "VARCHAR",
    "force_id": "VARCHAR",
    "name": "VARCHAR",
    "population": "BIGINT",
    "households": "BIGINT",
    "area_km2": "DOUBLE",
    "synthetic": "BOOLEAN",
    "valid_from": "DATE",
    "valid_to": "DATE",
    "note": "VARCHAR",
}


def select_list(columns: dict[str, str], optional: dict[str, str] | None = None,
                present: set[str] | frozenset[str] = frozenset()) -> str:
    """`CAST(col AS TYPE) AS col, ...` so a relation can be coerced to the staging shape;
    `optional` columns are taken when `present` names them, else NULL of their type."""
    out = [f'CAST("{c}" AS {t}) AS "{c}"' for c, t in columns.items()]
    out += [f'CAST({chr(34) + c + chr(34) if c in present else "NULL"} AS {t}) AS "{c}"'
            for c, t in (optional or {}).items()]
    return ", ".join(out)


# The datasets more than one source produces, declared once here.
# offence_code: the Home Office offence code (e.g. '8N'), from a force's own extract or the
# demo; data.police.uk rows have none. It weights the crime exactly for crime harm.
CRIME_OPTIONAL_COLUMNS: dict[str, str] = {"offence_code": "VARCHAR"}
CRIME = Dataset("crime", CRIME_COLUMNS, "crimes", cube="crime", day_sql="date",
                optional=CRIME_OPTIONAL_COLUMNS)
FORCE_MONTH = Dataset("force_month", FORCE_MONTH_COLUMNS, "force months", cube="force_month")
