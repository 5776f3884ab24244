"""The demo's frames are made without numpy's huge-page advice (etl/demo/build.py
`_small_pages`: the kernel zeroing 2 MiB pages for every short-lived array cost ~1.3 s of the
generation's CPU), and the process-wide setting is put back afterwards, error or not."""

from __future__ import annotations

import pytest
from numpy._core import multiarray

from etl.demo.build import _small_pages


def _set(value: bool) -> bool:
    """Set numpy's advice and return what it was (numpy's own setter does both)."""
    return bool(multiarray._set_madvise_hugepage(value))


def test_advice_is_off_inside_and_restored_after() -> None:
    original = _set(True)
    try:
        with _small_pages():
            assert _set(False) is False  # it was off inside
        assert _set(True) is True  # and on again after
        with pytest.raises(ValueError), _small_pages():
            raise ValueError("a generator failed")
        assert _set(True) is True
    finally:
        _set(original)
