"""The vectorised versions of per-unit statistics give exactly what the per-unit functions
give (issue 11: one scipy call over arrays instead of one per member). The per-unit functions
are checked against published figures in test_stats.py; here each vectorised one is checked
against them, and against a worked example whose answer does not come from our code."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from dashboard.analysis import assessment, stats


def test_funnel_positions_worked_example() -> None:
    # A rate funnel with target 1 event per unit of exposure, exposure 10 (Poisson mean 10).
    # P(X >= 21 | 10) = 0.0016 < 0.001 * 2: 30 events is beyond the 99.8% limit above;
    # 10 events is the target itself; 2 events: P(X <= 2 | 10) = 0.0028, beyond the lower 95%
    # limit (0.025) but not the 99.8% one (0.001).
    assert sps.poisson(10).sf(20) < 0.002 and 0.001 < sps.poisson(10).cdf(2) < 0.025
    got = stats.funnel_positions([30, 10, 2], [10, 10, 10], [1.0, 1.0, 1.0], "rate")
    assert got == ["above_99.8", "within", "below_95"]
    # proportions: 50 of 100 against 0.3 is far above; 30 of 100 is the target
    assert stats.funnel_positions([50, 30], [100, 100], [0.3, 0.3], "proportion") == ["above_99.8", "within"]


@pytest.mark.parametrize("kind", ["rate", "proportion"])
def test_funnel_positions_equal_the_per_unit_function(kind: str) -> None:
    rng = np.random.default_rng(11)
    n = rng.integers(1, 5000, size=400).astype(float)
    if kind == "rate":
        p0 = rng.choice([0.0, 0.001, 0.05, 0.7, 3.0, 41.5], size=n.size)
        n = n / 7.0   # exposures need not be whole
        k = rng.poisson(p0 * n * rng.choice([0.2, 0.5, 0.9, 1.0, 1.1, 1.6], size=n.size)).astype(float)
    else:
        p0 = rng.choice([0.0, 1.0, 0.02, 0.31, 0.5, 0.97], size=n.size)
        p = np.clip(p0 * rng.choice([0.5, 1.0, 1.1], size=n.size), 0, 1)
        k = np.minimum(rng.binomial(n.astype(int), p), n).astype(float)
    # points exactly on a limit: the limit's own value times n
    lim = stats.funnel_limits_rate(1.5, 40.0) if kind == "rate" else stats.funnel_limits_proportion(0.4, 40.0)
    edge_k = [float(lim[0.95][1]) * 40.0, float(lim[0.998][0]) * 40.0]
    k = np.concatenate([k, edge_k])
    n = np.concatenate([n, [40.0, 40.0]])
    p0 = np.concatenate([p0, [1.5, 1.5] if kind == "rate" else [0.4, 0.4]])
    one_by_one = [stats.funnel_position(a, b, c, kind) for a, b, c in zip(k, n, p0, strict=True)]
    assert stats.funnel_positions(k, n, p0, kind) == one_by_one
    assert len(set(one_by_one)) == 5   # every position occurs, so each branch is compared


def test_funnel_positions_refuses_bad_input() -> None:
    assert stats.funnel_positions([], [], [], "rate") == []
    with pytest.raises(ValueError, match="n must be positive"):
        stats.funnel_positions([1], [0], [1.0], "rate")
    with pytest.raises(ValueError, match="proportion"):
        stats.funnel_positions([1], [2], [1.5], "proportion")
    with pytest.raises(ValueError, match="one length"):
        stats.funnel_positions([1, 2], [2], [0.5], "proportion")


def test_drill_down_ranking_places_every_child_as_one_by_one() -> None:
    """rank_against places every child in one vectorised call: each position is what
    stats.funnel_position gives for that child alone (per head for a count, k of n for a
    proportion), untestable children (no population, no denominator) left out."""
    import math

    import pandas as pd

    from dashboard.analysis import ranking
    from etl.measures.registry import MEASURES

    rng = np.random.default_rng(5)
    pops = rng.integers(2_000, 90_000, size=60).astype(float)
    crimes = rng.poisson(pops * 0.006 * rng.choice([0.6, 1.0, 1.5], size=60)).astype(float)
    kids = pd.DataFrame({
        "unit_id": [f"f/u{i}" for i in range(60)], "name": [f"U{i:02d}" for i in range(60)],
        "level": "npu",
        "population": [math.nan if i == 3 else p for i, p in enumerate(pops)], "numerator": crimes,
        "denominator": math.nan, "num2": math.nan, "value": crimes, "lower": crimes - 1, "upper": crimes + 1})
    parent = pd.Series({"name": "F", "population": pops.sum(), "numerator": crimes.sum(),
                        "denominator": math.nan, "value": crimes.sum(), "lower": 0.0, "upper": 0.0})
    ranked = ranking.rank_against(MEASURES["crime_burglary"], kids, parent, "F").set_index("unit_id")
    p0 = crimes.sum() / pops.sum()
    assert pd.isna(ranked.loc["f/u3", "position"])   # no population: not tested
    for i in range(60):
        if i != 3:
            assert ranked.loc[f"f/u{i}", "position"] == stats.funnel_position(crimes[i], pops[i], p0, "rate")
    assert len({p for p in ranked["position"] if p}) >= 3

    dens = rng.integers(1, 400, size=40).astype(float)
    ks = np.minimum(rng.binomial(dens.astype(int), rng.choice([0.1, 0.25, 0.4], size=40)), dens)
    kids = pd.DataFrame({
        "unit_id": [f"f/p{i}" for i in range(40)], "name": [f"P{i:02d}" for i in range(40)],
        "level": "npu",
        "population": 1.0, "numerator": ks, "denominator": dens, "num2": math.nan, "value": ks / dens * 100,
        "lower": 0.0, "upper": 100.0})
    parent = pd.Series({"name": "F", "population": 1.0, "numerator": ks.sum(), "denominator": dens.sum(),
                        "value": ks.sum() / dens.sum() * 100, "lower": 0.0, "upper": 0.0})
    ranked = ranking.rank_against(MEASURES["sanction_detection_rate"], kids, parent, "F").set_index("unit_id")
    for i in range(40):
        want = stats.funnel_position(ks[i], dens[i], ks.sum() / dens.sum(), "proportion")
        assert ranked.loc[f"f/p{i}", "position"] == want


def _bisect_interval(x: int, rho: float, conf: float) -> tuple[int, int]:
    """The prediction interval as it was computed before the search was vectorised: one scipy
    call per candidate, plain bisection (the reference the array search must equal)."""
    a = (1.0 - conf) / 2.0
    if rho <= 0:
        return (0, 0)
    pi = 1.0 / (1.0 + rho)

    def upper_ok(y: int) -> bool:
        return bool(sps.binom.cdf(x, x + y, pi) > a)

    def lower_ok(y: int) -> bool:
        return bool(sps.binom.sf(x - 1, x + y, pi) > a)

    lo, hi = 0, max(1, int(np.ceil(rho * (x + 1))))
    while upper_ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if upper_ok(mid) else (lo, mid)
    y_upper = lo
    if lower_ok(0):
        return (0, y_upper)
    lo, hi = 0, max(1, y_upper)
    while not lower_ok(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if lower_ok(mid) else (mid, hi)
    return (hi, y_upper)


def test_poisson_prediction_interval_equals_the_bisection() -> None:
    # Nelson (1970)'s interval: x = 0, 1, 5 small counts, a year's counts of a force (~60k),
    # a month's share (rho 1/11) and eleven months to come (rho 11), conf 95% and 99%
    rng = np.random.default_rng(5)
    cases = [(0, 0.5), (0, 3.0), (1, 0.01), (5, 11.0), (100_000, 1 / 11), (3, 1e-6), (0, 1e-9), (2, 50.0)]
    cases += [(int(rng.integers(0, hi)), float(rho)) for hi in (20, 2_000, 100_000)
              for rho in rng.choice([1 / 11, 11.0, 0.5, 2.4, 0.07], size=80)]
    for x, rho in cases:
        for conf in (0.95, 0.99):
            got = stats._poisson_prediction_interval(x, rho, conf)
            assert got == _bisect_interval(x, rho, conf), (x, rho)
    # the definition, checked at the ends found: x = 10 observed, the same exposure to come
    # (rho = 1), so X given X + Y = N is binomial(N, 1/2); each end is the last y inside
    lo, hi = stats._poisson_prediction_interval(10, 1.0, 0.95)
    assert sps.binom.sf(9, 10 + lo, 0.5) > 0.025 >= sps.binom.sf(9, 10 + lo - 1, 0.5)
    assert sps.binom.cdf(10, 10 + hi, 0.5) > 0.025 >= sps.binom.cdf(10, 10 + hi + 1, 0.5)


def _pandas_frame(rows: list[dict]) -> pd.DataFrame:
    """An assessment frame as it was built before: pandas sort, then the columns picked."""
    frame = pd.DataFrame(rows)
    frame["_loaded"] = frame["verdict"] != "not loaded"
    frame = frame.sort_values(["_loaded", "exception", "severity", "_order"],
                              ascending=[False, False, False, True], kind="stable")
    return frame[assessment.ASSESSMENT_COLUMNS + assessment.SPARK_COLUMNS].reset_index(drop=True)


def test_assessment_frame_is_the_pandas_sorted_frame() -> None:
    # rows as _assess_rows makes them: not loaded ones, exceptions with tied severities, None
    # and NaN, dates and lists; the order is by loaded, exception, severity (desc), card order
    rng = np.random.default_rng(2)
    for trial in range(30):
        rows = []
        for order in range(int(rng.integers(1, 15))):
            row = {c: None for c in assessment.ASSESSMENT_COLUMNS}
            loaded = bool(rng.random() < 0.8)
            ex = loaded and bool(rng.random() < 0.4)
            row.update({"unit_id": "u", "measure_id": f"m{order}",
                        "verdict": "worse" if loaded else "not loaded", "exception": ex,
                        "severity": float(rng.choice([0.0, 1.5, 2.25, 3.0])) if ex else 0.0,
                        "value": float(rng.random()) if loaded else math.nan,
                        "period_start": date(2008, 1, 1),
                        "target": math.nan, "spc_month": date(2007, 11, 1) if ex else None,
                        "spark_months": [date(2008, 1, 1)], "spark": [float(order)], "_order": order})
            if trial % 3 == 0:
                row["_spc_score"] = 1.0    # private keys are left out of the frame
            rows.append(row)
        rng.shuffle(rows)   # the card order is _order, not the list's
        got = assessment._frame(rows)
        pd.testing.assert_frame_equal(got, _pandas_frame(rows))
        assert list(got.columns) == assessment.ASSESSMENT_COLUMNS + assessment.SPARK_COLUMNS


def test_calls_demand_heatmap_cells_are_the_pandas_group_sums() -> None:
    """The Calls page's weekday x hour heatmap sums its cells into an array (a pandas lookup
    per cell cost ~30 ms a page): the same cells as the pandas group sum it replaced, with
    repeated cells summed and missing ones 0, and a worked example."""
    from types import SimpleNamespace

    from dashboard.pages import calls
    from dashboard.periods import Period

    view = SimpleNamespace(unit=SimpleNamespace(title="Northern BCU"), as_of_text="data to 31 Mar 2008",
                           period=Period(date(2007, 4, 1), date(2008, 3, 31)))
    rng = np.random.default_rng(5)
    rows = 300
    df = pd.DataFrame({"weekday": rng.integers(1, 8, rows), "hour": rng.integers(0, 24, rows),
                       "calls": rng.integers(0, 50, rows)})
    twice = pd.DataFrame({"weekday": [2, 2], "hour": [7, 7], "calls": [5, 6]})
    df = pd.concat([df, twice], ignore_index=True)
    df.insert(1, "day", [calls.WEEKDAYS[d - 1] for d in df["weekday"]])   # as process_demand has it
    fig = calls.create_demand_figure(df, view)   # type: ignore[arg-type]
    z = fig["data"][0]["z"]
    cells = df.groupby(["weekday", "hour"])["calls"].sum()
    assert z == [[int(cells.get((d, h), 0)) for h in range(24)] for d in range(1, 8)]
    assert z[1][7] == int(df[(df.weekday == 2) & (df.hour == 7)]["calls"].sum())
    assert all(isinstance(v, int) for row in z for v in row)
