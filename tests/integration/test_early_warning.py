"""Early warning (dashboard/analysis/exception_scan.py): the charts agree with
dashboard/analysis/stats.py point for
point; a planted deterioration is found in the month it starts; a run without one raises no more
false alarms than the rules' own false-alarm rate."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pytest

from dashboard.analysis import assessment, cusum, metrics, stats
from dashboard.analysis import exception_scan as ew
from dashboard.analysis import kinds as dkinds
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.periods import add_months
from etl.demo.force import Shock, generate
from etl.lake.commit import LoadReport, Staged, commit, new_load_id
from etl.lake.warehouse import WarehousePaths, writer_lock
from etl.measures.registry import MEASURES
from etl.sources.shapes import CRIME_COLUMNS, FORCE_MONTH_COLUMNS, UNIT_COLUMNS, select_list

END = date(2008, 3, 1)
NORTHERN = "cheshire/northern"
SHOCK_MONTH = date(2007, 6, 1)


@pytest.fixture(scope="module")
def data(demo_link: Path) -> DataAccess:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


def build_crime_demo(link: Path, shocks: tuple[Shock, ...] = (), seed: int = 2007) -> None:
    """The demo's crimes (no service data), generated with `shocks` and written through the
    same path as etl/demo_load.build_demo: staging tables, then etl.load.commit."""
    facts = generate(seed=seed, shocks=shocks)
    con = duckdb.connect()
    for name, frame, columns in (
        ("units", facts.units, UNIT_COLUMNS),
        ("crimes", facts.crimes, CRIME_COLUMNS),
        ("force_month", facts.force_month, FORCE_MONTH_COLUMNS),
    ):
        con.register(f"_{name}", frame)
        con.execute(f"CREATE TEMP TABLE demo_{name} AS SELECT {select_list(columns)} FROM _{name}")
        con.unregister(f"_{name}")
    staged = Staged(con=con, source="demo", crime_table="demo_crimes", force_month_table="demo_force_month",
                    unit_table="demo_units", replace_force_months=True)
    paths = WarehousePaths(link)
    paths.directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(paths):
        commit(link, staged, LoadReport(new_load_id()), "test: demo with shocks", None)
    con.close()


@pytest.fixture(scope="module")
def shocked(tmp_path_factory: pytest.TempPathFactory) -> DataAccess:
    """The demo force as `python -m etl demo` makes it (seed 2007, 5 years to March 2008), crimes
    only, with Northern BCU's burglary rising by 60% from June 2007."""
    link = tmp_path_factory.mktemp("shocked") / "warehouse.duckdb"
    build_crime_demo(link, (Shock(NORTHERN, "burglary", SHOCK_MONTH, 1.6),))
    access = DataAccess(WarehouseReader(link))
    yield access
    access.reader.close()


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> DataAccess:
    """The same demo without the shock: pure noise around the demo's seasons and trend."""
    link = tmp_path_factory.mktemp("clean") / "warehouse.duckdb"
    build_crime_demo(link)
    access = DataAccess(WarehouseReader(link))
    yield access
    access.reader.close()


# -- the chart arithmetic equals dashboard/analysis/stats.py ---------------------------------------


def _reference(chart: ew.Chart, sens: ew.Sensitivity) -> stats.SpcResult:
    """The same chart drawn by dashboard/analysis/stats.py from the chart's usable points."""
    idx = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
    k = chart.k[idx]
    n = chart.n[idx]
    baseline = len(idx) - ew.FROZEN_LAST if len(idx) >= 2 * ew.FROZEN_LAST else None
    kw = {"baseline": baseline, "run_length": sens.run_length, "trend_length": sens.trend_length}
    if chart.kind == "c":
        return stats.c_chart(k, **kw)
    if chart.kind in ("c (seasonal)",) or (chart.kind == "u" and not np.isfinite(n).all()):
        return stats.u_chart(k, chart.exposure[idx], **kw)
    if chart.kind == "p":
        return stats.p_chart(k, n, **kw)
    if chart.kind == "u":
        return stats.u_chart(k, n, **kw)
    return stats.xmr_chart(chart.values[idx], screen_outliers=sens.screen_outliers, **kw)


def _cusum_reference(chart: ew.Chart, ref: stats.SpcResult, sens: ew.Sensitivity, m: object,
                     idx: list[int]) -> list[stats.Signal]:
    if "cusum" not in sens.rules or chart.kind not in ("c", "c (seasonal)", "u") \
            or dkinds.model(m) != "poisson":
        return []
    expected = np.array(ref.centre) * chart.exposure[idx]
    if expected.mean() < cusum.MIN_EXPECTED:
        return []
    months = len(idx) - ew.FROZEN_LAST if len(idx) >= 2 * ew.FROZEN_LAST else len(idx)
    out = []
    for direction, side in (("up", "above"), ("down", "below")):
        h = cusum.decision_interval(float(expected.mean()), months, sens.cusum_alarms_per_100,
                                    sens.cusum_shift, direction)
        res = cusum.poisson_cusum(chart.k[idx], expected, h, sens.cusum_shift, direction)
        out += [stats.Signal("cusum", idx[a.end], idx[a.start], side, idx[a.fired]) for a in res.alarms]
    return out


@pytest.mark.parametrize("sens_name", sorted(ew.SENSITIVITIES))
def test_every_demo_chart_equals_the_stats_reference(data: DataAccess, sens_name: str) -> None:
    sens = ew.sensitivity(sens_name)
    charts = ew.charts(data, "cheshire", END, sens)
    assert len(charts) > 600   # 77 units x 7 crime measures + 22 units x 7 service measures, give or take
    kinds = set()
    cusums = 0
    for (_uid, mid), chart in charts.items():
        m = MEASURES[mid]
        kinds.add(chart.kind)
        ref = _reference(chart, sens)
        idx = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
        scale = m.scale if chart.kind in ("p", "u") else 1.0
        np.testing.assert_allclose(chart.centre[idx], np.array(ref.centre) * scale, rtol=1e-12)
        np.testing.assert_allclose(chart.ucl[idx], np.array(ref.ucl) * scale, rtol=1e-12)
        np.testing.assert_allclose(chart.lcl[idx], np.array(ref.lcl) * scale, rtol=1e-12, atol=1e-12)
        wanted = [stats.Signal(s.rule, idx[s.index], idx[s.start], s.side) for s in ref.signals
                  if s.rule in sens.rules]
        assert [g for g in chart.signals if g.rule != "cusum"] == wanted, (chart.unit_id, mid)
        # the CUSUM rule: dashboard/analysis/cusum.py on the same counts, expected = the reference
        # chart's centre line x the chart's exposure, h for the budget and the baseline's months
        order = lambda g: (g.index, g.start, g.side)   # noqa: E731
        found = sorted((g for g in chart.signals if g.rule == "cusum"), key=order)
        assert found == sorted(_cusum_reference(chart, ref, sens, m, idx), key=order), (chart.unit_id, mid)
        cusums += len(found)
    assert {"c (seasonal)", "p"} <= kinds
    if "cusum" in sens.rules:
        assert cusums > 0


# -- last year: the vectorised tests are metrics.compare's --------------------------------------------------


def test_last_year_tests_match_metrics_compare(data: DataAccess) -> None:
    sens = ew.sensitivity("standard")
    charts = ew.charts(data, "cheshire", END, sens)
    pairs = [(MEASURES[mid], ew.last_year_pair(c, MEASURES[mid])) for (_u, mid), c in charts.items()]
    pairs = [(m, p) for m, p in pairs if p is not None]
    ew.last_year_tests(pairs)
    checked = 0
    for m, p in pairs:
        ref = metrics.compare(m, p.k1, p.n1, p.k0, p.n0)
        if ref.change is None:
            continue
        assert p.p == pytest.approx(ref.change.p_value, rel=1e-9, abs=1e-12), m.id
        verdict, words = ew.change_text(m, p, 0.05)
        assert words.endswith(ref.text), (m.id, words, ref.text)
        assert verdict == (ref.verdict if ref.verdict in ("worse", "better") else "")
        checked += 1
    assert checked > 500


# -- the exceptions list ------------------------------------------------------------------------------------


def test_exceptions_are_ranked_concerns_first(data: DataAccess) -> None:
    ex = ew.exceptions(data, "cheshire", END)
    assert list(ex.columns) == ew.EXCEPTION_COLUMNS
    assert list(ex["rank"]) == list(range(1, len(ex) + 1))
    order = {"concern": 0, "neutral": 1, "improvement": 2}
    assert list(ex["reading"].map(order)) == sorted(ex["reading"].map(order))
    concerns = ex[ex["reading"] == "concern"]
    assert (concerns["severity"] > 0).all() and list(concerns["severity"]) == sorted(concerns["severity"],
                                                                                       reverse=True)
    assert (ex.loc[ex["reading"] == "improvement", "severity"] < 0).all()
    assert set(ex["level"]) <= {"force", "bcu", "npu", "team"}
    only = ew.exceptions(data, "cheshire", END, include_improvements=False)
    assert (only["reading"] == "concern").all() and len(only) == len(concerns)
    # every SPC row explains itself in words
    spc = ex[ex["why"].str.contains("SPC")]
    assert not spc.empty and spc["spc_text"].str.len().gt(20).all() and spc["signal_start"].notna().all()


def test_sensitivity_changes_what_counts(data: DataAccess) -> None:
    standard = ew.exceptions(data, "cheshire", END, "standard")
    conservative = ew.exceptions(data, "cheshire", END, "conservative")
    n_std = standard["why"].str.contains("SPC").sum()
    n_con = conservative["why"].str.contains("SPC").sum()
    assert n_con < n_std
    assert not conservative["spc_text"].str.contains("in a row|months below|months above|two of three").any()


def test_chart_for_any_measure_and_unit(data: DataAccess) -> None:
    sens = ew.sensitivity("standard")
    drugs = ew.chart_for(data, "cheshire/northern/widnes", "crime_drugs", END, sens)  # not a headline measure
    months = len(data.source_for("cheshire").months)
    assert drugs is not None and drugs.kind == "c (seasonal)" and len(drugs.months) == min(ew.WINDOW, months)
    rate = ew.chart_for(data, "cheshire", "crime_per_1000", END, sens)
    total = ew.chart_for(data, "cheshire", "total_crime", END, sens)
    assert rate is not None and total is not None and rate.signals == total.signals   # same numerator
    treat = ew.chart_for(data, "cheshire/eastern", "satisfaction_treatment", END, sens)
    assert treat is not None and treat.kind == "p"
    assert ew.chart_for(data, "cheshire/northern/widnes/response-a", "satisfaction_whole_experience", END,
                        sens) is None
    frame = ew.chart_frame(total, MEASURES["total_crime"])
    assert list(frame.columns)[:3] == ["month", "status", "note"] and len(frame) == len(total.months)


def test_spc_status_for_the_scorecard(data: DataAccess) -> None:
    status = ew.spc_status(data, "cheshire/northern", END)
    assert set(status["measure_id"]) == {m.id for m in metrics.headline_measures()}
    assert status["status_text"].str.len().gt(0).all()
    assert set(status["verdict"]) <= set(ew.VERDICT_TEXT) | {""}


# -- acceptance: a planted deterioration, and no more false alarms than chance ----------------------------


def test_injected_deterioration_is_flagged_in_the_month_it_starts(shocked: DataAccess) -> None:
    """Northern BCU's burglary rises by 60% from June 2007. Running the list month by month, as a
    PIM would, the row appears no later than three months after June 2007, as a concern, and
    says the pattern began (and was first flagged) within 0-3 months of June."""
    first_flagged = None
    for k in range(0, 9):
        month = add_months(date(2007, 3, 1), k)
        ex = ew.exceptions(shocked, "cheshire", month)
        row = ex[(ex["unit_id"] == NORTHERN) & (ex["measure_id"] == "crime_burglary")
                 & ex["why"].str.contains("SPC")]
        if month < SHOCK_MONTH:
            assert row.empty or row.iloc[0]["reading"] != "concern", month
            continue
        if not row.empty and row.iloc[0]["reading"] == "concern":
            first_flagged = first_flagged or month
            r = row.iloc[0]
            assert SHOCK_MONTH <= r["signal_start"] <= add_months(SHOCK_MONTH, 3)
            assert SHOCK_MONTH <= r["signal_month"] <= add_months(SHOCK_MONTH, 3)
            assert r["rank"] <= 10, "a 60% rise in a BCU's burglary belongs near the top of the list"
    assert first_flagged is not None and SHOCK_MONTH <= first_flagged <= add_months(SHOCK_MONTH, 3)
    # the NPUs of the BCU carry the same rise
    ex = ew.exceptions(shocked, "cheshire", date(2007, 9, 1))
    npus = ex[ex["unit_id"].str.startswith(NORTHERN + "/") & (ex["measure_id"] == "crime_burglary")
              & (ex["level"] == "npu") & (ex["reading"] == "concern")]
    assert len(npus) >= 3


def _null_rate(
    chart: ew.Chart, m: object, sens: ew.Sensitivity, rng: np.random.Generator, reps: int
) -> float:
    """How often the same chart, on pure noise of the same length and size, shows a concern in
    its last `recent` months: iid Poisson counts at the chart's mean, or binomial at its p-bar
    with the same denominators."""
    idx = [i for i, s in enumerate(chart.status) if s == "ok" and math.isfinite(chart.values[i])]
    months = [chart.months[i] for i in idx]
    k = chart.k[idx]
    hits = 0
    for _ in range(reps):
        if chart.kind == "p":
            n = chart.n[idx]
            sim = rng.binomial(n.astype(int), k.sum() / n.sum()).astype(float)
            c = ew.spc_chart("sim", m, months, sim, n, ["ok"] * len(idx), sens)
        else:
            sim = rng.poisson(k.mean(), len(idx)).astype(float)
            c = ew.spc_chart("sim", m, months, sim, None, ["ok"] * len(idx), sens)
        if c is not None and any(
            ew.judgement(g.side, m.polarity) == "concern" for g in ew.recent_signals(c, sens)
        ):
            hits += 1
    return hits / reps


@pytest.mark.parametrize("sens_name", ["standard", "mdc"])
def test_no_shock_false_alarms_within_the_rules_rate(clean: DataAccess, sens_name: str) -> None:
    """The demo without a shock: the share of unit x crime-measure series flagged as an SPC concern
    is no more than the rules raise on pure noise of the same length (simulated here with a
    fixed seed), allowing for chance with a generous binomial bound (series are correlated:
    an NPU is part of its BCU)."""
    from scipy import stats as sps

    sens = ew.sensitivity(sens_name)
    rng = np.random.default_rng(20071)
    flagged = total = 0
    expected = 0.0
    for month in (date(2007, 3, 1), date(2007, 9, 1), date(2008, 3, 1)):
        for (_uid, mid), chart in ew.charts(clean, "cheshire", month, sens).items():
            m = MEASURES[mid]
            if m.dataset != "crime":
                continue   # the demo's service data carry planted trends (HMIC's shapes): real signals
            total += 1
            if any(ew.judgement(g.side, m.polarity) == "concern" for g in ew.recent_signals(chart, sens)):
                flagged += 1
            expected += _null_rate(chart, m, sens, rng, 12)
    rate = expected / total
    assert total > 1000 and 0.005 < rate < 0.2
    bound = sps.binom.ppf(0.999, total, rate)
    assert flagged <= bound, (
        f"{flagged} of {total} flagged; noise alone gives {rate:.3f} ({bound:.0f} at most)"
    )


def test_the_shock_changes_only_what_it_touches(shocked: DataAccess, clean: DataAccess) -> None:
    """Shocked and clean runs share every Eastern BCU chart exactly (independent random streams)."""
    sens = ew.sensitivity("standard")
    a = ew.charts(shocked, "cheshire", END, sens)
    b = ew.charts(clean, "cheshire", END, sens)
    assert len(a[(NORTHERN, "crime_burglary")].months) == ew.WINDOW
    for key in [("cheshire/eastern/crewe", "crime_burglary"), ("cheshire/eastern", "crime_vehicle_crime")]:
        np.testing.assert_array_equal(a[key].k, b[key].k)
    assert a[(NORTHERN, "crime_burglary")].k[-1] > b[(NORTHERN, "crime_burglary")].k[-1]


def test_one_units_chart_equals_the_force_scan(data: DataAccess) -> None:
    """chart_for reads only the unit and its force; the scan reads the whole force: same charts."""
    sens = ew.sensitivity("standard")
    scan = ew.charts(data, "cheshire", END, sens)
    keys = [k for i, k in enumerate(sorted(scan)) if i % 7 == 0]
    assert len(keys) > 80
    for uid, mid in keys:
        one = ew.chart_for(data, uid, mid, END, sens)
        assert one is not None, (uid, mid)
        a = scan[(uid, mid)]
        assert one.signals == a.signals and one.kind == a.kind and one.verdict == a.verdict, (uid, mid)
        np.testing.assert_allclose(one.values, a.values, equal_nan=True)
        np.testing.assert_allclose(one.ucl, a.ucl, equal_nan=True)


def test_the_planted_rise_is_one_exceptions_item_that_says_where(shocked: DataAccess) -> None:
    """The PIM's list (dashboard/analysis/assessment.py) for September 2007: Northern BCU's 60%
    rise in burglary is one item near the top, and it names Northern and its NPUs."""
    items = assessment.exceptions(shocked, "cheshire", date(2007, 9, 1), date(2007, 9, 30))
    burglary = items[items["measure_id"] == "crime_burglary"]
    assert len(burglary) == 1
    item = burglary.iloc[0]
    assert item["rank"] <= assessment.TOP
    assert NORTHERN in item["units"]
    assert "Northern BCU" in (item["where"] + item["unit"])
    assert sum(u.startswith(NORTHERN + "/") for u in item["units"]) >= 3
