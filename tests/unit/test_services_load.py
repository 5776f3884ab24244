"""The service datasets without a warehouse: the measures registry covers every source, and the
demo's generated RSO series follows the report. Loads, cubes, refusals and the demo warehouse are
in tests/integration/test_services_load.py."""

from __future__ import annotations

from datetime import date

from etl.demo.common import DemoContext
from etl.demo.force import generate
from etl.measures import registry as measures
from etl.sources.base import TabularSource
from etl.sources.registry import DATASETS, REGISTRY

SOURCES = ("satisfaction", "calls", "dv", "missing", "rso", "workforce")


def test_service_measures_are_complete() -> None:
    service = [m for m in measures.MEASURES.values() if m.dataset != "crime"]
    domains = {"Satisfaction", "Call handling", "Protecting vulnerable people", "Workforce",
               "Stop and search"}
    tabular = {s.dataset.name for s in REGISTRY.values() if isinstance(s, TabularSource)}
    assert tabular == set(SOURCES)
    assert {m.dataset for m in service} == tabular | {"stop_search"}
    for m in service:
        assert m.dataset in DATASETS and m.num_sql and m.domain in domains, m.id
        assert m.polarity in ("up", "down", "neutral") and m.model in (
            "binomial", "poisson", "mean", "none", "ratio"), m.id
        assert m.numerator and m.label and m.unit and m.source, m.id
        if m.model == "binomial":
            assert m.den_sql and m.denominator and m.unit == "%" and m.scale == 100.0, m.id
        if m.model == "mean":
            assert m.den_sql and m.num2_sql, m.id
    assert measures.get("calls_999_answered_10s").target == 90.0
    assert measures.get("satisfaction_whole_experience").polarity == "up"
    assert measures.get("rso_visits_overdue").aggregate == "latest"
    for mid in ("dv_arrest_rate", "dv_repeat_victims", "dv_form40a_24h", "missing_reviews_overdue",
                "grade1_urban_15min", "grade1_rural_20min", "grade2_60min", "grade3_72h",
                "calls_abandoned_rate", "calls_101_answer_time", "sickness_days_per_fte",
                "abstraction_rate", "solo_caseload", *(f"rso_visits_overdue_{k}" for k in
                                                      ("low", "medium", "high", "very_high"))):
        assert mid in measures.MEASURES, mid


def test_demo_rso_totals_follow_the_report() -> None:
    data = generate(seed=3, years=2)
    ctx = DemoContext(seed=3, start=date(2006, 4, 1), end=date(2008, 3, 1), units=data.units,
                      crimes=data.crimes, force_month=data.force_month)
    frames = {k: v for s in REGISTRY.values() if s.demo for k, v in s.demo(ctx).items()}
    totals = {m.date(): n for m, n in frames["rso"].groupby("month").size().items()}
    q = {m: totals[m] for m in totals if m.month in (3, 6, 9, 12)}
    assert len(q) == 8 and [q[m] for m in sorted(q)] == sorted(q.values())
    assert (totals[date(2006, 9, 1)], totals[date(2006, 12, 1)], totals[date(2007, 3, 1)]) == (
        603, 730, 816)
    for name, frame in frames.items():
        assert list(frame.columns) == [*DATASETS[name].columns, *DATASETS[name].optional], name
