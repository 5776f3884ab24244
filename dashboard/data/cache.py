"""The version-keyed result cache behind `DataAccess.cached` and `cached_many`.

A key is (warehouse version, name, arguments). A load publishes a new version file, so every
key changes and no result outlives the data it came from: nothing is ever invalidated by
hand, and a result can be shared by every request that reads the same version.

The cache is bounded by bytes, not by entries: one entry may be a 13-value scorecard row or a
year of a force's records, so a count bound let one worker grow past 450 MB (issue 11). Each
entry's size is estimated when it is stored (`estimate_bytes`); least recently used entries
are dropped until the total is within `max_bytes`, and a single result larger than the whole
bound is returned to its caller but never kept (it would only evict everything else).

DataFrames are copied on the way out, so callers may change what they get.
"""

from __future__ import annotations

import itertools
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

# The entry's key, its slot in the ordered dict and the size record: counted once per entry so
# that many tiny results are not free.
ENTRY_OVERHEAD = 256
# Containers longer than this are estimated from a sample of their items (the estimate runs on
# every store, and must cost far less than the result it sizes).
_SAMPLE = 64
_MAX_DEPTH = 6


def estimate_bytes(value: Any) -> int:
    """About how many bytes `value` holds: exact for numeric DataFrames, Series and arrays
    (numpy's nbytes), text columns by a sample of their values (as pandas' deep memory usage
    counts them, at a fraction of its cost), sys.getsizeof of the object and of what it contains
    for other values (containers by a sample of their items when long)."""
    return _size(value, 0, set())


def _array_bytes(arr: Any) -> int:
    """A column's (or index's) bytes: numpy's and pandas' extension arrays' own nbytes, and
    for Python objects (text) the pointers plus the objects, from a sample when long, as
    pandas' deep memory usage counts them (sys.getsizeof of each)."""
    if isinstance(arr, np.ndarray) and arr.dtype != object:
        return int(arr.nbytes)
    if not isinstance(arr, np.ndarray):
        if str(getattr(arr, "dtype", "")) != "object" and hasattr(arr, "nbytes"):
            return int(arr.nbytes)
        arr = np.asarray(arr, dtype=object)
    arr = arr.ravel()   # a frame's block of text columns is two-dimensional
    n = len(arr)
    if n == 0:
        return 0
    step = max(1, n // _SAMPLE)
    sample = arr[::step]
    per_item = sum(sys.getsizeof(x) for x in sample) / len(sample)
    return int(arr.nbytes + per_item * n)


def _frame_bytes(frame: pd.DataFrame) -> int:
    """A frame's bytes without pandas' memory_usage (which costs milliseconds even for a
    ten-row frame, and the cache sizes every result it stores): each column's array and the
    index (a RangeIndex is its three integers)."""
    total = _index_bytes(frame.index)
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", None)
    if blocks is None:   # pandas' internals changed: the public way, ~50x slower
        return total + sum(_array_bytes(col.array) for _name, col in frame.items())
    # the blocks: one array per dtype, not a Series built per column (0.5 ms a frame)
    return total + sum(_array_bytes(block.values) for block in blocks)


def _index_bytes(index: pd.Index) -> int:
    if isinstance(index, pd.RangeIndex):
        return int(index.memory_usage())
    return _array_bytes(index.array)


def _size(value: Any, depth: int, seen: set[int]) -> int:
    if isinstance(value, pd.DataFrame):
        return _frame_bytes(value)
    if isinstance(value, pd.Series):
        return _array_bytes(value.array) + _index_bytes(value.index)
    if isinstance(value, pd.Index):
        return _index_bytes(value)
    if isinstance(value, np.ndarray):
        return int(value.nbytes) + sys.getsizeof(np.empty(0))
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return sys.getsizeof(value)
    if id(value) in seen or depth >= _MAX_DEPTH:
        return 0  # shared, or deep enough that the shell is all we count
    seen.add(id(value))
    own = sys.getsizeof(value)
    if isinstance(value, Mapping):
        items: list[Any] = [x for kv in itertools.islice(value.items(), _SAMPLE) for x in kv]
        total = len(value)
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(itertools.islice(value, _SAMPLE))
        total = len(value)
    elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):  # dataclasses, named objects
        fields = dict(getattr(value, "__dict__", {}))
        for slot in getattr(type(value), "__slots__", ()):
            if hasattr(value, slot):
                fields[slot] = getattr(value, slot)
        return own + sum(_size(v, depth + 1, seen) for v in fields.values())
    else:
        return own
    if not items:
        return own
    sampled = sum(_size(x, depth + 1, seen) for x in items)
    # a Mapping's sample holds two objects (key and value) per entry
    per_entry = sampled / (len(items) / (2 if isinstance(value, Mapping) else 1))
    return own + int(per_entry * total)


def _out(value: Any) -> Any:
    return value.copy() if isinstance(value, pd.DataFrame) else value


class VersionedCache:
    """A thread-safe LRU of computed results keyed by (version, name, args), bounded by the
    estimated bytes of what it holds."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0  # the estimated size of everything held now
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.oversize = 0  # results returned but not kept: each larger than max_bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: tuple[Any, ...]) -> bool:
        return key in self._entries

    def get(self, version: Hashable, name: str, args: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """The cached result, or `compute()` stored under the key. Two threads missing the same
        key at once both compute it (the same numbers): cheaper than a lock per key."""
        key = (version, name, args)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return _out(self._entries[key][0])
            self.misses += 1
        result = compute()
        size = estimate_bytes(result) + ENTRY_OVERHEAD
        with self._lock:
            self._put(key, result, size)
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
                    found[k] = self._entries[full][0]
                    self.hits += 1
            missing = [k for k in keys if k not in found]
            self.misses += len(missing)
        if missing:
            computed = compute(missing)
            sizes = {k: estimate_bytes(computed[k]) + ENTRY_OVERHEAD for k in missing}
            with self._lock:
                for k in missing:
                    self._put((version, name, k), computed[k], sizes[k])
                    found[k] = computed[k]
                self._trim()
        return [_out(found[k]) for k in keys]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def _put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        """Caller holds the lock. A result bigger than the whole bound is not kept."""
        old = self._entries.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        if size > self.max_bytes:
            self.oversize += 1
            return
        self._entries[key] = (value, size)
        self.bytes += size

    def _trim(self) -> None:
        """Caller holds the lock: drop least recently used entries until within the bound."""
        while self.bytes > self.max_bytes and self._entries:
            _, (_, size) = self._entries.popitem(last=False)
            self.bytes -= size
            self.evictions += 1
