"""The officer level on the demo warehouse: an officer's crimes, sanction detections and linked
victim satisfaction equal counts made here with pandas from the demo's facts and the lake's
survey files; peers are the same role and team size; officers are listed, never ranked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import state as url_state
from dashboard.app import render
from dashboard.data.access import Actor, Grant
from dashboard.data.facade import DataAccess
from dashboard.data.warehouse import WarehouseReader
from dashboard.pages import compare
from etl.demo.force import DemoData

FY = (date(2007, 4, 1), date(2008, 3, 31))
ANALYST = Actor("analyst", (Grant("analyst", "cheshire"),))


@pytest.fixture(scope="module")
def data(demo_link: Path) -> Iterator[DataAccess]:
    access = DataAccess(WarehouseReader(demo_link))
    yield access
    access.reader.close()


@pytest.fixture(scope="module")
def survey(demo_link: Path) -> pd.DataFrame:
    lake = demo_link.parent / (demo_link.stem + ".lake") / "satisfaction"
    files = sorted(lake.rglob("*.parquet"))
    assert files
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def _busy_officer(demo_facts: DemoData) -> str:
    crimes = demo_facts.crimes
    fy = crimes[(crimes["month"] >= "2007-04-01") & (crimes["month"] <= "2008-03-01") & ~crimes["is_asb"]]
    return str(fy["officer_id"].value_counts().index[0])


def test_an_officers_figures_are_the_facts(data: DataAccess, demo_facts: DemoData,
                                           survey: pd.DataFrame) -> None:
    officer = _busy_officer(demo_facts)
    crimes = demo_facts.crimes
    fy = crimes[(crimes["month"] >= "2007-04-01") & (crimes["month"] <= "2008-03-01") & ~crimes["is_asb"]]
    mine = fy[fy["officer_id"] == officer]
    with data.request(ANALYST):
        got = data.officer_figures(officer, *FY)
    assert got["crimes"] == len(mine)
    assert got["detected"] == int(mine["sanction"].sum())
    # satisfaction: respondents interviewed in the year, about a crime this officer handled
    # (any month), who answered the whole-experience question
    handled = set(crimes.loc[crimes["officer_id"] == officer, "crime_id"])
    when = pd.to_datetime(survey["interview_date"])
    s = survey[(when >= "2007-04-01") & (when <= "2008-03-31")
               & survey["whole_experience"].notna() & survey["incident_ref"].isin(handled)]
    assert got["respondents"] == len(s) and len(s) > 0
    assert got["satisfied"] == int((s["whole_experience"] <= 3).sum())


def test_peers_share_role_and_team_size(data: DataAccess, demo_facts: DemoData) -> None:
    officer = _busy_officer(demo_facts)
    units = demo_facts.units.set_index("unit_id")
    team = units.at[officer, "parent_id"]
    with data.request(ANALYST):
        peers, totals = data.officer_peers(officer, *FY)
    assert peers["self"].sum() == 1 and int(totals["officers"]) == len(peers)  # analyst sees them all
    sizes = demo_facts.units[demo_facts.units["level"] == "officer"]["parent_id"].value_counts()
    own_type = units.at[team, "name"].split(" ")[0]
    for pid in peers["unit_id"]:
        peer_team = units.at[pid, "parent_id"]
        assert units.at[peer_team, "name"].split(" ")[0] == own_type
        assert (sizes[peer_team] <= 7) == (sizes[team] <= 7)
    # an officer sees the group's totals, and only their own row
    with data.request(Actor("pc", (Grant("officer", officer),))):
        own_rows, own_totals = data.officer_peers(officer, *FY)
    assert list(own_rows["unit_id"]) == [officer] and own_totals == totals


def test_the_officer_page_and_the_drill_down_never_rank_officers(data: DataAccess,
                                                                demo_facts: DemoData) -> None:
    officer = _busy_officer(demo_facts)
    team = demo_facts.units.set_index("unit_id").at[officer, "parent_id"]
    with data.request(ANALYST):
        page = repr(render("/officer", f"?unit={officer}&preset=custom&from=2007-04-01&to=2008-03-31", data))
        drill = repr(render("/drill-down", f"?unit={team}&measure=sanction_detection_rate", data))
    assert "officer-detection-funnel" in page and "95% interval" in page
    assert "too few to judge" in page or "officer-satisfaction" in page
    assert "officer-list" in drill and "no league table" in drill
    assert "children-grid" not in drill  # no table of officers' figures
    # the list is alphabetical by name, not ordered by any figure
    with data.request(ANALYST):
        listed = [u.name for u in data.officers_under(team)]
    assert listed == sorted(listed)


def test_an_officer_opens_their_own_page_only(data: DataAccess, demo_facts: DemoData) -> None:
    officer = _busy_officer(demo_facts)
    other = next(o for o in demo_facts.units.loc[demo_facts.units["level"] == "officer", "unit_id"]
                 if o != officer)
    me = Actor("pc", (Grant("officer", officer),))
    with data.request(me):
        assert data.default_unit() == officer
        own = repr(render("/officer", "", data))
        theirs = repr(render("/officer", f"?unit={other}", data))
        with pytest.raises(PermissionError):
            data.officer_figures(other, *FY)
    assert "officer-detection-funnel" in own
    assert "not available to your role" in theirs and other not in theirs


def test_a_teams_peers_out_of_scope_are_not_sent(data: DataAccess) -> None:
    """Compare at a team: the force's other CID teams are its peer group, but an NPU inspector
    is sent only the members in their NPU (the average stays the whole group's)."""
    search = "?unit=cheshire/northern/widnes/cid&measure=sanction_detection_rate"
    with data.request(ANALYST):
        whole = compare.process_comparison(data, data.resolve(url_state.parse(search)))
    with data.request(Actor("npu", (Grant("npu_inspector", "cheshire/northern/widnes"),))):
        mine = compare.process_comparison(data, data.resolve(url_state.parse(search)))
    assert len(whole.members) > 3
    assert list(mine.members["unit_id"]) == ["cheshire/northern/widnes/cid"]
    assert mine.average == whole.average
