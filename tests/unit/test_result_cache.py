"""The result cache is bounded by bytes (issue 11): sizes, least-recently-used eviction by
bytes, results too big to keep, and the settings read from the environment."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from dashboard.data import limits
from dashboard.data.cache import ENTRY_OVERHEAD, VersionedCache, estimate_bytes

KB = 1024


def _frame(n: int) -> pd.DataFrame:
    """n rows of two float64 columns: 16 bytes a row, plus a RangeIndex (132 bytes)."""
    return pd.DataFrame({"a": np.arange(n, dtype="float64"), "b": np.zeros(n)})


def test_sizes_of_frames_arrays_and_plain_values() -> None:
    assert estimate_bytes(_frame(1000)) == 16_000 + pd.RangeIndex(1000).memory_usage()
    # text is counted by its characters (deep), not by the 8-byte pointers
    words = pd.DataFrame({"w": ["x" * 1000] * 100})
    assert estimate_bytes(words) >= 100 * 1000
    assert estimate_bytes(np.zeros(1000)) >= 8000
    assert estimate_bytes("x" * 5000) == sys.getsizeof("x" * 5000)
    # containers count what they hold; a long one from a sample, within a few percent
    rows = [(i, float(i), "abcdefgh") for i in range(10_000)]
    one = sys.getsizeof(rows[0]) + sys.getsizeof(0) + sys.getsizeof(0.0) + sys.getsizeof("abcdefgh")
    assert estimate_bytes(rows) == pytest.approx(sys.getsizeof(rows) + 10_000 * one, rel=0.05)
    nested = {"frame": _frame(1000), "ids": ["u"] * 10}
    assert estimate_bytes(nested) > 16_000


def test_eviction_is_least_recently_used_by_bytes() -> None:
    one = estimate_bytes(_frame(1000)) + ENTRY_OVERHEAD
    cache = VersionedCache(max_bytes=3 * one)
    for name in ("a", "b", "c"):
        cache.get("v1", name, (), lambda: _frame(1000))
    assert cache.bytes == 3 * one and len(cache) == 3
    cache.get("v1", "a", (), lambda: pytest.fail("a is cached"))  # a is now the most recent
    cache.get("v1", "d", (), lambda: _frame(1000))                # over the bound: b goes
    assert ("v1", "b", ()) not in cache
    assert all(("v1", k, ()) in cache for k in ("a", "c", "d"))
    assert cache.bytes == 3 * one and cache.evictions == 1
    # one entry worth two: the two least recent (c, then a) go
    big = estimate_bytes(_frame(2000)) + ENTRY_OVERHEAD
    cache.get("v1", "big", (), lambda: _frame(2000))
    assert ("v1", "c", ()) not in cache and ("v1", "a", ()) not in cache
    assert ("v1", "d", ()) in cache and ("v1", "big", ()) in cache
    assert cache.bytes == one + big <= cache.max_bytes


def test_many_small_entries_are_not_free() -> None:
    cache = VersionedCache(max_bytes=100 * ENTRY_OVERHEAD)
    for i in range(1000):
        cache.get("v1", "n", (i,), lambda i=i: i)
    assert len(cache) < 100 and cache.bytes <= cache.max_bytes


def test_a_result_bigger_than_the_bound_is_returned_but_not_kept() -> None:
    cache = VersionedCache(max_bytes=64 * KB)
    cache.get("v1", "small", (), lambda: _frame(100))
    huge = cache.get("v1", "huge", (), lambda: _frame(100_000))  # 1.6 MB
    assert len(huge) == 100_000
    assert ("v1", "huge", ()) not in cache and cache.oversize == 1
    assert ("v1", "small", ()) in cache  # and it evicted nothing
    calls = []
    cache.get("v1", "huge", (), lambda: calls.append(1) or _frame(10))
    assert calls == [1]  # computed again: never stored


def test_get_many_stores_each_key_by_its_own_size() -> None:
    cache = VersionedCache(max_bytes=64 * KB)
    got = cache.get_many("v1", "rows", [("x",), ("y",), ("z",)],
                         lambda keys: {k: (_frame(100_000) if k == ("z",) else _frame(100)) for k in keys})
    assert [len(f) for f in got] == [100, 100, 100_000]
    assert ("v1", "rows", ("x",)) in cache and ("v1", "rows", ("y",)) in cache
    assert ("v1", "rows", ("z",)) not in cache
    assert cache.bytes == 2 * (estimate_bytes(_frame(100)) + ENTRY_OVERHEAD)


def test_frames_are_copied_out() -> None:
    cache = VersionedCache(max_bytes=1024 * KB)
    first = cache.get("v1", "f", (), lambda: _frame(10))
    first.loc[0, "a"] = 99.0
    assert cache.get("v1", "f", (), lambda: _frame(10)).loc[0, "a"] == 0.0
    cache.clear()
    assert cache.bytes == 0 and len(cache) == 0


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (limits.CACHE_ENV, limits.DUCKDB_MEMORY_ENV, limits.DUCKDB_THREADS_ENV):
        monkeypatch.delenv(name, raising=False)
    assert limits.cache_bytes() == 96 * 1024 * 1024
    assert limits.duckdb_settings() == {"memory_limit": "128MiB", "threads": "2"}
    monkeypatch.setenv(limits.CACHE_ENV, "32")
    monkeypatch.setenv(limits.DUCKDB_MEMORY_ENV, " 512 ")
    monkeypatch.setenv(limits.DUCKDB_THREADS_ENV, "1")
    assert limits.cache_bytes() == 32 * 1024 * 1024
    assert limits.duckdb_settings() == {"memory_limit": "512MiB", "threads": "1"}
    for bad in ("lots", "0", "-5", "1.5", "128MB; DROP"):
        monkeypatch.setenv(limits.DUCKDB_MEMORY_ENV, bad)
        with pytest.raises(ValueError, match=f"{limits.DUCKDB_MEMORY_ENV} must be a whole number") as err:
            limits.duckdb_settings()
        assert repr(bad) in str(err.value)


def test_frame_sizes_match_pandas_deep_memory_usage() -> None:
    """The cache sizes frames from their blocks (pandas' memory_usage costs milliseconds a
    frame): the same bytes as pandas' deep count for every kind of column, and a long text
    column within a few percent (it is sampled)."""
    mixed = pd.DataFrame({
        "when": pd.date_range("2020-01-01", periods=50),
        "kind": pd.Categorical(["a", "b"] * 25),
        "name": [f"unit {i}" for i in range(50)],
        "n": pd.array(range(50), dtype="Int64"),
        "s": pd.array(["x"] * 50, dtype="string"),
        "v": np.linspace(0, 1, 50),
    }).set_index("name")
    assert estimate_bytes(mixed) == int(mixed.memory_usage(deep=True, index=True).sum())
    assert estimate_bytes(pd.DataFrame(columns=["a", "b"])) == int(
        pd.DataFrame(columns=["a", "b"]).memory_usage(deep=True, index=True).sum())
    long = pd.DataFrame({"t": [("y" * (i % 50)) for i in range(100_000)]})
    assert estimate_bytes(long) == pytest.approx(long.memory_usage(deep=True, index=True).sum(), rel=0.05)
