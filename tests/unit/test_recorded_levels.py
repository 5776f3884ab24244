"""The lowest level each dataset records, derived once from its declared columns
(etl.sources.registry.recorded_down_to): the drill-down shows a unit below it as "not
recorded at <level> level", never as 0."""

from __future__ import annotations

import pytest

from etl import hierarchy
from etl.measures.registry import MEASURES
from etl.sources.registry import DATASETS, recorded_down_to

# What each dataset's rows name (etl/sources/*): crimes name NPU, team and officer in charge;
# the service datasets an NPU only (a satisfaction, domestic abuse or RSO row may name an
# officer, but not the officer's team, so it is not placed in a team); stop-and-search and
# other forces' aggregates only the force.
EXPECTED = {
    "crime": "officer",
    "outcome": "force",
    "stop_search": "force",
    "satisfaction": "npu",
    "calls": "npu",
    "dv": "npu",
    "missing": "npu",
    "rso": "npu",
    "workforce": "npu",
    "force_month": "force",
    "service_force_month": "force",
}


def test_every_registered_dataset_has_its_lowest_level() -> None:
    assert set(EXPECTED) == set(DATASETS), "a dataset was added or removed: say what it records"
    for name, dataset in DATASETS.items():
        assert recorded_down_to(name) == EXPECTED[name], name
        assert recorded_down_to(dataset) == EXPECTED[name], name


def test_every_measure_has_a_recorded_level() -> None:
    for m in MEASURES.values():
        assert recorded_down_to(m.dataset) in hierarchy.LEVEL_IDS, m.id


@pytest.mark.parametrize(
    ("columns", "lowest"),
    [
        ({"force_id"}, "force"),
        ({"force_id", "bcu_id"}, "bcu"),
        ({"force_id", "npu_id"}, "npu"),  # the BCU is the NPU's parent
        ({"force_id", "npu_id", "officer_id"}, "npu"),  # an officer without a team: no gap allowed
        ({"force_id", "npu_id", "team_id"}, "team"),
        ({"force_id", "npu_id", "team_id", "officer_id"}, "officer"),
        ({"force_id", "team_id"}, "force"),  # a team without its NPU is not placed in the tree
    ],
)
def test_the_derivation_walks_down_without_a_gap(columns: set[str], lowest: str) -> None:
    assert hierarchy.recorded_down_to_columns(columns) == lowest
