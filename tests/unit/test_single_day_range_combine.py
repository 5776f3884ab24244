"""metrics.combine_tuples reads a bucket of one base row (a day of a day-grain range: ~260 a
daily trend) as it stands: the same numbers and types as summing or taking the largest of
every row, which is what it did for one row before (the reference below is that code)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dashboard.analysis import kinds, metrics
from etl.measures.registry import MEASURES


def _reference(measure, rows):  # noqa: ANN001, ANN202 - the general path, as it was
    no_den = 0.0 if kinds.has_denominator(measure) else math.nan
    if not rows:
        return (0.0, no_den, math.nan, math.nan)
    if metrics.aggregate_kind(measure) == "latest":
        last = max(r[0] for r in rows)
        rows = [r for r in rows if r[0] == last]
    missing = lambda x: x is None or (isinstance(x, float) and math.isnan(x))  # noqa: E731
    num = math.fsum(r[1] for r in rows)
    dens = [r[2] for r in rows if not missing(r[2])]
    sqs = [r[3] for r in rows if len(r) > 3 and not missing(r[3])]
    den2s = [r[4] for r in rows if len(r) > 4 and not missing(r[4])]
    stock = kinds.denominator_is_stock(measure)
    den = (max(dens) if stock else math.fsum(dens)) if dens else no_den
    den2 = (max(den2s) if stock else math.fsum(den2s)) if den2s else math.nan
    return (num, den, math.fsum(sqs) if sqs else math.nan, den2)


ROWS = [
    ("2007-05-09", 3.0, 120.0, 9.0, 40.0), ("2007-05-09", 0.0, math.nan, math.nan, math.nan),
    ("2007-05-09", 7.0, None, None, None), ("2007-05-09", 2, 5, 4, 5),
    ("2007-05-09", np.float64(1.5), np.float64(2.0), np.float64(2.25), np.float64(8.0)),
    ("2007-05-09", 4.0, 10.0), ("2007-05-09", 4.0, 10.0, 16.0), ("2007-05-09", math.nan, 10.0, 1.0, 2.0),
]


@pytest.mark.parametrize("measure_id", sorted(MEASURES))
def test_one_row_combines_as_every_row_does(measure_id: str) -> None:
    m = MEASURES[measure_id]
    for row in ROWS:
        got, want = metrics.combine_tuples(m, [row]), _reference(m, [row])
        assert [type(x) for x in got] == [type(x) for x in want], (measure_id, row)
        assert all((isinstance(a, float) and math.isnan(a) and math.isnan(b)) or a == b
                   for a, b in zip(got, want, strict=True)), (measure_id, row, got, want)
