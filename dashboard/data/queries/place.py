"""Reads of the lake by place: crime and harm per LSOA of a unit, and crimes per snapped map
point (repeat locations), for the concentration section (docs/concentration.md).

A unit's LSOAs are the rows of dim_lsoa that place an LSOA in it (an LSOA -> NPU mapping from
a hierarchy file, or the default hierarchy of every LSOA a loaded record named); the data
layer adds the default hierarchy's LSOAs no record named yet. Harm uses the weights the cubes
use (ref_crime_severity per Home Office offence code, else ref_crime_severity_category: see
etl/cubes/crime.py), so a unit's LSOAs add up to its harm on the scorecard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from dashboard.data.queries import Cursor, pick

# Levels whose LSOAs are known (the area of an NPU, of the BCU its NPUs are in, of the force):
# level -> the column of dim_lsoa + dim_unit that places an LSOA in a unit of that level.
AREA_COLUMN: dict[str, str] = {"force": "l.force_id", "bcu": "u.parent_id", "npu": "l.npu_id"}
# level -> the column of the facts below that holds the record's unit of that level
FACT_COLUMN: dict[str, str] = {"force": "force_id", "bcu": "bcu_id", "npu": "npu_id"}
LSOA_COLUMNS = ["lsoa_code", "lsoa_name", "npu_id", "in_area", "crimes", "harm", "harm_approx"]
LOCATION_COLUMNS = ["longitude", "latitude", "location", "lsoa_code", "crimes"]


# The dimension joins of the facts below, and which of them the unit columns need (keyed by
# the level's FACT_COLUMN; None: every unit column, as before `_facts_sql` took a level).
_DIM_JOINS = {
    "lsoa": "\n            LEFT JOIN dim_lsoa l ON l.force_id = f.force_id AND l.lsoa_code = f.lsoa_code",
    "unit": "\n            LEFT JOIN dim_unit u ON u.unit_id = coalesce(f.npu_id, l.npu_id)",
}
# dim_lsoa of the files' force only (a parameter): a record file holds one force's records (its
# lake folder is the force's: etl/lake/layout.py), so no record can match another force's row,
# and the join's table is that force's ~700 LSOAs, not the country's ~36,000 (~6 ms a scan)
_FORCE_LSOA_JOIN = ("\n            LEFT JOIN (SELECT force_id, lsoa_code, npu_id FROM dim_lsoa"
                    " WHERE force_id = ?) l ON l.force_id = f.force_id AND l.lsoa_code = f.lsoa_code")
_UNIT_JOINS: dict[str | None, tuple[str, tuple[str, ...]]] = {
    None: ("f.force_id, coalesce(f.npu_id, l.npu_id) AS npu_id, u.parent_id AS bcu_id", ("lsoa", "unit")),
    "force_id": ("f.force_id", ()),
    "npu_id": ("coalesce(f.npu_id, l.npu_id) AS npu_id", ("lsoa",)),
    "bcu_id": ("u.parent_id AS bcu_id", ("lsoa", "unit")),
}


def _has_column(cur: Cursor, files: list[str], column: str) -> bool:
    described = cur.execute(
        "SELECT * FROM read_parquet(?, hive_partitioning = false, union_by_name = true) LIMIT 0",
        [files]).description or []
    return any(d[0] == column for d in described)


def _has_tables(cur: Cursor, names: Sequence[str]) -> set[str]:
    """Which of `names` the version holds (one query for all of them)."""
    return {r[0] for r in cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN (SELECT unnest(?::VARCHAR[]))",
        [list(names)]).fetchall()}


def _lead(files: list[str], level: str | None, force_id: str | None) -> list[object]:
    """The facts' first parameters (`_facts_sql`): the files, then the force whose LSOAs are
    joined when the level needs them and the force is given."""
    joins = _UNIT_JOINS[None if level is None else pick("level", level, FACT_COLUMN)][1]
    return [files, force_id] if force_id is not None and "lsoa" in joins else [files]


def _facts_sql(cur: Cursor, files: list[str], time: str, weighted: bool = True,
               level: str | None = None, force_id: str | None = None) -> str:
    """The crimes (never ASB) of the files, with their NPU and BCU, and (`weighted`) their harm
    weight as the cubes give it. Parameters, in order: `_lead` (the files, [the force]),
    categories, start, end. With `force_id`, the LSOAs joined are that force's only.

    With `level`, only the column that level's unit is read from (FACT_COLUMN) is made, and
    only the dimension joins it needs (fastui9): a force's records are its own (no join), an
    NPU's need its LSOA's NPU (dim_lsoa), a BCU's that NPU's parent too (dim_unit). The same
    rows: each dimension holds one row per join key (its primary key), so a LEFT JOIN neither
    adds nor drops a record (~30% of a force's or an NPU's scan at national scale).

    Without `weighted` (the map points' counts, which read no weight) the two weight tables are
    not joined, nor the files' columns and the version's tables looked up for them (~10 ms of a
    custom range's card at national scale): the same rows, because each weight table holds one
    row per key (the reference loader refuses a repeated key: etl/reference/tables.py)."""
    if time not in ("date", "month"):
        raise ValueError(f"time must be 'date' or 'month', got {time!r}")
    weight_sql, joins = "", ""
    if weighted:
        code = "f.offence_code" if _has_column(cur, files, "offence_code") else "NULL::VARCHAR"
        tables = _has_tables(cur, ["ref_crime_severity", "ref_crime_severity_category"])
        off = ("SELECT upper(trim(code)) AS key, TRY_CAST(weight AS DOUBLE) AS weight FROM ref_crime_severity"
               if "ref_crime_severity" in tables else
               "SELECT NULL::VARCHAR AS key, NULL::DOUBLE AS weight WHERE FALSE")
        cat = ("SELECT category AS key, TRY_CAST(weight AS DOUBLE) AS weight FROM ref_crime_severity_category"
               if "ref_crime_severity_category" in tables else
               "SELECT NULL::VARCHAR AS key, NULL::DOUBLE AS weight WHERE FALSE")
        weight_sql = f"w_off AS ({off}), w_cat AS ({cat}),"
        joins = f"""
            LEFT JOIN w_off wo ON wo.key = upper(trim({code}))
            LEFT JOIN w_cat wc ON wc.key = f.category"""
    weight_cols = (", coalesce(wo.weight, wc.weight, 0) AS w, (wo.weight IS NULL)::INT AS w_approx"
                   if weighted else "")
    columns, joins_needed = _UNIT_JOINS[None if level is None else pick("level", level, FACT_COLUMN)]
    dims = "".join(_FORCE_LSOA_JOIN if d == "lsoa" and force_id is not None else _DIM_JOINS[d]
                   for d in joins_needed)
    return f"""
        WITH f AS (SELECT * FROM read_parquet(?, hive_partitioning = false, union_by_name = true)),
        {weight_sql}
        facts AS (
            SELECT {columns},
                   f.lsoa_code, f.location, f.longitude, f.latitude{weight_cols}
            FROM f{dims}{joins}
            WHERE NOT f.is_asb AND list_contains(?::VARCHAR[], f.category) AND f.{time} BETWEEN ? AND ?)
    """


def lsoa_figures(
    cur: Cursor, crime_files: list[str], force_id: str, level: str, unit_id: str,
    categories: Sequence[str], start: date, end: date, time: str,
) -> pd.DataFrame:
    """Crimes, harm (sum of weights) and crimes weighted by category (harm_approx) per LSOA of
    the unit: every LSOA of its area (in_area, zero when no crime), and any other LSOA its
    crimes name (in_area false; a blank LSOA is one row with a NULL code). [LSOA_COLUMNS]"""
    area_col = pick("level", level, AREA_COLUMN)
    fact_col = pick("level", level, FACT_COLUMN)
    area = f"""
        area AS (SELECT l.lsoa_code, l.lsoa_name, l.npu_id FROM dim_lsoa l
                 LEFT JOIN dim_unit u ON u.unit_id = l.npu_id
                 WHERE l.force_id = ? AND l.npu_id IS NOT NULL AND {area_col} = ?)"""
    if not crime_files:
        return cur.execute(
            f"WITH {area} SELECT lsoa_code, lsoa_name, npu_id, TRUE AS in_area, 0::BIGINT AS crimes, "
            "0.0::DOUBLE AS harm, 0::BIGINT AS harm_approx FROM area ORDER BY lsoa_code",
            [force_id, unit_id]).df()
    sql = _facts_sql(cur, crime_files, time, level=level, force_id=force_id) + f""",
        agg AS (SELECT lsoa_code, count(*) AS crimes, sum(w) AS harm, sum(w_approx) AS harm_approx
                FROM facts WHERE {fact_col} = ? GROUP BY lsoa_code),
        {area}
        SELECT coalesce(a.lsoa_code, g.lsoa_code) AS lsoa_code, a.lsoa_name, a.npu_id,
               a.lsoa_code IS NOT NULL AS in_area, coalesce(g.crimes, 0)::BIGINT AS crimes,
               coalesce(g.harm, 0)::DOUBLE AS harm, coalesce(g.harm_approx, 0)::BIGINT AS harm_approx
        FROM area a FULL OUTER JOIN agg g ON g.lsoa_code = a.lsoa_code
        ORDER BY crimes DESC, lsoa_code NULLS LAST
    """
    params = [*_lead(crime_files, level, force_id), list(categories), start, end, unit_id, force_id,
              unit_id]
    return cur.execute(sql, params).df()


def lsoa_mappings(cur: Cursor, force_id: str) -> dict[str, int]:
    """How the force's LSOAs were placed: mapping ('file' | 'default' | 'none') -> LSOAs."""
    return dict(cur.execute(
        "SELECT mapping, count(*) FROM dim_lsoa WHERE force_id = ? GROUP BY mapping", [force_id]).fetchall())


def location_counts(
    cur: Cursor, crime_files: list[str], level: str, unit_id: str,
    categories: Sequence[str], start: date, end: date, time: str, force_id: str | None = None,
) -> pd.DataFrame:
    """Crimes per snapped map point of the unit, most first: a point is a (longitude, latitude)
    pair of a record that carries a location text (data.police.uk's "On or near ..."; each
    such point has one text). Records with no location are not counted. [LOCATION_COLUMNS]"""
    fact_col = pick("level", level, FACT_COLUMN)
    if not crime_files:
        return pd.DataFrame(columns=LOCATION_COLUMNS)
    sql = _facts_sql(cur, crime_files, time, weighted=False, level=level, force_id=force_id) + f"""
        SELECT longitude, latitude, min(location) AS location, min(lsoa_code) AS lsoa_code,
               count(*)::BIGINT AS crimes
        FROM facts
        WHERE {fact_col} = ? AND location IS NOT NULL AND longitude IS NOT NULL AND latitude IS NOT NULL
        GROUP BY longitude, latitude
        ORDER BY crimes DESC, location, longitude, latitude
    """
    return cur.execute(sql, [*_lead(crime_files, level, force_id), list(categories), start, end,
                             unit_id]).df()



def location_repeats(
    cur: Cursor, crime_files: list[str], level: str, unit_id: str, categories: Sequence[str],
    start: date, end: date, time: str, at_least: int, top: int, force_id: str | None = None,
) -> tuple[tuple[int, int, int, int], pd.DataFrame]:
    """What the concentration card reads of `location_counts`, without fetching every point:
    (points, points with at least `at_least` crimes, crimes at any point, crimes at those
    points), and the first `top` of those points in `location_counts`'s order, with its columns
    and types. At national scale nearly every crime of a custom range has a point of its own
    (~74,000 points for ~76,000 crimes of Cheshire's ten months): aggregating a location text
    for each and sorting them all was ~95 ms, for ten rows and four counts.

    Two reads: the points' crime counts (only those of the repeat points come back, with the
    four totals), then the location texts of the repeat points that can be among the first
    `top` (a count at least the `top`-th largest), grouped, ordered and limited exactly as
    `location_counts` orders them (crimes, location, longitude, latitude)."""
    if not crime_files:
        return (0, 0, 0, 0), pd.DataFrame(columns=LOCATION_COLUMNS)
    fact_col = pick("level", level, FACT_COLUMN)
    located = f"{fact_col} = ? AND location IS NOT NULL AND longitude IS NOT NULL AND latitude IS NOT NULL"
    base = _facts_sql(cur, crime_files, time, weighted=False, level=level, force_id=force_id)
    lead = _lead(crime_files, level, force_id)
    params = [*lead, list(categories), start, end, unit_id]
    sql = base + f""",
        g AS (SELECT longitude, latitude, count(*) AS crimes FROM facts WHERE {located}
              GROUP BY longitude, latitude)
        SELECT 0 AS part, NULL::DOUBLE AS longitude, NULL::DOUBLE AS latitude, count(*)::BIGINT AS crimes,
               coalesce(sum(crimes), 0)::BIGINT AS total FROM g
        UNION ALL
        SELECT 1, longitude, latitude, crimes, NULL FROM g WHERE crimes >= ?
    """
    rows = cur.execute(sql, [*params, at_least]).fetchall()
    head = next(r for r in rows if r[0] == 0)
    repeat = [r for r in rows if r[0] == 1]
    totals = (int(head[3]), len(repeat), int(head[4]), int(sum(r[3] for r in repeat)))
    if not repeat or top <= 0:
        return totals, pd.DataFrame(columns=LOCATION_COLUMNS)
    floor = sorted((r[3] for r in repeat), reverse=True)[min(top, len(repeat)) - 1]
    lons = [r[1] for r in repeat if r[3] >= floor]
    lats = [r[2] for r in repeat if r[3] >= floor]
    sql = base + f""",
        r AS (SELECT unnest(?::DOUBLE[]) AS longitude, unnest(?::DOUBLE[]) AS latitude)
        SELECT longitude, latitude, min(location) AS location, min(lsoa_code) AS lsoa_code,
               count(*)::BIGINT AS crimes
        FROM facts SEMI JOIN r USING (longitude, latitude)
        WHERE {located}
        GROUP BY longitude, latitude
        ORDER BY crimes DESC, location, longitude, latitude
        LIMIT ?
    """
    frame = cur.execute(sql, [*lead, list(categories), start, end, lons, lats, unit_id, top]).df()
    return totals, frame
