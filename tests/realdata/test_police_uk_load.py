"""The police.uk loader on the real data.police.uk files in ../shared/data.

Expected values are counted here, independently, with the csv module from the raw files.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.lake.commit import LoadReport
from etl.lake.ingest import load_police_uk
from etl.lake.warehouse import WarehousePaths, connect_readonly
from tests.support.warehouses import copy_warehouse, month_folders, street_dir

ASB = "Anti-social behaviour"
CHESHIRE_LAS = ("Cheshire East", "Cheshire West and Chester", "Halton", "Warrington")


def raw_counts(files: list[Path]) -> dict[tuple[str, date], dict[str, int]]:
    """(force slug, month) -> crimes (distinct non-blank Crime IDs, ASB excluded), asb rows,
    duplicate rows, rows with a blank LSOA, Cheshire rows outside its four LAs or blank."""
    out: dict[tuple[str, date], dict[str, int]] = {}
    for f in files:
        force = f.name[8:-len("-street.csv")]
        with open(f, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        month = date.fromisoformat(rows[0]["Month"] + "-01")
        crime_ids = [r["Crime ID"] for r in rows if r["Crime type"] != ASB]
        out[(force, month)] = {
            "crimes": len(set(crime_ids)),
            "asb": sum(r["Crime type"] == ASB for r in rows),
            "duplicates": len(crime_ids) - len(set(crime_ids)),
            "blank_lsoa": sum(r["LSOA code"] == "" for r in rows),
            "outside_cheshire": sum(
                not r["LSOA name"].startswith(CHESHIRE_LAS) for r in rows),
        }
    return out


@pytest.fixture(scope="module")
def loaded(shared_data: Path, real_load: tuple[Path, LoadReport]):
    """The session's real-data warehouse (`load police-uk` of every month folder) and its report."""
    link, report = real_load
    assert report.refused == []
    files = sorted(street_dir(shared_data).glob("*/*-street.csv"))
    return link, raw_counts(files), report


def status_rows(link: Path) -> dict[tuple[str, date], tuple]:
    con = connect_readonly(link)
    try:
        return {(r[0], r[1]): r[2:] for r in con.execute(
            "SELECT force_id, month, crimes, asb, unassigned, duplicates, suspect "
            "FROM month_status WHERE source = 'police_uk'").fetchall()}
    finally:
        con.close()


def cube_totals(link: Path, level: str = "force") -> dict[tuple[str, date], tuple[int, int]]:
    con = connect_readonly(link)
    try:
        return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in con.execute(
            """SELECT unit_id, month,
                  sum(n) FILTER (WHERE category <> 'anti-social-behaviour'),
                  sum(n) FILTER (WHERE category = 'anti-social-behaviour')
               FROM cube_crime_month WHERE level = ? GROUP BY ALL""", [level]).fetchall()}
    finally:
        con.close()


def test_counts_per_force_and_month_match_an_independent_count(loaded) -> None:
    link, expected, _ = loaded
    assert len(expected) == 45
    got = status_rows(link)
    assert set(got) == set(expected)
    cubes = cube_totals(link)
    for key, e in expected.items():
        crimes, asb, _, duplicates, _ = got[key]
        assert (crimes, asb) == (e["crimes"], e["asb"]), key
        assert cubes[key] == (e["crimes"], e["asb"]), key
        assert duplicates == e["duplicates"], key


def test_known_figures_from_provenance(loaded) -> None:
    """PROVENANCE.md: Cheshire 2019-01 has 8,393 rows, 1,486 ASB, 15 repeated Crime IDs."""
    _, expected, _ = loaded
    e = expected[("cheshire", date(2019, 1, 1))]
    assert e["asb"] == 1486
    assert e["crimes"] + e["asb"] + e["duplicates"] == 8393
    assert e["duplicates"] == 15


def test_second_load_of_everything_gives_identical_counts(loaded, shared_data: Path, tmp_path: Path) -> None:
    shared, expected, _ = loaded
    link = copy_warehouse(shared, tmp_path / "copy")   # the session's warehouse is read only
    before_status = status_rows(link)
    before_cube = cube_totals(link, "npu")
    report = load_police_uk(link, month_folders(shared_data))
    assert report.refused == []
    assert status_rows(link) == before_status
    assert cube_totals(link, "npu") == before_cube
    con = connect_readonly(link)
    try:
        assert con.execute("SELECT count(*) FROM lake_manifest").fetchone()[0] == 45
        quarantined = con.execute(
            "SELECT count(DISTINCT (force_id, month, line)) FROM quarantine").fetchone()[0]
    finally:
        con.close()
    assert quarantined == sum(e["duplicates"] for e in expected.values())


def test_asb_rows_are_never_crimes(loaded) -> None:
    link, expected, _ = loaded
    con = connect_readonly(link)
    try:
        total_crime = con.execute(
            """SELECT sum(n) FROM cube_crime_month WHERE level = 'force'
               AND category <> 'anti-social-behaviour'""").fetchone()[0]
        asb_sd = con.execute(
            "SELECT sum(sd) FROM cube_crime_month WHERE category = 'anti-social-behaviour'"
        ).fetchone()[0]
    finally:
        con.close()
    assert total_crime == sum(e["crimes"] for e in expected.values())
    assert asb_sd == 0


def test_repeated_crime_ids_counted_once_and_logged_by_line(loaded, shared_data: Path) -> None:
    link, expected, _ = loaded
    f = street_dir(shared_data) / "2019-01" / "2019-01-cheshire-street.csv"
    seen: set[str] = set()
    dup_lines = []
    with open(f, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            cid = row["Crime ID"]
            if row["Crime type"] != ASB:
                if cid in seen:
                    dup_lines.append(reader.line_num)
                seen.add(cid)
    con = connect_readonly(link)
    try:
        lines = [r[0] for r in con.execute(
            """SELECT DISTINCT line FROM quarantine WHERE force_id = 'cheshire'
               AND month = DATE '2019-01-01' ORDER BY line""").fetchall()]
    finally:
        con.close()
    assert len(dup_lines) == 15
    assert lines == dup_lines


def test_blank_and_out_of_area_lsoas_are_kept_for_the_force_not_an_npu(loaded) -> None:
    link, expected, _ = loaded
    got = status_rows(link)
    jan = date(2019, 1, 1)
    # Staffordshire has no NPU mapping: kept at force level, 1,263 blank LSOAs included.
    assert expected[("staffordshire", jan)]["blank_lsoa"] == 1263
    assert got[("staffordshire", jan)][0] == expected[("staffordshire", jan)]["crimes"]
    # Cheshire's default mapping places every row in its four LAs; the rest are unassigned.
    for (force, month), e in expected.items():
        if force == "cheshire":
            crimes, asb, unassigned, _, _ = got[(force, month)]
            assert unassigned == e["outside_cheshire"], month
            npu = sum(v[0] + v[1] for (u, m), v in cube_totals(link, "npu").items()
                      if m == month and u.startswith("cheshire/"))
            assert npu == crimes + asb - e["outside_cheshire"]


def test_cheshire_default_hierarchy_has_3_bcus_and_18_npus(loaded) -> None:
    link, _, _ = loaded
    con = connect_readonly(link)
    try:
        levels = dict(con.execute(
            "SELECT level, count(*) FROM dim_unit WHERE force_id = 'cheshire' GROUP BY level"
        ).fetchall())
        bcus = [r[0] for r in con.execute(
            "SELECT unit_id FROM dim_unit WHERE level = 'bcu' AND force_id = 'cheshire' "
            "ORDER BY 1").fetchall()]
    finally:
        con.close()
    assert levels == {"force": 1, "bcu": 3, "npu": 18}
    assert bcus == ["cheshire/eastern", "cheshire/northern", "cheshire/western"]


def test_no_real_month_is_suspect_but_a_short_month_is(loaded, shared_data: Path,
                                                       tmp_path: Path) -> None:
    link, _, _ = loaded
    assert not any(v[4] for v in status_rows(link).values())
    # Cut Cheshire 2019-02 to its first 40% of rows: a partial month as police.uk has had.
    folder = tmp_path / "in"
    folder.mkdir()
    for f in sorted(street_dir(shared_data).glob("*/*-cheshire-street.csv")):
        lines = f.read_text(encoding="utf-8").splitlines(keepends=True)
        if f.name.startswith("2019-02"):
            lines = lines[: int(len(lines) * 0.4)]
        (folder / f.name).write_text("".join(lines), encoding="utf-8")
    short = tmp_path / "wh" / "warehouse.duckdb"
    assert load_police_uk(short, [folder]).refused == []
    flags = {m: s[4] for (f, m), s in status_rows(short).items()}
    assert flags == {date(2018, 10, 1): False, date(2018, 11, 1): False,
                     date(2018, 12, 1): False, date(2019, 1, 1): False,
                     date(2019, 2, 1): True}


def test_zip_as_downloaded_loads_the_same_counts(shared_data: Path, tmp_path: Path) -> None:
    import zipfile

    files = sorted(street_dir(shared_data).glob("2018-1[01]/*-cheshire-street.csv"))
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in files:
            z.write(f, f"{f.parent.name}/{f.name}")
    link = tmp_path / "wh" / "w.duckdb"
    report = load_police_uk(link, [archive])
    assert report.refused == []
    assert [o for o, _ in report.loaded] == [f"{archive}!{f.parent.name}/{f.name}" for f in files]
    expected = raw_counts(files)
    got = status_rows(link)
    assert {k: v[:2] for k, v in got.items()} == {
        k: (e["crimes"], e["asb"]) for k, e in expected.items()}


def test_outcomes_file_adds_sanction_detections(shared_data: Path, tmp_path: Path) -> None:
    """No real outcomes CSV is in shared/data, so one is written in the documented format
    for real Crime IDs: a caution for a crime whose last outcome was 'no suspect'."""
    src = street_dir(shared_data) / "2019-01" / "2019-01-cheshire-street.csv"
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    undetected = [r for r in rows
                  if r["Last outcome category"] == "Investigation complete; no suspect identified"]
    picked = list(dict.fromkeys(r["Crime ID"] for r in undetected))[:7]
    link = tmp_path / "w.duckdb"
    load_police_uk(link, [src])
    before = _sd(link)
    outcomes = tmp_path / "2019-03-cheshire-outcomes.csv"
    with open(outcomes, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
                    "Location", "LSOA code", "LSOA name", "Outcome type"])
        for cid in picked:
            w.writerow([cid, "2019-03", "Cheshire Constabulary", "Cheshire Constabulary", "", "",
                        "No location", "", "", "Offender given a caution"])
        w.writerow([picked[0], "2019-03", "Cheshire Constabulary", "Cheshire Constabulary",
                    "", "", "No location", "", "", "Unable to prosecute suspect"])
    report = load_police_uk(link, [outcomes])
    assert report.refused == []
    assert _sd(link) == before + 7


def _sd(link: Path) -> int:
    con = connect_readonly(link)
    try:
        return int(con.execute(
            "SELECT sum(sd) FROM cube_crime_month WHERE level = 'force'").fetchone()[0])
    finally:
        con.close()


def test_hierarchy_file_maps_lsoas_to_npus(shared_data: Path, tmp_path: Path) -> None:
    src = street_dir(shared_data) / "2019-01" / "2019-01-derbyshire-street.csv"
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_lsoa = Counter(r["LSOA code"] for r in rows if r["LSOA code"])
    # Two NPUs: LSOAs whose name's district starts with A-M, and the rest.
    names = {r["LSOA code"]: r["LSOA name"] for r in rows if r["LSOA code"]}
    mapping = tmp_path / "hierarchy.csv"
    expected: dict[str, int] = defaultdict(int)
    with open(mapping, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["lsoa_code", "npu", "bcu"])
        for code in sorted(by_lsoa):
            npu = "North" if names[code][0] <= "M" else "South"
            w.writerow([code, npu, "Only BCU"])
            expected[f"derbyshire/only-bcu/{npu.lower()}"] += by_lsoa[code]
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [src], hierarchy=mapping)
    assert report.refused == []
    got = {u: c + a for (u, _), (c, a) in cube_totals(link, "npu").items()}
    # Repeated Crime IDs count once, so compare with the deduplicated total per NPU.
    assert sum(got.values()) == sum(expected.values()) - _dups_with_lsoa(rows)
    assert set(got) == set(expected)


def _dups_with_lsoa(rows: list[dict[str, str]]) -> int:
    seen: set[str] = set()
    n = 0
    for r in rows:
        if r["Crime type"] != ASB and r["LSOA code"]:
            n += r["Crime ID"] in seen
            seen.add(r["Crime ID"])
    return n


def test_same_month_reloaded_replaces_it(shared_data: Path, tmp_path: Path) -> None:
    src = street_dir(shared_data) / "2019-01" / "2019-01-cheshire-street.csv"
    link = tmp_path / "w.duckdb"
    for _ in range(3):
        assert load_police_uk(link, [src]).refused == []
    con = connect_readonly(link)
    try:
        n = con.execute("SELECT sum(crimes) FROM month_status").fetchone()[0]
        parts = con.execute("SELECT count(*) FROM lake_manifest").fetchone()[0]
    finally:
        con.close()
    e = raw_counts([src])[("cheshire", date(2019, 1, 1))]
    assert (n, parts) == (e["crimes"], 1)
    assert len(WarehousePaths(link).versions()) <= 3


def test_copy_of_data_folder_is_not_required(shared_data: Path, tmp_path: Path) -> None:
    """Inputs are read where they are: the shared data folder is read-only on CI."""
    src = street_dir(shared_data) / "2018-10" / "2018-10-warwickshire-street.csv"
    local = tmp_path / src.name
    shutil.copy(src, local)
    link = tmp_path / "w.duckdb"
    assert load_police_uk(link, [src]).refused == []
    assert duckdb.connect(str(WarehousePaths(link).live()), read_only=True).execute(
        "SELECT count(*) FROM month_status").fetchone()[0] == 1
