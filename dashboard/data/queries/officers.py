"""Reads for the officer level: each officer's crimes investigated and sanction detections
(cube_measure_month at officer level), and victim satisfaction of the crimes they handled
(the survey's crime reference joined to the recorded crimes' officer in charge, in the lake).

Only `DataAccess` calls these, after the access seam has decided who may see which officer.
Values travel as bound parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from dashboard.data.queries import Cursor

OUTCOME_COLUMNS = ("unit_id", "crimes", "detected")
SATISFACTION_COLUMNS = ("unit_id", "respondents", "satisfied")
# Satisfied: completely, very or fairly satisfied with the whole experience (1-3 on the
# survey's 7-point scale: etl/sources/satisfaction.py SATISFIED).
SATISFIED_MAX = 3


def crime_outcomes(cur: Cursor, source: str, unit_ids: Sequence[str], first_month: date,
                   last_month: date) -> pd.DataFrame:
    """Crimes recorded with each officer as officer in charge, and how many were sanction
    detections, over whole months [first_month, last_month]."""
    if not unit_ids:
        return pd.DataFrame(columns=list(OUTCOME_COLUMNS))
    return cur.execute(
        """
        SELECT unit_id,
               coalesce(sum(num) FILTER (WHERE measure_id = 'total_crime'), 0) AS crimes,
               coalesce(sum(num) FILTER (WHERE measure_id = 'sanction_detections'), 0) AS detected
        FROM cube_measure_month
        WHERE source = ? AND level = 'officer' AND unit_id IN (SELECT unnest(?::VARCHAR[]))
          AND measure_id IN ('total_crime', 'sanction_detections')
          AND month BETWEEN ? AND ?
        GROUP BY unit_id
        ORDER BY unit_id
        """,
        [source, list(unit_ids), first_month, last_month],
    ).df()


def linked_satisfaction(cur: Cursor, crime_files: list[str], survey_files: list[str], start: date,
                        end: date) -> pd.DataFrame:
    """Respondents interviewed in [start, end] who answered the whole-experience question,
    and how many were satisfied, by the officer in charge of the crime they were surveyed
    about (the survey's incident_ref matched to the crime's crime_id; a respondent whose
    reference matches no recorded crime counts for nobody)."""
    if not crime_files or not survey_files:
        return pd.DataFrame(columns=list(SATISFACTION_COLUMNS))
    return cur.execute(
        """
        WITH crimes AS (
            SELECT DISTINCT crime_id, officer_id
            FROM read_parquet(?, hive_partitioning = false, union_by_name = true)
            WHERE officer_id IS NOT NULL AND crime_id IS NOT NULL
        ), survey AS (
            SELECT incident_ref, whole_experience
            FROM read_parquet(?, hive_partitioning = false, union_by_name = true)
            WHERE whole_experience IS NOT NULL AND interview_date BETWEEN ? AND ?
        )
        SELECT c.officer_id AS unit_id, count(*) AS respondents,
               count(*) FILTER (WHERE s.whole_experience <= ?) AS satisfied
        FROM survey s JOIN crimes c ON s.incident_ref = c.crime_id
        GROUP BY c.officer_id
        ORDER BY c.officer_id
        """,
        [crime_files, survey_files, start, end, SATISFIED_MAX],
    ).df()
