"""The six service sources, declared: victim satisfaction survey, call handling, domestic
incidents, missing person reports, registered sex offenders, workforce returns.

Each is a `ServiceSource`: its input schema (read and checked by etl.sources.tabular, the same
way for a CSV file and a SQL query) and how a checked row becomes a row of its lake dataset
(etl/facts_services.py). docs/input-formats.md documents every column; keep the two in step.
Unit references (NPU, officer, workforce unit) are kept as written here and resolved against
the warehouse's units by etl.services_load.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from etl.facts_services import (
    DUTY_HOURS_PER_FTE_MONTH,
    INCIDENT_TYPES,
    QUESTIONS,
    REVIEWS_DUE_SQL,
    SCALE,
    SERVICE_DATASETS,
    VISIT_DUE_SQL,
)
from etl.sources.tabular import Check, Column, Schema, quoted, sql_text

_INCIDENT_WORDS: dict[str, str] = {
    **{k: k for k in INCIDENT_TYPES},
    **{v: k for k, v in INCIDENT_TYPES.items()},
    "domestic burglary": "burglary", "burglary dwelling": "burglary",
    "vehicle crime": "vehicle", "theft of or from a vehicle": "vehicle",
    "violence": "violent", "violent": "violent", "violence against the person": "violent",
    "racist": "racist", "racist incident": "racist", "race hate incident": "racist",
    "anti-social behaviour": "asb", "antisocial behaviour": "asb",
    "anti-social behavior": "asb", "antisocial behavior": "asb",
}

_SCALE_WORDS: dict[str, int] = {**{str(k): k for k in SCALE}, **{v: k for k, v in SCALE.items()}}

CHANNELS = ("999", "101")
GRADES: dict[int, str] = {1: "emergency", 2: "priority", 3: "scheduled"}
# Attendance targets by grade (and area for grade 1): minutes from the call being received.
ATTENDANCE_MINUTES: dict[tuple[int, str | None], int] = {
    (1, "urban"): 15, (1, "rural"): 20, (2, None): 60, (3, None): 72 * 60,
}
DV_RISKS = ("standard", "medium", "high", "very high")
MISSING_RISKS = ("low", "medium", "high")
RSO_RISKS = ("low", "medium", "high", "very high")


def _bool(name: str, doc: str, required: bool = True) -> Column:
    return Column(name, "bool", required=required, doc=doc)


def _risk(values: tuple[str, ...], doc: str) -> Column:
    words: dict[str, str | int] = {v: v for v in values}
    if "very high" in values:
        words.update({"veryhigh": "very high", "vhigh": "very high"})
    return Column("risk", "enum", values=words,
                  expected=", ".join(values[:-1]) + " or " + values[-1], doc=doc)


_FORCE = Column("force", "force", doc="The force's data.police.uk slug, e.g. `cheshire`, or its name.")
_NPU = Column("npu", "text", doc="The NPU: its name as in the warehouse (e.g. `Widnes`) or its unit id.")


def _says(a: str, words: str, b: str) -> str:
    """Message: "<a> '<value>' <words> '<b's value>'"."""
    return (f"{sql_text(a + ' ')} || {quoted('t.' + a + '__raw')} || {sql_text(f' {words} ')} "
            f"|| {quoted('t.' + b + '__raw')}")


def _later(a: str, b: str, what: str) -> Check:
    """Refuse a row whose datetime `a` is before `b` (both typed columns)."""
    return Check(
        f"t.{a} < t.{b}",
        f"{sql_text(a + ' ')} || {quoted('t.' + a + '__raw')} || "
        f"{sql_text(f' is before {b} ')} || {quoted('t.' + b + '__raw')} || {sql_text(what)}")


SATISFACTION = Schema(
    name="satisfaction",
    columns=(
        Column("interview_date", "date",
               doc="Date of the interview, `YYYY-MM-DD`. Its month is the month the answer counts in."),
        Column("respondent_ref", "text", required=False, blank=True,
               doc="The survey company's respondent id. Unique within a force when given."),
        Column("incident_ref", "text", blank=True,
               doc="The crime reference (or incident number) the respondent was surveyed about. "
                   "Linked to the force's recorded crimes by crime reference."),
        Column("incident_type", "enum", values=_INCIDENT_WORDS,
               expected="burglary, vehicle crime, violent crime, racist incident or anti-social behaviour",
               doc="The survey's incident type."),
        _FORCE,
        _NPU,
        Column("officer", "text", required=False, blank=True,
               doc="The officer who dealt with the incident: name or collar number as in the "
                   "warehouse (e.g. `PC 1234`), or unit id."),
        *(Column(q, "enum", blank=True, values=_SCALE_WORDS,
                 invalid=("is not on the 7-point scale (1 = completely satisfied ... "
                          "7 = completely dissatisfied, or blank when not asked)"),
                 doc=f"{label}: 1-7 or the words of the scale; blank when not asked or don't know.")
          for q, label in QUESTIONS.items()),
    ),
    unique=(("respondent_ref",),),
)

CALLS = Schema(
    name="calls",
    columns=(
        Column("call_ref", "text", required=False, blank=True,
               doc="Call id. Unique within a force when given."),
        Column("received", "datetime", doc="When the call reached the control room, `YYYY-MM-DD HH:MM:SS`."),
        Column("answered", "datetime", blank=True, doc="When a call handler answered. Blank if abandoned."),
        Column("abandoned", "datetime", blank=True,
               doc="When the caller hung up before an answer. Blank if answered."),
        Column("channel", "enum", values={"999": "999", "emergency": "999", "101": "101",
                                          "non emergency": "101", "nonemergency": "101"},
               expected="999 or 101", doc="`999` (emergency line) or `101` (non-emergency line)."),
        Column("grade", "enum", required=False, blank=True,
               values={"1": 1, "grade 1": 1, "g1": 1, "emergency": 1, "immediate": 1,
                       "2": 2, "grade 2": 2, "g2": 2, "priority": 2,
                       "3": 3, "grade 3": 3, "g3": 3, "scheduled": 3},
               expected="1 (emergency), 2 (priority) or 3 (scheduled), or blank when no incident followed",
               doc="Grade of the incident that followed: 1 emergency, 2 priority, 3 scheduled; "
                   "blank if none."),
        Column("area", "enum", required=False, blank=True, values={"urban": "urban", "rural": "rural"},
               expected="urban or rural",
               doc="`urban` or `rural` (decides the grade 1 target). Required for grade 1."),
        Column("arrived", "datetime", required=False, blank=True,
               doc="When the first officer arrived. Blank if not attended."),
        _FORCE,
        Column("npu", "text", required=False, blank=True, doc="The NPU the incident was in (blank if none)."),
    ),
    checks=(
        Check("t.answered IS NOT NULL AND t.abandoned IS NOT NULL",
              "'a call is answered or abandoned, not both: give one of answered and abandoned'"),
        Check("t.answered IS NULL AND t.abandoned IS NULL",
              "'neither answered nor abandoned: give the time of one'"),
        _later("answered", "received", ": a call cannot be answered before it is received"),
        _later("abandoned", "received", ": a call cannot be abandoned before it is received"),
        _later("arrived", "received", ": attendance cannot come before the call"),
        Check("t.arrived IS NOT NULL AND t.grade IS NULL",
              "'arrived is given but grade is blank: an attendance needs the incident''s grade'"),
        Check("t.grade = 1 AND t.area IS NULL",
              "'grade 1 incident without area: urban or rural decides its 15 or 20 minute target'"),
    ),
    unique=(("call_ref",),),
)

DV = Schema(
    name="dv",
    columns=(
        Column("incident_ref", "text",
               doc="Incident number, or the crime reference when a crime was recorded. Unique "
                   "within a force. Linked to the force's recorded crimes by crime reference."),
        Column("reported", "datetime", date_only=True,
               doc="When the incident was reported, `YYYY-MM-DD HH:MM[:SS]` (or `YYYY-MM-DD`)."),
        _FORCE,
        _NPU,
        Column("officer", "text", required=False, blank=True,
               doc="The attending officer, as for satisfaction."),
        _risk(DV_RISKS, "Risk assessment: standard, medium, high or very high."),
        _bool("arrest", "Was an arrest made? yes/no."),
        _bool("repeat_victim", "Is the victim a repeat victim? yes/no."),
        Column("form_40a_submitted", "datetime", blank=True, date_only=True,
               doc="When the Form 40a (vulnerable person notification) was submitted; blank if not."),
    ),
    checks=(
        Check("t.form_40a_submitted < date_trunc('day', t.reported)",
              f"'form_40a_submitted ' || {quoted('t.form_40a_submitted__raw')} || "
              f"' is before the day reported ' || {quoted('t.reported__raw')}"),
    ),
    unique=(("incident_ref",),),
)

MISSING = Schema(
    name="missing",
    columns=(
        Column("report_ref", "text", doc="Missing person report id. Unique within a force."),
        Column("reported", "datetime", date_only=True, doc="When the person was reported missing."),
        Column("found", "datetime", blank=True, date_only=True,
               doc="When found; blank if still missing at as_at."),
        _risk(MISSING_RISKS, "Risk category: low, medium or high."),
        _FORCE,
        _NPU,
        Column("reviews_done", "int", minimum=0, doc="Number of reviews of the case done so far."),
        Column("as_at", "date", doc="The date the extract was taken, `YYYY-MM-DD`."),
    ),
    checks=(
        Check("t.found < date_trunc('day', t.reported)", _says("found", "is before reported", "reported")),
        Check("CAST(t.reported AS DATE) > t.as_at", _says("reported", "is after as_at", "as_at")),
        Check("CAST(t.found AS DATE) > t.as_at", _says("found", "is after as_at", "as_at")),
    ),
    unique=(("report_ref",),),
)

_SECOND_SNAPSHOT = ("(SELECT min(o._line) FROM _tab_typed o WHERE o.force = t.force "
                    "AND date_trunc('month', o.as_at) = date_trunc('month', t.as_at) "
                    "AND o.as_at <> t.as_at AND o._rn < t._rn)")

RSO = Schema(
    name="rso",
    columns=(
        Column("offender_ref", "text",
               doc="The offender's reference (e.g. ViSOR id). Unique within a snapshot."),
        Column("as_at", "date", doc="The snapshot date. One snapshot per force per month."),
        _FORCE,
        _NPU,
        Column("officer", "text", required=False, blank=True,
               doc="The SOLO (sex offender liaison officer) managing the offender; blank if unallocated."),
        _risk(RSO_RISKS, "Risk level: low, medium, high or very high."),
        Column("mappa_level", "enum",
               values={"1": 1, "level 1": 1, "2": 2, "level 2": 2, "3": 3, "level 3": 3},
               expected="1, 2 or 3", doc="MAPPA management level, 1-3."),
        Column("managed_from", "date", required=False, blank=True,
               doc="When management began; counts as the last visit when there has been none."),
        Column("last_visit", "date", blank=True, doc="Date of the last home visit; blank if none."),
        Column("next_visit", "date", required=False, blank=True,
               doc="The 'date of next visit' field as recorded; blank if not filled in."),
    ),
    checks=(
        Check("t.last_visit > t.as_at", _says("last_visit", "is after as_at", "as_at")),
        Check("t.managed_from > t.as_at", _says("managed_from", "is after as_at", "as_at")),
        Check(f"{_SECOND_SNAPSHOT} IS NOT NULL",
              f"'as_at ' || {quoted('t.as_at__raw')} || ' is a second snapshot in its month (line ' || "
              f"CAST({_SECOND_SNAPSHOT} AS VARCHAR) || ' has another date): one snapshot per month'"),
    ),
    unique=(("offender_ref", "as_at"),),
)

WORKFORCE = Schema(
    name="workforce",
    columns=(
        Column("month", "month", doc="The month, `YYYY-MM`."),
        _FORCE,
        Column("unit", "text", doc="An NPU or a BCU (BCU-level staff such as tactical patrol teams): "
               "its name as in the warehouse, or its unit id."),
        Column("officer_fte", "number", minimum=0, doc="Police officers, full-time equivalent."),
        Column("pcso_fte", "number", minimum=0, doc="PCSOs, full-time equivalent."),
        Column("special_hours", "number", required=False, blank=True, minimum=0,
               doc="Hours worked by special constables in the month."),
        Column("sickness_days", "number", minimum=0,
               doc="Working days lost to sickness by the unit's officers and PCSOs in the month."),
        Column("abstraction_planned_hours", "number", minimum=0,
               doc="Hours officers and PCSOs were abstracted from the unit by planned events."),
        Column("abstraction_spontaneous_hours", "number", minimum=0,
               doc="Hours abstracted by spontaneous (unplanned) demands."),
        Column("duty_hours", "number", required=False, blank=True, minimum=0,
               doc="Rostered hours of the unit's officers and PCSOs; blank = FTE x 40 x 52 / 12."),
    ),
    checks=(
        Check(f"t.abstraction_planned_hours + t.abstraction_spontaneous_hours > "
              f"coalesce(t.duty_hours, (t.officer_fte + t.pcso_fte) * {DUTY_HOURS_PER_FTE_MONTH})",
              "'abstraction hours (planned + spontaneous) exceed the unit''s duty hours'"),
    ),
    unique=(("unit", "month"),),
)


@dataclass(frozen=True)
class ServiceSource:
    name: str                    # `python -m etl load <name>`
    dataset: str                 # its lake dataset (etl.facts_services.SERVICE_DATASETS)
    schema: Schema
    stage: dict[str, str]        # dataset column -> SQL over the checked row `t`
    summary: str                 # one line for --help
    noun: str                    # what a row is, for messages ("respondents")
    unit_column: str = "npu"     # the input column naming the unit
    unit_levels: tuple[str, ...] = ("npu",)
    officer: bool = False        # rows may name an officer
    crime_links: bool = False    # incident_ref is matched against recorded crimes


def _month(col: str) -> str:
    return f"CAST(date_trunc('month', t.{col}) AS DATE)"


SOURCES: dict[str, ServiceSource] = {s.name: s for s in (
    ServiceSource(
        "satisfaction", "satisfaction", SATISFACTION,
        {"force_id": "t.force", "month": _month("interview_date"),
         "interview_date": "t.interview_date", "respondent_ref": "t.respondent_ref",
         "incident_ref": "t.incident_ref", "incident_type": "t.incident_type",
         "npu_ref": "t.npu", "officer_ref": "t.officer",
         **{q: f"t.{q}" for q in QUESTIONS}},
        "Load a user satisfaction survey: one row per respondent (docs/input-formats.md).",
        "respondents", officer=True, crime_links=True),
    ServiceSource(
        "calls", "calls", CALLS,
        {"force_id": "t.force", "month": _month("received"), "call_ref": "t.call_ref",
         "received": "t.received", "answered": "t.answered", "abandoned": "t.abandoned",
         "channel": "t.channel", "grade": "t.grade", "area": "t.area", "arrived": "t.arrived",
         "npu_ref": "t.npu"},
        "Load call handling data: one row per 999 or 101 call (docs/input-formats.md).",
        "calls"),
    ServiceSource(
        "dv", "dv", DV,
        {"force_id": "t.force", "month": _month("reported"), "incident_ref": "t.incident_ref",
         "reported": "t.reported", "risk": "t.risk", "arrest": "t.arrest",
         "repeat_victim": "t.repeat_victim", "form_40a_submitted": "t.form_40a_submitted",
         "npu_ref": "t.npu", "officer_ref": "t.officer"},
        "Load domestic incidents: one row per incident (docs/input-formats.md).",
        "incidents", officer=True, crime_links=True),
    ServiceSource(
        "missing", "missing", MISSING,
        {"force_id": "t.force", "month": _month("reported"), "report_ref": "t.report_ref",
         "reported": "t.reported", "found": "t.found", "risk": "t.risk",
         "reviews_done": "t.reviews_done", "reviews_due": REVIEWS_DUE_SQL, "as_at": "t.as_at",
         "npu_ref": "t.npu"},
        "Load missing person reports: one row per report (docs/input-formats.md).",
        "reports"),
    ServiceSource(
        "rso", "rso", RSO,
        {"force_id": "t.force", "month": _month("as_at"), "as_at": "t.as_at",
         "offender_ref": "t.offender_ref", "risk": "t.risk", "mappa_level": "t.mappa_level",
         "managed_from": "t.managed_from", "last_visit": "t.last_visit",
         "next_visit": "t.next_visit", "visit_due": VISIT_DUE_SQL,
         "npu_ref": "t.npu", "officer_ref": "t.officer"},
        "Load registered sex offenders under management: one row per offender per snapshot "
        "(docs/input-formats.md).",
        "offenders", officer=True),
    ServiceSource(
        "workforce", "workforce", WORKFORCE,
        {"force_id": "t.force", "month": "t.month", "unit_ref": "t.unit",
         "officer_fte": "t.officer_fte", "pcso_fte": "t.pcso_fte",
         "special_hours": "t.special_hours", "sickness_days": "t.sickness_days",
         "abstraction_planned_hours": "t.abstraction_planned_hours",
         "abstraction_spontaneous_hours": "t.abstraction_spontaneous_hours",
         "duty_hours": f"coalesce(t.duty_hours, (t.officer_fte + t.pcso_fte) * {DUTY_HOURS_PER_FTE_MONTH})"},
        "Load workforce returns: one row per unit and month (docs/input-formats.md).",
        "unit returns", unit_column="unit", unit_levels=("npu", "bcu")),
)}


def stage(con: duckdb.DuckDBPyConnection, source: ServiceSource, file: str) -> str:
    """The checked rows (`_tab_typed`) -> `stg_<dataset>` in the dataset's shape, plus `_file`.
    Unit ids are left NULL here: etl.services_load resolves them against the warehouse."""
    columns = SERVICE_DATASETS[source.dataset]
    exprs = {**source.stage, "line": "t._line"}
    select = ", ".join(f'CAST({exprs.get(c, "NULL")} AS {t}) AS "{c}"' for c, t in columns.items())
    table = f"stg_{source.dataset}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {select}, "
                f"CAST(? AS VARCHAR) AS _file FROM _tab_typed t ORDER BY t._rn", [file])
    return table
