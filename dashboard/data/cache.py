"""The version-keyed result cache behind `DataAccess.cached` and `cached_many`.

A key is (warehouse version, name, arguments). A load publishes a new version file, so every
key changes and no result outlives the data it came from: nothing is ever invalidated by
hand, and a result can be shared by every request that reads the same version. Least
recently used entries are dropped beyond `maxsize`.

DataFrames are copied on the way out, so callers may change what they get.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd


def _out(value: Any) -> Any:
    return value.copy() if isinstance(value, pd.DataFrame) else value


class VersionedCache:
    """A thread-safe LRU of computed results keyed by (version, name, args)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, version: Hashable, name: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The cached result, or `compute()` stored under the key. Two threads missing the same
        key at once both compute it (the same numbers): cheaper than a lock per key."""
        key = (version, name, args)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return _out(self._entries[key])
            self.misses += 1
        result = compute()
        with self._lock:
            self._entries[key] = result
            self._trim()
        return _out(result)

    def get_many(
        self,
        version: Hashable,
        name: str,
        keys: list[tuple[Any, ...]],
        compute: Callable[[list[tuple[Any, ...]]], dict[tuple[Any, ...], Any]],
    ) -> list[Any]:
        """`get` for a batch: the keys not cached are computed together in one call (one query
        for several units) and each is stored under its own key, so a later request for any
        one of them is a hit."""
        found: dict[tuple[Any, ...], Any] = {}
        with self._lock:
            for k in keys:
                full = (version, name, k)
                if full in self._entries:
                    self._entries.move_to_end(full)
                    found[k] = self._entries[full]
                    self.hits += 1
            missing = [k for k in keys if k not in found]
            self.misses += len(missing)
        if missing:
            computed = compute(missing)
            with self._lock:
                for k in missing:
                    self._entries[(version, name, k)] = computed[k]
                    found[k] = computed[k]
                self._trim()
        return [_out(found[k]) for k in keys]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _trim(self) -> None:
        """Caller holds the lock."""
        while len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
