"""What every demo generator shares: the demo force's structure as arrays, day and time
helpers, and the frame builder that gives a generator's output its dataset's exact columns.

Each source's own generator lives in its module (etl/sources/*); etl/demo/build.py calls
them through the source registry. Deterministic: every generator draws from its own seeded
stream, so the same seed gives the same frames whatever else is generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from etl.calendar import add_months

FORCE_ID = "cheshire"

# Calls, incidents and reports by hour of day (relative weights, midnight first).
HOURLY = np.array([3, 2.5, 2, 1.5, 1.2, 1.2, 1.6, 2.6, 3.6, 4.2, 4.5, 4.7,
                    4.9, 4.9, 5.0, 5.2, 5.5, 5.8, 6.0, 6.0, 5.8, 5.4, 4.8, 3.9])


@dataclass
class DemoContext:
    """What a source's demo generator is given: the seed, the months to cover, and the demo
    force's units and crime records (etl/demo/force.py), which later datasets build on."""

    seed: int
    start: date                 # first month
    end: date                   # last month
    units: pd.DataFrame         # shaped as UNIT_COLUMNS
    crimes: pd.DataFrame        # shaped as CRIME_COLUMNS (the demo force's records)
    force_month: pd.DataFrame   # the other forces, shaped as FORCE_MONTH_COLUMNS

    @cached_property
    def structure(self) -> DemoUnits:
        return DemoUnits(self.units, self.crimes)




def frame_of(columns: dict[str, str], data: dict[str, object], n: int) -> pd.DataFrame:
    """Columns in the dataset's order; absent ones NULL, typed by the dataset's SQL type."""
    out = {}
    for col, sql_type in columns.items():
        if col in data:
            out[col] = data[col]
        elif sql_type in ("DATE", "TIMESTAMP"):
            out[col] = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
        elif sql_type == "DOUBLE":
            out[col] = np.full(n, np.nan)
        else:
            out[col] = pd.array([None] * n, dtype=object)
    # no copy: the arrays are the generator's own and fresh (consolidating them into
    # blocks copied every column: 0.5 s of the calls frame's 2.15 M rows)
    return pd.DataFrame(out, copy=False)


def text(names: list[str | None] | np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """`names[codes]` as a pandas text column (code -1: missing), the very column a frame
    makes of the object array `names[codes]`, decoded from an Arrow dictionary instead:
    pandas turns an object array into text one Python string at a time (0.5 s of the 5-year
    demo's 0.5 M crimes, for their nine text columns)."""
    codes = np.asarray(codes)
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    if isinstance(names, np.ndarray) and names.dtype.kind == "U":
        dictionary = pa.array(names, type=pa.large_string())
    else:
        dictionary = pa.array([None if v is None else str(v) for v in names],
                              type=pa.large_string())
    return pd.array(pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode(),
                    dtype="str")


def nullable_int(values: np.ndarray, present: np.ndarray) -> pd.arrays.IntegerArray:
    out = pd.array(np.where(present, values, 0), dtype="Int32")
    out[~present] = pd.NA
    return out


def seconds(x: np.ndarray) -> np.ndarray:
    """Seconds (float) -> timedelta64[ms]."""
    return np.rint(x * 1000).astype("timedelta64[ms]")


def month_start(ts: np.ndarray) -> np.ndarray:
    return ts.astype("datetime64[M]").astype("datetime64[ns]")


def pick(rng: np.random.Generator, items: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return items[rng.choice(len(items), size=n, p=weights / weights.sum())]


class DemoUnits:
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


def days_of(start: date, end: date) -> np.ndarray:
    return np.arange(np.datetime64(start, "D"), np.datetime64(add_months(end, 1), "D"))


def daily_counts(rng: np.random.Generator, days: np.ndarray, per_day: float,
                  weekend: float = 1.0, amplitude: float = 0.08) -> np.ndarray:
    month_no = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dow = (days.astype(np.int64) + 3) % 7
    lam = per_day * (1 + amplitude * np.cos(2 * np.pi * (month_no - 7) / 12))
    lam = lam * np.where(dow >= 5, weekend, 1.0)
    lam *= per_day * days.size / lam.sum()
    return rng.poisson(lam)


def times_of_day(rng: np.random.Generator, day: np.ndarray, hourly: np.ndarray = HOURLY) -> np.ndarray:
    """A time of day for each row on its day, from an hourly profile."""
    hour = rng.choice(24, size=day.size, p=hourly / hourly.sum())
    secs = hour * 3600 + rng.integers(0, 3600, size=day.size)
    return day.astype("datetime64[s]") + secs.astype("timedelta64[s]")


def progress(days_or_months: np.ndarray) -> np.ndarray:
    """0 at the start of the period, 1 at its end: for slow trends."""
    x = days_or_months.astype("datetime64[D]").astype(np.int64).astype(float)
    span = max(x.max() - x.min(), 1.0)
    return (x - x.min()) / span


def derive(frame: pd.DataFrame, sql: str) -> np.ndarray:
    """Evaluate one of a source's derived-column rules (SQL) over a frame."""
    con = duckdb.connect()
    try:
        con.register("f", frame)
        return con.execute(f"SELECT {sql} AS v FROM f").fetchnumpy()["v"]
    finally:
        con.close()
