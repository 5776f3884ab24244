"""The data manager: every number a page, a callback, the API or an export shows comes through
`DataAccess`, and so does every decision about what the user may see.

It turns a view's parameters into query calls (`dashboard.data.queries`, a cursor per call)
and the measure arithmetic (`dashboard.analysis.metrics`, pure), and caches the results keyed
by (warehouse version, name, parameters): see `dashboard.data.cache`. Analysis modules cache
what they derive through the same public `cached` / `cached_many`, so one load's new version
retires every result at once.

Who is asking: `request(actor)` pins the warehouse version and the actor for one request;
`dashboard.data.access` decides what that actor may see (units, levels, records, columns), and
the methods here ask it before handing anything out. Outside a request the actor is the
anonymous one, the most restricted.

Individual-level data (crime-level records, map points, an officer's figures, a list of
officers) is recorded as it is handed out, here and nowhere else: see `_audit` and
dashboard/data/audit.py. If the record cannot be written, the data is withheld.

Returned DataFrames are copies: callers may change them freely.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import logging
import math
import sys
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from dashboard.analysis import kinds, metrics
from dashboard.analysis import msoa as msoa_stats
from dashboard.analysis import officers as officer_stats
from dashboard.data import access, limits
from dashboard.data import audit as audit_kinds
from dashboard.data.access import Actor
from dashboard.data.audit import AuditEvent, AuditSink, AuditUnavailable
from dashboard.data.cache import VersionedCache
from dashboard.data.model import (
    DEFAULT_MEASURE,
    SCORECARD_COLUMNS,
    SERIES_COLUMNS,
    SOURCE_PREFERENCE,
    VALUES_COLUMNS,
    GrainUnavailable,
    MsoaFigures,
    PlaceFigures,
    ReferenceData,
    Source,
    Unit,
    View,
    family_of_dataset,
    service_families,
)
from dashboard.data.precomputed import ResultStore
from dashboard.data.queries import Cursor, cubes, facts, reference, status
from dashboard.data.queries import calls as call_queries
from dashboard.data.queries import officers as officer_queries
from dashboard.data.queries import place as place_queries
from dashboard.data.queries import tables as table_names
from dashboard.data.queries import units as unit_queries
from dashboard.data.warehouse import WarehouseReader
from dashboard.periods import (
    DEFAULT_GRAIN,
    DEFAULT_PRESET,
    GRAINS,
    MAX_BUCKETS,
    PRESETS,
    Period,
    add_months,
    bucket_count,
    bucket_label,
    bucket_start,
    buckets,
    fitting_grain,
    last_complete_month,
    month_end,
    month_start,
    outside_window,
    parse_date,
    preset_period,
)
from dashboard.state import ViewState
from etl import hierarchy
from etl.lake.warehouse import WarehousePaths
from etl.measures.model import Measure
from etl.measures.registry import MEASURES
from etl.reference import areas, lsoa_mapping

RECORDS_CSV_LIMIT = 100_000
# month_status, and so the suspect-month check, covers the crime loads (a month far below its
# expected level): the family whose months can be suspect.
SUSPECT_FAMILY = "crime"
MAP_POINTS = 8_000
# The warehouse version and the actor of the current request (see DataAccess.request).
_PINNED: contextvars.ContextVar[tuple[Any, ...] | None] = contextvars.ContextVar(
    "lg_pinned_version", default=None
)
_ACTOR: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("lg_actor", default=None)
# What this request has already recorded in the audit log (one officer page reads the
# officer's figures and their peers: one entry, not two).
_AUDITED: contextvars.ContextVar[set[tuple[str, str | None, str]] | None] = contextvars.ContextVar(
    "lg_audited", default=None
)
log = logging.getLogger(__name__)


class _ReadAhead:
    """A wider cube read a page announces (`DataAccess.read_ahead`): one measure's rows of a set
    of units over a range of days or months, fetched by the first read it covers and then
    answering every read it covers, in this request only."""

    __slots__ = ("measure_id", "units", "start", "end", "time", "rows", "source")

    def __init__(self, measure_id: str, units: frozenset[str], start: date, end: date, time: str) -> None:
        self.measure_id, self.units, self.start, self.end, self.time = measure_id, units, start, end, time
        self.rows: list[tuple[str, date, float, float, float, float]] | None = None
        self.source: str | None = None

    def covers(self, measure_id: str, source: str, unit_ids: Sequence[str], start: date, end: date,
               time: str) -> bool:
        return (measure_id == self.measure_id and time == self.time and self.start <= start
                and end <= self.end and (self.source is None or self.source == source)
                and self.units.issuperset(unit_ids))


# The reads ahead announced in this request (DataAccess.read_ahead).
_AHEAD: contextvars.ContextVar[tuple[_ReadAhead, ...]] = contextvars.ContextVar("lg_read_ahead", default=())


class DataAccess:
    """Cached, versioned, access-checked reads of the warehouse for pages, analysis and the API."""

    def __init__(self, reader: WarehouseReader, cache_bytes: int | None = None, *,
                 require_request: bool = False, audit_sink: AuditSink | None = None) -> None:
        self.reader = reader
        self.lake = WarehousePaths(reader.link).lake
        # bounded by bytes: $LG_CACHE_MB unless given (dashboard/data/limits.py)
        self._cache = VersionedCache(limits.cache_bytes() if cache_bytes is None else cache_bytes)
        # results that depend only on the version, on disk beside it: shared by every worker
        # and kept across restarts (dashboard/data/precomputed.py, docs/precompute.md)
        self.store = ResultStore(reader.link)
        # off: the concentration figures are computed on every cold call, as before they were
        # stored (benchmarks/dashboard.py --no-place-store measures that path)
        self.store_places = True
        # The running app sets this: a check of what may be seen made outside `request(actor)`
        # (a callback or route that forgot to say who is asking) fails loudly instead of
        # quietly answering as the anonymous actor.
        self.require_request = require_request
        # Where hand-outs of individual-level data are recorded (the app wires the store's
        # audit log: dashboard/audit.py). None: nothing is recorded (scripts, benchmarks).
        self.audit_sink = audit_sink

    # -- one request: its version and its actor -------------------------------------------

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

    @contextlib.contextmanager
    def request(self, actor: Actor) -> Iterator[None]:
        """One request: the version pinned (see `pinned`) and `actor` as the one asking, for
        everything inside. Every page, callback, export and API route runs inside one."""
        token = _ACTOR.set(actor)
        audited = _AUDITED.set(set()) if _AUDITED.get() is None else None
        try:
            with self.pinned():
                yield
        finally:
            if audited is not None:
                _AUDITED.reset(audited)
            _ACTOR.reset(token)

    def actor(self) -> Actor:
        """Who is asking: the request's actor, or the anonymous actor outside a request
        (an error instead when `require_request` is set, as in the running app)."""
        found = _ACTOR.get()
        if found is None and self.require_request:
            raise RuntimeError("a read that depends on who is asking ran outside DataAccess.request(actor)")
        return found if found is not None else access.ANONYMOUS

    def _audit(self, what: str, unit_id: str | None, **detail: Any) -> None:
        """Record that individual-level data is being handed out to the request's actor; raise
        `AuditUnavailable` (the data is then withheld) if the record cannot be written.

        Called by the methods that hand such data out, after their access check and after
        the cache answered (a cached result is still a view), before they return. Once per
        request for the same (what, unit, detail). The sink's own error text goes to the log,
        never to the user."""
        if self.audit_sink is None:
            return
        actor = self.actor()
        text = " ".join(f"{k}={v}" for k, v in detail.items())
        key = (what, unit_id, text)
        done = _AUDITED.get()
        if done is not None and key in done:
            return
        roles = "; ".join(f"{g.role} ({g.unit_id or 'every force'})" for g in actor.grants)
        event = AuditEvent(datetime.now(UTC), actor.id, roles, what, unit_id, text)
        try:
            self.audit_sink.record(event)
        except Exception:  # any failure to record withholds the data (fail closed)
            log.exception("the audit log could not be written: %s for %s withheld from %s",
                          what, unit_id, actor.id)
            raise AuditUnavailable() from None
        if done is not None:
            done.add(key)

    def _audit_officers(self, units: Sequence[Unit], **detail: Any) -> None:
        """Record the figures of any officer among `units` (series, values, scorecard)."""
        for unit in units:
            if hierarchy.level(unit.level).individual:
                self._audit(audit_kinds.OFFICER, unit.unit_id, **detail)

    def lineage(self, unit: Unit) -> tuple[str, ...]:
        """The unit's ids from its force down to itself: what the access seam places it by
        (built once with the unit map: every access check of every unit asks for it, ~600 of
        them for one unit picker)."""
        found = self._unit_map().lineage.get(unit.unit_id)
        return found if found is not None else tuple(u.unit_id for u in self.path(unit.unit_id))

    def _sees(self, actor: Actor, unit: Unit) -> bool:
        return access.may_see_unit(actor, unit, self.lineage(unit))

    def _sees_records(self, actor: Actor, unit: Unit) -> bool:
        return access.may_see_records(actor, unit, self.lineage(unit))

    # -- the public cache -----------------------------------------------------------------

    def cached(self, name: str, args: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        """`compute()`, cached under (warehouse version, `name`, `args`). For analysis modules
        too: name results by module ('peers.npu_clusters') so that names do not collide, and put
        in `args` everything the result depends on besides the warehouse."""
        return self._cache.get(self.version_key(), name, args, compute)

    def cached_many(
        self,
        name: str,
        keys: list[tuple[Hashable, ...]],
        compute: Callable[[list[tuple[Hashable, ...]]], dict[tuple[Hashable, ...], Any]],
    ) -> list[Any]:
        """`cached` for a batch: the keys not cached are computed together in one call (one
        query for several units), each is cached under its own key."""
        return self._cache.get_many(self.version_key(), name, keys, compute)

    def cached_peek(self, name: str, args: tuple[Hashable, ...]) -> bool:
        """Whether `cached(name, args, ...)` would answer from the cache now (a batch read can
        then be skipped)."""
        return (self.version_key(), name, args) in self._cache

    def persisted(self, name: str, args: tuple[Hashable, ...], compute: Callable[[], Any],
                  *, keep: bool = True) -> Any:
        """`cached`, and kept on disk beside the warehouse version (ResultStore): a cold result
        cache in any worker reads the version's stored result instead of computing it again.
        Only for results that depend on nothing but the version and `args` (never on who is
        asking: check access before asking, as for `cached`), and whose `args` come from a
        bounded set (the store is not evicted while its version lives). `keep=False`: not in the
        result cache too (for a result only read to derive cached ones: sizing a large nest of
        Python objects for the cache costs more than reading the file again)."""
        version = self.version_key()

        def load_or_compute() -> Any:
            found = self.store.read(version, name, args)
            if found is not None:
                return found
            value = compute()
            self.store.write(version, name, args, value)
            return value

        if not keep:
            return load_or_compute()
        return self._cache.get(version, name, args, load_or_compute)

    def stored(self, name: str, args: tuple[Hashable, ...], *, keep: bool = True) -> Any | None:
        """What `persisted` would return without computing: the cached or stored result, or
        None when neither has it (a batch then computes only what is missing)."""
        version = self.version_key()
        if not keep:
            return self.store.read(version, name, args)
        if (version, name, args) in self._cache:
            return self._cache.get(version, name, args, lambda: None)
        found = self.store.read(version, name, args)
        if found is None:
            return None
        return self._cache.get(version, name, args, lambda: found)

    @property
    def hits(self) -> int:
        return self._cache.hits

    @property
    def misses(self) -> int:
        return self._cache.misses

    def clear_cache(self) -> None:
        self._cache.clear()

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Cursor]:
        """A cursor on the live version, for one block of reads (benchmarks and checks; pages
        and analysis use the methods below)."""
        cur = self.reader.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def _query(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        def compute() -> Any:
            with self.cursor() as cur:
                return fn(cur, *args)

        return self.cached(name, args, compute)

    def _read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """One uncached read: for raw cube slices that callers reduce and cache themselves."""
        with self.cursor() as cur:
            return fn(cur, *args)

    @contextlib.contextmanager
    def read_ahead(self, measure_id: str, unit_ids: Sequence[str], start: date, end: date,
                   time: str = "month") -> Iterator[None]:
        """Inside: the measure's cube rows (`_rows`) of any of `unit_ids` within start..end by
        `time` (day or month) come from one read of all of them, made by the first such read that
        is not cached, instead of one query each (the drill-down reads its children's values,
        the unit's trend, last year's trend and last year's value: four queries of the same
        rows, ~3 ms each at best). The same rows: a covered read takes the wider read's rows
        of its units and range, in the order the query gives (unit, then time), each row one
        (unit, time) group of the cube as the narrower query groups it. Nothing is read when
        every read inside is cached. Who may see which unit is checked by each read, as
        without it; the wider read only prepares rows for those checked reads."""
        token = _AHEAD.set((*_AHEAD.get(), _ReadAhead(measure_id, frozenset(unit_ids), start, end, time)))
        try:
            yield
        finally:
            _AHEAD.reset(token)

    def _ahead_rows(
        self, measure: Measure, source: Source, unit_ids: tuple[str, ...], period: Period, time: str
    ) -> list[tuple[str, date, float, float, float, float]] | None:
        """The rows `_rows` would read, from an announced read ahead that covers them (fetched
        now if it was not yet), or None."""
        for ahead in _AHEAD.get():
            if not ahead.covers(measure.id, source.source, unit_ids, period.start, period.end, time):
                continue
            if ahead.rows is None:
                ahead.rows = self._fetch_rows(measure, source, tuple(sorted(ahead.units)),
                                              Period(ahead.start, ahead.end), time)
                ahead.source = source.source
            wanted, start, end = set(unit_ids), period.start, period.end
            return [r for r in ahead.rows if r[0] in wanted and start <= r[1] <= end]
        return None

    # -- units and sources ----------------------------------------------------------------

    def units(self) -> pd.DataFrame:
        return self._query("units", unit_queries.units)

    def _unit_map(self) -> _UnitMap:
        def compute() -> _UnitMap:
            frame = self.units()
            out = _UnitMap()
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
            for uid in out:
                chain: list[str] = []
                current = out.get(uid)
                while current is not None and len(chain) < 8:   # as `path` walks it
                    chain.append(current.unit_id)
                    current = out.get(current.parent_id) if current.parent_id else None
                out.lineage[uid] = tuple(reversed(chain))
            for u in out.values():
                if u.parent_id:
                    out.children_of.setdefault(u.parent_id, []).append(u)
                out.at.setdefault((u.force_id, u.level), []).append(u)
            out.picker_order = _walk(out, dict.fromkeys(out, True))
            out.options = {u.unit_id: _option(u, out.get(u.parent_id or "")) for u in out.picker_order}
            return out

        return self.cached("unit_map", (), compute)

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
        """Child units the actor may see (officers are never returned to the anonymous actor:
        see dashboard.data.access)."""
        actor = self.actor()
        return [u for u in self._unit_map().children_of.get(unit_id, ()) if self._sees(actor, u)]

    def hidden_children_note(self, unit_id: str) -> str | None:
        """Why some of the unit's children are not shown (None when none are hidden)."""
        actor = self.actor()
        for u in self._unit_map().children_of.get(unit_id, ()):
            if not self._sees(actor, u):
                if actor.anonymous:
                    return access.refusal(actor, u.level)
                return f"The {hierarchy.level(u.level).plural} below this unit are {access.NOT_AVAILABLE}."
        return None

    def may_see(self, unit: Unit) -> bool:
        """Whether the request's actor may see this unit (its page, series, scorecard)."""
        return self._sees(self.actor(), unit)

    def may_see_level(self, level: str) -> bool:
        """Whether the request's actor may see units of `level` anywhere."""
        return access.may_see_level(self.actor(), level)

    def may_write_actions(self, unit: Unit) -> bool:
        """Whether the request's actor may raise or change a PIM action for this unit."""
        return access.may_write_actions(self.actor(), unit, self.lineage(unit))

    def may_see_retired_units(self) -> bool:
        """Whether the request's actor may see what is filed under a unit no longer loaded."""
        return access.may_see_retired_units(self.actor())

    def may_read_audit(self) -> bool:
        """Whether the request's actor may read the audit log (administrators only)."""
        return access.may_read_audit(self.actor())

    def check_audit_reader(self) -> None:
        """PermissionError, logged, unless the request's actor may read the audit log."""
        if not self.may_read_audit():
            raise access.refuse(self.actor(), "(audit log)", "audit log")

    def may_see_records(self, unit: Unit) -> bool:
        """Whether the request's actor may list this unit's records and map points."""
        return self._sees_records(self.actor(), unit)

    def refusal(self, unit: Unit | None = None) -> str:
        """Why the actor may not see `unit` (or a unit that does not exist: the same words)."""
        return access.refusal(self.actor(), unit.level if unit is not None else None)

    def visible_unit(self, unit_id: str, where: str) -> Unit:
        """The unit, if the request's actor may see it; else PermissionError, logged, with the
        same words whether the unit does not exist or is out of scope (the API's 403)."""
        actor = self.actor()
        unit = self.unit(unit_id)
        if unit is None or not self._sees(actor, unit):
            raise access.refuse(actor, unit_id, where, unit.level if unit is not None else None)
        return unit

    def visible_units(self) -> pd.DataFrame:
        """`units()` without the units the actor may not see: what the API lists."""
        frame = self.units()
        actor = self.actor()
        units = self._unit_map()
        keep = [self._sees(actor, units[u]) for u in frame["unit_id"]]
        out = frame[keep].reset_index(drop=True)
        officers = int(sum(hierarchy.level(lv).individual for lv in out["level"]))
        if officers:
            self._audit(audit_kinds.OFFICER_LIST, None, officers=officers)
        return out

    def record_columns(self) -> tuple[str, ...]:
        """The drill-through columns the actor may see, in display order (also the columns a
        records table may be sorted by)."""
        return access.visible_columns(self.actor(), facts.FACT_COLUMNS)

    def units_at(self, force_id: str, level: str) -> list[Unit]:
        return list(self._unit_map().at.get((force_id, level), ()))

    def picker_units(self) -> list[Unit]:
        """Units the actor may choose, force by force, each followed by its descendants."""
        units, seen = self._picker_seen()
        if seen is None:
            return list(units.picker_order)
        if self._hangs(units, seen):
            return [u for u in units.picker_order if seen[u.unit_id]]
        return _walk(units, seen)

    def picker_options(self) -> list[dict[str, str]]:
        """`picker_units` as the unit picker's options: {label, value, search}, the label saying
        what the unit is and what it belongs to ('Widnes NPU · Northern')."""
        units, seen = self._picker_seen()
        if seen is None or self._hangs(units, seen):
            # copies: the map's own stay as made whatever a page does with its list
            options = units.options
            return [dict(options[u.unit_id]) for u in units.picker_order if seen is None or seen[u.unit_id]]
        chosen = _walk(units, seen)
        ids = {u.unit_id for u in chosen}
        return [_option(u, units.get(u.parent_id or "") if u.parent_id in ids else None) for u in chosen]

    def _picker_seen(self) -> tuple[_UnitMap, dict[str, bool] | None]:
        """The unit map and which units the actor may see (access.py decides, each unit once,
        with the lineage the unit map keeps), or None when they may see every unit."""
        units = self._unit_map()
        actor = self.actor()
        lineage = units.lineage
        seen = {uid: access.may_see_unit(actor, u, lineage[uid]) for uid, u in units.items()}
        return units, (None if all(seen.values()) else seen)

    @staticmethod
    def _hangs(units: _UnitMap, seen: dict[str, bool]) -> bool:
        """Whether every unit seen hangs from one seen (all but an officer limited to their own
        page): then the walk of every unit (made once with the unit map), filtered, is the walk
        of the units seen, and each one's option reads as in the full list."""
        return all(u.level == "force" or (u.parent_id in seen and seen[u.parent_id])
                   for uid, u in units.items() if seen[uid])

    def default_unit(self) -> str | None:
        """The actor's own scope (a BCU commander's BCU, an officer's own page), else the force
        with the most detail (most units below it), then by name."""
        units = self._unit_map()
        if not units:
            return None
        actor = self.actor()
        own = access.default_scope(actor)
        if own is not None and own in units and self._sees(actor, units[own]):
            return own
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
                cov = status.coverage(cur)
                days = cubes.day_spans(cur)
                counts = status.suspect_counts(cur)
            suspect = {(s, f): int(n) for s, f, n in counts}
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
            rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
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
                        suspect.get((src, force), 0) if fam == SUSPECT_FAMILY else 0,
                        fam,
                        frozenset(ms),
                    )
                )
            for key in out:
                out[key].sort(key=lambda x: (rank.get(x.source, 99), x.source))
            return out

        return self.cached("sources", (), compute)

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

    def as_of_dates(self, force_id: str) -> tuple[date, ...]:
        """The days the force's chosen sources run to, earliest first: a preset period (the
        month, the quarter or year to date, 12 months) ends at one of them."""
        found = {lst[0].as_of for (f, _), lst in self._sources().items() if f == force_id and lst}
        return tuple(sorted(found))

    def preset_periods(self, force_id: str) -> frozenset[tuple[date, date]]:
        """(start, end) of every preset period (month, quarter and year to date, 12 months) ending
        at a day one of the force's sources runs to, as a page resolves it (also widened to whole
        months, as for a source with monthly data only): the bounded set of periods whose
        results are kept beside the version (docs/precompute.md)."""

        def compute() -> frozenset[tuple[date, date]]:
            out: set[tuple[date, date]] = set()
            for as_of in self.as_of_dates(force_id):
                for name in PRESETS:
                    if name == "custom":
                        continue
                    p = preset_period(name, as_of)
                    out.add((p.start, p.end))
                    out.add((month_start(p.start), month_end(p.end)))
            return frozenset(out)

        return self.cached("assessment.preset_periods", (force_id,), compute)

    def source_for(self, force_id: str, family: str = "crime") -> Source | None:
        """The one source a force's numbers of a family come from (SOURCE_PREFERENCE:
        summing two sources would double count)."""
        found = self._sources().get((force_id, family))
        return found[0] if found else None

    def month_status(self, source: str, force_id: str) -> pd.DataFrame:
        """The months one source has for one force, with their suspect flags and unassigned
        counts. Depends only on the version and comes from a bounded set (a source and force):
        kept beside the version (`persisted`), so a cold result cache reads a small file
        instead of querying DuckDB (every trend and series asks for it: ~3 ms a cold call)."""

        def compute() -> pd.DataFrame:
            with self.cursor() as cur:
                return status.month_status(cur, source, force_id)

        return self.persisted("month_status", (source, force_id), compute)

    def _suspect(self, source: Source) -> set[date]:
        if source.family != SUSPECT_FAMILY:
            return set()

        def compute() -> frozenset[date]:
            ms = self.month_status(source.source, source.force_id)
            return frozenset(_day(m) for m, s in zip(ms["month"], ms["suspect"], strict=True) if bool(s))

        # kept beside the version as the set itself: a cold result cache reads a few dates, not
        # the month_status frame (unpickling a DataFrame: ~1 ms of every cold series and trend)
        return set(self.persisted("suspect_months", (source.source, source.force_id), compute))

    # -- resolving a URL ------------------------------------------------------------------

    def resolve(self, state: ViewState) -> View | None:
        """Check a URL's state against the warehouse; fall back to defaults with a note.

        None when the warehouse holds no units at all.
        """
        notes: list[str] = []
        units = self._unit_map()
        unit = units.get(state.unit or "")
        actor = self.actor()
        if state.unit and (unit is None or not self._sees(actor, unit)):
            # The same words for a unit that does not exist and one out of scope, and the
            # actor's default unit instead (not the unit's parent, which would say where it is).
            refused = access.refuse(actor, state.unit, "page", unit.level if unit else None)
            notes.append(f"The unit in the address: {refused} Showing your default unit instead.")
            unit = None
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

        source = self.source_for(unit.force_id, measure.dataset)
        if source is None and measure.dataset != "crime":
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
                first = source.first if source else self._any_first(unit.force_id) or as_of
                problem = outside_window(period, min(first, as_of), as_of)
                if problem:
                    raise ValueError(problem)
            except ValueError as exc:
                period = None
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

        fitted = fitting_grain(period, grain)
        if fitted != grain:
            notes.append(
                f"{bucket_count(period, grain):,} {GRAINS[grain].lower()}s are more than {MAX_BUCKETS:,} "
                f"to draw; showing {GRAINS[fitted].lower()}s."
            )
            grain = fitted

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
        # The path (breadcrumbs, a trend's comparison line) holds only units the actor may see.
        path = tuple(u for u in self.path(unit.unit_id) if self._sees(actor, u))
        return View(canonical, unit, path, measure, period, grain, source, tuple(notes))

    # -- numbers --------------------------------------------------------------------------

    def _any_first(self, force_id: str) -> date | None:
        found = [lst[0].first for (f, _), lst in self._sources().items() if f == force_id and lst]
        return min(found) if found else None

    def _any_as_of(self, force_id: str) -> date | None:
        found = [lst[0].as_of for (f, _), lst in self._sources().items() if f == force_id and lst]
        return max(found) if found else None

    def _time(self, source: Source, period: Period, grain: str, level: str) -> str:
        """Which cube answers: days when the grain or the range needs them and exist."""
        needs_days = grain in ("day", "week") or not period.whole_months
        if needs_days and source.has_days and hierarchy.level(level).day_cube:
            return "day"
        if grain in ("day", "week"):
            raise GrainUnavailable(
                f"{GRAINS[grain].lower()} grain needs daily data; {source.label} has monthly data only"
            )
        return "month"

    def _rows(
        self, measure: Measure, source: Source, unit_ids: tuple[str, ...], period: Period, time: str
    ) -> list[tuple[str, date, float, float, float, float]]:
        """Cube rows of a measure (cube_measure_day/month, the same for every measure):
        (unit_id, t, num, den, num2, den2) per day or month. A population denominator is applied
        after aggregation (`_finish`), because it must not be summed over time. Plain tuples,
        not a DataFrame: these are small, and pandas' per-operation cost dominated the page
        time."""
        found = self._ahead_rows(measure, source, unit_ids, period, time) if _AHEAD.get() else None
        return found if found is not None else self._fetch_rows(measure, source, unit_ids, period, time)

    def _fetch_rows(
        self, measure: Measure, source: Source, unit_ids: tuple[str, ...], period: Period, time: str
    ) -> list[tuple[str, date, float, float, float, float]]:
        """`_rows`, read from the cube."""
        with self.cursor() as cur:
            rows = cubes.measure_tuples(
                cur, source.source, unit_ids, measure.id, period.start, period.end, time
            )
        # DuckDB gives DATE as date and DOUBLE as float or None (NULL): no per-cell pandas test
        nan = math.nan
        return [
            (uid, t, nan if num is None else float(num), nan if den is None else float(den),
             nan if sq is None else float(sq), nan if d2 is None else float(d2))
            for uid, t, num, den, sq, d2 in rows
        ]

    def _total_rows(
        self, measure: Measure, source: Source, unit_ids: tuple[str, ...], period: Period
    ) -> list[tuple[str, date, float, float, float, float]]:
        """Day-cube rows of a range that only a total is made of (`_values`): for a flow (summed
        over time, its denominator too), the range's whole months come from the month cube and
        only its edge days from the day cube (cubes.measure_tuples_split), the same sums from
        ~8x fewer rows for a custom range of months; anything else reads every day, as `_rows`."""
        first = period.start if period.start.day == 1 else add_months(month_start(period.start), 1)
        last = month_start(period.end) if period.end == month_end(period.end) else add_months(
            month_start(period.end), -1)
        # nor crime harm: its month rows are not exactly the sum of its day rows (the demo's
        # Cheshire, June 2007: 2,300,491.77 by month, 2,300,492.08 by day), so it reads days
        if (metrics.aggregate_kind(measure) != "sum" or kinds.denominator_is_stock(measure)
                or kinds.is_weighted(measure) or last < first):
            return self._rows(measure, source, unit_ids, period, "day")
        head = (period.start, first - timedelta(days=1)) if period.start < first else None
        tail = (month_end(last) + timedelta(days=1), period.end) if month_end(last) < period.end else None
        with self.cursor() as cur:
            rows = cubes.measure_tuples_split(cur, source.source, unit_ids, measure.id, head, (first, last),
                                              tail)
        nan = math.nan
        return [
            (uid, t, nan if num is None else float(num), nan if den is None else float(den),
             nan if sq is None else float(sq), nan if d2 is None else float(d2))
            for uid, t, num, den, sq, d2 in rows
        ]

    def _finish(self, measure: Measure, unit: Unit, num: float, den: float) -> tuple[float, float]:
        """The unit's denominator over a span, as the measure's kind defines it."""
        return num, kinds.denominator(measure, unit.population, den)

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
        self._check_visible(unit_ids)
        keys = [(measure_id, u, start, end, grain) for u in unit_ids]

        def compute(missing: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
            frames = self._series(measure_id, tuple(k[1] for k in missing), start, end, grain)
            return {k: frames[k[1]] for k in missing}

        found = dict(zip(unit_ids, self.cached_many("series", keys, compute), strict=True))
        self._audit_officers(self._known(unit_ids), measure=measure_id, period=f"{start}..{end}", grain=grain)
        return found

    def _series(
        self, measure_id: str, unit_ids: tuple[str, ...], start: date, end: date, grain: str
    ) -> dict[str, pd.DataFrame]:
        measure = MEASURES[measure_id]
        units = [self._require_unit(u) for u in unit_ids]
        source = self.source_for(units[0].force_id, measure.dataset)
        period = Period(start, end)
        if source is None:
            return {u: pd.DataFrame(columns=SERIES_COLUMNS) for u in unit_ids}
        monthly_only = [u.level for u in units if not hierarchy.level(u.level).day_cube]
        level = monthly_only[0] if monthly_only else units[0].level
        time = self._time(source, period, grain, level)
        if time == "month" and not period.whole_months:
            period = period.to_whole_months()
        by_bucket: dict[tuple[str, date], list[tuple[date, float, float, float]]] = {}
        for uid, t, num, den, sq, d2 in self._rows(measure, source, tuple(unit_ids), period, time):
            by_bucket.setdefault((uid, bucket_start(t, grain)), []).append((t, num, den, sq, d2))
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
                    num = den = sq = d2 = math.nan
                else:
                    num, den, sq, d2 = metrics.combine_tuples(
                        measure, by_bucket.get((unit.unit_id, b.start), []))
                    num, den = self._finish(measure, unit, num, den)
                lo, hi = metrics.interval(measure, num, den, sq, d2)
                records.append(
                    (
                        b.first,
                        b.last,
                        label,
                        b.days,
                        covered_days,
                        num,
                        den,
                        metrics.value(measure, num, den, sq, d2),
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

        Cached unit by unit (the units not cached read in one query), so the drill-down's
        ranked children, the unit's own value in the trend's title and the NPUs' map share one
        read. A unit's row depends on the call only through its first unit (which force's
        source and coverage, which cube: `_values`), so that is part of each unit's key."""
        self._check_visible(unit_ids)
        units = [self._require_unit(u) for u in unit_ids]
        if not units:
            return pd.DataFrame(columns=VALUES_COLUMNS)
        measure = MEASURES[measure_id]
        first = units[0]
        source = self.source_for(first.force_id, measure.dataset)
        time = self._time(source, Period(start, end), "month", first.level) if source is not None else ""
        keys = [(measure_id, u, start, end, first.force_id, time) for u in unit_ids]

        def compute(missing: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
            rows = self._values(measure, [self._require_unit(k[1]) for k in missing], first, start, end)
            return dict(zip(missing, rows, strict=True))

        found = self.cached_many("values", keys, compute)
        self._audit_officers(self._known(unit_ids), measure=measure_id, period=f"{start}..{end}")
        return pd.DataFrame.from_records(found, columns=VALUES_COLUMNS)

    def _values(self, measure: Measure, units: list[Unit], first: Unit, start: date, end: date
                ) -> list[tuple[Any, ...]]:
        """One VALUES_COLUMNS row per unit; the source, coverage and cube are `first`'s (the
        call's first unit)."""
        source = self.source_for(first.force_id, measure.dataset)
        period = Period(start, end)
        totals: dict[str, tuple[float, float, float, float]] = {}
        covered = any_data = False
        if source is not None:
            time = self._time(source, period, "month", first.level)
            if time == "month":
                period = period.to_whole_months()
            covered = self.covered(first.force_id, period, measure.dataset)
            any_data = any(m in source.months for m in period.months())
            grouped: dict[str, list[tuple[date, float, float, float, float]]] = {}
            ids = tuple(u.unit_id for u in units)
            rows = (self._total_rows(measure, source, ids, period) if time == "day"
                    else self._rows(measure, source, ids, period, time))
            for uid, t, num, den, sq, d2 in rows:
                grouped.setdefault(uid, []).append((t, num, den, sq, d2))
            for u in units:
                totals[u.unit_id] = metrics.combine_tuples(measure, grouped.get(u.unit_id, []))
        records = []
        for u in units:
            num, den, sq, d2 = (
                totals.get(u.unit_id, (math.nan,) * 4)
                if any_data
                else (math.nan,) * 4
            )
            num, den = self._finish(measure, u, num, den) if any_data else (num, den)
            lo, hi = metrics.interval(measure, num, den, sq, d2)
            records.append(
                (
                    u.unit_id,
                    u.name,
                    u.level,
                    u.population if u.population else math.nan,
                    num,
                    den,
                    sq,
                    metrics.value(measure, num, den, sq, d2),
                    lo,
                    hi,
                    covered,
                )
            )
        return records

    def period_counts(
        self, source: str, unit_ids: tuple[str, ...], start: date, end: date, time: str
    ) -> pd.DataFrame:
        """Crime cube counts by unit and category over a period: [unit_id, category, n, sd].
        Cached unit by unit (one query for the units not cached), so the ranked bars, the
        unit's own value and the drill-through row count share one read."""

        def compute(keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], Any]:
            with self.cursor() as cur:
                frame = cubes.period_counts(cur, source, [k[1] for k in keys], start, end, time)
            parts = {u: g for u, g in frame.groupby("unit_id", sort=False)}
            return {k: parts.get(k[1], frame.iloc[0:0]) for k in keys}

        keys = [(source, u, start, end, time) for u in unit_ids]
        frames = self.cached_many("period_counts", keys, compute)
        return (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame(columns=["unit_id", "category", "n", "sd"])
        )

    # -- cube slices for analysis (uncached: each caller caches what it derives) ----------

    def tables(self) -> frozenset[str]:
        """The warehouse's table names (older versions lack some cubes and reference tables)."""
        return self.cached("tables", (), lambda: frozenset(self._read(table_names)))

    def force_measure_cube(
        self, force_id: str, unit_levels: Sequence[str], measure_ids: Sequence[str], first: date, last: date
    ) -> pd.DataFrame:
        """Every unit of a force at the given levels, month and measure, in one read: [source,
        dataset, unit_id, month, measure_id, num, den, num2] (what the exceptions scan and
        targets start from; rows of every source: keep the measure's own)."""
        return self._read(cubes.force_measure_cube, force_id, unit_levels, measure_ids, first, last)

    def measure_months(
        self,
        sources: Sequence[str],
        unit_ids: Sequence[str],
        measure_ids: Sequence[str],
        first: date,
        last: date,
    ) -> pd.DataFrame:
        """Measures per source, unit and month: [source, unit_id, month, measure_id, num, den,
        num2] (units of several forces: an MSF group)."""
        return self._read(cubes.measure_months, sources, unit_ids, measure_ids, first, last)

    def lsoa_npus(self, force_id: str) -> pd.DataFrame:
        """The force's LSOA -> NPU mapping: [lsoa_code, npu_id] (for the maps). Depends only on
        the version and the force: kept beside the version (fastui9), so a cold worker's map
        reads it (~0.3 ms) instead of querying dim_lsoa and framing ~450 rows (~3-4 ms)."""
        def compute() -> pd.DataFrame:
            with self.cursor() as cur:
                return unit_queries.lsoa_npus(cur, force_id)

        return self.persisted("lsoa_npus", (force_id,), compute)

    def harm_by_category(self, unit_id: str, first: date, last: date) -> pd.DataFrame:
        """Crime harm by category for one unit over a span of months, from the unit's crime
        source: [category, n, harm, harm2, harm_approx, weight, min_weight, max_weight, codes]
        (dashboard/analysis/harm.py reads it: shares, and how much is approximate)."""
        self._check_visible((unit_id,))
        unit = self.unit(unit_id)
        source = self.source_for(unit.force_id) if unit else None
        if source is None:
            return pd.DataFrame(columns=["category", "n", "harm", "harm2", "harm_approx", "weight",
                                         "min_weight", "max_weight", "codes"])
        return self._query("harm_by_category", cubes.harm_by_category, source.source, unit_id, first, last)

    def crime_category_totals(
        self, source: str, unit_ids: Sequence[str], first: date, last: date
    ) -> pd.DataFrame:
        """Crimes per unit and category over a span of months: [unit_id, category, n] (the
        crime mix, by category itself)."""
        return self._read(cubes.unit_category_totals, source, unit_ids, first, last)

    def suspect_months_of(self, force_ids: Sequence[str], family: str = "crime") -> pd.DataFrame:
        """Suspect months of the given forces, every source: [source, force_id, month, reason].
        Only crime loads are checked for suspect months (month_status): other families have none."""
        if family != SUSPECT_FAMILY:
            return pd.DataFrame(columns=["source", "force_id", "month", "reason"])
        return self._read(status.suspect_months_of, force_ids)

    # -- reference data (versioned with the warehouse) ---------------------------------------

    def reference(self, file: str) -> ReferenceData | None:
        """A reference file ('msf_groups.csv', 'force_characteristics.csv', 'targets.csv') as
        this warehouse version holds it; None when the load found no such file, or the version
        predates reference tables. Never read from data/ at request time: a changed file takes
        effect with the next load or rebuild, for every cache at once."""

        def compute() -> ReferenceData | None:
            have = self.tables()
            if reference.REFERENCE_TABLES[file] not in have or "ref_files" not in have:
                return None
            with self.cursor() as cur:
                found = reference.reference_file(cur, file)
                if found is None:
                    return None
                frame = reference.reference_rows(cur, file)
            origin, comments = found
            cols = [str(c).lower() for c in frame.columns if c != "line"]
            rows = tuple(
                (
                    int(r[0]),
                    {
                        c: "" if v is None or v != v else str(v).strip()
                        for c, v in zip(cols, r[1:], strict=True)
                    },
                )
                for r in frame[["line", *[c for c in frame.columns if c != "line"]]].itertuples(
                    index=False, name=None
                )
            )
            return ReferenceData(file, origin or file, rows, tuple(comments.splitlines()) if comments else ())

        if file not in reference.REFERENCE_TABLES:
            raise KeyError(f"unknown reference file {file!r}; known: {', '.join(reference.REFERENCE_TABLES)}")
        return self.cached("reference", (file,), compute)

    def _check_visible(self, unit_ids: Sequence[str]) -> None:
        """PermissionError for a unit the actor may not see (checked before the shared cache)."""
        actor = self.actor()
        for uid in unit_ids:
            unit = self.unit(uid)
            if unit is not None and not self._sees(actor, unit):
                raise access.refuse(actor, uid, "numbers", unit.level)

    def _known(self, unit_ids: Sequence[str]) -> list[Unit]:
        """The units of `unit_ids` that exist."""
        units = self._unit_map()
        return [units[u] for u in unit_ids if u in units]

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

    def suspect_in(self, force_id: str, period: Period, family: str = "crime") -> list[date]:
        """The suspect months of the period for the force's source of `family` (none for the
        families month_status does not check)."""
        source = self.source_for(force_id, family)
        if source is None:
            return []
        suspect = self._suspect(source)
        return sorted(m for m in period.months() if m in suspect)

    # -- the scorecard --------------------------------------------------------------------

    def scorecard(self, unit_id: str, start: date, end: date,
                  measure_ids: tuple[str, ...] | None = None) -> pd.DataFrame:
        """The headline measures (or `measure_ids`) for a unit: value, last year, change,
        sparkline. The numbers only: their verdicts are dashboard.analysis.assessment's.

        Columns are listed in `SCORECARD_COLUMNS`; rows in the registry's order.
        """
        self._check_visible((unit_id,))
        found = self.cached("scorecard", (unit_id, start, end, measure_ids),
                            lambda: self._scorecard(unit_id, start, end, measure_ids))
        self._audit_officers(self._known((unit_id,)), measure="scorecard", period=f"{start}..{end}")
        return found

    def check_scorecard(self, unit_ids: Sequence[str], start: date, end: date) -> None:
        """The access check and audit record of `scorecards` without reading the numbers: for
        results built on the scorecard (the assessments) that may already be cached or stored."""
        self._check_visible(tuple(unit_ids))
        self._audit_officers(self._known(tuple(unit_ids)), measure="scorecard", period=f"{start}..{end}")

    def scorecards(self, unit_ids: Sequence[str], start: date, end: date,
                   measure_ids: tuple[str, ...] | None = None) -> list[pd.DataFrame]:
        """`scorecard` of several units, the ones not cached read together: one query per
        source for all of them (the exceptions list's 22 units were 22 queries)."""
        self._check_visible(tuple(unit_ids))
        keys: list[tuple[Hashable, ...]] = [(u, start, end, measure_ids) for u in unit_ids]
        found = self.cached_many("scorecard", keys, lambda missing: self._scorecards(
            [str(k[0]) for k in missing], start, end, measure_ids))
        self._audit_officers(self._known(tuple(unit_ids)), measure="scorecard", period=f"{start}..{end}")
        return found

    def _scorecard(self, unit_id: str, start: date, end: date,
                   measure_ids: tuple[str, ...] | None) -> pd.DataFrame:
        return self._scorecards([unit_id], start, end, measure_ids)[(unit_id, start, end, measure_ids)]

    def _scorecards(self, unit_ids: list[str], start: date, end: date,
                    measure_ids: tuple[str, ...] | None) -> dict[tuple[Hashable, ...], pd.DataFrame]:
        wanted = metrics.headline_measures() if measure_ids is None else [MEASURES[i] for i in measure_ids]
        order = {m.id: i for i, m in enumerate(wanted)}
        # One list of sparkline months for every row, loaded or not, whatever its source's grain:
        # a table (and its export's columns) of rows with different months would be ragged.
        spark_end = last_complete_month(end)
        spark_months = Period(month_start(_add(spark_end, -12)), month_end(spark_end)).months()
        # Measures grouped by the source that answers them (and whether it has days, which
        # decides the cube): one query per group, for every unit at once.
        plans: list[tuple[Unit, list[dict], list[tuple[Source, list[Measure], str, Period, date]]]] = []
        reads: dict[tuple[str, str, date, date, tuple[str, ...]], list[str]] = {}
        for unit_id in unit_ids:
            unit = self._require_unit(unit_id)
            groups: dict[tuple[str, bool], tuple[Source, list[Measure]]] = {}
            rows: list[dict] = []
            for measure in wanted:
                source = self.source_for(unit.force_id, measure.dataset)
                if source is None:
                    rows.append(_score_row(measure, None, None, Period(start, end), spark_months,
                                           [math.nan] * len(spark_months), "not loaded"))
                    continue
                groups.setdefault((source.source, source.has_days), (source, []))[1].append(measure)
            spans = []
            for source, measures in groups.values():
                time, period, first = self._score_span(unit, source, Period(start, end), spark_months)
                spans.append((source, measures, time, period, first))
                reads.setdefault((source.source, time, first, period.end, tuple(m.id for m in measures)),
                                 []).append(unit_id)
            plans.append((unit, rows, spans))
        fetched: dict[tuple[str, str, str], dict[str, list[tuple[date, float, float, float, float]]]] = {}
        with self.cursor() as cur:
            for (src, time, first, last_day, mids), uids in reads.items():
                found = cubes.measure_rows_units(cur, src, uids, list(mids), first, last_day, time)
                for uid, mid, t, num, den, sq, d2 in found.itertuples(index=False, name=None):
                    fetched.setdefault((src, time, uid), {}).setdefault(mid, []).append(
                        (_day(t), float(num), _float(den), _float(sq), _float(d2)))
        out: dict[tuple[Hashable, ...], pd.DataFrame] = {}
        for unit, rows, spans in plans:
            for source, measures, time, period, _first in spans:
                base = fetched.get((source.source, time, unit.unit_id), {})
                for row in self._score_group(unit, source, measures, period, spark_months, base):
                    row["_order"] = order[row["measure_id"]]
                    rows.append(row)
            frame = pd.DataFrame(rows, columns=SCORECARD_COLUMNS + ["_order"])
            frame = frame.sort_values(["_order"], kind="stable").drop(columns=["_order"])
            out[(unit.unit_id, start, end, measure_ids)] = frame.reset_index(drop=True)
        return out

    def _score_span(self, unit: Unit, source: Source, period: Period,
                    spark_months: list[date]) -> tuple[str, Period, date]:
        """The cube (day or month) a scorecard group is read from, its period (whole months
        on the month cube) and the first day read (last year's start or the sparkline's)."""
        time = self._time(source, period, "month", unit.level)
        if time == "month":
            period = period.to_whole_months()
        return time, period, min(period.last_year().start, spark_months[0])

    def _score_group(self, unit: Unit, source: Source, measures: list[Measure], period: Period,
                     spark_months: list[date], base: dict[str, list[tuple[date, float, float, float, float]]]
                     ) -> list[dict]:
        """Scorecard rows of headline measures answered by one source, from its rows (`base`:
        measure -> (day, num, den, num2, den2), read by `_scorecards`): the period, the same
        period last year and the 13 months of the sparkline, split in Python.
        Coverage (months loaded) is each measure's own family's."""
        last = period.last_year()
        out = []
        for m in measures:
            own = self.source_for(unit.force_id, m.dataset) or source
            rows = base.get(m.id, [])
            now = self._finish3(
                m, unit, metrics.combine_tuples(m, [r for r in rows if period.start <= r[0] <= period.end])
            )
            before = (
                self._finish3(
                    m, unit, metrics.combine_tuples(m, [r for r in rows if last.start <= r[0] <= last.end])
                )
                if self.covered(unit.force_id, last, m.dataset)
                else (math.nan,) * 4
            )
            # the rows by month once, in their order (not a pass over every row per month)
            by_month: dict[date, list[tuple[date, float, float, float, float]]] = {}
            for r in rows:
                by_month.setdefault(month_start(r[0]), []).append(r)
            spark = []
            for month in spark_months:
                if month not in own.months:
                    spark.append(math.nan)
                    continue
                num, den, sq, d2 = self._finish3(m, unit, metrics.combine_tuples(m, by_month.get(month, [])))
                spark.append(metrics.value(m, num, den, sq, d2))
            out.append(_score_row(m, now, before, period, spark_months, spark, None))
        return out

    def _finish3(
        self, measure: Measure, unit: Unit, nds: tuple[float, float, float, float]
    ) -> tuple[float, float, float, float]:
        num, den = self._finish(measure, unit, nds[0], nds[1])
        return num, den, nds[2], nds[3]

    # -- raw facts: drill-through and map ---------------------------------------------------

    def _cell_files(self, unit: Unit, source: Source, period: Period) -> tuple[list[str], list[str]]:
        def compute() -> tuple[tuple[str, ...], tuple[str, ...]]:
            with self.cursor() as cur:
                crime = facts.lake_files(
                    cur,
                    self.lake,
                    "crime",
                    source.source,
                    unit.force_id,
                    month_start(period.start),
                    month_start(period.end),
                )
                outcome = (
                    facts.lake_files(cur, self.lake, "outcome", None, unit.force_id)
                    if source.source == "police_uk"
                    else []
                )
            return tuple(crime), tuple(outcome)

        crime, outcome = self.cached(
            "cell_files", (unit.force_id, source.source, period.start, period.end), compute
        )
        return list(crime), list(outcome)

    def _crime_files(self, unit: Unit, source: Source, period: Period) -> list[str]:
        """`_cell_files`' crime files alone, for the place reads (they read no outcomes): the
        same list, without listing every outcome file of the force (~1.5 ms a cold card)."""
        if self.cached_peek("cell_files", (unit.force_id, source.source, period.start, period.end)):
            return self._cell_files(unit, source, period)[0]

        def compute() -> tuple[str, ...]:
            with self.cursor() as cur:
                return tuple(facts.lake_files(cur, self.lake, "crime", source.source, unit.force_id,
                                              month_start(period.start), month_start(period.end)))

        return list(self.cached("crime_files", (unit.force_id, source.source, period.start, period.end),
                                compute))

    def _cell(
        self, measure_id: str, unit_id: str, start: date, end: date
    ) -> tuple[Unit, Source, Period, str, date, date] | None:
        measure = MEASURES[measure_id]
        if not measure.categories:
            raise ValueError(f"records are drilled through for crime measures only, not {measure_id!r}")
        unit = self._require_unit(unit_id)
        actor = self.actor()
        if not self._sees_records(actor, unit):
            raise access.refuse(actor, unit_id, "records", unit.level)
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

    def _check_records(self, unit_id: str) -> None:
        """Refuse (PermissionError) before any cached result is handed out: the cache is shared
        by every actor, so the check cannot live only inside a computation."""
        unit = self.unit(unit_id)
        actor = self.actor()
        if unit is not None and not self._sees_records(actor, unit):
            raise access.refuse(actor, unit_id, "records", unit.level)

    def record_count(self, measure_id: str, unit_id: str, start: date, end: date) -> int:
        """How many raw records lie behind the cell (unit x period x measure's categories).

        Counted from the cube, which counts exactly those records (tests check the two
        agree, and `record_count_from_facts` counts the lake files directly)."""

        def compute() -> int:
            cell = self._cell(measure_id, unit_id, start, end)
            if cell is None:
                return 0
            unit, source, period, time, _, _ = cell

            def count() -> int:
                if time == "date" and not hierarchy.level(unit.level).day_cube:
                    # no day cube at this level (officers): count the facts themselves
                    return self.record_count_from_facts(measure_id, unit_id, start, end)
                cats = set(MEASURES[measure_id].categories)
                counts = self.period_counts(
                    source.source, (unit.unit_id,), period.start, period.end,
                    "day" if time == "date" else "month"
                )
                return int(sum(n for _, cat, n, _ in counts.itertuples(index=False, name=None)
                               if cat in cats))

            if self._cell_stored(unit, period):
                # a preset period: kept beside the version with the map's points (fastui9), so the
                # NPU map and the records card of a cold worker read a number, not the crime cube
                return int(self.persisted("drill.record_count", self._cell_key(unit, period, measure_id),
                                          count, keep=False))
            return count()

        self._check_records(unit_id)
        return self.cached("record_count", (measure_id, unit_id, start, end), compute)

    @staticmethod
    def _cell_key(unit: Unit, period: Period, measure_id: str) -> tuple[Hashable, ...]:
        """What a record-level figure of a cell (its count, its map points) depends on: the unit,
        the period as the source holds it and the measure's crime categories (measures of the
        same categories share it, as the place figures do)."""
        return (unit.unit_id, period.start, period.end, tuple(MEASURES[measure_id].categories))

    def record_count_from_facts(self, measure_id: str, unit_id: str, start: date, end: date) -> int:
        """The same count read from the raw Parquet facts (for checks and benchmarks)."""
        cell = self._cell(measure_id, unit_id, start, end)
        if cell is None:
            return 0
        unit, source, period, time, lo, hi = cell
        crime, outcome = self._cell_files(unit, source, period)
        with self.cursor() as cur:
            return facts.record_count(
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
                return pd.DataFrame(columns=list(columns))
            unit, source, period, time, lo, hi = cell
            crime, outcome = self._cell_files(unit, source, period)
            cats = MEASURES[measure_id].categories
            with self.cursor() as cur:
                first, last, skip = lo, hi, 0
                if time == "month" and order_by == "month" and not descending:
                    # The default order (month, then line) is the files' order: the page's rows lie
                    # in the months its offsets fall in, which the crime cube's counts of these
                    # records (`record_count` counts them so) tell; only those months' files are
                    # read and sorted, and the months before it skipped by their counts (a year's
                    # first pages, or its 5,000th record: 12 files -> 1 or 2)
                    cum = 0
                    for t, n, _sd in cubes.series_counts(cur, source.source, unit.unit_id, lo, hi, cats,
                                                         "month").itertuples(index=False, name=None):
                        month, end_cum = month_start(_as_date(t)), cum + int(n)
                        if end_cum <= offset:   # the whole month is before the page
                            skip, first = end_cum, add_months(month, 1)
                        elif end_cum >= offset + limit:   # the page ends in this month
                            last = month
                            break
                        cum = end_cum
                    if (first, last) != (lo, hi):
                        crime = facts.lake_files(cur, self.lake, "crime", source.source, unit.force_id, first,
                                                 last)
                return facts.records(
                    cur,
                    crime,
                    outcome,
                    unit.level,
                    unit.unit_id,
                    cats,
                    first,
                    last,
                    columns=columns,
                    time=time,
                    limit=limit,
                    offset=offset - skip,
                    order_by=order_by,
                    descending=descending,
                )

        self._check_records(unit_id)
        columns = self.record_columns()
        frame = self.cached(
            "records",
            (measure_id, unit_id, start, end, offset, limit, order_by, descending, columns),
            compute,
        )
        self._audit(audit_kinds.RECORDS, unit_id, measure=measure_id, period=f"{start}..{end}",
                    offset=offset, rows=len(frame))
        return self._mask_officers(frame)

    def _mask_officers(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Blank the officer in charge of a record where the actor may not see that officer (a
        crime in one's NPU investigated by an officer of another): the cache is shared by
        every actor, so this runs on each actor's copy."""
        col = hierarchy.UNIT_COLUMN["officer"]
        if col not in frame.columns or frame.empty:
            return frame
        actor = self.actor()
        units = self._unit_map()
        seen: dict[str, bool] = {}
        for oid in frame[col].dropna().unique():
            unit = units.get(oid)
            seen[oid] = unit is not None and self._sees(actor, unit)
        frame[col] = [v if isinstance(v, str) and seen.get(v) else None for v in frame[col]]
        return frame

    def map_points(
        self, measure_id: str, unit_id: str, start: date, end: date, limit: int = MAP_POINTS
    ) -> pd.DataFrame:
        """Coordinates of the cell's records (a repeatable sample above `limit`)."""

        self._check_records(unit_id)
        found = self._map_points(measure_id, unit_id, start, end, limit)
        self._audit(audit_kinds.MAP_POINTS, unit_id, measure=measure_id, period=f"{start}..{end}",
                    rows=len(found))
        return found

    def _map_points(self, measure_id: str, unit_id: str, start: date, end: date, limit: int) -> pd.DataFrame:
        """`map_points` without its access check and audit record (the caller makes them). For
        a preset period of the unit's force the points are kept beside the version (fastui9,
        docs/precompute.md): the same frame the lake read gives, read back instead of scanning
        the force's crime files (~15-20 ms of CPU at national scale)."""

        def compute() -> pd.DataFrame:
            cell = self._cell(measure_id, unit_id, start, end)
            if cell is None:
                return pd.DataFrame(
                    columns=["longitude", "latitude", "category", "sanction", "date", "month"]
                )
            unit, source, period, time, lo, hi = cell

            def points() -> pd.DataFrame:
                crime, outcome = self._cell_files(unit, source, period)
                sample = self.record_count(measure_id, unit_id, start, end) > limit
                with self.cursor() as cur:
                    return facts.map_points(
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

            if self._cell_stored(unit, period):
                return self.persisted("drill.map_points", (*self._cell_key(unit, period, measure_id), limit),
                                      points, keep=False)
            return points()

        return self.cached("map_points", (measure_id, unit_id, start, end, limit), compute)

    # -- the officer level ----------------------------------------------------------------

    def officers_under(self, unit_id: str) -> list[Unit]:
        """The officers below a unit that the actor may see, by name (never by any figure:
        officers are listed, not ranked)."""
        actor = self.actor()
        units = self._unit_map()
        found = [u for u in units.values() if u.level == "officer" and unit_id in self.lineage(u)
                 and u.unit_id != unit_id and self._sees(actor, u)]
        return sorted(found, key=lambda u: (u.name, u.unit_id))

    def _officer_table(self, force_id: str, start: date, end: date) -> pd.DataFrame:
        """Every officer of the force with crimes investigated, sanction detections, linked
        survey respondents and satisfied respondents, their team, role and team size band.
        Private: shared by every actor through the cache, filtered by the public methods."""

        def compute() -> pd.DataFrame:
            units = self._unit_map()
            officers = [u for u in units.values() if u.force_id == force_id and u.level == "officer"]
            sizes: dict[str | None, int] = {}
            for u in officers:
                sizes[u.parent_id] = sizes.get(u.parent_id, 0) + 1
            frame = pd.DataFrame({
                "unit_id": [u.unit_id for u in officers],
                "team_id": [u.parent_id for u in officers],
                "role": [officer_stats.team_role(units[u.parent_id].name) if u.parent_id in units else ""
                         for u in officers],
                "band": [officer_stats.size_band(sizes.get(u.parent_id, 0)) for u in officers],
            })
            source = self.source_for(force_id)
            period = Period(start, end).to_whole_months()
            if source is None or frame.empty:
                return frame.assign(crimes=0.0, detected=0.0, respondents=0.0, satisfied=0.0)
            with self.cursor() as cur:
                outcomes = officer_queries.crime_outcomes(
                    cur, source.source, list(frame["unit_id"]), month_start(period.start),
                    month_start(period.end))
                crime_files = facts.lake_files(cur, self.lake, "crime", source.source, force_id,
                                               _add(month_start(start), -12), month_start(end))
                survey_files = facts.lake_files(cur, self.lake, "satisfaction", None, force_id,
                                                month_start(start), month_start(end))
                survey = officer_queries.linked_satisfaction(cur, crime_files, survey_files, start, end)
            out = frame.merge(outcomes, on="unit_id", how="left").merge(survey, on="unit_id", how="left")
            for col in ("crimes", "detected", "respondents", "satisfied"):
                out[col] = pd.to_numeric(out[col], errors="coerce").fillna(0.0).astype(float)
            return out

        return self.cached("officer_table", (force_id, start, end), compute)

    def officer_figures(self, unit_id: str, start: date, end: date) -> dict[str, Any]:
        """One officer's counts for the period (crimes as officer in charge, sanction
        detections, linked survey respondents, satisfied), their role and team size band."""
        unit = self.visible_unit(unit_id, "officer")
        if unit.level != "officer":
            raise ValueError(f"{unit_id!r} is not an officer")
        table = self._officer_table(unit.force_id, start, end)
        row = table[table["unit_id"] == unit_id]
        self._audit(audit_kinds.OFFICER, unit_id, period=f"{start}..{end}")
        return {k: (v.item() if hasattr(v, "item") else v) for k, v in row.iloc[0].items()}

    def officer_peers(self, unit_id: str, start: date, end: date) -> tuple[pd.DataFrame, dict[str, float]]:
        """The officer's peers (same force, role and team size band, the officer included):
        the rows of the peers the actor may see (column `self` marks the officer), and the
        whole group's totals (an aggregate: what the funnel is centred on). A peer the actor
        may not see is in the totals only, never a row."""
        unit = self.visible_unit(unit_id, "officer")
        table = self._officer_table(unit.force_id, start, end)
        own = table[table["unit_id"] == unit_id].iloc[0]
        group = table[(table["role"] == own["role"]) & (table["band"] == own["band"])]
        totals = {c: float(group[c].sum()) for c in ("crimes", "detected", "respondents", "satisfied")}
        totals["officers"] = float(len(group))
        actor = self.actor()
        units = self._unit_map()
        rows = group[[self._sees(actor, units[u]) for u in group["unit_id"]]].copy()
        rows["self"] = rows["unit_id"] == unit_id
        # The peers' rows are officers' figures too; the Officer page reads them with the
        # officer's own, for one entry (the same what, unit and detail as officer_figures).
        self._audit(audit_kinds.OFFICER, unit_id, period=f"{start}..{end}")
        return rows.reset_index(drop=True), totals

    # -- the Data page --------------------------------------------------------------------

    def data_overview(self) -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            with self.cursor() as cur:
                return {
                    "meta": status.meta(cur),
                    "loaded": status.loaded_summary(cur),
                    "log": status.load_log(cur, limit=50),
                    "suspect": status.suspect_months(cur),
                    "quarantine": status.quarantine_counts(cur),
                    "lake": status.lake_summary(cur),
                }

        found = self.cached("data_overview", (), compute)
        return {k: (v.copy() if isinstance(v, pd.DataFrame) else v) for k, v in found.items()}

    # -- the Calls page ---------------------------------------------------------------------

    def call_demand(self, unit_id: str, start: date, end: date) -> pd.DataFrame:
        """Calls received by ISO weekday (1 = Monday), hour of day and channel, for a force,
        BCU or NPU and the days [start, end] (queries/calls.py; counted as the call measures
        are cubed). Aggregates only: no call record leaves this method. Other levels: empty."""
        unit = self._require_unit(unit_id)
        self._check_visible([unit_id])

        def compute() -> pd.DataFrame:
            if unit.level not in ("force", "bcu", "npu"):
                return pd.DataFrame(columns=list(call_queries.DEMAND_COLUMNS))
            with self.cursor() as cur:
                files = facts.lake_files(cur, self.lake, "calls", None, unit.force_id,
                                         month_start(start), month_start(end))
                return call_queries.demand_by_hour(cur, files, unit.level, unit.unit_id, start, end)

        if (start, end) in self.preset_periods(unit.force_id):
            # a preset period: kept beside the version (`precompute_calls`), so a cold worker's
            # Calls page reads 168 x 2 counts instead of scanning the period's call records
            return self.persisted("calls.demand", (unit_id, start, end), compute).copy()
        return self.cached("call_demand", (unit_id, start, end), compute).copy()

    def precompute_calls(self, force_ids: Sequence[str] | None = None) -> int:
        """Store the Calls page's demand by weekday and hour (`call_demand`) of every force, BCU
        and NPU x preset period, for each force (every force by default): the calls a page
        makes, so what is stored is what it would compute (`python -m dashboard precompute`).
        A force without call records is skipped. Returns how many (unit, period) were stored."""
        forces = (list(force_ids) if force_ids is not None
                  else sorted({str(f) for f in self.units()["force_id"]}))
        done = 0
        for force_id in forces:
            if self.source_for(force_id, "calls") is None:   # the dataset call_demand reads
                continue
            for level in ("force", "bcu", "npu"):
                for unit in self.units_at(force_id, level):
                    for start, end in sorted(self.preset_periods(force_id)):
                        self.call_demand(unit.unit_id, start, end)
                        done += 1
        return done

    # -- concentration by place (docs/concentration.md) -----------------------------------

    def _place_cell(self, unit_id: str, measure_id: str, start: date, end: date
                    ) -> tuple[Unit, Source | None, Period, str, date, date]:
        """The unit (checked visible), its crime source, and the period as the source holds
        it: whole months for a monthly source (as the drill-through reads it)."""
        measure = MEASURES[measure_id]
        if not measure.categories:
            raise ValueError(f"concentration is of crime measures only, not {measure_id!r}")
        unit = self._require_unit(unit_id)
        self._check_visible([unit_id])
        source = self.source_for(unit.force_id)
        period = Period(start, end)
        if source is None or source.has_days:
            return unit, source, period, "date", period.start, period.end
        period = period.to_whole_months()
        return unit, source, period, "month", month_start(period.start), month_start(period.end)

    def concentration(self, unit_id: str, start: date, end: date,
                      measure_id: str = DEFAULT_MEASURE) -> PlaceFigures:
        """Crimes and harm per LSOA of a force, BCU or NPU (the measure's categories): every
        LSOA of its area, zero where none, so "the top 5% of LSOAs" counts all of them.
        Aggregates that data.police.uk itself publishes: open to whoever may see the unit.
        Teams and officers have no area of their own: not available there."""
        unit, source, period, time, lo, hi = self._place_cell(unit_id, measure_id, start, end)

        def compute() -> PlaceFigures:
            empty = pd.DataFrame(columns=["lsoa_code", "lsoa_name", "npu_id", "crimes", "harm",
                                          "harm_approx"])
            if unit.level not in place_queries.AREA_COLUMN:
                level = hierarchy.level(unit.level).plural
                return PlaceFigures(unit_id, None, period.start, period.end, empty,
                                    f"not available for {level}: they have no area of LSOAs of their own")
            if source is None:
                return PlaceFigures(unit_id, None, period.start, period.end, empty,
                                    f"not available: no crime data is loaded for {unit.force_id!r}")
            crime = self._crime_files(unit, source, period)
            cats = MEASURES[measure_id].categories
            with self.cursor() as cur:
                mappings = place_queries.lsoa_mappings(cur, unit.force_id)
                if not mappings:   # records with no LSOA (the demo force): nothing to read
                    return PlaceFigures(unit_id, source.source, period.start, period.end, empty,
                                        "not available: the records of this force carry no LSOA")
                frame = place_queries.lsoa_figures(cur, crime, unit.force_id, unit.level, unit.unit_id,
                                                   cats, lo, hi, time)
            inside = frame[frame["in_area"].astype(bool)].drop(columns=["in_area"])
            outside = frame[~frame["in_area"].astype(bool)]
            blank = int(outside.loc[outside["lsoa_code"].isna(), "crimes"].sum())
            elsewhere = int(outside.loc[outside["lsoa_code"].notna(), "crimes"].sum())
            added = []
            if "default" in mappings and "file" not in mappings:
                added = self._default_area_lsoas(unit)
            if added:
                extra = pd.DataFrame({"lsoa_code": [c for c, _ in added], "lsoa_name": None,
                                      "npu_id": [n for _, n in added], "crimes": 0, "harm": 0.0,
                                      "harm_approx": 0})
                inside = pd.concat([inside, extra], ignore_index=True)
            inside = inside.reset_index(drop=True)
            why = None
            if inside.empty:
                why = f"not available: no LSOA is placed in {unit.title}"
            return PlaceFigures(unit_id, source.source, period.start, period.end, inside, why,
                                len(added), blank, elsewhere)

        found = self._place_result("place.concentration", unit, period, measure_id, compute)
        return dataclasses.replace(found, lsoas=found.lsoas.copy())

    def _place_result(self, name: str, unit: Unit, period: Period, measure_id: str,
                      compute: Callable[[], Any]) -> Any:
        """A place figure of (unit, period, the measure's categories): measures of the same
        categories share it. For a preset period of the unit's force it is kept beside the
        version (docs/precompute.md), so a cold worker reads it instead of scanning the
        force's records (~0.1 s at national scale); any other period is computed on demand."""
        key = (unit.unit_id, period.start, period.end, tuple(MEASURES[measure_id].categories))
        if self._place_stored(unit, period):
            return self.persisted(name, key, compute)
        return self.cached(name, key, compute)

    def precompute_places(self, force_ids: Sequence[str] | None = None,
                          every_category: bool = False) -> int:
        """Store the concentration card's figures (`concentration`, `repeat_locations`) of every
        unit with an area (force, BCU, NPU) x preset period, for each force (every force by
        default), with the record count of each (the records card) and each NPU's map points
        (the drill-down's map) when the actor may see records: the same calls a page makes, so
        what is stored is what it would compute (`python -m dashboard precompute`). Already
        stored ones are read, not recomputed.

        By default only the crime categories of the page's default measure (all crime: the six
        all-crime measures share it), the view every drill-down opens on: every set of
        categories a measure counts (15) cost fifteen times as much (Cheshire at national scale:
        ~85 s of CPU and ~105 MB), and a set not stored is computed and kept by its first view.
        Returns how many (unit, period, categories) there are."""
        forces = (list(force_ids) if force_ids is not None
                  else sorted({str(f) for f in self.units()["force_id"]}))
        by_categories: dict[tuple[str, ...], str] = {}
        for mid, m in MEASURES.items():
            if m.categories and (every_category or
                                 tuple(m.categories) == tuple(MEASURES[DEFAULT_MEASURE].categories)):
                by_categories.setdefault(tuple(m.categories), mid)
        done = 0
        for force_id in forces:
            units = [u.unit_id for lv in place_queries.AREA_COLUMN for u in self.units_at(force_id, lv)]
            # the periods as the place cell reads them (whole months for a monthly source)
            cells = (self._place_cell(force_id, DEFAULT_MEASURE, s, e)[2]
                     for s, e in self.preset_periods(force_id))
            for start, end in sorted({(p.start, p.end) for p in cells}):
                for uid in units:
                    unit = self._require_unit(uid)
                    records = self._sees_records(self.actor(), unit)
                    for mid in by_categories.values():
                        self.concentration(uid, start, end, mid)
                        self.repeat_locations(uid, start, end, mid)
                        if records:
                            # the records card's count, and an NPU's map points (fastui9)
                            self.record_count(mid, uid, start, end)
                            if unit.level == "npu":
                                self._map_points(mid, uid, start, end, MAP_POINTS)
                        done += 1
        return done

    def msoa_values(self, unit_id: str, measure_id: str, start: date, end: date) -> MsoaFigures | None:
        """The measure's value per MSOA of an NPU, from its LSOAs' crimes or harm (the per-LSOA
        figures of `concentration`) and the shipped 2011 LSOA -> MSOA lookup and populations.
        None where there is no such figure: a unit that is not an NPU, a measure that is not a
        count, rate per 1,000 or harm of crimes, or a force whose records carry no LSOA (the
        demo). Aggregates, like concentration: open to whoever may see the NPU."""
        measure = MEASURES[measure_id]
        column = msoa_stats.numerator_column(measure)
        unit = self._require_unit(unit_id)
        if column is None or unit.level != "npu":
            return None
        figures = self.concentration(unit_id, start, end, measure_id)   # checks the unit is visible
        if figures.not_available is not None or figures.lsoas.empty:
            return None
        frame = msoa_stats.by_msoa(figures.lsoas, column, *_lsoa_msoa_lookup())
        if frame.empty:
            return None
        names = areas.msoas()
        frame.insert(1, "msoa_name", [names[c].name if c in names else c for c in frame["msoa_code"]])
        frame["value"] = [metrics.value(measure, n, p) for n, p in zip(frame["num"], frame["population"],
                                                                     strict=True)]
        return MsoaFigures(unit_id, figures.first, figures.last, frame)

    def _default_area_lsoas(self, unit: Unit) -> list[tuple[str, str]]:
        """(LSOA, NPU) of the unit's area in the default hierarchy that dim_lsoa lacks (no
        record named them yet): dim_lsoa holds the LSOAs records named, and an LSOA with no
        crime or ASB in any loaded month is still part of the area (of the force; of a BCU or
        NPU by the default hierarchy's ids, which are those the loader gave the LSOAs seen)."""
        def compute() -> tuple[tuple[str, str, str], ...]:
            h = areas.hierarchy(unit.force_id)
            if h is None:
                return ()
            known = set(self.lsoa_npus(unit.force_id)["lsoa_code"])
            out = []
            for code in sorted(h.lsoa_npu):
                a = lsoa_mapping.default_assignment(unit.force_id, code)
                if code not in known and a is not None:
                    out.append((code, a.npu_id, a.bcu_id))
            return tuple(out)

        # version-only and one per force: kept beside the version (fastui9), so a cold worker's
        # card reads it instead of walking the force's default hierarchy (~5 ms at national scale)
        missing = self.persisted("default_area_lsoas", (unit.force_id,), compute)
        pick_unit = {"force": lambda r: unit.force_id, "bcu": lambda r: r[2], "npu": lambda r: r[1]}
        return [(code, npu) for code, npu, bcu in missing
                if pick_unit[unit.level]((code, npu, bcu)) == unit.unit_id]

    def repeat_locations(self, unit_id: str, start: date, end: date,
                         measure_id: str = DEFAULT_MEASURE) -> pd.DataFrame:
        """Crimes per snapped map point of a force, BCU or NPU, most first: [crimes] for every
        actor who may see the unit (counts of anonymous points), plus [location, longitude,
        latitude, lsoa_code] only for an actor who may see its records (a point's "On or near
        ..." text is as near an address as data.police.uk gives)."""
        unit, source, period, time, lo, hi = self._place_cell(unit_id, measure_id, start, end)

        def compute() -> pd.DataFrame:
            if source is None or unit.level not in place_queries.FACT_COLUMN:
                return pd.DataFrame(columns=place_queries.LOCATION_COLUMNS)
            crime = self._crime_files(unit, source, period)
            with self.cursor() as cur:
                return place_queries.location_counts(cur, crime, unit.level, unit.unit_id,
                                                     MEASURES[measure_id].categories, lo, hi, time,
                                                     force_id=unit.force_id)

        frame = self._place_result("place.repeat_locations", unit, period, measure_id, compute).copy()
        if not self._sees_records(self.actor(), unit):
            frame = frame[["crimes"]]
        return frame

    def repeat_summary(self, unit_id: str, start: date, end: date, measure_id: str = DEFAULT_MEASURE,
                       at_least: int = 2, top: int = 10
                       ) -> tuple[tuple[int, int, int, int], pd.DataFrame | None]:
        """`repeat_locations` as the concentration card reads it: (map points, points with at
        least `at_least` crimes, crimes at any point, crimes at those points), and the first
        `top` of those points, most first (None for a role that may not see records, as
        `repeat_locations` gives such a role no locations). A stored (preset) period reads them
        from the stored frame; any other period reads only these (`place_queries.
        location_repeats`), not every point with its location text."""
        unit, source, period, time, lo, hi = self._place_cell(unit_id, measure_id, start, end)
        listed = self._sees_records(self.actor(), unit)
        if self._place_stored(unit, period) or source is None or unit.level not in place_queries.FACT_COLUMN:
            frame = self.repeat_locations(unit_id, start, end, measure_id)
            counts = [int(c) for c in frame["crimes"].tolist()]
            repeats = [c for c in counts if c >= at_least]
            totals = (len(counts), len(repeats), sum(counts), sum(repeats))
            return totals, (frame[frame["crimes"] >= at_least].head(top) if listed else None)

        def compute() -> tuple[tuple[int, int, int, int], pd.DataFrame]:
            crime = self._crime_files(unit, source, period)
            with self.cursor() as cur:
                return place_queries.location_repeats(cur, crime, unit.level, unit.unit_id,
                                                      MEASURES[measure_id].categories, lo, hi, time,
                                                      at_least, top, force_id=unit.force_id)

        key = (unit.unit_id, period.start, period.end, tuple(MEASURES[measure_id].categories), at_least, top)
        totals, frame = self.cached("place.repeat_summary", key, compute)
        return totals, (frame.copy() if listed else None)

    def _cell_stored(self, unit: Unit, period: Period) -> bool:
        """Whether a record-level figure of the unit's cell (`record_count`, `map_points`) for
        `period` is kept beside the version: a preset period of a force, BCU or NPU, as for the
        place figures (teams' and officers' are computed on demand: an officer's count is an
        individual's figure, not copied out of the warehouse)."""
        return unit.level in place_queries.AREA_COLUMN and self._place_stored(unit, period)

    def _place_stored(self, unit: Unit, period: Period) -> bool:
        """Whether the unit's place figures for `period` are kept beside the version (a preset
        period of its force: `_place_result`)."""
        return self.store_places and (period.start, period.end) in self.preset_periods(unit.force_id)

def _as_date(t: Any) -> date:
    """A cube's time value as a date (DuckDB hands a DATE to pandas as a Timestamp)."""
    return t.date() if isinstance(t, datetime) else t


@functools.cache
def _lsoa_msoa_lookup() -> tuple[dict[str, str], dict[str, int]]:
    """LSOA -> 2011 MSOA and LSOA -> 2011 residents, from the shipped table (once a process)."""
    table = areas.lsoas()
    return {c: r.msoa for c, r in table.items()}, {c: r.population for c, r in table.items()}


class _UnitMap(dict[str, Unit]):
    """unit id -> Unit, with beside it each unit's lineage (its ids from the force down), the
    walk of every unit the unit picker lists them in and each one's picker option: made once
    per version (every page draws the picker: ~1,400 units at national scale)."""

    def __init__(self) -> None:
        super().__init__()
        self.lineage: dict[str, tuple[str, ...]] = {}
        self.picker_order: list[Unit] = []
        self.options: dict[str, dict[str, str]] = {}
        # each unit's children, and the units of each (force, level), in the map's order: what
        # `children` and `units_at` answer without a scan of every unit (a drill-down asks ten
        # times a page: ~1 ms of ~1,400 units at national scale)
        self.children_of: dict[str, list[Unit]] = {}
        self.at: dict[tuple[str, str], list[Unit]] = {}

    def __sizeof__(self) -> int:
        # what the result cache's byte bound counts (cache.py sizes a mapping by its items):
        # the units plus, roughly, the lineages, the walk and the options beside them
        n = len(self)
        return (super().__sizeof__() + sys.getsizeof(self.lineage) + sys.getsizeof(self.options)
                + sys.getsizeof(self.picker_order) + sys.getsizeof(self.children_of)
                + sys.getsizeof(self.at) + n * (_LINEAGE_BYTES + _OPTION_BYTES + 2 * _REF_BYTES))


# rough bytes of one unit's lineage tuple and of its picker option (a dict of three strings)
_LINEAGE_BYTES = 70
_OPTION_BYTES = 420
_REF_BYTES = 8   # a unit's place in `children_of` and in `at` (a list slot each)


def _option(u: Unit, parent: Unit | None) -> dict[str, str]:
    """A unit's option in the picker: forces and BCUs by title, others with their parent's name."""
    label = u.title if u.level in ("force", "bcu") else f"{u.title} · {parent.name if parent else ''}"
    return {"label": label, "value": u.unit_id, "search": f"{u.name} {hierarchy.level(u.level).label}"}


def _walk(units: dict[str, Unit], seen: dict[str, bool]) -> list[Unit]:
    """The units seen, force by force (by name), each followed by its descendants (by name),
    each under its nearest ancestor seen (an officer whose team is out of scope follows their
    NPU); forces always."""
    by_parent: dict[str | None, list[Unit]] = {}
    for u in units.values():
        if u.level != "force" and seen[u.unit_id]:
            parent = units.get(u.parent_id or "")
            while parent is not None and not seen[parent.unit_id]:
                parent = units.get(parent.parent_id or "")
            by_parent.setdefault(parent.unit_id if parent else None, []).append(u)
    out: list[Unit] = []

    def walk(u: Unit) -> None:
        out.append(u)
        for child in sorted(by_parent.get(u.unit_id, []), key=lambda c: c.name):
            walk(child)

    for force in sorted((u for u in units.values() if u.level == "force"), key=lambda u: u.name):
        walk(force)
    return out


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
    if isinstance(v, float):   # numpy's float64 too: no pandas test per cell
        return float(v) if not math.isnan(v) else math.nan
    return math.nan if v is None or pd.isna(v) else float(v)


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
            "spark_months": spark_months,
            "spark": spark,
            "_order": 0,
        }
    num, den, sq, d2 = now
    num0, den0, sq0, d20 = before if before is not None else (math.nan,) * 4
    val = metrics.value(measure, num, den, sq, d2)
    lo, hi = metrics.interval(measure, num, den, sq, d2)
    val0 = metrics.value(measure, num0, den0, sq0, d20)
    comp = metrics.compare(measure, num, den, num0, den0, sq, sq0)
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
        "spark_months": spark_months,
        "spark": spark,
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
