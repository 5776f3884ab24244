"""Lake paths (etl/lake/layout.py): the layout every engine reads with hive partitioning on, and
the older one that repair and rebuild still recognise."""

from __future__ import annotations

from datetime import date

from etl.lake import layout


def test_a_partition_path_holds_its_typed_values() -> None:
    rel = layout.lake_path("crime", "police_uk", "north-wales", date(2019, 1, 1), "20261207T021712-19aaedcd")
    assert rel == ("crime/source=police_uk/force_id=north-wales/month=2019-01-01/"
                   "20261207T021712-19aaedcd.parquet")
    assert layout.is_current(rel)
    assert layout.parse(rel) == ("crime", "police_uk", "north-wales", "2019-01", "20261207T021712-19aaedcd")


def test_the_older_layout_is_recognised_but_not_current() -> None:
    old = "outcome/source=police_uk/force=cheshire/month=2018-10/20250101T000000-abc.parquet"
    assert layout.parse(old) == ("outcome", "police_uk", "cheshire", "2018-10", "20250101T000000-abc")
    assert not layout.is_current(old)


def test_other_paths_are_not_partitions() -> None:
    for rel in ("x/police_uk-2019-01-01.parquet",
                "crime/source=police_uk/force_id=cheshire/month=2019-01-15/a.parquet",
                "crime/source=police_uk/force_id=cheshire/month=2019-01/a.parquet",
                "crime/source=police_uk/force_id=cheshire/month=2019-01-01/a.csv"):
        assert layout.parse(rel) is None, rel
