"""Victim satisfaction: the Home Office user satisfaction survey, one row per respondent.

The five questions (ease of contact, actions taken, kept informed, treatment, whole
experience) on the 7-point scale; satisfied = completely, very or fairly satisfied. Rows are
linked to recorded crimes by incident reference and to officers by name or collar number.
Declares: the input schema, the staging shape, the measures and the demo generator.
"""


from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.demo.common import (
    FORCE_ID,
    DemoContext,
    DemoUnits,
    days_of,
    frame_of,
    month_start,
    progress,
)
from etl.measures.model import Measure
from etl.sources.base import Dataset, TabularSource
from etl.sources.tabular import (
    FORCE_COLUMN,
    NPU_COLUMN,
    Column,
    Schema,
    month_sql,
)

# ------------------------------------------------------------------------ staging shape

# One row per respondent to the user satisfaction survey (Home Office format). The five
# questions are on the 7-point scale 1 = completely satisfied ... 7 = completely
# dissatisfied; NULL = not asked, or "don't know". Satisfied = 1, 2 or 3.
COLUMNS: dict[str, str] = {
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


# ------------------------------------------------------------------------ input schema

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

SCHEMA = Schema(
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
        FORCE_COLUMN,
        NPU_COLUMN,
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


# ------------------------------------------------------------------------ measures

SATISFACTION = "Satisfaction"

_SURVEY = "user satisfaction survey (python -m etl load satisfaction), or the synthetic demo"

_NO_SATISFACTION_TARGET = (
    "none set: the force 'sets improvement targets in key areas such as ... customer "
    "satisfaction' (HMIC L729) but the seed gives no figure; targets move with the MSF (L747)")


def measures() -> list[Measure]:
    out: list[Measure] = []
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
    return out


# ------------------------------------------------------------------------ demo

# Survey: respondents a month, incident-type mix, and the share satisfied per question for
# the demo force (whole experience about 77%, a little lower than its MSF's 83%).
RESPONDENTS_PER_MONTH = 250

TYPE_MIX: dict[str, float] = {"burglary": 0.22, "vehicle": 0.26, "violent": 0.34,
                              "racist": 0.04, "asb": 0.14}

TYPE_CRIMES: dict[str, tuple[str, ...]] = {
    "burglary": ("burglary",), "vehicle": ("vehicle-crime",), "violent": ("violent-crime",),
    "racist": ("violent-crime", "public-order"),
}

TYPE_SHIFT: dict[str, float] = {"burglary": 0.15, "vehicle": -0.05, "violent": -0.10,
                                "racist": -0.25, "asb": -0.30}   # probit-scale offsets

ASB_SURVEYED_FROM = date(2007, 4, 1)

SATISFIED_SHARE: dict[str, float] = {"ease_of_contact": 0.91, "actions_taken": 0.73,
                                     "kept_informed": 0.60, "treatment": 0.89,
                                     "whole_experience": 0.77}

NOT_ASKED: dict[str, float] = {"ease_of_contact": 0.02, "actions_taken": 0.03,
                               "kept_informed": 0.12, "treatment": 0.01, "whole_experience": 0.0}

MSF_WHOLE_EXPERIENCE = 0.83

NATIONAL_WHOLE_EXPERIENCE = 0.80


def _answers(rng: np.random.Generator, p: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """7-point answers with P(1-3) = p, from a uniform `latent` shared with other questions."""
    cuts = np.stack([0.35 * p, 0.75 * p, p, p + 0.35 * (1 - p), p + 0.65 * (1 - p),
                     p + 0.85 * (1 - p)])
    return 1 + (latent[None, :] > cuts).sum(axis=0)


def _satisfaction(seed: int, start: date, end: date, u: DemoUnits, crimes: pd.DataFrame) -> pd.DataFrame:
    from scipy.special import ndtr, ndtri  # lazy: only the demo's generators use it; a police.uk
    # load imports this module and scipy.special alone costs ~0.2-0.35 s to import
    rng = np.random.default_rng([seed, 20])
    days = days_of(start, end)
    n_total = rng.poisson(RESPONDENTS_PER_MONTH * days.size / 30.44)
    interview = np.sort(days[rng.integers(0, days.size, size=n_total)])
    asb_ok = interview >= np.datetime64(ASB_SURVEYED_FROM, "D")
    types = np.array(list(TYPE_MIX), dtype=object)
    p_all = np.array(list(TYPE_MIX.values()))
    p_no_asb = np.where(types == "asb", 0.0, p_all)
    kind = np.where(asb_ok, rng.choice(types, size=n_total, p=p_all / p_all.sum()),
                    rng.choice(types, size=n_total, p=p_no_asb / p_no_asb.sum()))

    incident_ref = np.full(n_total, None, dtype=object)
    npu_id = np.full(n_total, None, dtype=object)
    officer_id = np.full(n_total, None, dtype=object)
    keep = np.ones(n_total, dtype=bool)
    c = crimes[~crimes["is_asb"]]
    c_dates = c["date"].to_numpy().astype("datetime64[D]")
    for key, cats in TYPE_CRIMES.items():
        rows = np.flatnonzero(kind == key)
        pool = np.flatnonzero(c["category"].isin(cats).to_numpy())
        pool = pool[np.argsort(c_dates[pool], kind="stable")]
        pool_dates = c_dates[pool]
        # Victims are interviewed 6 to 12 weeks after the crime. At the very start, before any
        # crime of the type is six weeks old, about one from the start of the data up to the
        # interview day itself: a first day with no respondent would leave the survey's first
        # year not covered, and every comparison with it would read "no data" (the dashboard
        # compares a period with last year only when every day of last year is loaded).
        lo = np.searchsorted(pool_dates, interview[rows] - np.timedelta64(84, "D"))
        hi = np.searchsorted(pool_dates, interview[rows] - np.timedelta64(42, "D"))
        early = hi <= lo
        hi = np.where(early, np.searchsorted(pool_dates, interview[rows], side="right"), hi)
        lo = np.where(early, 0, lo)
        ok = hi > lo
        keep[rows[~ok]] = False
        pick = pool[lo[ok] + (rng.random(ok.sum()) * (hi[ok] - lo[ok])).astype(np.int64)]
        r = rows[ok]
        incident_ref[r] = c["crime_id"].to_numpy()[pick]
        npu_id[r] = c["npu_id"].to_numpy()[pick]
        officer_id[r] = c["officer_id"].to_numpy()[pick]
    asb = np.flatnonzero(kind == "asb")
    npu_idx = rng.choice(u.npu_ids.size, size=asb.size, p=u.pop_weight)
    npu_id[asb] = u.npu_ids[npu_idx]
    officer_id[asb] = u.officers(rng, npu_idx, "neighbourhood")
    years = (interview[asb].astype("datetime64[Y]").astype(np.int64) + 1970) % 100
    incident_ref[asb] = [f"INC/{y:02d}/{s:06d}" for y, s in
                         zip(years, rng.integers(1, 400_000, size=asb.size), strict=True)]
    # Some survey records carry a mistyped crime reference, and some name no officer.
    has_ref = np.array([r is not None for r in incident_ref])
    garble = has_ref & (kind != "asb") & (rng.random(n_total) < 0.03)
    incident_ref[garble] = [f"{r}X" for r in incident_ref[garble]]
    officer_id[rng.random(n_total) < 0.10] = None

    idx = np.flatnonzero(keep)
    n = idx.size
    interview, kind = interview[idx], kind[idx]
    incident_ref, npu_id, officer_id = incident_ref[idx], npu_id[idx], officer_id[idx]

    # Answers: a respondent's overall mood (shared across questions), their incident type,
    # their NPU and a slow improvement over the years.
    npu_effect = dict(zip(u.npu_ids, rng.normal(0, 0.12, size=u.npu_ids.size), strict=True))
    shift = (np.array([TYPE_SHIFT[k] for k in kind]) + np.array([npu_effect[x] for x in npu_id])
             + 0.15 * (progress(interview) - 0.5))
    mood = rng.normal(size=n)
    data: dict[str, object] = {}
    for q in QUESTIONS:
        p = ndtr(ndtri(SATISFIED_SHARE[q]) + shift)
        latent = ndtr(np.sqrt(0.6) * mood + np.sqrt(0.4) * rng.normal(size=n))
        ans = _answers(rng, p, latent).astype(float)
        ans[rng.random(n) < NOT_ASKED[q]] = np.nan
        data[q] = pd.array(ans, dtype="Int32")
    data.update({
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": month_start(interview),
        "interview_date": interview.astype("datetime64[ns]"),
        "respondent_ref": np.array([f"SVY-{i:07d}" for i in range(1, n + 1)], dtype=object),
        "incident_ref": incident_ref,
        "incident_type": kind,
        "npu_ref": np.array([u.npu_name[x] for x in npu_id], dtype=object),
        "npu_id": npu_id,
        "officer_ref": u.names(officer_id),
        "officer_id": officer_id,
        "line": np.arange(1, n + 1, dtype=np.int64),
    })
    return frame_of(COLUMNS, data, n)


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"satisfaction": _satisfaction(ctx.seed, ctx.start, ctx.end, ctx.structure, ctx.crimes)}


SOURCE = TabularSource(
    name="satisfaction",
    summary="Load a user satisfaction survey: one row per respondent (docs/input-formats.md).",
    datasets=(Dataset("satisfaction", COLUMNS, "respondents", day_sql="interview_date"),),
    measures=measures,
    demo=demo,
    schema=SCHEMA,
    stage={"force_id": "t.force", "month": month_sql("interview_date"),
     "interview_date": "t.interview_date", "respondent_ref": "t.respondent_ref",
     "incident_ref": "t.incident_ref", "incident_type": "t.incident_type",
     "npu_ref": "t.npu", "officer_ref": "t.officer",
     **{q: f"t.{q}" for q in QUESTIONS}},
    officer=True,
    crime_links=True,
)
