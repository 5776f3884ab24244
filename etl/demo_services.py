"""Synthetic service data for the demo force: survey respondents, 999 and 101 calls,
domestic incidents, missing person reports, registered sex offenders, workforce returns;
and force-level comparators of the other 42 forces for satisfaction, 999 answering and the
domestic incident arrest rate.

Built on the demo's units and crimes (etl.demo.generate), so the numbers agree with each other:
survey respondents and a share of domestic incidents are victims of the demo's recorded crimes,
with the officer in charge of the crime as their officer; calls, incidents and reports fall in
NPUs in proportion to their crime; sex offenders are managed by a handful of detectives acting
as SOLOs in each BCU.

The shapes follow what HMIC found in 2007 (seed requirements, section 2), with invented levels:
- user satisfaction below the most similar forces (the force "has some of the lowest levels
  nationally", L632), improving slowly; anti-social behaviour respondents only from April 2007
  (L675);
- arrests at about 52% of domestic incidents against an MSF rate near 33% (L1059); Form 40a
  often late or missing (L1237);
- RSOs under management growing quarter by quarter through 603, 730 and 816 in the three
  quarters to March 2007 (L1305), about 87% / 12% / 1% at MAPPA levels 1 / 2 / 3 (L1307), about
  100 per SOLO against the notional 1:50 (L1429), low and medium risk visits most often late
  and the 'date of next visit' field mostly blank (L1459-1469);
- grade 3 calls against the 72-hour target (L508), 999 answering near the 90% standard and
  non-emergency answering improving (L659).

Which forces are Cheshire's MSF the report does not say: DEMO_MSF is a synthetic group.
Deterministic: the same seed gives the same frames; each dataset draws from its own stream.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from etl.facts_services import (
    QUESTIONS,
    REVIEWS_DUE_SQL,
    SERVICE_DATASETS,
    VISIT_DUE_SQL,
    VISIT_INTERVAL_MONTHS,
)
from etl.reference import FORCES

FORCE_ID = "cheshire"

# A synthetic most-similar-force group for the demo (the report names no members).
DEMO_MSF: tuple[str, ...] = (
    "derbyshire", "essex", "hertfordshire", "leicestershire", "nottinghamshire",
    "staffordshire", "west-mercia",
)

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

# Calls: a day's 999 and 101 calls; answering; grades and attendance (lognormal minutes).
CALLS_999_PER_DAY = 380
CALLS_101_PER_DAY = 800
_HOURLY = np.array([3, 2.5, 2, 1.5, 1.2, 1.2, 1.6, 2.6, 3.6, 4.2, 4.5, 4.7,
                    4.9, 4.9, 5.0, 5.2, 5.5, 5.8, 6.0, 6.0, 5.8, 5.4, 4.8, 3.9])
_ATTEND = {(1, "urban"): (9.0, 0.45, 0.005), (1, "rural"): (13.0, 0.45, 0.005),
           (2, None): (35.0, 0.6, 0.02), (3, None): (20 * 60.0, 1.0, 0.06)}

# Domestic incidents.
DV_PER_MONTH = 1000
DV_RISK_MIX: dict[str, float] = {"standard": 0.58, "medium": 0.27, "high": 0.12, "very high": 0.03}
DV_ARREST: dict[str, float] = {"standard": 0.45, "medium": 0.60, "high": 0.76, "very high": 0.86}
MSF_DV_ARREST = 0.33

# Missing persons.
MISSING_PER_MONTH = 250
MISSING_RISK_MIX: dict[str, float] = {"low": 0.55, "medium": 0.35, "high": 0.10}

# Registered sex offenders under management: anchors of the total (HMIC L1305 for 2006/07).
RSO_ANCHORS: tuple[tuple[date, int], ...] = (
    (date(1998, 1, 1), 250), (date(2006, 9, 1), 603), (date(2006, 12, 1), 730),
    (date(2007, 3, 1), 816), (date(2008, 3, 1), 905), (date(2020, 3, 1), 1900),
)
RSO_RISK_MIX: dict[str, float] = {"low": 0.40, "medium": 0.35, "high": 0.20, "very high": 0.05}
RSO_LATENESS: dict[str, float] = {"low": 1.25, "medium": 1.2, "high": 1.07, "very high": 1.04}
SOLOS_PER_BCU = (3, 3, 2)   # seven full-time and one part-time SOLO (L1395)

# Comparators: measures supplied for the other forces.
COMPARATOR_MEASURES = (*(f"satisfaction_{q}" for q in QUESTIONS), "calls_999_answered_10s",
                       "dv_arrest_rate")


# --------------------------------------------------------------------------- helpers


def _add_months(d: date, k: int) -> date:
    total = d.year * 12 + d.month - 1 + k
    return date(total // 12, total % 12 + 1, 1)


def _frame(dataset: str, data: dict[str, object], n: int) -> pd.DataFrame:
    """Columns in the dataset's order; absent ones NULL, typed by the dataset's SQL type."""
    out = {}
    for col, sql_type in SERVICE_DATASETS[dataset].items():
        if col in data:
            out[col] = data[col]
        elif sql_type in ("DATE", "TIMESTAMP"):
            out[col] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        elif sql_type == "DOUBLE":
            out[col] = np.full(n, np.nan)
        else:
            out[col] = pd.array([None] * n, dtype=object)
    return pd.DataFrame(out)


def _nullable_int(values: np.ndarray, present: np.ndarray) -> pd.arrays.IntegerArray:
    out = pd.array(np.where(present, values, 0), dtype="Int32")
    out[~present] = pd.NA
    return out


def _secs(x: np.ndarray) -> np.ndarray:
    """Seconds (float) -> timedelta64[ms]."""
    return np.rint(x * 1000).astype("timedelta64[ms]")


def _month_of(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[M]").astype("datetime64[ns]")


def _pick(rng: np.random.Generator, items: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return items[rng.choice(len(items), size=n, p=weights / weights.sum())]


class _Units:
    """The demo's structure as arrays: NPUs, their BCUs, officers by NPU and team type."""

    def __init__(self, units: pd.DataFrame, crimes: pd.DataFrame) -> None:
        u = units[units["force_id"] == FORCE_ID]
        npus = u[u["level"] == "npu"].sort_values("unit_id")
        self.npu_ids = npus["unit_id"].to_numpy(dtype=object)
        self.npu_names = npus["name"].to_numpy(dtype=object)
        self.npu_bcu = npus["parent_id"].to_numpy(dtype=object)
        pop = npus["population"].astype(float).to_numpy()
        area = npus["area_km2"].astype(float).to_numpy()
        self.pop_weight = pop / pop.sum()
        density = pop / area
        self.urban_share = np.clip(density / 1500.0, 0.30, 0.95)
        counts = crimes[~crimes["is_asb"]].groupby("npu_id").size()
        crime = np.array([counts.get(n, 0) for n in self.npu_ids], dtype=float) + 1.0
        self.crime_weight = crime / crime.sum()
        self.npu_name = dict(zip(self.npu_ids, self.npu_names, strict=True))
        bcus = u[u["level"] == "bcu"].sort_values("unit_id")
        self.bcu_ids = bcus["unit_id"].to_numpy(dtype=object)
        self.bcu_names = bcus["name"].to_numpy(dtype=object)
        teams = u[u["level"] == "team"].set_index("unit_id")
        officers = u[u["level"] == "officer"].sort_values("unit_id")
        team_of = officers["parent_id"].to_numpy(dtype=object)
        kind = np.array([teams.loc[t, "name"].split()[0].lower() for t in team_of], dtype=object)
        npu_of = np.array([teams.loc[t, "parent_id"] for t in team_of], dtype=object)
        self.officer_ids = officers["unit_id"].to_numpy(dtype=object)
        self.officer_names = officers["name"].to_numpy(dtype=object)
        self.officer_name = dict(zip(self.officer_ids, self.officer_names, strict=True))
        self.by_npu: dict[tuple[str, str], np.ndarray] = {}
        for npu in self.npu_ids:
            for k in ("response", "neighbourhood", "cid"):
                ids = self.officer_ids[(npu_of == npu) & (kind == k)]
                self.by_npu[(npu, k)] = ids
        self.officer_npu = dict(zip(self.officer_ids, npu_of, strict=True))
        self.officer_kind = dict(zip(self.officer_ids, kind, strict=True))

    def officers(self, rng: np.random.Generator, npu_idx: np.ndarray, kind: str) -> np.ndarray:
        """A random officer of `kind` (falling back to response) in each row's NPU."""
        out = np.empty(npu_idx.size, dtype=object)
        for i, npu in enumerate(self.npu_ids):
            rows = np.flatnonzero(npu_idx == i)
            pool = self.by_npu[(npu, kind)]
            if pool.size == 0:
                pool = self.by_npu[(npu, "response")]
            if rows.size:
                out[rows] = pool[rng.integers(0, pool.size, size=rows.size)]
        return out

    def names(self, ids: np.ndarray) -> np.ndarray:
        return np.array([self.officer_name.get(i) if i is not None else None for i in ids],
                        dtype=object)


def _days(start: date, end: date) -> np.ndarray:
    return np.arange(np.datetime64(start, "D"), np.datetime64(_add_months(end, 1), "D"))


def _daily_counts(rng: np.random.Generator, days: np.ndarray, per_day: float,
                  weekend: float = 1.0, amplitude: float = 0.08) -> np.ndarray:
    month_no = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dow = (days.astype(np.int64) + 3) % 7
    lam = per_day * (1 + amplitude * np.cos(2 * np.pi * (month_no - 7) / 12))
    lam = lam * np.where(dow >= 5, weekend, 1.0)
    lam *= per_day * days.size / lam.sum()
    return rng.poisson(lam)


def _times(rng: np.random.Generator, day: np.ndarray, hourly: np.ndarray = _HOURLY) -> np.ndarray:
    """A time of day for each row on its day, from an hourly profile."""
    hour = rng.choice(24, size=day.size, p=hourly / hourly.sum())
    secs = hour * 3600 + rng.integers(0, 3600, size=day.size)
    return day.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def _progress(days_or_months: np.ndarray) -> np.ndarray:
    """0 at the start of the period, 1 at its end: for slow trends."""
    x = days_or_months.astype("datetime64[D]").astype(np.int64).astype(float)
    span = max(x.max() - x.min(), 1.0)
    return (x - x.min()) / span


# --------------------------------------------------------------------------- satisfaction


def _answers(rng: np.random.Generator, p: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """7-point answers with P(1-3) = p, from a uniform `latent` shared with other questions."""
    cuts = np.stack([0.35 * p, 0.75 * p, p, p + 0.35 * (1 - p), p + 0.65 * (1 - p),
                     p + 0.85 * (1 - p)])
    return 1 + (latent[None, :] > cuts).sum(axis=0)


def _satisfaction(seed: int, start: date, end: date, u: _Units, crimes: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 20])
    days = _days(start, end)
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
        # Victims are interviewed 6 to 12 weeks after the crime (sooner at the very start).
        lo = np.searchsorted(pool_dates, interview[rows] - np.timedelta64(84, "D"))
        hi = np.searchsorted(pool_dates, interview[rows] - np.timedelta64(42, "D"))
        early = hi <= lo
        hi = np.where(early, np.searchsorted(pool_dates, interview[rows]), hi)
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
             + 0.15 * (_progress(interview) - 0.5))
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
        "month": _month_of(interview),
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
    return _frame("satisfaction", data, n)


# --------------------------------------------------------------------------- calls


def _calls(seed: int, start: date, end: date, u: _Units) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 21])
    days = _days(start, end)
    n999 = _daily_counts(rng, days, CALLS_999_PER_DAY, weekend=1.15)
    n101 = _daily_counts(rng, days, CALLS_101_PER_DAY, weekend=0.85)
    day = np.concatenate([np.repeat(days, n999), np.repeat(days, n101)])
    is999 = np.concatenate([np.ones(n999.sum(), bool), np.zeros(n101.sum(), bool)])
    n = day.size
    received = _times(rng, day)
    order = np.argsort(received, kind="stable")
    received, is999 = received[order], is999[order]
    t = _progress(received)

    # 999: answered after 1 s + an exponential wait with P(<= 10 s) near the 90% standard,
    # improving from 87% to 92% over the period; about 1% abandoned.
    p10 = np.clip(0.87 + 0.05 * t + rng.normal(0, 0.01, n), 0.5, 0.995)
    wait999 = 1 + rng.exponential(-9.0 / np.log(1 - p10))
    # 101: mean wait falling from 70 s to 30 s; callers give up after an exponential patience.
    wait101 = rng.exponential(70 - 40 * t)
    patience = rng.exponential(600.0, n)
    abandoned = np.where(is999, rng.random(n) < 0.011, patience < wait101)
    wait = np.where(is999, wait999, wait101)
    hang_up = np.where(is999, rng.uniform(3, 30, n), patience)
    rec = received.astype("datetime64[ms]")
    answered = np.where(abandoned, np.datetime64("NaT"), rec + _secs(wait))
    abandoned_at = np.where(abandoned, rec + _secs(hang_up), np.datetime64("NaT"))

    # Incidents: grade by channel; NPU in proportion to its crime; urban or rural.
    r = rng.random(n)
    grade = np.where(is999, np.select([r < 0.55, r < 0.85, r < 0.90], [1, 2, 3], 0),
                     np.select([r < 0.08, r < 0.48], [2, 3], 0))
    grade[abandoned] = 0
    has = grade > 0
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.crime_weight)
    urban = rng.random(n) < u.urban_share[npu_idx]
    minutes = np.full(n, np.nan)
    for (g, area), (median, sigma, missed) in _ATTEND.items():
        rows = (grade == g) & ((urban if area == "urban" else ~urban) if area else True)
        k = int(rows.sum())
        m = median * np.exp(sigma * rng.normal(size=k))
        m[rng.random(k) < missed] = np.nan
        minutes[rows] = m
    arrived = np.where(np.isnan(minutes), np.datetime64("NaT"),
                       rec + _secs(np.nan_to_num(minutes) * 60))

    # Millions of rows: low-cardinality text as categoricals (DuckDB casts them back to text).
    def coded(codes: np.ndarray, categories: np.ndarray | list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=list(categories))

    no_incident = np.where(has, npu_idx, -1)
    return _frame("calls", {
        "force_id": coded(np.zeros(n, dtype=np.int8), [FORCE_ID]),
        "month": _month_of(received),
        "received": rec.astype("datetime64[ns]"),
        "answered": answered.astype("datetime64[ns]"),
        "abandoned": abandoned_at.astype("datetime64[ns]"),
        "channel": coded(np.where(is999, 0, 1), ["999", "101"]),
        "grade": _nullable_int(grade, has),
        "area": coded(np.where(has, np.where(urban, 0, 1), -1), ["urban", "rural"]),
        "arrived": arrived.astype("datetime64[ns]"),
        "npu_ref": coded(no_incident, u.npu_names),
        "npu_id": coded(no_incident, u.npu_ids),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


# --------------------------------------------------------------------------- domestic incidents


def _dv(seed: int, start: date, end: date, u: _Units, crimes: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 22])
    days = _days(start, end)
    counts = _daily_counts(rng, days, DV_PER_MONTH * 12 / 365.25, weekend=1.3, amplitude=0.06)
    day = np.repeat(days, counts)
    n = day.size
    # About 40% of domestic incidents are recorded as violent crimes: those rows are the
    # demo's own crimes, with their date, NPU and officer in charge.
    violent = crimes[crimes["category"].eq("violent-crime")]
    linked = rng.random(n) < 0.40
    k = min(int(linked.sum()), len(violent))
    chosen = violent.iloc[np.sort(rng.choice(len(violent), size=k, replace=False))]
    linked_rows = np.flatnonzero(linked)[:k]
    linked[np.flatnonzero(linked)[k:]] = False
    day[linked_rows] = np.sort(chosen["date"].to_numpy().astype("datetime64[D]"))
    evening = np.array([2, 1.5, 1, 0.8, 0.6, 0.5, 0.5, 0.7, 1, 1.2, 1.4, 1.6,
                        1.8, 2, 2.2, 2.5, 3, 3.6, 4.2, 4.8, 5.2, 5, 4.2, 3])
    reported = _times(rng, day, evening)
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.crime_weight)
    npu_id = u.npu_ids[npu_idx].astype(object)
    officer_id = u.officers(rng, npu_idx, "response")
    incident_ref = np.array([f"DV-{i:07d}" for i in range(1, n + 1)], dtype=object)
    order = np.argsort(chosen["date"].to_numpy(), kind="stable")
    incident_ref[linked_rows] = chosen["crime_id"].to_numpy()[order]
    npu_id[linked_rows] = chosen["npu_id"].to_numpy()[order]
    officer_id[linked_rows] = chosen["officer_id"].to_numpy()[order]

    risks = np.array(list(DV_RISK_MIX), dtype=object)
    risk = rng.choice(risks, size=n, p=np.array(list(DV_RISK_MIX.values())))
    npu_arrest = dict(zip(u.npu_ids, rng.normal(0, 0.15, u.npu_ids.size), strict=True))
    p_arrest = ndtr(ndtri(np.array([DV_ARREST[r] for r in risk]))
                    + np.array([npu_arrest[x] for x in npu_id]))
    arrest = rng.random(n) < p_arrest
    repeat = rng.random(n) < np.where(np.isin(risk, ["high", "very high"]), 0.45, 0.28)
    t = _progress(reported)
    r = rng.random(n)
    on_time, late = 0.62 + 0.10 * t, 0.17
    hours = np.where(r < on_time, rng.uniform(0.5, 24, n),
                     np.where(r < on_time + late, rng.uniform(24.5, 240, n), np.nan))
    rep = reported.astype("datetime64[s]")
    form = np.where(np.isnan(hours), np.datetime64("NaT"),
                    rep + (np.nan_to_num(hours) * 3600).astype("timedelta64[s]"))
    return _frame("dv", {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": _month_of(reported),
        "incident_ref": incident_ref,
        "reported": rep.astype("datetime64[ns]"),
        "risk": risk,
        "arrest": arrest,
        "repeat_victim": repeat,
        "form_40a_submitted": form.astype("datetime64[ns]"),
        "npu_ref": np.array([u.npu_name[x] for x in npu_id], dtype=object),
        "npu_id": npu_id,
        "officer_ref": u.names(officer_id),
        "officer_id": officer_id,
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


# --------------------------------------------------------------------------- missing persons


def _derive(frame: pd.DataFrame, sql: str) -> np.ndarray:
    """Evaluate one of etl.facts_services' derived-column rules over a frame."""
    con = duckdb.connect()
    try:
        con.register("f", frame)
        return con.execute(f"SELECT {sql} AS v FROM f").fetchnumpy()["v"]
    finally:
        con.close()


def _missing(seed: int, start: date, end: date, u: _Units) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 23])
    days = _days(start, end)
    counts = _daily_counts(rng, days, MISSING_PER_MONTH * 12 / 365.25, weekend=1.1)
    day = np.repeat(days, counts)
    n = day.size
    reported = _times(rng, day).astype("datetime64[s]")
    risks = np.array(list(MISSING_RISK_MIX), dtype=object)
    risk = rng.choice(risks, size=n, p=np.array(list(MISSING_RISK_MIX.values())))
    # Most are found within hours; about 3% are long-term cases of weeks or months.
    hours = np.where(rng.random(n) < 0.03, rng.gamma(1.2, 40 * 24, n),
                     np.exp(np.log(10) + 1.3 * rng.normal(size=n)))
    found = reported + (hours * 3600).astype("timedelta64[s]")
    as_at = np.datetime64(_add_months(end, 1), "D") - np.timedelta64(1, "D")
    still = found > as_at + np.timedelta64(1, "D")
    found = np.where(still, np.datetime64("NaT"), found)
    npu_idx = rng.choice(u.npu_ids.size, size=n, p=u.pop_weight)
    frame = pd.DataFrame({"risk": risk, "reported": reported.astype("datetime64[ns]"),
                          "found": found.astype("datetime64[ns]"),
                          "as_at": np.full(n, as_at).astype("datetime64[ns]")})
    due = _derive(frame, REVIEWS_DUE_SQL).astype(np.int64)
    # Reviews are sometimes missed, more often on low-risk long-term cases (HMIC L1604).
    missed = rng.binomial(due, np.where(risk == "low", 0.25, 0.12))
    return _frame("missing", {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": _month_of(reported),
        "report_ref": np.array([f"MP-{i:06d}" for i in range(1, n + 1)], dtype=object),
        "reported": frame["reported"].to_numpy(),
        "found": frame["found"].to_numpy(),
        "risk": risk,
        "reviews_done": (due - missed).astype(np.int32),
        "reviews_due": due.astype(np.int32),
        "as_at": np.full(n, as_at).astype("datetime64[ns]"),
        "npu_ref": u.npu_names[npu_idx].astype(object),
        "npu_id": u.npu_ids[npu_idx].astype(object),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


# --------------------------------------------------------------------------- sex offenders


def rso_total(month: date) -> float:
    """RSOs under management at the end of `month`: through HMIC's 603, 730 and 816."""
    x = [a.toordinal() for a, _ in RSO_ANCHORS]
    y = [v for _, v in RSO_ANCHORS]
    return float(np.interp(month.toordinal(), x, y))


def _solos(u: _Units, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """SOLOs per BCU: detectives from the BCU's CID teams (response officers if none)."""
    out = {}
    for bcu, n in zip(u.bcu_ids, SOLOS_PER_BCU, strict=False):
        npus = [x for x, b in zip(u.npu_ids, u.npu_bcu, strict=True) if b == bcu]
        pool = np.concatenate([u.by_npu[(x, "cid")] for x in npus])
        if pool.size < n:
            pool = np.concatenate([pool, *[u.by_npu[(x, "response")] for x in npus]])
        out[bcu] = np.sort(rng.choice(pool, size=n, replace=False))
    return out


def _rso(seed: int, start: date, end: date, u: _Units) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 24])
    months = []
    m = start
    while m <= end:
        months.append(m)
        m = _add_months(m, 1)
    solos = _solos(u, rng)
    risks = np.array(list(RSO_RISK_MIX), dtype=object)

    # The offender register: each offender's NPU, SOLO, risk, MAPPA level, start, lateness.
    def register(k: int, first: date, last: date) -> dict[str, np.ndarray]:
        lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
        span = max(int((hi - lo).astype(np.int64)), 1)
        npu_idx = rng.choice(u.npu_ids.size, size=k, p=u.pop_weight)
        risk = rng.choice(risks, size=k, p=np.array(list(RSO_RISK_MIX.values())))
        r = rng.random(k)
        level = np.where(risk == "very high", np.where(r < 0.2, 3, 2),
                         np.where(risk == "high", np.where(r < 0.45, 2, 1),
                                  np.where((risk == "medium") & (r < 0.05), 2, 1)))
        solo = np.array([rng.choice(solos[u.npu_bcu[i]]) for i in npu_idx], dtype=object)
        lateness = np.exp(np.log([RSO_LATENESS[x] for x in risk]) + 0.12 * rng.normal(size=k))
        return {"npu": npu_idx, "risk": risk, "level": level, "solo": solo,
                "from": lo + rng.integers(0, span, size=k).astype("timedelta64[D]"),
                "lateness": lateness, "records_next": rng.random(k) < 0.4,
                "active": np.ones(k, dtype=bool)}

    first_total = round(rso_total(months[0]))
    reg = register(first_total, date(months[0].year - 8, months[0].month, 1), months[0])
    frames = []
    for i, month in enumerate(months):
        as_at = np.datetime64(_add_months(month, 1), "D") - np.timedelta64(1, "D")
        if i:
            active = np.flatnonzero(reg["active"])
            leave = active[rng.random(active.size) < 0.008]
            reg["active"][leave] = False
            new = max(round(rso_total(month)) - int(reg["active"].sum()), 0)
            add = register(new, month, _add_months(month, 1) - (date.resolution * 1))
            reg = {k: np.concatenate([reg[k], add[k]]) for k in reg}
        rows = np.flatnonzero(reg["active"] & (reg["from"] <= as_at))
        risk = reg["risk"][rows]
        interval = np.array([VISIT_INTERVAL_MONTHS[x] for x in risk]) * 30.44
        step = interval * reg["lateness"][rows]
        managed = reg["from"][rows]
        age = (as_at - managed).astype(np.int64)
        visits = np.floor(age / step)
        last = np.where(visits >= 1, managed + (visits * step).astype("timedelta64[D]"),
                        np.datetime64("NaT"))
        frames.append(pd.DataFrame({
            "offender": rows, "as_at": as_at, "risk": risk, "mappa_level": reg["level"][rows],
            "managed_from": managed, "last_visit": last, "records_next": reg["records_next"][rows],
            "npu": reg["npu"][rows], "solo": reg["solo"][rows]}))
    f = pd.concat(frames, ignore_index=True)
    n = len(f)
    for col in ("as_at", "managed_from", "last_visit"):
        f[col] = pd.to_datetime(f[col])
    f["visit_due"] = _derive(f[["risk", "last_visit", "managed_from"]], VISIT_DUE_SQL)
    next_visit = pd.to_datetime(f["visit_due"]).where(f["records_next"] & f["last_visit"].notna())
    as_at = pd.to_datetime(f["as_at"])
    return _frame("rso", {
        "force_id": np.full(n, FORCE_ID, dtype=object),
        "month": as_at.dt.to_period("M").dt.start_time.to_numpy(),
        "as_at": as_at.to_numpy(),
        "offender_ref": np.array([f"RSO-{i + 1:05d}" for i in f["offender"]], dtype=object),
        "risk": f["risk"].to_numpy(dtype=object),
        "mappa_level": f["mappa_level"].astype(np.int32).to_numpy(),
        "managed_from": pd.to_datetime(f["managed_from"]).to_numpy(),
        "last_visit": pd.to_datetime(f["last_visit"]).to_numpy(),
        "next_visit": next_visit.to_numpy(),
        "visit_due": pd.to_datetime(f["visit_due"]).to_numpy(),
        "npu_ref": u.npu_names[f["npu"].to_numpy()].astype(object),
        "npu_id": u.npu_ids[f["npu"].to_numpy()].astype(object),
        "officer_ref": u.names(f["solo"].to_numpy(dtype=object)),
        "officer_id": f["solo"].to_numpy(dtype=object),
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, n)


# --------------------------------------------------------------------------- workforce


def _workforce(seed: int, start: date, end: date, u: _Units) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 25])
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    t = _progress(months)
    month_no = months.astype(np.int64) % 12 + 1
    winter = 1 + 0.25 * np.cos(2 * np.pi * (month_no - 1) / 12)
    units = [(i, "npu") for i in range(u.npu_ids.size)] + [(j, "bcu") for j in range(u.bcu_ids.size)]
    rows = []
    for idx, level in units:
        if level == "npu":
            officers = u.pop_weight[idx] * 1000 * rng.uniform(0.95, 1.1)
            # PCSOs rolled out over the period, to about 237 force-wide (HMIC L586).
            pcso = u.pop_weight[idx] * (80 + 157 * t) * rng.uniform(0.9, 1.1)
            special = np.maximum(rng.normal(u.pop_weight[idx] * 3400, 40, months.size), 0)
            name, npu_id, bcu_id = u.npu_names[idx], u.npu_ids[idx], None
        else:
            officers = np.full(months.size, rng.uniform(200, 260))
            pcso = np.zeros(months.size)
            special = np.full(months.size, np.nan)
            name, npu_id, bcu_id = u.bcu_names[idx], None, u.bcu_ids[idx]
        officers = np.round(officers * (1 + rng.normal(0, 0.01, months.size)), 1)
        pcso = np.round(pcso, 1)
        fte = officers + pcso
        duty = np.round(fte * 160 * rng.uniform(0.97, 1.03, months.size))
        sick = np.round(fte * 0.72 * winter * rng.lognormal(0, 0.15, months.size), 1)
        planned = np.round(duty * rng.normal(0.06, 0.01, months.size).clip(0.01))
        spike = np.where(rng.random(months.size) < 0.04, 2.5, 1.0)   # a major incident
        spontaneous = np.round(duty * rng.normal(0.045, 0.01, months.size).clip(0.005) * spike)
        for k in range(months.size):
            rows.append((months[k], name, npu_id, bcu_id, officers[k], pcso[k], special[k],
                         sick[k], planned[k], spontaneous[k], duty[k]))
    f = pd.DataFrame(rows, columns=["month", "unit_ref", "npu_id", "bcu_id", "officer_fte",
                                    "pcso_fte", "special_hours", "sickness_days",
                                    "abstraction_planned_hours", "abstraction_spontaneous_hours",
                                    "duty_hours"])
    f = f.sort_values(["month", "unit_ref"], kind="stable").reset_index(drop=True)
    n = len(f)
    data = {c: f[c].to_numpy() for c in f.columns}
    data["month"] = f["month"].to_numpy().astype("datetime64[ns]")
    data.update(force_id=np.full(n, FORCE_ID, dtype=object),
                special_hours=np.round(f["special_hours"].to_numpy(dtype=float)),
                line=np.arange(1, n + 1, dtype=np.int64))
    for c in ("unit_ref", "npu_id", "bcu_id"):
        data[c] = f[c].to_numpy(dtype=object)
    return _frame("workforce", data, n)


# --------------------------------------------------------------------------- comparators


def _comparators(seed: int, start: date, end: date) -> pd.DataFrame:
    """The other forces, force x month x measure (num, den), for the comparator measures."""
    rng = np.random.default_rng([seed, 26])
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    others = [f for f in FORCES if f.slug != FORCE_ID]
    rows = []
    for f in others:
        msf = f.slug in DEMO_MSF
        whole = rng.normal(MSF_WHOLE_EXPERIENCE, 0.012) if msf else rng.normal(
            NATIONAL_WHOLE_EXPERIENCE, 0.025)
        answer10 = rng.uniform(0.86, 0.93) if msf else rng.uniform(0.82, 0.95)
        arrest = rng.normal(MSF_DV_ARREST, 0.025) if msf else rng.uniform(0.25, 0.50)
        size = f.population / 1_000_000
        sample = rng.poisson(60 + 170 * size, months.size)
        for q in QUESTIONS:
            p = ndtr(ndtri(SATISFIED_SHARE[q]) + ndtri(min(whole, 0.99))
                     - ndtri(SATISFIED_SHARE["whole_experience"]))
            den = rng.binomial(sample, 1 - NOT_ASKED[q])
            num = rng.binomial(den, p)
            rows += [(f.slug, m, f"satisfaction_{q}", a, b) for m, a, b in zip(months, num, den,
                                                                                strict=True)]
        calls = rng.poisson(f.population * 0.14 / 12, months.size)
        rows += [(f.slug, m, "calls_999_answered_10s", a, b) for m, a, b in
                 zip(months, rng.binomial(calls, answer10), calls, strict=True)]
        dv = rng.poisson(f.population * 0.012 / 12, months.size)
        rows += [(f.slug, m, "dv_arrest_rate", a, b) for m, a, b in
                 zip(months, rng.binomial(dv, float(np.clip(arrest, 0.05, 0.95))), dv, strict=True)]
    frame = pd.DataFrame(rows, columns=["force_id", "month", "measure_id", "num", "den"])
    frame["month"] = frame["month"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    frame["num"] = frame["num"].astype(float)
    frame["den"] = frame["den"].astype(float)
    return frame[list(SERVICE_DATASETS["service_force_month"])]


# --------------------------------------------------------------------------- entry point


def generate_services(seed: int, years: int, end_month: date, units: pd.DataFrame,
                      crimes: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every service dataset of the demo force, plus `service_force_month` comparators:
    dataset -> frame with exactly the dataset's columns (etl.facts_services)."""
    end = date(end_month.year, end_month.month, 1)
    start = _add_months(end, -(12 * years - 1))
    u = _Units(units, crimes)
    return {
        "satisfaction": _satisfaction(seed, start, end, u, crimes),
        "calls": _calls(seed, start, end, u),
        "dv": _dv(seed, start, end, u, crimes),
        "missing": _missing(seed, start, end, u),
        "rso": _rso(seed, start, end, u),
        "workforce": _workforce(seed, start, end, u),
        "service_force_month": _comparators(seed, start, end),
    }

