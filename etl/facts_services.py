"""The clean (staging) shape of the service datasets: victim satisfaction, call handling,
protecting vulnerable people (domestic incidents, missing persons, registered sex offenders)
and workforce. Registered in etl.facts.DATASETS (appended there), so commit() writes them to
the lake like every other dataset.

Every dataset has force_id and month (the lake partition keys). Rows that name a unit keep
what the source wrote (`npu_ref`, `officer_ref`) next to the id it resolved to in dim_unit
(`npu_id`, `officer_id`; NULL when the warehouse does not know the unit, in which case the row
counts at force level only and the load reports it). `line` is the row's line in the source
file, for messages and drill-through.

This module must not import etl.facts (etl.facts imports it).
"""

from __future__ import annotations

# One row per respondent to the user satisfaction survey (Home Office format). The five
# questions are on the 7-point scale 1 = completely satisfied ... 7 = completely
# dissatisfied; NULL = not asked, or "don't know". Satisfied = 1, 2 or 3.
SATISFACTION_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month of the interview
    "interview_date": "DATE",
    "respondent_ref": "VARCHAR",
    "incident_ref": "VARCHAR",      # crime reference (or incident number) surveyed about
    "incident_type": "VARCHAR",     # key of etl.sources.services.INCIDENT_TYPES
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "officer_ref": "VARCHAR",
    "officer_id": "VARCHAR",
    "ease_of_contact": "INTEGER",
    "actions_taken": "INTEGER",
    "kept_informed": "INTEGER",
    "treatment": "INTEGER",
    "whole_experience": "INTEGER",
    "line": "BIGINT",
}

# One row per call. Exactly one of answered / abandoned. grade NULL = no incident followed.
CALL_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month the call was received
    "call_ref": "VARCHAR",
    "received": "TIMESTAMP",
    "answered": "TIMESTAMP",
    "abandoned": "TIMESTAMP",
    "channel": "VARCHAR",           # '999' | '101'
    "grade": "INTEGER",             # 1 emergency | 2 priority | 3 scheduled | NULL
    "area": "VARCHAR",              # 'urban' | 'rural' | NULL
    "arrived": "TIMESTAMP",         # first officer at the scene; NULL = not attended
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "line": "BIGINT",
}

# One row per domestic incident.
DV_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month reported
    "incident_ref": "VARCHAR",      # matched against crime references of the same force
    "reported": "TIMESTAMP",
    "risk": "VARCHAR",              # 'standard' | 'medium' | 'high' | 'very high'
    "arrest": "BOOLEAN",
    "repeat_victim": "BOOLEAN",
    "form_40a_submitted": "TIMESTAMP",  # Form 40a (vulnerable person notification); NULL = none
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "officer_ref": "VARCHAR",
    "officer_id": "VARCHAR",
    "line": "BIGINT",
}

# One row per missing person report. reviews_due is derived (REVIEWS_DUE_SQL) at load time.
MISSING_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month reported
    "report_ref": "VARCHAR",
    "reported": "TIMESTAMP",
    "found": "TIMESTAMP",           # NULL = still missing at as_at
    "risk": "VARCHAR",              # 'low' | 'medium' | 'high'
    "reviews_done": "INTEGER",
    "reviews_due": "INTEGER",
    "as_at": "DATE",                # the date the extract was taken
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "line": "BIGINT",
}

# One row per registered sex offender under management at a snapshot date (as_at). A stock:
# each month holds at most one snapshot per force. visit_due is derived (VISIT_DUE_SQL).
RSO_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",                # month of as_at
    "as_at": "DATE",
    "offender_ref": "VARCHAR",
    "risk": "VARCHAR",              # 'low' | 'medium' | 'high' | 'very high'
    "mappa_level": "INTEGER",       # 1 | 2 | 3
    "managed_from": "DATE",
    "last_visit": "DATE",
    "next_visit": "DATE",           # the 'date of next visit' field as recorded (often blank)
    "visit_due": "DATE",            # last visit (or managed_from) + 12/6/3/1 months by risk
    "npu_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "officer_ref": "VARCHAR",       # the SOLO (sex offender liaison officer)
    "officer_id": "VARCHAR",
    "line": "BIGINT",
}

# Unit x month workforce return. A row names an NPU (npu_id) or a BCU (bcu_id: BCU-level
# staff such as tactical patrol teams); neither when the unit is unknown (force level only).
WORKFORCE_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "unit_ref": "VARCHAR",
    "npu_id": "VARCHAR",
    "bcu_id": "VARCHAR",
    "officer_fte": "DOUBLE",
    "pcso_fte": "DOUBLE",
    "special_hours": "DOUBLE",      # hours worked by special constables
    "sickness_days": "DOUBLE",      # working days lost to sickness, officers and PCSOs
    "abstraction_planned_hours": "DOUBLE",
    "abstraction_spontaneous_hours": "DOUBLE",
    "duty_hours": "DOUBLE",         # rostered hours of officers and PCSOs (given or derived)
    "line": "BIGINT",
}

# Force x month x measure aggregates: national comparators for the service measures (other
# forces in the demo, or supplied tables). measure_id is a key of etl.measures.MEASURES.
SERVICE_FORCE_MONTH_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "measure_id": "VARCHAR",
    "num": "DOUBLE",
    "den": "DOUBLE",
}

# ---------------------------------------------------------------------------- value domains

# Home Office user satisfaction survey incident types -> stored key.
INCIDENT_TYPES: dict[str, str] = {
    "burglary": "Burglary",
    "vehicle": "Vehicle crime",
    "violent": "Violent crime",
    "racist": "Racist incident",
    "asb": "Anti-social behaviour",
}
# The survey's 7-point scale. Satisfied = the top three points.
SCALE: dict[int, str] = {
    1: "completely satisfied",
    2: "very satisfied",
    3: "fairly satisfied",
    4: "neither satisfied nor dissatisfied",
    5: "fairly dissatisfied",
    6: "very dissatisfied",
    7: "completely dissatisfied",
}
SATISFIED = (1, 2, 3)
QUESTIONS: dict[str, str] = {
    "ease_of_contact": "Ease of contact",
    "actions_taken": "Actions taken by the police",
    "kept_informed": "Being kept informed of progress",
    "treatment": "Treatment by staff",
    "whole_experience": "The whole experience",
}

SERVICE_DATASETS: dict[str, dict[str, str]] = {
    "satisfaction": SATISFACTION_COLUMNS,
    "calls": CALL_COLUMNS,
    "dv": DV_COLUMNS,
    "missing": MISSING_COLUMNS,
    "rso": RSO_COLUMNS,
    "workforce": WORKFORCE_COLUMNS,
    "service_force_month": SERVICE_FORCE_MONTH_COLUMNS,
}

# ---------------------------------------------------------------------------- derived columns
# One definition each, used by the loaders and by the demo generator alike.

# Home visits of registered sex offenders: "low risk - 12 monthly; medium - six monthly;
# high - three monthly; and very high - every month" (HMIC 2007, L1462).
VISIT_INTERVAL_MONTHS: dict[str, int] = {"low": 12, "medium": 6, "high": 3, "very high": 1}

# The next visit is due one interval after the last visit, or after management began when
# there has been no visit yet. A visit is overdue when as_at is after the date it was due;
# a record with neither date (visit_due NULL) counts as overdue: nothing shows a visit.
# Columns: risk, last_visit, managed_from.
VISIT_DUE_SQL = (
    "CAST(coalesce(last_visit, managed_from) + to_months(CASE risk "
    + " ".join(f"WHEN '{k}' THEN {v}" for k, v in VISIT_INTERVAL_MONTHS.items())
    + " END) AS DATE)"
)

# Missing person reviews (HMIC 2007, L1562): medium and high risk cases reviewed "on at least
# a weekly basis"; long-term cases at 28 days, then three months, six months and annually.
# Reviews due = (medium/high: whole weeks missing) + long-term milestones passed, counted up
# to the time found, or to the end of as_at for a person still missing. Columns: risk,
# reported, found, as_at.
_UNTIL = "coalesce(found, CAST(as_at AS TIMESTAMP) + INTERVAL 1 DAY)"
REVIEWS_DUE_SQL = (
    "CAST(greatest(0, "
    f"(CASE WHEN risk IN ('medium', 'high') THEN floor(date_diff('second', reported, {_UNTIL}) "
    "/ 604800) ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 28 DAY <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 3 MONTH <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + (CASE WHEN reported + INTERVAL 6 MONTH <= {_UNTIL} THEN 1 ELSE 0 END)"
    f" + date_sub('year', reported, {_UNTIL})"
    ") AS INTEGER)"
)

# Hours a full-time officer or PCSO is rostered in a month when the return gives no
# duty_hours: 40 hours x 52 weeks / 12.
DUTY_HOURS_PER_FTE_MONTH = 40 * 52 / 12
