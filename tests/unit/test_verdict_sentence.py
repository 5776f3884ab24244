"""assessment.verdict_sentence, the scorecard's first sentence (fastui6 counts it over plain
lists instead of boolean masks of the assessment frame): the counts written out by hand."""

from __future__ import annotations

import math

import pandas as pd

from dashboard.analysis.assessment import verdict_sentence


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["verdict", "exception", "target_status", "spc_verdict", "peer_verdict",
                                       "peer_position", "label"])


def test_counts_each_reason_over_the_loaded_measures_only() -> None:
    frame = _frame([
        ("worse", True, "missed", "special_cause_concern", "worse", "1 of 8 (beyond 99.8", "a"),
        ("worse", True, None, None, "worse", "3 of 8", "b"),              # worse, not a peer outlier
        ("better", False, "met", None, None, None, "c"),
        ("same", math.nan, "missed", "special_cause_concern", None, math.nan, "d"),   # NaN: an exception
        ("not loaded", True, "missed", "special_cause_concern", "worse", "x 99.8", "e"),  # not counted
    ])
    assert verdict_sentence(frame, "Cheshire", "2007/08") == (
        "Cheshire, 2007/08: 3 of 4 headline measures are exceptions (2 significantly worse than last "
        "year, 2 missing their target for the period, 2 with an SPC special cause of concern, 1 a peer "
        "outlier); 1 significantly better than last year.")


def test_no_exception_and_nothing_loaded() -> None:
    frame = _frame([("same", False, None, None, None, None, "a"),
                    ("better", False, None, None, None, None, "b")])
    assert verdict_sentence(frame, "Northern BCU", "April 2008") == (
        "Northern BCU, April 2008: none of the 2 headline measures is an exception; 1 significantly "
        "better than last year.")
    one = _frame([("worse", True, "missed", None, None, None, "a")])
    assert verdict_sentence(one, "U", "P") == (
        "U, P: 1 of 1 headline measures is an exception (1 significantly worse than last year, 1 missing "
        "its target for the period).")
    assert verdict_sentence(_frame([("not loaded", False, None, None, None, None, "a")]), "U", "P") == (
        "No data is loaded for U.")
