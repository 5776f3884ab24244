"""The synthetic demo: deterministic, in the staging shape, and shaped like Cheshire in 2007.

Other tests (cubes, early warning, pages) build on this data, so its promises are pinned here.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from etl.demo import force as demo
from etl.hierarchy import LEVEL_IDS as LEVELS
from etl.measures.crime import ASB, CATEGORY_LABELS, SANCTION_TYPES
from etl.reference import forces as reference
from etl.sources.shapes import CRIME_COLUMNS, CRIME_OPTIONAL_COLUMNS, FORCE_MONTH_COLUMNS, UNIT_COLUMNS
from etl.units import parent_of


@pytest.fixture(scope="module")
def full() -> demo.DemoData:
    return demo.generate()


@pytest.fixture(scope="module")
def small() -> demo.DemoData:
    return demo.generate(years=2)


def _frames(d: demo.DemoData) -> tuple[pd.DataFrame, ...]:
    return d.units, d.crimes, d.force_month


def test_same_seed_same_frames_and_other_seed_differs(small: demo.DemoData) -> None:
    again = demo.generate(years=2)
    for a, b in zip(_frames(small), _frames(again), strict=True):
        pd.testing.assert_frame_equal(a, b)
    other = demo.generate(seed=1, years=2)
    assert not small.crimes.equals(other.crimes)
    assert not small.force_month.equals(other.force_month)


def test_columns_match_the_staging_shape(small: demo.DemoData) -> None:
    assert list(small.units.columns) == list(UNIT_COLUMNS)
    assert list(small.crimes.columns) == [*CRIME_COLUMNS, *CRIME_OPTIONAL_COLUMNS]
    assert list(small.force_month.columns) == list(FORCE_MONTH_COLUMNS)
    c = small.crimes
    for col in ("is_asb", "sanction"):
        assert c[col].dtype == bool
    assert c["line"].dtype == "int64"
    assert small.force_month["n"].dtype == "int64"
    assert small.force_month["sd"].dtype == "int64"
    for col in ("month", "date", "detection_date"):
        assert pd.api.types.is_datetime64_dtype(c[col])
        assert (c[col].dropna() == c[col].dropna().dt.normalize()).all()
    assert (c["month"] == c["date"].dt.to_period("M").dt.start_time).all()
    assert small.units["synthetic"].dtype == bool


def test_structure_is_three_bcus_and_eighteen_npus(small: demo.DemoData) -> None:
    u = small.units
    counts = u["level"].value_counts()
    assert counts["force"] == 1 and counts["bcu"] == 3 and counts["npu"] == 18
    assert set(u.loc[u.level == "bcu", "unit_id"]) == {
        "cheshire/northern", "cheshire/eastern", "cheshire/western"}
    assert (u[u.level == "npu"].groupby("parent_id").size() == 6).all()
    assert "cheshire/northern/widnes" in set(u["unit_id"])
    npus = u[u.level == "npu"]
    assert 950_000 <= npus["population"].sum() <= 1_050_000
    assert npus["area_km2"].sum() == pytest.approx(2343, rel=0.01)
    assert ((npus["population"] / npus["households"]).between(2.1, 2.5)).all()
    assert u["synthetic"].all() and (u["note"] == "synthetic demo data").all()
    teams_per_npu = u[u.level == "team"].groupby("parent_id").size()
    assert teams_per_npu.between(2, 4).all() and len(teams_per_npu) == 18
    officers_per_team = u[u.level == "officer"].groupby("parent_id").size()
    assert officers_per_team.between(5, 12).all()
    assert len(officers_per_team) == (u.level == "team").sum()


def test_unit_ids_are_well_formed(small: demo.DemoData) -> None:
    u = small.units
    assert u["unit_id"].is_unique
    ids = set(u["unit_id"])
    depth = {lvl: i for i, lvl in enumerate(LEVELS)}
    for row in u.itertuples():
        parts = row.unit_id.split("/")
        assert all(p and p == p.lower() and " " not in p for p in parts), row.unit_id
        assert len(parts) == depth[row.level] + 1, row.unit_id
        assert row.force_id == "cheshire"
        expected_parent = parent_of(row.unit_id)
        if expected_parent is None:
            assert pd.isna(row.parent_id)
        else:
            assert row.parent_id == expected_parent and row.parent_id in ids
        has_population = row.level in ("force", "bcu", "npu")
        assert pd.notna(row.population) == has_population, row.unit_id
    officers = u[u.level == "officer"]
    assert officers["name"].str.fullmatch(r"(PC|PS|DC|DS) \d{4}").all()
    collars = officers["name"].str[-4:]
    assert collars.is_unique


def test_annual_crime_is_about_75000(full: demo.DemoData) -> None:
    c = full.crimes
    crimes = c[~c["is_asb"]]
    assert c["month"].nunique() == 60
    assert c["month"].max() == pd.Timestamp("2008-03-01")
    per_year = crimes.groupby(crimes["date"].dt.to_period("Y-MAR")).size()
    assert len(per_year) == 5
    assert per_year.between(70_000, 80_000).all(), per_year
    assert per_year.is_monotonic_decreasing   # the -3% a year trend dominates the noise
    asb_per_year = c["is_asb"].sum() / 5
    assert 22_000 <= asb_per_year <= 28_000


def test_category_mix_and_seasonality(full: demo.DemoData) -> None:
    c = full.crimes
    crimes = c[~c["is_asb"]]
    assert set(c["category"]) <= set(CATEGORY_LABELS)
    share = crimes["category"].value_counts(normalize=True)
    assert share["violent-crime"] == pytest.approx(0.29, abs=0.02)
    assert share["criminal-damage-arson"] == pytest.approx(0.20, abs=0.02)
    assert share["burglary"] == pytest.approx(0.09, abs=0.01)
    by_month = crimes.groupby(crimes["date"].dt.month).size()
    assert by_month[7] > by_month[1] * 1.1
    by_weekday = crimes.groupby(crimes["date"].dt.day_of_week).size()
    assert by_weekday[5] > by_weekday[1]   # Saturday busier than Tuesday


def test_asb_is_never_crime(small: demo.DemoData) -> None:
    c = small.crimes
    asb = c["category"] == ASB
    assert (c["is_asb"] == asb).all()
    assert c.loc[asb, "crime_id"].isna().all()
    assert c.loc[~asb, "crime_id"].notna().all()
    assert not c.loc[asb, "sanction"].any()
    assert c.loc[asb, "detection_type"].isna().all()


def test_crime_ids_unique_and_lines_numbered(small: demo.DemoData) -> None:
    c = small.crimes
    ids = c["crime_id"].dropna()
    assert ids.is_unique
    assert ids.str.fullmatch(r"CH-\d{4}-\d{7}").all()
    assert (ids.str[3:7].astype(int) == c.loc[ids.index, "date"].dt.year).all()
    assert c["line"].tolist() == list(range(1, len(c) + 1))
    assert c["date"].is_monotonic_increasing


def test_officer_in_charge_belongs_to_team_and_npu(small: demo.DemoData) -> None:
    u = small.units.set_index("unit_id")
    c = small.crimes
    assert c[["npu_id", "team_id", "officer_id"]].notna().all().all()
    pairs = c[["npu_id", "team_id", "officer_id"]].drop_duplicates()
    assert (u.loc[pairs["officer_id"], "level"] == "officer").all()
    assert (u.loc[pairs["officer_id"], "parent_id"].to_numpy() == pairs["team_id"]).all()
    assert (u.loc[pairs["team_id"], "parent_id"].to_numpy() == pairs["npu_id"]).all()
    assert (u.loc[pairs["npu_id"], "level"] == "npu").all()


def test_detections(full: demo.DemoData) -> None:
    crimes = full.crimes[~full.crimes["is_asb"]]
    assert 0.18 <= crimes["sanction"].mean() <= 0.32
    rate = crimes.groupby("category")["sanction"].mean()
    assert rate["drugs"] > 0.8 and rate["vehicle-crime"] < 0.12
    assert rate["shoplifting"] > rate["violent-crime"] > rate["burglary"]
    detected = crimes[crimes["sanction"]]
    assert set(detected["detection_type"]) <= set(SANCTION_TYPES)
    assert detected["detection_type"].value_counts().index[0] == "charge_summons"
    assert (detected["detection_date"] >= detected["date"]).all()
    assert detected["detection_date"].max() <= pd.Timestamp("2008-03-31")
    undetected = crimes[~crimes["sanction"]]
    assert undetected["detection_type"].isna().all()
    assert undetected["detection_date"].isna().all()
    assert crimes["outcome"].notna().all()


def test_points_lie_in_cheshire(small: demo.DemoData) -> None:
    c = small.crimes
    assert c["longitude"].between(-3.1, -2.0).all()
    assert c["latitude"].between(52.95, 53.45).all()
    centre = c.groupby("npu_id")[["longitude", "latitude"]].mean()
    assert centre.loc["cheshire/western/chester", "longitude"] < centre.loc[
        "cheshire/eastern/macclesfield", "longitude"]


def test_town_centres_have_higher_rates(full: demo.DemoData) -> None:
    crimes = full.crimes[~full.crimes["is_asb"]]
    pop = full.units.set_index("unit_id")["population"]
    rate = crimes.groupby("npu_id").size() / pop.reindex(
        crimes["npu_id"].unique()).astype(float)
    for town in ("western/chester", "northern/warrington-central", "eastern/crewe",
                 "eastern/macclesfield"):
        assert rate[f"cheshire/{town}"] > rate.median()


def test_force_month_is_the_other_42_forces(full: demo.DemoData) -> None:
    fm = full.force_month
    assert fm["force_id"].nunique() == 42
    assert "cheshire" not in set(fm["force_id"])
    assert set(fm["force_id"]) == set(reference.FORCE_BY_SLUG) - {"cheshire"}
    assert (fm.groupby("force_id")["month"].nunique() == 60).all()
    assert not fm.duplicated(["force_id", "month", "category"]).any()
    assert (fm["sd"] <= fm["n"]).all() and (fm["n"] >= 0).all()
    assert (fm.loc[fm["category"] == ASB, "sd"] == 0).all()
    crimes = fm[fm["category"] != ASB].groupby("force_id")[["n", "sd"]].sum()
    sd_rate = crimes["sd"] / crimes["n"]
    assert sd_rate.between(0.18, 0.34).all()
    pop = pd.Series({f.slug: f.population for f in reference.FORCES})
    per_1000 = crimes["n"] / 5 / pop.reindex(crimes.index) * 1000
    assert per_1000.between(50, 125).all()
    assert per_1000["metropolitan"] > per_1000["cumbria"]


def _burglary(d: demo.DemoData) -> pd.DataFrame:
    c = d.crimes
    b = c[c["category"] == "burglary"]
    return b.groupby([b["npu_id"].str.rsplit("/", n=1).str[0].rename("bcu"),
                      "npu_id", "month"]).size().rename("n").reset_index()


def test_shock_doubles_one_bcus_burglary_only(small: demo.DemoData) -> None:
    start = date(2007, 10, 1)
    shocked = demo.generate(years=2, shocks=[
        demo.Shock("cheshire/eastern", "burglary", start, 2.0)])
    before, after = _burglary(small), _burglary(shocked)
    merged = before.merge(after, on=["bcu", "npu_id", "month"], suffixes=("_0", "_1"))
    later = merged["month"] >= pd.Timestamp(start)
    eastern = merged["bcu"] == "cheshire/eastern"
    hit = merged[eastern & later]
    assert hit["n_1"].sum() / hit["n_0"].sum() > 1.6
    untouched = merged[~(eastern & later)]
    assert (untouched["n_0"] == untouched["n_1"]).all()
    # Other BCUs' rows are identical, not just similar: each NPU has its own random stream.
    cols = [c for c in CRIME_COLUMNS if c not in ("crime_id", "line")]
    keep = ~small.crimes["npu_id"].str.startswith("cheshire/eastern/")
    keep1 = ~shocked.crimes["npu_id"].str.startswith("cheshire/eastern/")
    pd.testing.assert_frame_equal(
        small.crimes.loc[keep, cols].reset_index(drop=True),
        shocked.crimes.loc[keep1, cols].reset_index(drop=True))
    pd.testing.assert_frame_equal(small.force_month, shocked.force_month)


def test_shock_on_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="shock unit"):
        demo.generate(years=1, shocks=[demo.Shock("cheshire/nowhere", "burglary",
                                                  date(2007, 10, 1), 2.0)])
    with pytest.raises(ValueError, match="shock category"):
        demo.generate(years=1, shocks=[demo.Shock("cheshire", "burglry",
                                                  date(2007, 10, 1), 2.0)])


def test_end_month_and_years_set_the_period() -> None:
    d = demo.generate(years=1, end_month=date(2010, 6, 15))
    months = d.crimes["month"].drop_duplicates().sort_values()
    assert months.iloc[0] == pd.Timestamp("2009-07-01")
    assert months.iloc[-1] == pd.Timestamp("2010-06-01")
    assert d.crimes["date"].max() <= pd.Timestamp("2010-06-30")
    assert d.force_month["month"].nunique() == 12


def test_reference_has_the_43_territorial_forces() -> None:
    forces = reference.FORCES
    assert len(forces) == 43
    assert len(reference.FORCE_BY_SLUG) == 43 and len(reference.FORCE_BY_NAME) == 43
    assert reference.FORCE_BY_SLUG["cheshire"].population == 1_027_709
    assert reference.FORCE_BY_SLUG["cheshire"].name == "Cheshire Constabulary"
    assert "btp" not in reference.FORCE_BY_SLUG
    assert all(f.population > 0 for f in forces)


@pytest.mark.parametrize(("falls_within", "slug"), [
    ("Cheshire Constabulary", "cheshire"),
    ("Metropolitan Police Service", "metropolitan"),
    ("Avon and Somerset Constabulary", "avon-and-somerset"),
    ("Avon & Somerset Constabulary", "avon-and-somerset"),
    ("Devon & Cornwall Police", "devon-and-cornwall"),
    ("Dyfed-Powys Police", "dyfed-powys"),
    ("Dyfed Powys Police", "dyfed-powys"),
    ("  north wales police ", "north-wales"),
    ("City of London Police", "city-of-london"),
    ("greater-manchester", "greater-manchester"),
    ("British Transport Police", None),
    ("Police Service of Northern Ireland", None),
    ("", None),
])
def test_force_slug(falls_within: str, slug: str | None) -> None:
    assert reference.force_slug(falls_within) == slug


def test_demo_note_says_synthetic() -> None:
    assert "synthetic" in demo.DEMO_NOTE.lower()
    assert set(demo.CATEGORY_MIX) <= set(CATEGORY_LABELS)
    assert sum(demo.CATEGORY_MIX.values()) == pytest.approx(1.0)
