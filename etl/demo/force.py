"""Synthetic demo data: a Cheshire-shaped force in 2007, and the other 42 forces as aggregates.

Why it exists: the dashboard has to be demonstrable, and testable end to end, on a machine
with no police data at all, and the HMIC report that describes Cheshire's "Looking Glass"
gives its structure (3 BCUs, 18 NPUs) but none of its figures below force level. So the demo
force has the real shape and real place names, and invented numbers of a realistic size, and
every unit it defines is marked `synthetic` so no screen can pass it off as real.

Why it is pure: the lead's warehouse writer decides where rows go; this module only decides
what they are. Everything is drawn from `numpy.random.default_rng` seeded from `seed`, so
the same arguments give identical frames on any machine, which is what lets tests assert on
the demo and lets an analyst say "seed 2007" and mean one exact dataset.

Independent random streams: each NPU draws from its own generator, seeded from
(seed, NPU number), and the other forces from another. A `Shock` therefore changes only the
rows of the units it names; every other unit's rows stay byte-identical, so an early-warning
test can compare a shocked run with a clean one cell for cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from etl.calendar import add_months
from etl.demo.common import text
from etl.measures.crime import ASB, SANCTION_TYPES
from etl.reference import severity
from etl.reference.forces import FORCE_BY_SLUG, FORCES
from etl.sources.shapes import CRIME_COLUMNS, FORCE_MONTH_COLUMNS, UNIT_COLUMNS
from etl.units import child_id

DEMO_NOTE = "Synthetic demo data: not real police figures."
UNIT_NOTE = "synthetic demo data"
FORCE_ID = "cheshire"
CRIME_ID_PREFIX = "CH"

ANNUAL_CRIMES = 75_000   # Cheshire recorded roughly this many crimes in 2007/08
ANNUAL_ASB = 25_000
ANNUAL_TREND = 0.97      # crime was falling nationally in the late 2000s
SEASONAL_AMPLITUDE = 0.10

# 2007-style mix of recorded crime (ASB excluded); sums to 1.
CATEGORY_MIX: dict[str, float] = {
    "violent-crime": 0.29,
    "criminal-damage-arson": 0.20,
    "other-theft": 0.135,
    "vehicle-crime": 0.12,
    "burglary": 0.09,
    "shoplifting": 0.06,
    "public-order": 0.03,
    "drugs": 0.03,
    "robbery": 0.01,
    "bicycle-theft": 0.01,
    "theft-from-the-person": 0.01,
    "possession-of-weapons": 0.005,
    "other-crime": 0.01,
}
CATEGORIES: tuple[str, ...] = (*CATEGORY_MIX, ASB)
_CRIME_CATS = len(CATEGORY_MIX)
_ASB_INDEX = len(CATEGORIES) - 1

# Probability that a crime gets a sanction detection; mix-weighted this is about 0.25,
# the national rate of the time. Crimes found by police action (drugs, shoplifting caught
# in the act) detect far more often than crimes reported after the event.
SANCTION_RATE: dict[str, float] = {
    "violent-crime": 0.35,
    "criminal-damage-arson": 0.12,
    "other-theft": 0.10,
    "vehicle-crime": 0.08,
    "burglary": 0.12,
    "shoplifting": 0.60,
    "public-order": 0.45,
    "drugs": 0.90,
    "robbery": 0.20,
    "bicycle-theft": 0.05,
    "theft-from-the-person": 0.05,
    "possession-of-weapons": 0.70,
    "other-crime": 0.40,
}

# Detection type mix by category (keys of etl.measures.SANCTION_TYPES). Volume acquisitive
# crime is often cleared as TICs; disorder and shop theft by penalty notices.
_DEFAULT_TYPES = {"charge_summons": 0.58, "caution": 0.30, "penalty_notice": 0.05, "tic": 0.07}
_DETECTION_MIX: dict[str, dict[str, float]] = {
    "drugs": {"charge_summons": 0.30, "caution": 0.25, "penalty_notice": 0.05,
              "cannabis_warning": 0.40},
    "public-order": {"charge_summons": 0.40, "caution": 0.22, "penalty_notice": 0.35,
                     "tic": 0.03},
    "shoplifting": {"charge_summons": 0.45, "caution": 0.27, "penalty_notice": 0.23,
                    "tic": 0.05},
    "criminal-damage-arson": {"charge_summons": 0.45, "caution": 0.33, "penalty_notice": 0.15,
                              "tic": 0.07},
    "burglary": {"charge_summons": 0.55, "caution": 0.08, "tic": 0.37},
    "vehicle-crime": {"charge_summons": 0.50, "caution": 0.12, "tic": 0.38},
    "robbery": {"charge_summons": 0.85, "caution": 0.10, "tic": 0.05},
}
_TYPE_KEYS: tuple[str, ...] = tuple(SANCTION_TYPES)
_OUTCOME_TEXT: dict[str, str] = {
    "charge_summons": "Charged",
    "caution": "Cautioned",
    "penalty_notice": "Penalty notice issued",
    "cannabis_warning": "Cannabis warning",
    "tic": "Taken into consideration",
}
_UNDETECTED = ("Undetected", "No further action")
_UNDETECTED_P = (0.8, 0.2)

# Mean days from recording to detection: arrests in the act are cleared within days,
# investigations of reported crime take weeks.
_LAG_DAYS: dict[str, float] = {"drugs": 4.0, "shoplifting": 3.0, "public-order": 6.0,
                               "possession-of-weapons": 6.0, "violent-crime": 14.0}
_DEFAULT_LAG = 25.0

# Weekday profiles, Monday..Sunday (normalised to mean 1 below). The night-time economy
# drives violence, disorder and damage at weekends; shops are quiet on Sundays.
_NIGHT = (0.90, 0.88, 0.90, 0.95, 1.12, 1.30, 1.15)
_SHOPS = (1.02, 1.00, 1.00, 1.02, 1.08, 1.15, 0.73)
_FLAT = (1.02, 1.00, 1.00, 1.00, 1.02, 0.98, 0.98)
_WEEKDAY: dict[str, tuple[float, ...]] = {
    "violent-crime": _NIGHT, "public-order": _NIGHT, "criminal-damage-arson": _NIGHT,
    ASB: _NIGHT, "shoplifting": _SHOPS, "theft-from-the-person": _SHOPS,
}
# Summer peak overall; burglary peaks in the dark winter evenings; ASB swings more.
_SEASON_AMPLITUDE: dict[str, float] = {"burglary": -0.08, ASB: 0.20}

# Which team tends to own which crime (officer in charge), per team type.
_TEAM_TYPES = ("Response", "Neighbourhood", "CID")
_CID_WEIGHT: dict[str, float] = {"burglary": 3.0, "robbery": 4.0, "violent-crime": 1.2,
                                 "drugs": 1.5, "vehicle-crime": 1.0, "other-crime": 2.0,
                                 "theft-from-the-person": 1.5, "possession-of-weapons": 1.0,
                                 ASB: 0.0}
_NEIGHBOURHOOD_WEIGHT: dict[str, float] = {ASB: 3.0, "criminal-damage-arson": 1.5,
                                           "public-order": 1.0, "bicycle-theft": 1.0,
                                           "shoplifting": 1.0}

# Cheshire's bounding box, to keep scattered points on the map.
_LON = (-3.1, -2.0)
_LAT = (52.95, 53.45)
_KM_PER_DEG_LAT = 111.2
_KM_PER_DEG_LON = 66.6   # at latitude 53.2
_Z_MAX = 2.5


@dataclass(frozen=True)
class _Npu:
    bcu: str
    name: str
    population: int
    area_km2: float
    lon: float
    lat: float
    crime_rate: float   # relative crime per head; town centres draw visitors and crime
    town_centre: bool = False


# 2007 geography: Northern = Halton + Warrington, Eastern = the old eastern districts
# (later Cheshire East), Western = Chester, Ellesmere Port, Vale Royal (later Cheshire West
# and Chester). Populations sum to about 1.0 million and areas to Cheshire's 2,343 km2.
_NPUS: tuple[_Npu, ...] = (
    _Npu("Northern", "Widnes", 58_000, 35.0, -2.73, 53.365, 1.15),
    _Npu("Northern", "Runcorn", 61_000, 44.0, -2.70, 53.335, 1.15),
    _Npu("Northern", "Warrington Central", 46_000, 12.0, -2.595, 53.390, 1.70, True),
    _Npu("Northern", "Warrington North", 64_000, 60.0, -2.57, 53.420, 1.00),
    _Npu("Northern", "Warrington South", 57_000, 64.0, -2.58, 53.360, 0.80),
    _Npu("Northern", "Warrington West", 30_000, 45.0, -2.65, 53.395, 0.85),
    _Npu("Eastern", "Macclesfield", 66_000, 180.0, -2.125, 53.260, 1.35, True),
    _Npu("Eastern", "Crewe", 74_000, 70.0, -2.44, 53.100, 1.50, True),
    _Npu("Eastern", "Congleton", 62_000, 230.0, -2.21, 53.165, 0.80),
    _Npu("Eastern", "Wilmslow", 56_000, 130.0, -2.23, 53.325, 0.75),
    _Npu("Eastern", "Nantwich", 58_000, 356.0, -2.52, 53.065, 0.70),
    _Npu("Eastern", "Knutsford", 42_000, 200.0, -2.37, 53.300, 0.70),
    _Npu("Western", "Chester", 92_000, 200.0, -2.89, 53.190, 1.55, True),
    _Npu("Western", "Ellesmere Port", 66_000, 75.0, -2.90, 53.280, 1.20),
    _Npu("Western", "Northwich", 60_000, 190.0, -2.52, 53.260, 0.95),
    _Npu("Western", "Winsford", 38_000, 150.0, -2.52, 53.190, 1.05),
    _Npu("Western", "Frodsham", 40_000, 180.0, -2.72, 53.290, 0.70),
    _Npu("Western", "Neston", 32_000, 122.0, -3.06, 53.290, 0.65),
)

def npu_centres() -> dict[str, tuple[str, float, float]]:
    """Each demo NPU's id -> (BCU name, longitude, latitude) of its town: what lays the demo's
    synthetic NPUs onto real Cheshire MSOAs for the maps (etl/reference/geo.py)."""
    return {child_id(child_id(FORCE_ID, n.bcu), n.name): (n.bcu, n.lon, n.lat) for n in _NPUS}


# Other forces draw 95-120 crimes per 1,000 residents a year if metropolitan, else 55-85.
_METROPOLITAN = frozenset({"metropolitan", "greater-manchester", "west-midlands",
                           "west-yorkshire", "merseyside", "northumbria", "south-yorkshire"})


@dataclass(frozen=True)
class Shock:
    """Multiply one unit's rate for one category from a month on: a planted deterioration.

    `unit_id` is the force, a BCU or an NPU (and covers everything below it); teams and
    officers are not shockable because crimes are allocated to them after they are drawn.
    The factor applies to days on or after `from_month` (normally the first of a month).
    ASB can be shocked too. Unknown units or categories raise ValueError rather than
    silently planting nothing.
    """

    unit_id: str
    category: str
    from_month: date
    factor: float


@dataclass
class DemoData:
    units: pd.DataFrame        # columns exactly etl.sources.shapes.UNIT_COLUMNS
    crimes: pd.DataFrame       # columns exactly etl.sources.shapes.CRIME_COLUMNS (crimes and ASB)
    force_month: pd.DataFrame  # columns exactly etl.sources.shapes.FORCE_MONTH_COLUMNS (other forces)


def _season(month_numbers: np.ndarray) -> np.ndarray:
    """(category, time) factors; peak in July, trough in January."""
    phase = np.cos(2 * np.pi * (month_numbers - 7) / 12)
    amp = np.array([_SEASON_AMPLITUDE.get(c, SEASONAL_AMPLITUDE) for c in CATEGORIES])
    return 1.0 + amp[:, None] * phase[None, :]


def _weekday() -> np.ndarray:
    prof = np.array([_WEEKDAY.get(c, _FLAT) for c in CATEGORIES], dtype=float)
    return prof / prof.mean(axis=1, keepdims=True)


def _team_weights() -> np.ndarray:
    """(team type, category) weight of a team's officers being made officer in charge."""
    w = np.ones((len(_TEAM_TYPES), len(CATEGORIES)))
    for j, c in enumerate(CATEGORIES):
        w[1, j] = _NEIGHBOURHOOD_WEIGHT.get(c, 0.5)
        w[2, j] = _CID_WEIGHT.get(c, 0.2)
    return w


@dataclass
class _Structure:
    units: pd.DataFrame
    npu_ids: list[str]
    npu_officers: list[np.ndarray]   # global officer indices per NPU
    officer_ids: np.ndarray          # object array
    officer_team: np.ndarray         # object array of team ids
    officer_type: np.ndarray         # index into _TEAM_TYPES
    officer_effect: np.ndarray       # multiplier on the detection probability


def _structure(rng: np.random.Generator, valid_from: date) -> _Structure:
    """Force > BCU > NPU > team > officer, with ids built the way etl.units builds them."""
    rows: list[dict[str, object]] = []

    def add(uid: str, level: str, parent: str | None, name: str,
            population: int | None = None, households: int | None = None,
            area: float | None = None) -> None:
        rows.append({"unit_id": uid, "level": level, "parent_id": parent, "force_id": FORCE_ID,
                     "name": name, "population": population, "households": households,
                     "area_km2": area})

    # People per household varies a little by place; about 2.3 overall in 2007.
    per_household = rng.uniform(2.2, 2.45, size=len(_NPUS))
    households = [round(n.population / h) for n, h in zip(_NPUS, per_household, strict=True)]
    add(FORCE_ID, "force", None, FORCE_BY_SLUG[FORCE_ID].name,
        sum(n.population for n in _NPUS), sum(households), sum(n.area_km2 for n in _NPUS))
    bcu_names = list(dict.fromkeys(n.bcu for n in _NPUS))
    for bcu in bcu_names:
        members = [i for i, n in enumerate(_NPUS) if n.bcu == bcu]
        add(child_id(FORCE_ID, bcu), "bcu", FORCE_ID, bcu,
            sum(_NPUS[i].population for i in members), sum(households[i] for i in members),
            sum(_NPUS[i].area_km2 for i in members))

    team_sizes = rng.integers(5, 13, size=(len(_NPUS), 4))
    optional = rng.random((len(_NPUS), 2)) < 0.5
    n_officers = 0
    plan: list[list[tuple[str, str, int]]] = []   # per NPU: (npu_id, team name, size)
    npu_ids: list[str] = []
    for i, npu in enumerate(_NPUS):
        npu_id = child_id(child_id(FORCE_ID, npu.bcu), npu.name)
        npu_ids.append(npu_id)
        add(npu_id, "npu", child_id(FORCE_ID, npu.bcu), npu.name, npu.population,
            households[i], npu.area_km2)
        teams = ["Response A"]
        if npu.town_centre or optional[i, 0]:
            teams.append("Response B")
        teams.append("Neighbourhood")
        if npu.town_centre or optional[i, 1]:
            teams.append("CID")
        plan.append([(npu_id, t, int(team_sizes[i, k])) for k, t in enumerate(teams)])
        n_officers += sum(int(team_sizes[i, k]) for k in range(len(teams)))

    # Collar numbers are unique across the force, as they are in a real force.
    collars = rng.choice(np.arange(1000, 10000), size=n_officers, replace=False)
    effect = rng.lognormal(-0.25**2 / 2, 0.25, size=n_officers)
    officer_ids: list[str] = []
    officer_team: list[str] = []
    officer_type: list[int] = []
    npu_officers: list[np.ndarray] = []
    k = 0
    for teams in plan:
        start = k
        for npu_id, team, size in teams:
            team_id = child_id(npu_id, team)
            add(team_id, "team", npu_id, team)
            type_index = _TEAM_TYPES.index(team.split()[0])
            for j in range(size):
                detective = team == "CID"
                rank = ("DS" if detective else "PS") if j == 0 else ("DC" if detective else "PC")
                name = f"{rank} {collars[k]}"
                oid = child_id(team_id, name)
                add(oid, "officer", team_id, name)
                officer_ids.append(oid)
                officer_team.append(team_id)
                officer_type.append(type_index)
                k += 1
        npu_officers.append(np.arange(start, k))

    units = pd.DataFrame(rows)
    units["population"] = units["population"].astype("Int64")
    units["households"] = units["households"].astype("Int64")
    units["area_km2"] = units["area_km2"].astype("float64")
    units["synthetic"] = True
    units["valid_from"] = pd.Series(pd.Timestamp(valid_from), index=units.index,
                                    dtype="datetime64[ns]")
    units["valid_to"] = pd.Series(pd.NaT, index=units.index, dtype="datetime64[ns]")
    units["note"] = UNIT_NOTE
    return _Structure(
        units=units[list(UNIT_COLUMNS)],
        npu_ids=npu_ids,
        npu_officers=npu_officers,
        officer_ids=np.array(officer_ids, dtype=object),
        officer_team=np.array(officer_team, dtype=object),
        officer_type=np.array(officer_type),
        officer_effect=effect,
    )


def _shock_factors(shocks: Sequence[Shock], npu_ids: list[str], days: np.ndarray) -> np.ndarray:
    """(NPU, category, day) rate multipliers; refuses shocks that would silently do nothing."""
    factors = np.ones((len(npu_ids), len(CATEGORIES), len(days)))
    for shock in shocks:
        hit = [i for i, n in enumerate(npu_ids)
               if n == shock.unit_id or n.startswith(shock.unit_id + "/")]
        if not hit:
            raise ValueError(f"shock unit {shock.unit_id!r} is not the demo force, a BCU or "
                             f"an NPU of it")
        if shock.category not in CATEGORIES:
            raise ValueError(f"shock category {shock.category!r} is not one of {CATEGORIES}")
        if not shock.factor >= 0:
            raise ValueError(f"shock factor must be >= 0, got {shock.factor!r}")
        j = CATEGORIES.index(shock.category)
        later = days >= np.datetime64(shock.from_month, "D")
        for i in hit:
            factors[i, j, later] *= shock.factor
    return factors


def _spread(centre: float, wanted: float, box: tuple[float, float]) -> float:
    return min(wanted, (centre - box[0]) / _Z_MAX, (box[1] - centre) / _Z_MAX)


def _npu_rows(rng: np.random.Generator, lam: np.ndarray, officers: np.ndarray,
              structure: _Structure, npu: _Npu, detect_effect: float,
              team_weights: np.ndarray) -> dict[str, np.ndarray]:
    """Every crime and ASB incident of one NPU, as index arrays into the shared tables."""
    n_days = lam.shape[1]
    counts = rng.poisson(lam)                                 # (category, day)
    flat = np.repeat(np.arange(counts.size), counts.ravel())  # category-major, so sorted
    cat = flat // n_days
    day = flat % n_days
    n = flat.size
    per_cat = counts.sum(axis=1)
    bounds = np.concatenate(([0], np.cumsum(per_cat)))

    officer = np.empty(n, dtype=np.int64)
    dtype_idx = np.full(n, -1, dtype=np.int64)
    lag_mean = np.empty(n)
    p_sanction = np.zeros(n)
    off_type = structure.officer_type[officers]
    for j, c in enumerate(CATEGORIES):
        a, b = bounds[j], bounds[j + 1]
        w = team_weights[off_type, j]
        officer[a:b] = rng.choice(officers, size=b - a, p=w / w.sum())
        lag_mean[a:b] = _LAG_DAYS.get(c, _DEFAULT_LAG)
        if j != _ASB_INDEX:
            p_sanction[a:b] = SANCTION_RATE[c] * detect_effect
    p_sanction *= structure.officer_effect[officer]
    sanction = rng.random(n) < np.clip(p_sanction, 0.0, 0.97)
    for j, c in enumerate(CATEGORIES[:_CRIME_CATS]):
        a, b = bounds[j], bounds[j + 1]
        mix = _DETECTION_MIX.get(c, _DEFAULT_TYPES)
        p = np.array([mix.get(t, 0.0) for t in _TYPE_KEYS])
        drawn = rng.choice(len(_TYPE_KEYS), size=b - a, p=p / p.sum())
        dtype_idx[a:b] = np.where(sanction[a:b], drawn, -1)
    lag = np.rint(rng.gamma(1.5, lag_mean / 1.5)).astype(np.int64)
    undetected_kind = rng.choice(len(_UNDETECTED), size=n, p=_UNDETECTED_P)

    # Points scattered round the NPU centroid, spread by its size, and narrowed where the
    # centroid is near the force boundary so that no point falls outside it (clipping
    # instead would pile points up on the boundary line).
    spread_km = np.sqrt(npu.area_km2) / 3.5
    z = rng.normal(0.0, 1.0, size=(2, n))
    z = np.where(np.abs(z) > _Z_MAX, rng.uniform(-1.0, 1.0, size=(2, n)), z)
    lon = npu.lon + z[0] * _spread(npu.lon, spread_km / _KM_PER_DEG_LON, _LON)
    lat = npu.lat + z[1] * _spread(npu.lat, spread_km / _KM_PER_DEG_LAT, _LAT)
    return {"cat": cat, "day": day, "officer": officer, "sanction": sanction,
            "dtype": dtype_idx, "lag": lag, "undetected": undetected_kind,
            "lon": lon, "lat": lat, "key": rng.random(n)}


def _crimes(seed: int, structure: _Structure, params: np.random.Generator, days: np.ndarray,
            shocks: Sequence[Shock]) -> pd.DataFrame:
    n_days = days.size
    month_no = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dow = (days.astype(np.int64) + 3) % 7   # 1970-01-01 was a Thursday; Monday = 0
    profile = _season(month_no) * _weekday()[:, dow]
    profile /= profile.mean(axis=1, keepdims=True)
    t_years = (np.arange(n_days) - (n_days - 1) / 2) / 365.25
    trend = ANNUAL_TREND**t_years   # centred, so the period averages the annual totals

    # Annual rate per NPU and category: population x local rate x mix, with some local
    # colour in the mix, scaled to the force totals.
    pop = np.array([n.population * n.crime_rate for n in _NPUS])
    mix = np.array([*CATEGORY_MIX.values(), 0.0])
    noise = params.lognormal(-0.15**2 / 2, 0.15, size=(len(_NPUS), len(CATEGORIES)))
    annual = pop[:, None] * mix[None, :] * noise
    annual *= ANNUAL_CRIMES / annual.sum()
    asb = pop * noise[:, _ASB_INDEX]
    annual[:, _ASB_INDEX] = ANNUAL_ASB * asb / asb.sum()
    detect_effect = params.lognormal(-0.1**2 / 2, 0.1, size=len(_NPUS))

    lam = (annual[:, :, None] / 365.25) * profile[None, :, :] * trend[None, None, :]
    lam *= _shock_factors(shocks, structure.npu_ids, days)
    team_weights = _team_weights()

    parts: list[dict[str, np.ndarray]] = []
    for i, npu in enumerate(_NPUS):
        rng = np.random.default_rng([seed, 1, i])
        part = _npu_rows(rng, lam[i], structure.npu_officers[i], structure, npu,
                         float(detect_effect[i]), team_weights)
        part["npu"] = np.full(part["cat"].size, i)
        parts.append(part)
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((a["key"], a["day"]))
    a = {k: v[order] for k, v in a.items()}
    n = order.size

    dates = days[a["day"]]
    last_day = days[-1]
    is_asb = a["cat"] == _ASB_INDEX
    sanction = a["sanction"] & ~is_asb
    detected_on = np.minimum(dates + a["lag"], last_day)   # no detection after the extract

    # Crime reference: prefix, year recorded, sequence within that year (dates are sorted).
    crime_rows = ~is_asb
    years = dates[crime_rows].astype("datetime64[Y]").astype(np.int64) + 1970
    seq = np.arange(years.size) - np.searchsorted(years, years, side="left") + 1
    ref = np.strings.add(np.strings.add(f"{CRIME_ID_PREFIX}-", years.astype(str)),
                         np.strings.add("-", np.strings.zfill(seq.astype(str), 7)))
    crime_no = np.full(n, -1)                       # each crime's index into `ref`; ASB none
    crime_no[crime_rows] = np.arange(ref.size)

    # Text columns as codes into their few values (-1: missing), decoded by `text`.
    detection_code = np.where(sanction, a["dtype"], -1)
    # outcome: a sanction's own text; ASB none; any other crime its undetected outcome
    outcome_code = np.where(sanction | is_asb, detection_code, len(_TYPE_KEYS) + a["undetected"])
    outcome_names = [*(_OUTCOME_TEXT[t] for t in _TYPE_KEYS), *_UNDETECTED]
    missing = np.full(n, -1)
    texts = {
        "force_id": ([FORCE_ID], np.zeros(n, dtype=np.int64)),
        "crime_id": (ref, crime_no),
        "category": (CATEGORIES, a["cat"]),
        "lsoa_code": ([], missing),
        "lsoa_name": ([], missing),
        "location": ([], missing),
        "outcome": (outcome_names, outcome_code),
        "detection_type": (_TYPE_KEYS, detection_code),
        "npu_id": (structure.npu_ids, a["npu"]),
        "team_id": (structure.officer_team, a["officer"]),
        "officer_id": (structure.officer_ids, a["officer"]),
    }
    # The text columns (0.6 s, mostly Arrow's dictionary decode, which lets go of the GIL)
    # and the offence codes (their own random stream) made in two threads: the same values.
    categories = np.array(CATEGORIES, dtype=object)[a["cat"]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = pool.submit(_offence_codes, seed, categories, is_asb)
        made = dict(zip(texts, pool.map(lambda spec: text(*spec), texts.values()), strict=True))
        offence_codes = codes.result()
    frame = pd.DataFrame({
        "force_id": made["force_id"],
        "month": dates.astype("datetime64[M]").astype("datetime64[ns]"),
        "crime_id": made["crime_id"],
        "date": dates.astype("datetime64[ns]"),
        "category": made["category"],
        "is_asb": is_asb,
        "lsoa_code": made["lsoa_code"],
        "lsoa_name": made["lsoa_name"],
        "longitude": a["lon"],
        "latitude": a["lat"],
        "location": made["location"],
        "outcome": made["outcome"],
        "sanction": sanction,
        "detection_type": made["detection_type"],
        "detection_date": np.where(sanction, detected_on, np.datetime64("NaT"))
        .astype("datetime64[ns]"),
        "npu_id": made["npu_id"],
        "team_id": made["team_id"],
        "officer_id": made["officer_id"],
        "line": np.arange(1, n + 1, dtype=np.int64),
    }, copy=False)
    frame["offence_code"] = offence_codes
    return frame[[*CRIME_COLUMNS, "offence_code"]]


def _offence_codes(seed: int, categories: np.ndarray, is_asb: np.ndarray) -> np.ndarray:
    """A Home Office offence code for every demo crime (None for ASB), drawn within its
    category with probability proportional to weight ** -alpha, so that, as in recorded
    crime, the least severe offences are the commonest (most violence is assault without
    injury). alpha is chosen per category so that the expected weight of a crime equals the
    category's weight (the one data.police.uk rows and the other forces' aggregates are
    weighted by): the demo force's exact harm and its peers' approximate harm are then on
    the same footing, and a comparison between them shows the synthetic differences, not the
    approximation. Its own random stream: the rest of the demo is the same with or without it."""
    rng = np.random.default_rng([seed, 3])
    by_cat: dict[str, list[severity.Offence]] = {}
    for o in severity.offences():
        by_cat.setdefault(o.category, []).append(o)
    targets = severity.category_weights()
    out = np.full(categories.size, None, dtype=object)
    for cat, offs in sorted(by_cat.items()):
        rows = np.flatnonzero((categories == cat) & ~is_asb)
        if not rows.size:
            continue
        w = np.array([o.weight for o in offs])
        p = _tilted(w, targets[cat].weight if cat in targets else float(np.median(w)))
        out[rows] = np.array([o.code for o in offs], dtype=object)[
            rng.choice(len(offs), size=rows.size, p=p)]
    return out


def _tilted(w: np.ndarray, mean: float) -> np.ndarray:
    """Probabilities proportional to w ** -alpha whose mean weight is `mean` (bisection on
    alpha in [0, 20]; the mean falls as alpha grows, from the plain mean to the least weight)."""
    logw = np.log(w)

    def probs(alpha: float) -> np.ndarray:
        x = -alpha * (logw - logw.min())
        p = np.exp(x)
        return p / p.sum()

    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if float(probs(mid) @ w) > mean:
            lo = mid
        else:
            hi = mid
    return probs(hi)


def _force_month(seed: int, months: np.ndarray) -> pd.DataFrame:
    """Every other force as force x month x category counts, for MSF and national context."""
    rng = np.random.default_rng([seed, 2])
    others = [f for f in FORCES if f.slug != FORCE_ID]
    n_f, n_m, n_c = len(others), months.size, len(CATEGORIES)
    pop = np.array([f.population for f in others], dtype=float)
    metro = np.array([f.slug in _METROPOLITAN for f in others])
    crime_rate = np.where(metro, rng.uniform(95, 120, n_f), rng.uniform(55, 85, n_f))
    asb_rate = rng.uniform(18, 40, n_f)
    sd_rate = rng.uniform(0.20, 0.32, n_f)
    trend_per_year = rng.uniform(0.95, 0.99, n_f)

    mix = np.array([*CATEGORY_MIX.values(), 0.0])
    local = mix[None, :] * rng.lognormal(-0.15**2 / 2, 0.15, size=(n_f, n_c))
    local /= local.sum(axis=1, keepdims=True)
    annual = pop[:, None] / 1000 * crime_rate[:, None] * local
    annual[:, _ASB_INDEX] = pop / 1000 * asb_rate

    month_no = months.astype(np.int64) % 12 + 1
    season = _season(month_no)
    season /= season.mean(axis=1, keepdims=True)
    t_years = (np.arange(n_m) - (n_m - 1) / 2) / 12
    trend = trend_per_year[:, None] ** t_years[None, :]
    lam = annual[:, None, :] / 12 * season.T[None, :, :] * trend[:, :, None]   # (f, m, c)
    n = rng.poisson(lam)

    # Category detection rates scaled so each force's overall rate is its own sd_rate.
    rel = np.array([SANCTION_RATE[c] for c in CATEGORY_MIX]) / float(
        np.dot(list(CATEGORY_MIX.values()), list(SANCTION_RATE.values())))
    p = np.zeros((n_f, n_c))
    p[:, :_CRIME_CATS] = np.clip(sd_rate[:, None] * rel[None, :], 0.0, 0.97)
    sd = rng.binomial(n, np.broadcast_to(p[:, None, :], n.shape))

    return pd.DataFrame({
        "force_id": np.repeat(np.array([f.slug for f in others], dtype=object), n_m * n_c),
        "month": np.tile(np.repeat(months.astype("datetime64[ns]"), n_c), n_f),
        "category": np.tile(np.array(CATEGORIES, dtype=object), n_f * n_m),
        "n": n.ravel().astype(np.int64),
        "sd": sd.ravel().astype(np.int64),
    })[list(FORCE_MONTH_COLUMNS)]


def generate(seed: int = 2007, years: int = 5, end_month: date = date(2008, 3, 1),
             shocks: Sequence[Shock] = ()) -> DemoData:
    """The demo dataset: `years` whole years of months ending with `end_month` inclusive.

    `seed` must be a non-negative integer (it seeds numpy's SeedSequence). `shocks` plant
    deteriorations for early-warning tests and demonstrations; there are none by default.
    """
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    end = date(end_month.year, end_month.month, 1)
    start = add_months(end, -(12 * years - 1))
    days = np.arange(np.datetime64(start, "D"), np.datetime64(add_months(end, 1), "D"))
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)

    params = np.random.default_rng([seed, 0])
    structure = _structure(params, start)
    crimes = _crimes(seed, structure, params, days, shocks)
    return DemoData(units=structure.units, crimes=crimes, force_month=_force_month(seed, months))
