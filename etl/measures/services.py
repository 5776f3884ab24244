"""Measures of victim satisfaction, call handling, protecting vulnerable people and workforce.

Each is a `Measure` (etl/measures.py) fed by one service dataset (etl/facts_services.py):
`num_sql` and `den_sql` are aggregate SQL over that dataset's lake rows, evaluated for every
unit and month by etl/cubes_services.py into cube_service_month (num, den, and num2 for
'mean' measures), so pages read every service measure the same way.

Statistical models: 'binomial' for proportions (Wilson intervals on num of den); 'poisson'
for counts and rates (exact Poisson interval on num, divided by den when there is one);
'mean' for the 101 answer time: mean = num / den, with the interval
mean +/- t(0.975, den - 1) * sd / sqrt(den), where sd^2 = (num2 - num^2 / den) / (den - 1)
(answer times are skewed, but a month's calls number hundreds, so the mean is near normal);
'none' for administrative totals (FTE, hours), which are censuses, not samples: no interval.

Targets are in the measure's display unit (after `scale`): 90.0 means 90%. Only targets that
the seed document (HMIC 2007) or a national standard gives are set; `target_source` says
where each comes from, or why there is none.

Labels follow HMIC's words where it has them ("arrests made at domestic incidents", "grade 3
... 72-hour target time", "notional constabulary target ratio of 1:50").
"""

from __future__ import annotations

from etl.facts_services import INCIDENT_TYPES, QUESTIONS
from etl.measures.model import Measure

SATISFACTION = "Satisfaction"
CALLS = "Call handling"
PVP = "Protecting vulnerable people"
WORKFORCE = "Workforce"

_SURVEY = "user satisfaction survey (python -m etl load satisfaction), or the synthetic demo"
_CALLS = "call handling data (python -m etl load calls), or the synthetic demo"
_DV = "domestic incidents (python -m etl load dv), or the synthetic demo"
_MISSING = "missing person reports (python -m etl load missing), or the synthetic demo"
_RSO = "registered sex offenders under management (python -m etl load rso), or the synthetic demo"
_WORKFORCE = "workforce returns (python -m etl load workforce), or the synthetic demo"

_NO_SATISFACTION_TARGET = (
    "none set: the force 'sets improvement targets in key areas such as ... customer "
    "satisfaction' (HMIC L729) but the seed gives no figure; targets move with the MSF (L747)")
_NO_ATTENDANCE_TARGET = (
    "the time is the standard; the percentage to attend within it is not given in the seed "
    "('targets for grade 1 and 2 incidents', HMIC L663)")


def _share(num_filter: str, den_filter: str = "TRUE") -> tuple[str, str]:
    return (f"count(*) FILTER (WHERE ({den_filter}) AND ({num_filter}))",
            f"count(*) FILTER (WHERE {den_filter})")


def service_measures() -> dict[str, Measure]:
    out: list[Measure] = []

    # ------------------------------------------------------------------ satisfaction
    for q, label in QUESTIONS.items():
        words = label[0].lower() + label[1:]
        out.append(Measure(
            id=f"satisfaction_{q}",
            label=f"User satisfaction: {words}",
            domain=SATISFACTION,
            description=(f"Survey respondents completely, very or fairly satisfied with {words} "
                         "(the top three points of the Home Office 7-point scale)."),
            numerator=f"respondents answering 1-3 (satisfied) on '{label}'",
            denominator=f"respondents answering '{label}' (1-7; not asked and don't know excluded)",
            unit="%", polarity="up", kind="proportion", source=_SURVEY, scale=100.0,
            headline=q == "whole_experience", dataset="satisfaction",
            num_sql=f"count(*) FILTER (WHERE {q} BETWEEN 1 AND 3)", den_sql=f"count({q})",
            target_source=_NO_SATISFACTION_TARGET,
        ))
    for key, name in INCIDENT_TYPES.items():
        out.append(Measure(
            id=f"satisfaction_whole_experience_{key}",
            label=f"User satisfaction with the whole experience: {name.lower()}",
            domain=SATISFACTION,
            description=f"Whole-experience satisfaction of respondents surveyed about {name.lower()}.",
            numerator=f"{name.lower()} respondents answering 1-3 on 'The whole experience'",
            denominator=f"{name.lower()} respondents answering 'The whole experience'",
            unit="%", polarity="up", kind="proportion", source=_SURVEY, scale=100.0,
            dataset="satisfaction",
            num_sql=(f"count(*) FILTER (WHERE incident_type = '{key}' "
                     "AND whole_experience BETWEEN 1 AND 3)"),
            den_sql=f"count(whole_experience) FILTER (WHERE incident_type = '{key}')",
            target_source=_NO_SATISFACTION_TARGET,
        ))

    # ------------------------------------------------------------------ call handling
    answered_secs = "date_diff('millisecond', received, answered) / 1000.0"
    for channel, name in (("999", "Emergency (999) calls"), ("101", "Non-emergency (101) calls")):
        out.append(Measure(
            id=f"calls_{channel}", label=f"{name} received", domain=CALLS,
            description=f"{name} received, answered or abandoned.",
            numerator=f"{channel} calls received", denominator=None, unit="calls",
            polarity="neutral", kind="count", source=_CALLS, dataset="calls",
            num_sql=f"count(*) FILTER (WHERE channel = '{channel}')",
        ))
    num, den = _share("answered <= received + INTERVAL 10 SECOND", "channel = '999'")
    out.append(Measure(
        id="calls_999_answered_10s", label="999 calls answered within 10 seconds", domain=CALLS,
        description=("Emergency calls answered within 10 seconds of reaching the control room, "
                     "as a share of all 999 calls received (abandoned calls count as not answered)."),
        numerator="999 calls answered within 10 seconds of being received",
        denominator="999 calls received (answered or abandoned)",
        unit="%", polarity="up", kind="proportion", source=_CALLS, scale=100.0, target=90.0,
        headline=True, dataset="calls", num_sql=num, den_sql=den,
        target_source="national call handling standard: 90% of 999 calls answered within 10 seconds",
    ))
    num, den = _share("abandoned IS NOT NULL")
    out.append(Measure(
        id="calls_abandoned_rate", label="Abandoned calls", domain=CALLS,
        description="Calls (999 and 101) on which the caller hung up before being answered.",
        numerator="calls abandoned before an answer", denominator="calls received",
        unit="%", polarity="down", kind="proportion", source=_CALLS, scale=100.0,
        dataset="calls", num_sql=num, den_sql=den,
        target_source="none in the seed or the national standards used here",
    ))
    num, den = _share("abandoned IS NOT NULL", "channel = '101'")
    out.append(Measure(
        id="calls_101_abandoned_rate", label="Non-emergency (101) calls abandoned", domain=CALLS,
        description=("Non-emergency calls abandoned before an answer: the 'non-emergency "
                     "call-handling data' flagged at the force PIM (HMIC L659)."),
        numerator="101 calls abandoned before an answer", denominator="101 calls received",
        unit="%", polarity="down", kind="proportion", source=_CALLS, scale=100.0,
        dataset="calls", num_sql=num, den_sql=den,
        target_source="none in the seed or the national standards used here",
    ))
    answered_101 = "channel = '101' AND answered IS NOT NULL"
    out.append(Measure(
        id="calls_101_answer_time", label="Average time to answer a non-emergency (101) call",
        domain=CALLS,
        description="Mean seconds from a 101 call reaching the control room to its answer.",
        numerator="seconds from received to answered, summed over answered 101 calls",
        denominator="101 calls answered",
        unit="seconds", polarity="down", kind="mean", source=_CALLS, dataset="calls",
        num_sql=f"sum({answered_secs}) FILTER (WHERE {answered_101})",
        den_sql=f"count(*) FILTER (WHERE {answered_101})",
        num2_sql=f"sum(({answered_secs}) * ({answered_secs})) FILTER (WHERE {answered_101})",
        target_source="none in the seed or the national standards used here",
    ))
    for mid, label, cond, minutes, words in (
        ("grade1_urban_15min", "Grade 1 (emergency) incidents attended within 15 minutes: urban",
         "grade = 1 AND area = 'urban'", 15, "15 minutes"),
        ("grade1_rural_20min", "Grade 1 (emergency) incidents attended within 20 minutes: rural",
         "grade = 1 AND area = 'rural'", 20, "20 minutes"),
        ("grade2_60min", "Grade 2 (priority) incidents attended within 60 minutes",
         "grade = 2", 60, "60 minutes"),
        ("grade3_72h", "Grade 3 calls attended within the 72-hour target time",
         "grade = 3", 72 * 60, "72 hours"),
    ):
        num, den = _share(f"arrived <= received + INTERVAL {minutes} MINUTE", cond)
        out.append(Measure(
            id=mid, label=label, domain=CALLS,
            description=(f"Incidents of this grade with an officer at the scene within {words} "
                         "of the call being received; not attended counts as not in time."),
            numerator=f"incidents attended within {words} of the call",
            denominator="incidents of this grade",
            unit="%", polarity="up", kind="proportion", source=_CALLS, scale=100.0,
            headline=mid == "grade1_urban_15min", dataset="calls", num_sql=num, den_sql=den,
            target_source=(_NO_ATTENDANCE_TARGET if mid != "grade3_72h" else
                           "the 72 hours is the target time (HMIC L508); no percentage is given"),
        ))

    # ------------------------------------------------------------------ domestic incidents
    out.append(Measure(
        id="dv_incidents", label="Domestic incidents", domain=PVP,
        description="Domestic incidents reported.", numerator="domestic incidents", denominator=None,
        unit="incidents", polarity="neutral", kind="count", source=_DV, dataset="dv",
        num_sql="count(*)",
        target_source="none: partners aim both to 'increase reporting' and to reduce 'reported "
                      "incidents' (HMIC L1171, L1081), so a rise is neither good nor bad",
    ))
    out.append(Measure(
        id="dv_high_risk", label="High and very high risk domestic incidents", domain=PVP,
        description="Domestic incidents assessed as high or very high risk (specialist investigators).",
        numerator="domestic incidents assessed high or very high risk", denominator=None,
        unit="incidents", polarity="neutral", kind="count", source=_DV, dataset="dv",
        num_sql="count(*) FILTER (WHERE risk IN ('high', 'very high'))",
    ))
    out.append(Measure(
        id="dv_arrest_rate", label="Arrests made at domestic incidents", domain=PVP,
        description="Domestic incidents at which an arrest was made (positive action).",
        numerator="domestic incidents with an arrest", denominator="domestic incidents",
        unit="%", polarity="up", kind="proportion", source=_DV, scale=100.0, headline=True,
        dataset="dv", num_sql="count(*) FILTER (WHERE arrest)", den_sql="count(*)",
        target_source="none set: HMIC reports 'an arrest rate of over 52% in 2006/07 compared "
                      "with the MSF rate of 33%' (L1059)",
    ))
    out.append(Measure(
        id="dv_repeat_victims", label="Repeat victims of domestic violence", domain=PVP,
        description="Domestic incidents whose victim is a repeat victim.",
        numerator="domestic incidents with a repeat victim", denominator="domestic incidents",
        unit="%", polarity="down", kind="proportion", source=_DV, scale=100.0, dataset="dv",
        num_sql="count(*) FILTER (WHERE repeat_victim)", den_sql="count(*)",
        target_source="a 'reduction in numbers of repeat victims' is a CDAP joint measure "
                      "(HMIC L1081), without a figure",
    ))
    out.append(Measure(
        id="dv_form40a_24h", label="Form 40a (vulnerable person notification) submitted within 24 hours",
        domain=PVP,
        description=("Domestic incidents whose Form 40a was submitted within 24 hours of the report; "
                     "late and missing forms count as not in time (HMIC L1237, L1247)."),
        numerator="domestic incidents with Form 40a submitted within 24 hours",
        denominator="domestic incidents",
        unit="%", polarity="up", kind="proportion", source=_DV, scale=100.0, dataset="dv",
        num_sql="count(*) FILTER (WHERE form_40a_submitted <= reported + INTERVAL 24 HOUR)",
        den_sql="count(*)",
        target_source="none in the seed; every incident needs one, so the aim is 100%",
    ))

    # ------------------------------------------------------------------ missing persons
    out.append(Measure(
        id="missing_reports", label="Missing persons reported", domain=PVP,
        description="Missing person reports, by the month reported.",
        numerator="missing person reports", denominator=None, unit="reports",
        polarity="neutral", kind="count", source=_MISSING, dataset="missing", num_sql="count(*)",
    ))
    for risk in ("high", "medium", "low"):
        out.append(Measure(
            id=f"missing_{risk}_risk", label=f"Missing persons reported: {risk} risk", domain=PVP,
            description=f"Missing person reports assessed {risk} risk ('by risk category', HMIC L1514).",
            numerator=f"missing person reports assessed {risk} risk", denominator=None,
            unit="reports", polarity="neutral", kind="count", source=_MISSING,
            dataset="missing", num_sql=f"count(*) FILTER (WHERE risk = '{risk}')",
        ))
    out.append(Measure(
        id="missing_reviews_overdue", label="Missing person cases with reviews overdue", domain=PVP,
        description=("Cases with fewer reviews done than due: medium and high risk weekly; long-term "
                     "cases at 28 days, three months, six months and then annually (HMIC L1562)."),
        numerator="cases with fewer reviews done than due",
        denominator="cases with at least one review due",
        unit="%", polarity="down", kind="proportion", source=_MISSING, scale=100.0,
        dataset="missing", num_sql="count(*) FILTER (WHERE reviews_done < reviews_due)",
        den_sql="count(*) FILTER (WHERE reviews_due > 0)",
        target_source="none in the seed; every review is due, so the aim is 0%",
    ))

    # ------------------------------------------------------------------ sex offenders
    out.append(Measure(
        id="rso_managed", label="Registered sex offenders managed", domain=PVP,
        description="RSOs under management at the month's snapshot (603, 730, 816 in the three "
                    "quarters to Q1 2007, HMIC L1305).",
        numerator="RSOs under management", denominator=None, unit="offenders",
        polarity="neutral", kind="count", source=_RSO, dataset="rso", num_sql="count(*)",
        aggregate="latest",
    ))
    for level in (1, 2, 3):
        out.append(Measure(
            id=f"rso_mappa_level_{level}", label=f"RSOs managed at MAPPA level {level}", domain=PVP,
            description=f"RSOs under management at MAPPA level {level} at the month's snapshot.",
            numerator=f"RSOs at MAPPA level {level}", denominator=None, unit="offenders",
            polarity="neutral", kind="count", source=_RSO, dataset="rso",
            num_sql=f"count(*) FILTER (WHERE mappa_level = {level})", aggregate="latest",
        ))
    overdue = "visit_due IS NULL OR visit_due < as_at"
    out.append(Measure(
        id="rso_visits_overdue", label="RSO home visits overdue", domain=PVP,
        description=("RSOs whose next home visit was due before the snapshot: visits every 12, 6, 3 "
                     "and 1 months for low, medium, high and very high risk (HMIC L1462)."),
        numerator="RSOs with a home visit overdue", denominator="RSOs under management",
        unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0, headline=True,
        dataset="rso", num_sql=f"count(*) FILTER (WHERE {overdue})", den_sql="count(*)",
        aggregate="latest", target_source="none in the seed; every visit is due, so the aim is 0%",
    ))
    for risk in ("low", "medium", "high", "very high"):
        key = risk.replace(" ", "_")
        num, den = _share(overdue, f"risk = '{risk}'")
        out.append(Measure(
            id=f"rso_visits_overdue_{key}", label=f"RSO home visits overdue: {risk} risk", domain=PVP,
            description=f"{risk.capitalize()} risk RSOs whose home visit is overdue.",
            numerator=f"{risk} risk RSOs with a home visit overdue",
            denominator=f"{risk} risk RSOs under management",
            unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0,
            dataset="rso", num_sql=num, den_sql=den, aggregate="latest",
        ))
    out.append(Measure(
        id="rso_next_visit_missing", label="RSO records without a 'date of next visit'", domain=PVP,
        description="RSO records whose 'date of next visit' field is not filled in (HMIC L1459).",
        numerator="RSOs with no date of next visit recorded", denominator="RSOs under management",
        unit="%", polarity="down", kind="proportion", source=_RSO, scale=100.0, dataset="rso",
        num_sql="count(*) FILTER (WHERE next_visit IS NULL)", den_sql="count(*)", aggregate="latest",
    ))
    out.append(Measure(
        id="solo_caseload", label="RSOs managed per SOLO", domain=PVP,
        description=("Registered sex offenders under management per sex offender liaison officer "
                     "(SOLOs named in the records, counted once each). SOLOs work across a BCU, so "
                     "the figure is meaningful at force and BCU level."),
        numerator="RSOs under management", denominator="SOLOs managing them",
        unit="RSOs per SOLO", polarity="down", kind="rate", source=_RSO, target=50.0,
        dataset="rso", num_sql="count(*)",
        den_sql="count(DISTINCT coalesce(officer_id, 'ref:' || officer_ref))", aggregate="latest",
        target_source="'notional constabulary target ratio of 1:50' (HMIC L1429)",
    ))

    # ------------------------------------------------------------------ workforce
    for mid, label, col in (("officer_fte", "Police officers (FTE)", "officer_fte"),
                            ("pcso_fte", "PCSOs (FTE)", "pcso_fte")):
        out.append(Measure(
            id=mid, label=label, domain=WORKFORCE, description=f"{label} in the unit's return.",
            numerator=label, denominator=None, unit="FTE", polarity="neutral", kind="census",
            source=_WORKFORCE, dataset="workforce", num_sql=f"sum({col})", aggregate="latest",
        ))
    out.append(Measure(
        id="special_hours", label="Special constable hours", domain=WORKFORCE,
        description="Hours worked by special constables (their 'simple monthly return', HMIC L560).",
        numerator="special constable hours", denominator=None, unit="hours", polarity="up",
        kind="census", source=_WORKFORCE, dataset="workforce", num_sql="sum(special_hours)",
    ))
    out.append(Measure(
        id="sickness_days_per_fte", label="Working days lost to sickness per FTE", domain=WORKFORCE,
        description="Working days lost to sickness by officers and PCSOs, per FTE per month.",
        numerator="working days lost to sickness", denominator="officer and PCSO FTE (per month)",
        unit="days per FTE per month", polarity="down", kind="rate", source=_WORKFORCE,
        dataset="workforce", num_sql="sum(sickness_days)", den_sql="sum(officer_fte + pcso_fte)",
        target_source="none: the seed gives no sickness figures (HMIC L735)",
    ))
    for mid, label, expr in (
        ("abstraction_rate", "Abstraction from NPU and BCU duties",
         "abstraction_planned_hours + abstraction_spontaneous_hours"),
        ("abstraction_planned_rate", "Planned abstraction", "abstraction_planned_hours"),
        ("abstraction_spontaneous_rate", "Spontaneous abstraction", "abstraction_spontaneous_hours"),
    ):
        out.append(Measure(
            id=mid, label=label, domain=WORKFORCE,
            description=("Hours officers and PCSOs were taken away from their unit, as a share of "
                         "their duty hours (HMIC L520: 'both planned and spontaneous abstraction')."),
            numerator="hours abstracted", denominator="duty hours",
            unit="%", polarity="down", kind="census_ratio", source=_WORKFORCE, scale=100.0,
            headline=mid == "abstraction_rate", dataset="workforce",
            num_sql=f"sum({expr})", den_sql="sum(duty_hours)",
            target_source="none: HMIC recommends abstraction targets (L520) without figures",
        ))
    return {m.id: m for m in out}
