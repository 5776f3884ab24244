"""The data manager: every number a page or the API shows comes through `DataAccess`.

It turns a view's parameters into query calls (`dashboard/queries.py`, a cursor per call)
and the measure arithmetic (`dashboard/metrics.py`), and caches the results keyed by
(function, parameters, warehouse version). A load publishes a new version file, so the key
changes and no result outlives the data it came from; nothing is ever invalidated by hand.

Returned DataFrames are copies: callers may change them freely.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from dashboard import metrics, queries
from dashboard.metrics import is_crime
from dashboard.periods import (
    DEFAULT_GRAIN,
    DEFAULT_PRESET,
    GRAINS,
    PRESETS,
    Period,
    bucket_label,
    bucket_start,
    buckets,
    last_complete_month,
    month_end,
    month_start,
    parse_date,
    preset_period,
)
from dashboard.state import ViewState
from dashboard.warehouse import WarehouseReader
from etl.lake.warehouse import WarehousePaths
from etl.measures.model import Measure
from etl.measures.registry import MEASURES

DEFAULT_MEASURE = "total_crime"
# The warehouse version pinned for the current request (see DataAccess.pinned).
_PINNED: contextvars.ContextVar[tuple[Any, ...] | None] = contextvars.ContextVar(
    "lg_pinned_version", default=None
)
# Levels a user may pick. Officers exist in the data but stay off screen until access
# control lands (HMIC wants individual performance; it also needs to know who may see it).
UI_LEVELS = ("force", "bcu", "npu", "team")
LEVEL_NAMES = {"force": "force", "bcu": "BCU", "npu": "NPU", "team": "team", "officer": "officer"}
OFFICER_OFF = "Officer level is off until access control lands."
RECORDS_CSV_LIMIT = 100_000
MAP_POINTS = 8_000


class GrainUnavailable(ValueError):
    """Day or week grain asked of a source that only has months."""


# -- what a view is about --------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    unit_id: str
    level: str
    parent_id: str | None
    force_id: str
    name: str
    population: float | None
    synthetic: bool

    @property
    def title(self) -> str:
        """'Cheshire Constabulary', 'Northern BCU', 'Widnes NPU', 'Response A team'."""
        if self.level == "force":
            return self.name
        return f"{self.name} {LEVEL_NAMES.get(self.level, self.level)}"


@dataclass(frozen=True)
class Source:
    """Where one force's numbers of one family of measures come from ('crime', or a service
    dataset such as 'satisfaction'), and which months and days it covers."""

    source: str
    force_id: str
    first_month: date
    last_month: date
    first_day: date | None
    last_day: date | None
    suspect_months: int
    family: str = "crime"
    months: frozenset[date] = frozenset()

    @property
    def has_days(self) -> bool:
        return self.last_day is not None

    @property
    def label(self) -> str:
        return queries.SOURCE_LABELS.get(self.source, self.source)

    @property
    def as_of(self) -> date:
        """The last day with data: presets count back from here."""
        return self.last_day if self.last_day is not None else month_end(self.last_month)

    @property
    def first(self) -> date:
        return self.first_day if self.first_day is not None else self.first_month

    @property
    def grain_note(self) -> str:
        return "daily data" if self.has_days else "monthly data only"


@dataclass(frozen=True)
class View:
    """A URL's state checked against the warehouse: what every page draws."""

    state: ViewState  # canonical: what the URL should say
    unit: Unit
    path: tuple[Unit, ...]  # force ... unit
    measure: Measure
    period: Period
    grain: str
    source: Source | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def unit_path(self) -> str:
        return " / ".join(u.title for u in self.path)

    def statement(self, with_measure: bool = True) -> str:
        """'Burglary, Cheshire Constabulary / Northern BCU, Apr 2007 – Mar 2008 (FY 2007/08),
        source: synthetic demo data'."""
        parts = [self.measure.label] if with_measure else []
        parts += [self.unit_path, self.period.label]
        text = ", ".join(parts)
        if self.source is not None:
            text += f", source: {self.source.label}"
        return text

    @property
    def as_of_text(self) -> str:
        if self.source is None:
            return "no data loaded for this force"
        return f"data to {self.source.as_of.day} {self.source.as_of:%b %Y}"


# -- the manager -----------------------------------------------------------------------


class DataAccess:
    """Cached, versioned access to the warehouse for pages and the API."""

    def __init__(self, reader: WarehouseReader, maxsize: int = 2048) -> None:
        self.reader = reader
        self.lake = WarehousePaths(reader.link).lake
        self.maxsize = maxsize
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- plumbing -------------------------------------------------------------------------

    def version_key(self) -> tuple[Any, ...]:
        """The warehouse version this request reads: pinned for the request by `pinned()`,
        else resolved now (a stat of the link)."""
        pinned = _PINNED.get()
        return pinned if pinned is not None else self.reader.version_key()

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Resolve the warehouse version once for everything inside (one request): every
        number of a page then comes from the same version, and the link is stat'ed once,
        not once per cached lookup."""
        if _PINNED.get() is not None:
            yield
            return
        token = _PINNED.set(self.reader.version_key())
        try:
            yield
        finally:
            _PINNED.reset(token)

    def _memo(self, name: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        key = (self.version_key(), name, args)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                self.hits += 1
                found = self._cache[key]
                return found.copy() if isinstance(found, pd.DataFrame) else found
            self.misses += 1
        result = compute()
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)
        return result.copy() if isinstance(result, pd.DataFrame) else result

    def _memo_many(
        self,
        name: str,
        keys: list[tuple[Any, ...]],
        compute: Callable[[list[tuple[Any, ...]]], dict[tuple[Any, ...], Any]],
    ) -> list[Any]:
        """`_memo` for a batch: the keys not cached are computed together in one call (one
        query for several units) and each is cached under its own key, so a later request
        for any one of them is a hit."""
        version = self.version_key()
        found: dict[tuple[Any, ...], Any] = {}
        with self._lock:
            for k in keys:
                full = (version, name, k)
                if full in self._cache:
                    self._cache.move_to_end(full)
                    found[k] = self._cache[full]
                    self.hits += 1
            missing = [k for k in keys if k not in found]
            self.misses += len(missing)
        if missing:
            computed = compute(missing)
            with self._lock:
                for k in missing:
                    self._cache[(version, name, k)] = computed[k]
                    found[k] = computed[k]
                while len(self._cache) > self.maxsize:
                    self._cache.popitem(last=False)
        return [found[k].copy() if isinstance(found[k], pd.DataFrame) else found[k] for k in keys]

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[queries.Cursor]:
        cur = self.reader.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _query(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        def compute() -> Any:
            with self.cursor() as cur:
                return fn(cur, *args)

        return self._memo(name, args, compute)

    # -- units and sources ----------------------------------------------------------------

    def units(self) -> pd.DataFrame:
        return self._query("units", queries.units)

    def _unit_map(self) -> dict[str, Unit]:
        def compute() -> dict[str, Unit]:
            frame = self.units()
            out: dict[str, Unit] = {}
            for r in frame.itertuples(index=False):
                pop = None if pd.isna(r.population) else float(r.population)
                out[r.unit_id] = Unit(
                    r.unit_id,
                    r.level,
                    None if pd.isna(r.parent_id) else r.parent_id,
                    r.force_id,
                    r.name,
                    pop,
                    bool(r.synthetic),
                )
            return out

        return self._memo("unit_map", (), compute)

    def unit(self, unit_id: str) -> Unit | None:
        return self._unit_map().get(unit_id)

    def path(self, unit_id: str) -> tuple[Unit, ...]:
        """The unit and its ancestors, force first."""
        units = self._unit_map()
        chain: list[Unit] = []
        current = units.get(unit_id)
        while current is not None and len(chain) < 8:
            chain.append(current)
            current = units.get(current.parent_id) if current.parent_id else None
        return tuple(reversed(chain))

    def children(self, unit_id: str) -> list[Unit]:
        """Child units, by name (officers are never returned: see OFFICER_OFF)."""
        return [u for u in self._unit_map().values() if u.parent_id == unit_id and u.level in UI_LEVELS]

    def units_at(self, force_id: str, level: str) -> list[Unit]:
        return [u for u in self._unit_map().values() if u.force_id == force_id and u.level == level]

    def picker_units(self) -> list[Unit]:
        """Units a user may choose, force by force, each followed by its descendants."""
        units = self._unit_map()
        by_parent: dict[str | None, list[Unit]] = {}
        for u in units.values():
            if u.level in UI_LEVELS:
                by_parent.setdefault(u.parent_id, []).append(u)
        out: list[Unit] = []

        def walk(u: Unit) -> None:
            out.append(u)
            for child in sorted(by_parent.get(u.unit_id, []), key=lambda c: c.name):
                walk(child)

        for force in sorted((u for u in units.values() if u.level == "force"), key=lambda u: u.name):
            walk(force)
        return out

    def default_unit(self) -> str | None:
        """The force with the most detail (most units below it), then by name."""
        units = self._unit_map()
        if not units:
            return None
        sizes: dict[str, int] = {}
        for u in units.values():
            sizes[u.force_id] = sizes.get(u.force_id, 0) + 1
        forces = [u for u in units.values() if u.level == "force"]
        if not forces:
            return None
        return min(forces, key=lambda f: (-sizes.get(f.force_id, 0), f.name)).unit_id

    def _sources(self) -> dict[tuple[str, str], list[Source]]:
        """(force, family) -> every source with data for it, best first."""

        def compute() -> dict[tuple[str, str], list[Source]]:
            with self.cursor() as cur:
                have = queries.tables(cur)
                cov = queries.coverage(cur)
                days = queries.day_spans(cur, "cube_service_day" in have)
                status = cur.execute(
                    "SELECT source, force_id, count(*) FILTER (WHERE suspect) FROM month_status GROUP BY ALL"
                ).fetchall()
            suspect = {(s, f): int(n) for s, f, n in status}
            span = {
                (r.family, r.source, r.force_id): (_day(r.first_day), _day(r.last_day))
                for r in days.itertuples(index=False)
            }
            months: dict[tuple[str, str, str], set[date]] = {}
            shared: dict[tuple[str, str], set[date]] = {}  # service_force_month: every service family
            for r in cov.itertuples(index=False):
                m = _day(r.month)
                fam = family_of_dataset(r.dataset)
                if fam == "*services":
                    shared.setdefault((r.source, r.force_id), set()).add(m)
                else:
                    months.setdefault((fam, r.source, r.force_id), set()).add(m)
            for (src, force), ms in shared.items():
                for fam in service_families():
                    months.setdefault((fam, src, force), set()).update(ms)
            rank = {s: i for i, s in enumerate(queries.SOURCE_PREFERENCE)}
            out: dict[tuple[str, str], list[Source]] = {}
            for (fam, src, force), ms in months.items():
                first_day, last_day = span.get((fam, src, force), (None, None))
                out.setdefault((force, fam), []).append(
                    Source(
                        src,
                        force,
                        min(ms),
                        max(ms),
                        first_day,
                        last_day,
                        suspect.get((src, force), 0) if fam == "crime" else 0,
                        fam,
                        frozenset(ms),
                    )
                )
            for key in out:
                out[key].sort(key=lambda x: (rank.get(x.source, 99), x.source))
            return out

        return self._memo("sources", (), compute)

    def sources(self) -> pd.DataFrame:
        """Every (force, family, source) with its span, for the Data page and tests."""
        rows = [
            {
                "force_id": s.force_id,
                "family": s.family,
                "source": s.source,
                "first_month": s.first_month,
                "last_month": s.last_month,
                "first_day": s.first_day,
                "last_day": s.last_day,
                "months": len(s.months),
                "chosen": i == 0,
            }
            for lst in self._sources().values()
            for i, s in enumerate(lst)
        ]
        return pd.DataFrame(rows)

    def source_for(self, force_id: str, family: str = "crime") -> Source | None:
        """The one source a force's numbers of a family come from (queries.SOURCE_PREFERENCE:
        summing two sources would double count)."""
        found = self._sources().get((force_id, family))
        return found[0] if found else None

    def month_status(self, source: str, force_id: str) -> pd.DataFrame:
        return self._query("month_status", queries.month_status, source, force_id)

    def _suspect(self, source: Source) -> set[date]:
        if source.family != "crime":
            return set()

        def compute() -> frozenset[date]:
            ms = self.month_status(source.source, source.force_id)
            return frozenset(_day(m) for m, s in zip(ms["month"], ms["suspect"], strict=True) if bool(s))

        return set(self._memo("suspect", (source.source, source.force_id), compute))

    # -- resolving a URL ------------------------------------------------------------------

    def resolve(self, state: ViewState) -> View | None:
        """Check a URL's state against the warehouse; fall back to defaults with a note.

        None when the warehouse holds no units at all.
        """
        notes: list[str] = []
        units = self._unit_map()
        unit = units.get(state.unit or "")
        if state.unit and unit is None:
            notes.append(f"There is no unit '{state.unit}'; showing the default unit instead.")
        if unit is not None and unit.level == "officer":
            notes.append(OFFICER_OFF + " Showing the officer's team instead.")
            unit = units.get(unit.parent_id or "")
        if unit is None:
            default = self.default_unit()
            if default is None:
                return None
            unit = units[default]

        measure = MEASURES.get(state.measure or "")
        if state.measure and measure is None:
            notes.append(f"There is no measure '{state.measure}'; showing {MEASURES[DEFAULT_MEASURE].label}.")
        if measure is None:
            measure = MEASURES[DEFAULT_MEASURE]

        source = self.source_for(unit.force_id, family_of(measure))
        if source is None and family_of(measure) != "crime":
            notes.append(f"No {measure.domain.lower()} data is loaded for {unit.force_id}.")
        as_of = source.as_of if source else (self._any_as_of(unit.force_id) or date.today())
        preset = state.preset if state.preset in PRESETS else DEFAULT_PRESET
        if state.preset not in PRESETS:
            notes.append(f"Unknown period '{state.preset}'; showing {PRESETS[DEFAULT_PRESET].lower()}.")
        period: Period | None = None
        start_text, end_text = state.start, state.end
        if preset == "custom":
            try:
                start = parse_date(state.start or "")
                end = parse_date(state.end or "")
                period = Period(start, end, "custom")
            except ValueError as exc:
                notes.append(
                    f"The custom range could not be used ({exc}); showing {PRESETS[DEFAULT_PRESET].lower()}."
                )
                preset = DEFAULT_PRESET
        if period is None:
            period = preset_period(preset, as_of)
            start_text = end_text = None

        grain = state.grain if state.grain in GRAINS else DEFAULT_GRAIN
        if state.grain not in GRAINS:
            notes.append(f"Unknown grain '{state.grain}'; showing months.")
        if source is not None and not source.has_days:
            if grain in ("day", "week"):
                notes.append(
                    f"{source.label} has monthly data only: showing months, not {GRAINS[grain].lower()}s."
                )
                grain = "month"
            if not period.whole_months:
                period = Period(month_start(period.start), month_end(period.end), period.preset)
                notes.append(f"{source.label} has monthly data only: the period is widened to whole months.")
        if source is not None:
            if period.start < source.first or period.end > source.as_of:
                notes.append(
                    f"Data for this force runs from {source.first:%d %b %Y} to "
                    f"{source.as_of:%d %b %Y}; days outside it are shown as missing, not zero."
                )

        rank = state.rank if state.rank == "npu" and unit.level == "force" else None
        canonical = ViewState(
            unit=unit.unit_id,
            measure=measure.id,
            preset=period.preset,
            start=start_text if period.preset == "custom" else None,
            end=end_text if period.preset == "custom" else None,
            grain=grain,
            rank=rank,
        )
        if canonical.preset == "custom":
            canonical = canonical.replace(start=period.start.isoformat(), end=period.end.isoformat())
        return View(canonical, unit, self.path(unit.unit_id), measure, period, grain, source, tuple(notes))

    # -- numbers --------------------------------------------------------------------------

    def _any_as_of(self, force_id: str) -> date | None:
        found = [lst[0].as_of for (f, _), lst in self._sources().items() if f == force_id and lst]
        return max(found) if found else None

    def _time(self, source: Source, period: Period, grain: str, level: str) -> str:
        """Which cube answers: days when the grain or the range needs them and exist."""
        needs_days = grain in ("day", "week") or not period.whole_months
        if needs_days and source.has_days and level != "officer":
            return "day"
        if grain in ("day", "week"):
            raise GrainUnavailable(
                f"{GRAINS[grain].lower()} grain needs daily data; {source.label} has monthly data only"
            )
        return "month"

    def _rows(
        self, measure: Measure, source: Source, unit_ids: tuple[str, ...], period: Period, time: str
    ) -> list[tuple[str, date, float, float, float]]:
        """Base cube rows of a measure: (unit_id, t, num, den, num2) per day or month.
        For crime, den is the crime count (per = 'crimes') or NaN: population is applied
        after aggregation, because it must not be summed over time. Plain tuples, not a
        DataFrame: these are small, and pandas' per-operation cost dominated the page time."""
        out: list[tuple[str, date, float, float, float]] = []
        with self.cursor() as cur:
            if is_crime(measure):
                c = queries.series_counts_many(
                    cur, source.source, unit_ids, period.start, period.end, measure.categories, time
                )
                for uid, t, n, sd in c.itertuples(index=False, name=None):
                    num = float(sd if measure.column == "sd" else n)
                    out.append(
                        (uid, _day(t), num, float(n) if measure.per == "crimes" else math.nan, math.nan)
                    )
                return out
            if "cube_service_month" not in queries.tables(cur):
                return out
            frame = queries.service_rows(
                cur, source.source, unit_ids, measure.id, period.start, period.end, time
            )
        for uid, t, num, den, sq in frame.itertuples(index=False, name=None):
            out.append((uid, _day(t), float(num), _float(den), _float(sq)))
        return out

    def _finish(self, measure: Measure, unit: Unit, num: float, den: float) -> tuple[float, float]:
        if is_crime(measure):
            if measure.per == "population":
                return num, unit.population if unit.population else math.nan
            if measure.per == "none":
                return num, math.nan
        return num, den

    def series(self, measure_id: str, unit_id: str, start: date, end: date, grain: str) -> pd.DataFrame:
        """The measure for one unit, bucket by bucket: what trend charts and the API draw.

        Columns: period_start, period_end (the bucket's days inside the range), label,
        days, covered_days, numerator, denominator, value, lower, upper, partial, suspect,
        missing. A bucket the source has no data for is missing (NaN), never zero.
        """
        return self.series_many(measure_id, (unit_id,), start, end, grain)[unit_id]

    def series_many(
        self, measure_id: str, unit_ids: tuple[str, ...], start: date, end: date, grain: str
    ) -> dict[str, pd.DataFrame]:
        """`series` for several units of one force, read in one query (e.g. a unit and its
        parent for the trend chart); each is cached as `series` would cache it."""
        keys = [(measure_id, u, start, end, grain) for u in unit_ids]

        def compute(missing: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
            frames = self._series(measure_id, tuple(k[1] for k in missing), start, end, grain)
            return {k: frames[k[1]] for k in missing}

        return dict(zip(unit_ids, self._memo_many("series", keys, compute), strict=True))

    def _series(
        self, measure_id: str, unit_ids: tuple[str, ...], start: date, end: date, grain: str
    ) -> dict[str, pd.DataFrame]:
        measure = MEASURES[measure_id]
        units = [self._require_unit(u) for u in unit_ids]
        source = self.source_for(units[0].force_id, family_of(measure))
        period = Period(start, end)
        if source is None:
            return {u: pd.DataFrame(columns=SERIES_COLUMNS) for u in unit_ids}
        level = "officer" if any(u.level == "officer" for u in units) else units[0].level
        time = self._time(source, period, grain, level)
        if time == "month" and not period.whole_months:
            period = period.to_whole_months()
        by_bucket: dict[tuple[str, date], list[tuple[date, float, float, float]]] = {}
        for uid, t, num, den, sq in self._rows(measure, source, tuple(unit_ids), period, time):
            by_bucket.setdefault((uid, bucket_start(t, grain)), []).append((t, num, den, sq))
        covered, suspect = set(source.months), self._suspect(source)
        if source.has_days and source.first_day is not None and source.last_day is not None:
            first_day, last_day = source.first_day, source.last_day
        else:
            first_day, last_day = date.min, date.max
        frame_buckets = [
            (
                b,
                _covered_days(b.first, b.last, covered, first_day, last_day),
                bucket_label(b.start, grain),
                bool(suspect) and any(m in suspect for m in _months_between(b.first, b.last)),
            )
            for b in buckets(period, grain)
        ]
        out: dict[str, pd.DataFrame] = {}
        for unit in units:
            records = []
            for b, covered_days, label, sus in frame_buckets:
                missing = covered_days == 0
                if missing:
                    num = den = sq = math.nan
                else:
                    num, den, sq = metrics.combine_tuples(measure, by_bucket.get((unit.unit_id, b.start), []))
                    num, den = self._finish(measure, unit, num, den)
                lo, hi = metrics.interval(measure, num, den, sq)
                records.append(
                    (
                        b.first,
                        b.last,
                        label,
                        b.days,
                        covered_days,
                        num,
                        den,
                        metrics.value(measure, num, den),
                        lo,
                        hi,
                        b.partial or (0 < covered_days < b.days),
                        sus,
                        missing,
                    )
                )
            out[unit.unit_id] = pd.DataFrame.from_records(records, columns=SERIES_COLUMNS)
        return out

    def values(self, measure_id: str, unit_ids: tuple[str, ...], start: date, end: date) -> pd.DataFrame:
        """The measure over a whole period for several units of one force (ranked bars).

        Columns: unit_id, name, level, population, numerator, denominator, num2, value,
        lower, upper, covered (whether the source has every month of the period).
        """
        return self._memo(
            "values",
            (measure_id, tuple(unit_ids), start, end),
            lambda: self._values(measure_id, tuple(unit_ids), start, end),
        )

    def _values(self, measure_id: str, unit_ids: tuple[str, ...], start: date, end: date) -> pd.DataFrame:
        measure = MEASURES[measure_id]
        units = [self._require_unit(u) for u in unit_ids]
        if not units:
            return pd.DataFrame(columns=VALUES_COLUMNS)
        source = self.source_for(units[0].force_id, family_of(measure))
        period = Period(start, end)
        totals: dict[str, tuple[float, float, float]] = {}
        covered = any_data = False
        if source is not None:
            time = self._time(source, period, "month", units[0].level)
            if time == "month":
                period = period.to_whole_months()
            covered = self.covered(units[0].force_id, period, family_of(measure))
            any_data = any(m in source.months for m in period.months())
            if is_crime(measure):
                counts = self.period_counts(source.source, unit_ids, period.start, period.end, time)
                cats = set(measure.categories)
                sums: dict[str, list[float]] = {}
                for uid, cat, n, sd in counts.itertuples(index=False, name=None):
                    if cat in cats:
                        acc = sums.setdefault(uid, [0.0, 0.0])
                        acc[0] += n
                        acc[1] += sd
                for u in units:
                    n, sd = sums.get(u.unit_id, (0.0, 0.0))
                    totals[u.unit_id] = (
                        sd if measure.column == "sd" else n,
                        n if measure.per == "crimes" else math.nan,
                        math.nan,
                    )
            else:
                grouped: dict[str, list[tuple[date, float, float, float]]] = {}
                for uid, t, num, den, sq in self._rows(measure, source, unit_ids, period, time):
                    grouped.setdefault(uid, []).append((t, num, den, sq))
                for u in units:
                    totals[u.unit_id] = metrics.combine_tuples(measure, grouped.get(u.unit_id, []))
        records = []
        for u in units:
            num, den, sq = (
                totals.get(u.unit_id, (math.nan, math.nan, math.nan))
                if any_data
                else (math.nan, math.nan, math.nan)
            )
            num, den = self._finish(measure, u, num, den) if any_data else (num, den)
            lo, hi = metrics.interval(measure, num, den, sq)
            records.append(
                (
                    u.unit_id,
                    u.name,
                    u.level,
                    u.population if u.population else math.nan,
                    num,
                    den,
                    sq,
                    metrics.value(measure, num, den),
                    lo,
                    hi,
                    covered,
                )
            )
        return pd.DataFrame.from_records(records, columns=VALUES_COLUMNS)

    def period_counts(
        self, source: str, unit_ids: tuple[str, ...], start: date, end: date, time: str
    ) -> pd.DataFrame:
        """Crime cube counts by unit and category over a period: [unit_id, category, n, sd].
        Cached unit by unit (one query for the units not cached), so the ranked bars, the
        unit's own value and the drill-through row count share one read."""

        def compute(keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
            with self.cursor() as cur:
                frame = queries.period_counts(cur, source, [k[1] for k in keys], start, end, time)
            parts = {u: g for u, g in frame.groupby("unit_id", sort=False)}
            return {k: parts.get(k[1], frame.iloc[0:0]) for k in keys}

        keys = [(source, u, start, end, time) for u in unit_ids]
        frames = self._memo_many("period_counts", keys, compute)
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["unit_id", "category", "n", "sd"])
        )

    def _require_unit(self, unit_id: str) -> Unit:
        unit = self.unit(unit_id)
        if unit is None:
            raise KeyError(f"unknown unit {unit_id!r}")
        return unit

    def covered(self, force_id: str, period: Period, family: str = "crime") -> bool:
        """Whether the force's source has every month (and day) of the period."""
        source = self.source_for(force_id, family)
        if source is None:
            return False
        inside = all(m in source.months for m in period.months())
        if source.has_days and source.first_day and source.last_day:
            inside = inside and source.first_day <= period.start and period.end <= source.last_day
        return inside

    def suspect_in(self, force_id: str, period: Period) -> list[date]:
        source = self.source_for(force_id)
        if source is None:
            return []
        suspect = self._suspect(source)
        return sorted(m for m in period.months() if m in suspect)

    # -- the scorecard --------------------------------------------------------------------

    def scorecard(self, unit_id: str, start: date, end: date) -> pd.DataFrame:
        """Every headline measure for a unit: value, last year, change, target, sparkline.

        Exceptions first: significantly worse than last year, then target missed, then the
        rest; each group by p-value. Columns are listed in `SCORECARD_COLUMNS`.
        """
        return self._memo("scorecard", (unit_id, start, end), lambda: self._scorecard(unit_id, start, end))

    def _scorecard(self, unit_id: str, start: date, end: date) -> pd.DataFrame:
        unit = self._require_unit(unit_id)
        # Measures grouped by the source that answers them: one query per group.
        groups: dict[tuple[str, str], tuple[Source, list[Measure]]] = {}
        rows = []
        for measure in metrics.headline_measures():
            family = family_of(measure)
            source = self.source_for(unit.force_id, family)
            if source is None:
                rows.append(_score_row(measure, None, None, Period(start, end), [], [], "not loaded"))
                continue
            key = ("crime" if family == "crime" else "service", source.source)
            groups.setdefault(key, (source, []))[1].append(measure)
        for (_, _), (source, measures) in groups.items():
            rows += self._score_group(unit, source, measures, Period(start, end))
        frame = pd.DataFrame(rows, columns=SCORECARD_COLUMNS + ["_rank", "_p", "_order"])
        frame = frame.sort_values(["_rank", "_p", "_order"], kind="stable").drop(
            columns=["_rank", "_p", "_order"]
        )
        return frame.reset_index(drop=True)

    def _score_group(self, unit: Unit, source: Source, measures: list[Measure], period: Period) -> list[dict]:
        """Scorecard rows of headline measures answered by one source, from one query: the
        period, the same period last year and the 13 months of the sparkline, split in Python.
        Coverage (months loaded) is each measure's own family's."""
        time = self._time(source, period, "month", unit.level)
        if time == "month":
            period = period.to_whole_months()
        last = period.last_year()
        spark_end = last_complete_month(period.end)
        spark_months = Period(month_start(_add(spark_end, -12)), month_end(spark_end)).months()
        first = min(last.start, spark_months[0])
        base: dict[str, list[tuple[date, float, float, float]]] = {m.id: [] for m in measures}
        with self.cursor() as cur:
            if source.family == "crime":
                counts = queries.unit_counts_by_time(
                    cur, source.source, unit.unit_id, first, period.end, time
                )
                cats: dict[date, dict[str, tuple[int, int]]] = {}
                for t, cat, n, sd in counts.itertuples(index=False, name=None):
                    cats.setdefault(_day(t), {})[cat] = (int(n), int(sd))
                for m in measures:
                    for t, by_cat in cats.items():
                        n = sum(by_cat.get(c, (0, 0))[0] for c in m.categories)
                        sd = sum(by_cat.get(c, (0, 0))[1] for c in m.categories)
                        base[m.id].append(
                            (
                                t,
                                float(sd if m.column == "sd" else n),
                                float(n) if m.per == "crimes" else math.nan,
                                math.nan,
                            )
                        )
            elif "cube_service_month" in queries.tables(cur):
                found = queries.service_rows_many(
                    cur, source.source, unit.unit_id, [m.id for m in measures], first, period.end, time
                )
                for mid, t, num, den, sq in found.itertuples(index=False, name=None):
                    base[mid].append((_day(t), float(num), _float(den), _float(sq)))
        out = []
        for order, m in enumerate(measures):
            own = self.source_for(unit.force_id, family_of(m)) or source
            rows = base[m.id]
            now = self._finish3(
                m, unit, metrics.combine_tuples(m, [r for r in rows if period.start <= r[0] <= period.end])
            )
            before = (
                self._finish3(
                    m, unit, metrics.combine_tuples(m, [r for r in rows if last.start <= r[0] <= last.end])
                )
                if self.covered(unit.force_id, last, family_of(m))
                else (math.nan, math.nan, math.nan)
            )
            spark = []
            for month in spark_months:
                if month not in own.months:
                    spark.append(math.nan)
                    continue
                num, den, _ = self._finish3(
                    m, unit, metrics.combine_tuples(m, [r for r in rows if month_start(r[0]) == month])
                )
                spark.append(metrics.value(m, num, den))
            row = _score_row(m, now, before, period, spark_months, spark, None)
            row["_order"] = order
            out.append(row)
        return out

    def _finish3(
        self, measure: Measure, unit: Unit, nds: tuple[float, float, float]
    ) -> tuple[float, float, float]:
        num, den = self._finish(measure, unit, nds[0], nds[1])
        return num, den, nds[2]

    # -- raw facts: drill-through and map ---------------------------------------------------

    def _cell_files(self, unit: Unit, source: Source, period: Period) -> tuple[list[str], list[str]]:
        def compute() -> tuple[tuple[str, ...], tuple[str, ...]]:
            with self.cursor() as cur:
                crime = queries.lake_files(
                    cur,
                    self.lake,
                    "crime",
                    source.source,
                    unit.force_id,
                    month_start(period.start),
                    month_start(period.end),
                )
                outcome = (
                    queries.lake_files(cur, self.lake, "outcome", None, unit.force_id)
                    if source.source == "police_uk"
                    else []
                )
            return tuple(crime), tuple(outcome)

        crime, outcome = self._memo(
            "cell_files", (unit.force_id, source.source, period.start, period.end), compute
        )
        return list(crime), list(outcome)

    def _cell(
        self, measure_id: str, unit_id: str, start: date, end: date
    ) -> tuple[Unit, Source, Period, str, date, date] | None:
        measure = MEASURES[measure_id]
        if not is_crime(measure):
            raise ValueError(f"records are drilled through for crime measures only, not {measure_id!r}")
        unit = self._require_unit(unit_id)
        if unit.level == "officer":
            raise PermissionError(OFFICER_OFF)
        source = self.source_for(unit.force_id)
        if source is None:
            return None
        period = Period(start, end)
        time = "date" if source.has_days else "month"
        if time == "month":
            period = period.to_whole_months()
            lo, hi = month_start(period.start), month_start(period.end)
        else:
            lo, hi = period.start, period.end
        return unit, source, period, time, lo, hi

    def record_count(self, measure_id: str, unit_id: str, start: date, end: date) -> int:
        """How many raw records lie behind the cell (unit x period x measure's categories).

        Counted from the cube, which counts exactly those records (tests check the two
        agree, and `record_count_from_facts` counts the lake files directly)."""

        def compute() -> int:
            cell = self._cell(measure_id, unit_id, start, end)
            if cell is None:
                return 0
            unit, source, period, time, _, _ = cell
            cats = set(MEASURES[measure_id].categories)
            counts = self.period_counts(
                source.source, (unit.unit_id,), period.start, period.end, "day" if time == "date" else "month"
            )
            return int(sum(n for _, cat, n, _ in counts.itertuples(index=False, name=None) if cat in cats))

        return self._memo("record_count", (measure_id, unit_id, start, end), compute)

    def record_count_from_facts(self, measure_id: str, unit_id: str, start: date, end: date) -> int:
        """The same count read from the raw Parquet facts (for checks and benchmarks)."""
        cell = self._cell(measure_id, unit_id, start, end)
        if cell is None:
            return 0
        unit, source, period, time, lo, hi = cell
        crime, outcome = self._cell_files(unit, source, period)
        with self.cursor() as cur:
            return queries.record_count(
                cur, crime, outcome, unit.level, unit.unit_id, MEASURES[measure_id].categories, lo, hi, time
            )

    def records(
        self,
        measure_id: str,
        unit_id: str,
        start: date,
        end: date,
        *,
        offset: int = 0,
        limit: int = 100,
        order_by: str = "date",
        descending: bool = False,
    ) -> pd.DataFrame:
        """One page of the raw records behind a cell (unit x period x measure's categories)."""

        def compute() -> pd.DataFrame:
            cell = self._cell(measure_id, unit_id, start, end)
            if cell is None:
                return pd.DataFrame(columns=list(queries.RECORD_COLUMNS))
            unit, source, period, time, lo, hi = cell
            crime, outcome = self._cell_files(unit, source, period)
            with self.cursor() as cur:
                return queries.records(
                    cur,
                    crime,
                    outcome,
                    unit.level,
                    unit.unit_id,
                    MEASURES[measure_id].categories,
                    lo,
                    hi,
                    time=time,
                    limit=limit,
                    offset=offset,
                    order_by=order_by,
                    descending=descending,
                )

        return self._memo(
            "records", (measure_id, unit_id, start, end, offset, limit, order_by, descending), compute
        )

    def map_points(
        self, measure_id: str, unit_id: str, start: date, end: date, limit: int = MAP_POINTS
    ) -> pd.DataFrame:
        """Coordinates of the cell's records (a repeatable sample above `limit`)."""

        def compute() -> pd.DataFrame:
            cell = self._cell(measure_id, unit_id, start, end)
            if cell is None:
                return pd.DataFrame(
                    columns=["longitude", "latitude", "category", "sanction", "date", "month"]
                )
            unit, source, period, time, lo, hi = cell
            crime, outcome = self._cell_files(unit, source, period)
            sample = self.record_count(measure_id, unit_id, start, end) > limit
            with self.cursor() as cur:
                return queries.map_points(
                    cur,
                    crime,
                    outcome,
                    unit.level,
                    unit.unit_id,
                    MEASURES[measure_id].categories,
                    lo,
                    hi,
                    time=time,
                    limit=limit,
                    sample=sample,
                )

        return self._memo("map_points", (measure_id, unit_id, start, end, limit), compute)

    # -- the Data page --------------------------------------------------------------------

    def data_overview(self) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            with self.cursor() as cur:
                return {
                    "meta": queries.meta(cur),
                    "loaded": queries.loaded_summary(cur),
                    "log": queries.load_log(cur, limit=50),
                    "suspect": queries.suspect_months(cur),
                    "quarantine": queries.quarantine_counts(cur),
                    "lake": queries.lake_summary(cur),
                }

        found = self._memo("data_overview", (), compute)
        return {k: (v.copy() if isinstance(v, pd.DataFrame) else v) for k, v in found.items()}


SERIES_COLUMNS = [
    "period_start",
    "period_end",
    "label",
    "days",
    "covered_days",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "partial",
    "suspect",
    "missing",
]
VALUES_COLUMNS = [
    "unit_id",
    "name",
    "level",
    "population",
    "numerator",
    "denominator",
    "num2",
    "value",
    "lower",
    "upper",
    "covered",
]
SCORECARD_COLUMNS = [
    "measure_id",
    "label",
    "domain",
    "unit",
    "polarity",
    "numerator",
    "denominator",
    "value",
    "lower",
    "upper",
    "previous",
    "abs_change",
    "pct_change",
    "p_value",
    "significant",
    "verdict",
    "arrow",
    "change_text",
    "target",
    "target_met",
    "exception",
    "spark_months",
    "spark",
]
SERVICE_FAMILIES = ("satisfaction", "calls", "dv", "missing", "rso", "workforce")


def family_of(measure: Measure) -> str:
    """'crime' or the measure's service dataset: the unit of source choice and coverage."""
    return "crime" if is_crime(measure) else str(measure.dataset)


def family_of_dataset(dataset: str) -> str:
    if dataset in ("crime", "force_month"):
        return "crime"
    if dataset == "service_force_month":
        return "*services"
    return dataset


def service_families() -> tuple[str, ...]:
    found = {family_of(m) for m in MEASURES.values()} - {"crime"}
    return tuple(sorted(found | set(SERVICE_FAMILIES)))


def _day(v: Any) -> date | None:
    if v is None or (not isinstance(v, date) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date()
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return pd.Timestamp(v).date()


_EMPTY_ROWS = pd.DataFrame(
    {
        "unit_id": pd.Series(dtype=object),
        "t": pd.Series(dtype=object),
        "num": pd.Series(dtype=float),
        "den": pd.Series(dtype=float),
        "num2": pd.Series(dtype=float),
    }
)


def _empty_rows() -> pd.DataFrame:
    """An empty base-rows frame (shared: read it, never change it)."""
    return _EMPTY_ROWS


def _float(v: Any) -> float:
    return math.nan if v is None or (isinstance(v, float) and math.isnan(v)) or pd.isna(v) else float(v)


def _score_row(
    measure: Measure,
    now: tuple[Any, ...] | None,
    before: tuple[Any, ...] | None,
    period: Period,
    spark_months: list[date],
    spark: list[float],
    why: str | None,
) -> dict[str, Any]:
    if now is None:
        return {
            "measure_id": measure.id,
            "label": measure.label,
            "domain": measure.domain,
            "unit": metrics.unit_text(measure),
            "polarity": measure.polarity,
            "numerator": math.nan,
            "denominator": math.nan,
            "value": math.nan,
            "lower": math.nan,
            "upper": math.nan,
            "previous": math.nan,
            "abs_change": math.nan,
            "pct_change": math.nan,
            "p_value": math.nan,
            "significant": False,
            "verdict": "not loaded",
            "arrow": "",
            "change_text": f"no {measure.domain.lower()} data loaded for this force",
            "target": measure.target if measure.target is not None else math.nan,
            "target_met": None,
            "exception": False,
            "spark_months": [],
            "spark": [],
            "_rank": 5,
            "_p": 1.0,
            "_order": 0,
        }
    num, den, sq = now
    num0, den0, sq0 = before if before is not None else (math.nan, math.nan, math.nan)
    val = metrics.value(measure, num, den)
    lo, hi = metrics.interval(measure, num, den, sq)
    val0 = metrics.value(measure, num0, den0)
    comp = metrics.compare(measure, num, den, num0, den0, sq, sq0)
    met = metrics.target_met(measure, val)
    worse = comp.verdict == "worse"
    rank = 0 if worse else 1 if met is False else 2 if comp.verdict == "better" else 3
    p_value = comp.p_value
    return {
        "measure_id": measure.id,
        "label": measure.label,
        "domain": measure.domain,
        "unit": metrics.unit_text(measure),
        "polarity": measure.polarity,
        "numerator": num,
        "denominator": den,
        "value": val,
        "lower": lo,
        "upper": hi,
        "previous": val0,
        "abs_change": comp.abs_change,
        "pct_change": comp.pct_change,
        "p_value": p_value,
        "significant": bool(comp.change.significant) if comp.change else False,
        "verdict": comp.verdict,
        "arrow": comp.arrow,
        "change_text": comp.text,
        "target": measure.target if measure.target is not None else math.nan,
        "target_met": met,
        "exception": worse or met is False,
        "spark_months": spark_months,
        "spark": spark,
        "_rank": rank,
        "_p": p_value if not math.isnan(p_value) else 1.0,
        "_order": 0,
    }


def _add(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _months_between(first: date, last: date) -> list[date]:
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = _add(m, 1)
    return out


def _covered_days(first: date, last: date, months: set[date], first_day: date, last_day: date) -> int:
    """Days of [first, last] that fall in a covered month and inside the source's day span."""
    if first.year == last.year and first.month == last.month:  # fast path: days, most weeks, months
        if date(first.year, first.month, 1) not in months:
            return 0
        lo, hi = max(first, first_day), min(last, last_day)
        return (hi - lo).days + 1 if hi >= lo else 0
    total = 0
    for m in _months_between(first, last):
        if m not in months:
            continue
        lo = max(first, m, first_day)
        hi = min(last, month_end(m), last_day)
        if hi >= lo:
            total += (hi - lo).days + 1
    return total
