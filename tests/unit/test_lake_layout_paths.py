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


def test_a_force_level_month_file_holds_every_force_and_is_current() -> None:
    rel = layout.month_path("service_force_month", "demo", date(2004, 4, 1), "20261207T021712-19aaedcd")
    assert rel == "service_force_month/source=demo/month=2004-04-01/20261207T021712-19aaedcd.parquet"
    assert layout.is_current(rel) and layout.is_month_file(rel)
    assert layout.parse(rel) == ("service_force_month", "demo", layout.EVERY_FORCE, "2004-04",
                                 "20261207T021712-19aaedcd")
    partition = layout.lake_path("crime", "demo", "cheshire", date(2004, 4, 1), "x")
    assert not layout.is_month_file(partition)
    for bad in ("force_month/source=demo/month=2004-04-15/a.parquet",
                "force_month/source=demo/month=2004-04/a.parquet"):
        assert layout.parse(bad) is None, bad
