"""etl/demo/common.py `text`: a text column decoded from an Arrow dictionary must be the very
column pandas makes of the equivalent object array (the demo's content may not change with
how its frames are built)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.demo.common import text


def _as_pandas_would(names: list[str | None], codes: np.ndarray) -> pd.Series:
    values = np.array([None if c < 0 else names[c] for c in codes], dtype=object)
    return pd.Series(values)


def test_codes_give_the_same_column_as_an_object_array() -> None:
    names = ["burglary", "drugs", "vehicle-crime", None]
    codes = np.array([0, 1, -1, 2, 2, 3, 0, -1])
    got = pd.Series(text(names, codes))
    want = _as_pandas_would(names, codes)
    pd.testing.assert_series_equal(got, want, check_exact=True)
    assert got.dtype == want.dtype
    assert got.isna().tolist() == [False, False, True, False, False, True, False, True]


def test_numpy_text_and_an_empty_dictionary() -> None:
    ids = np.strings.add("CHE-2020-", np.array(["0000001", "0000002"]))
    pd.testing.assert_series_equal(pd.Series(text(ids, np.array([1, -1, 0]))),
                                   _as_pandas_would(list(ids), np.array([1, -1, 0])))
    # all missing: pandas leaves None objects untyped; the demo made them text with astype("str")
    pd.testing.assert_series_equal(pd.Series(text([], np.full(3, -1))),
                                   _as_pandas_would([], np.full(3, -1)).astype("str"))
