"""Input identities are checked against what the product knows (issue 13): the force a
data.police.uk file name names, its "Falls within" column, a hierarchy file's forces and
LSOAs, the months of every source. A bad file is refused whole with file, line and problem in
plain words; the other files of the command still load; nothing of it reaches the lake.

Street files here are written by hand in the data.police.uk layout (the real ones are used in
tests/realdata); a property-based test mutates them, and the force extract and a service file,
and asserts that every failure is a plain sentence and the warehouse is unchanged."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.lake.ingest import load_crimes, load_police_uk, load_service
from etl.lake.warehouse import WarehousePaths
from etl.sources.police_uk.reader import OUTCOME_HEADER, STREET_HEADER
from tests.support.cli import etl
from tests.support.warehouses import copy_warehouse

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "docs" / "examples"
# What a user must never read: exception names, tracebacks, SQL, DuckDB's own words.
INTERNAL = re.compile(r"Traceback|\w+Error\b|Exception|executemany|duckdb|SELECT |Binder|Conversion|"
                      r"KeyError|\bNone\b|<class")


def street(month: str = "2019-01", falls: str = "Cheshire Constabulary", n: int = 5,
           crime_type: str = "Burglary") -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STREET_HEADER)
    for i in range(n):
        w.writerow([f"id{month}{i:04d}{falls[:3]}", month, falls, falls, "-2.59", "53.39",
                    "On or near High St", "E01012516", "Warrington 001A", crime_type,
                    "Under investigation", ""])
    return out.getvalue()


def write(folder: Path, name: str, text: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def lake_forces(link: Path) -> set[str]:
    lake = WarehousePaths(link).lake
    if not lake.exists():
        return set()
    return {p.name.split("=", 1)[1] for p in lake.glob("*/source=*/force_id=*")}


def plain(refusals: list) -> None:
    for r in refusals:
        assert r.file and r.problem and not INTERNAL.search(r.problem), str(r)


# -- the force a file name names -----------------------------------------------------------------


def test_made_up_forces_in_file_names_are_refused_and_the_good_file_loads(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    good = write(inputs, "2019-01-cheshire-street.csv", street())
    bad = {
        "<img src=x onerror=alert(1)>": write(inputs, "2019-01-<img src=x onerror=alert(1)>-street.csv",
                                              street()),
        "nowhere": write(inputs, "2019-01-nowhere-street.csv", street()),
        "..": write(inputs, "2019-01-..-street.csv", street()),
        "btp": write(inputs, "2019-01-btp-street.csv", street(falls="British Transport Police")),
    }
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [inputs])
    assert [o for o, _ in report.loaded] == [str(good)]
    by_file = {r.file: r.problem for r in report.refused}
    for force, path in bad.items():
        assert "is not one of the 43 forces" in by_file[str(path)] and repr(force) in by_file[str(path)]
    plain(report.refused)
    assert lake_forces(link) == {"cheshire"}  # no orphan partition of a made-up force
    assert not (WarehousePaths(link).lake / ".incoming").exists() or not any(
        (WarehousePaths(link).lake / ".incoming").iterdir())


def test_a_force_named_in_another_case_is_the_known_force(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write(inputs, "2019-01-City-Of-London-street.csv", street(falls="City of London Police"))
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [inputs])
    assert not report.refused and lake_forces(link) == {"city-of-london"}


def test_falls_within_must_agree_with_the_file_name(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    mixed = street() + street(falls="Merseyside Police", n=2).split("\n", 1)[1]
    path = write(inputs, "2019-01-cheshire-street.csv", mixed)
    unnamed = write(inputs, "street.csv", street(falls="Atlantis Police"))
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [inputs])
    by_file = {r.file: r for r in report.refused}
    assert by_file[str(path)].line == 7  # header + 5 Cheshire rows, then Merseyside
    assert "'Merseyside Police'" in by_file[str(path)].problem and "'cheshire'" in by_file[str(path)].problem
    assert "'Atlantis Police' is not one of the 43 forces" in by_file[str(unnamed)].problem
    assert WarehousePaths(link).live() is None  # nothing was good: nothing was built


# -- months ---------------------------------------------------------------------------------------------


def test_months_outside_the_window_are_refused_naming_it(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    early = write(inputs, "1899-01-cheshire-street.csv", street(month="1899-01"))
    late = write(inputs, "2099-12-cheshire-street.csv", street(month="2099-12"))
    unnamed = write(inputs, "street.csv", street(month="2099-12"))
    good = write(inputs, "2019-01-cheshire-street.csv", street())
    link = tmp_path / "w.duckdb"
    report = load_police_uk(link, [inputs])
    assert [o for o, _ in report.loaded] == [str(good)]
    by_file = {r.file: r for r in report.refused}
    for path in (early, late, unnamed):
        assert "outside the months that can be loaded (1990-01 to " in by_file[str(path)].problem
    assert by_file[str(unnamed)].line == 2
    plain(report.refused)


def test_a_crime_extract_with_a_date_of_2099_is_refused_whole(tmp_path: Path) -> None:
    text = (EXAMPLES / "crimes.csv").read_text()
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace(",2024-01-", ",2099-01-", 1)
    link = tmp_path / "w.duckdb"
    report = load_crimes(link, str(write(tmp_path, "crimes.csv", "".join(lines))))
    assert len(report.refused) == 1 and report.refused[0].line == 4
    assert "2099-01" in report.refused[0].problem and "1990-01 to" in report.refused[0].problem
    assert WarehousePaths(link).live() is None


@pytest.mark.parametrize(("column", "value", "words"), [
    ("force", "nowhere", "force 'nowhere' is not one of the 43 forces"),
    ("received", "1899-01-03 08:15:02", "month 1899-01 is outside the months that can be loaded"),
])
def test_a_service_file_with_an_unknown_force_or_month_is_refused(
    tmp_path: Path, column: str, value: str, words: str
) -> None:
    rows = list(csv.DictReader(io.StringIO((EXAMPLES / "calls.csv").read_text())))
    rows[4][column] = value
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    link = tmp_path / "w.duckdb"
    report = load_service(link, "calls", str(write(tmp_path, "calls.csv", out.getvalue())))
    assert [(r.line, words in r.problem) for r in report.refused] == [(6, True)], report.refused
    assert WarehousePaths(link).live() is None and not report.notes


def test_a_file_of_blank_forces_is_a_plain_refusal(tmp_path: Path) -> None:
    # Once "executemany requires a non-empty list of parameter sets".
    rows = list(csv.DictReader(io.StringIO((EXAMPLES / "calls.csv").read_text())))
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows({**r, "force": ""} for r in rows)
    report = load_service(tmp_path / "w.duckdb", "calls", str(write(tmp_path, "calls.csv", out.getvalue())))
    assert len(report.refused) == 1 and "blank force" in report.refused[0].problem
    plain(report.refused)
    extract = (EXAMPLES / "crimes.csv").read_text().replace(",cheshire,", ",,")
    report = load_crimes(tmp_path / "w.duckdb", str(write(tmp_path, "crimes.csv", extract)))
    assert len(report.refused) == 1 and "blank force" in report.refused[0].problem


# -- hierarchy files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "line", "words"), [
    ("lsoa_code,npu,bcu,force\nE01012516,A,North,cheshire\nE01012517,B,North,nowhere\n", 3,
     "the force column names force 'nowhere'"),
    ("lsoa_code,npu,bcu\nE01012516,A,North\nE01012517,B,North\nE01012516,C,North\n", 4,
     "LSOA E01012516 of cheshire is mapped to NPU 'A' (North) on line 2 and to NPU 'C' (North) on line 4"),
])
def test_bad_hierarchy_files_are_refused_and_load_nothing(
    tmp_path: Path, body: str, line: int, words: str
) -> None:
    good = write(tmp_path / "in", "2019-01-cheshire-street.csv", street())
    link = tmp_path / "w.duckdb"
    load_police_uk(link, [good])
    before = WarehousePaths(link).live()
    report = load_police_uk(link, [good], hierarchy=write(tmp_path, "h.csv", body))
    assert [(r.line, words in r.problem) for r in report.refused] == [(line, True)], report.refused
    assert WarehousePaths(link).live() == before


def test_the_command_line_says_an_unexpected_failure_is_a_bug(tmp_path: Path) -> None:
    # A warehouse path that is a folder cannot be opened: whatever breaks, the user reads a
    # sentence, not an exception's text, and a log file holds the details.
    (tmp_path / "w.duckdb").mkdir()
    (tmp_path / "w.lake").write_text("not a folder")
    done = etl("load", "police-uk", str(write(tmp_path / "in", "2019-01-cheshire-street.csv", street())),
                   "--warehouse", str(tmp_path / "w.duckdb"))
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert not re.search(r"Traceback|\w+Error\b", text), text


# -- a property-based test: malformed files never reach an internal message -----------------------------

STREET_ROW = ["id0001", "2019-01", "Cheshire Constabulary", "Cheshire Constabulary", "-2.59", "53.39",
              "On or near High St", "E01012516", "Warrington 001A", "Burglary", "Under investigation", ""]
ODD = st.sampled_from(["", "   ", "NaN", "-inf", "1e309", "9" * 40, "2019-13", "0000-00", "=1+1", "\x00",
                       "\u202e", "é", "😀", '"', '""', ",", "\r", "\n", "Jan 2019", "-91", "null",
                       "City of London Police", "Atlantis Police", "2099-12"]) | st.text(max_size=12)


def _mutated(data: st.DataObject, header: list[str], rows: list[list[str]]) -> bytes:
    rows = [list(r) for r in rows]
    for _ in range(data.draw(st.integers(1, 3))):
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, len(header) - 1))
        rows[r][c] = data.draw(ODD)
    out = io.StringIO()
    csv.writer(out, lineterminator=data.draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    body = out.getvalue().encode(data.draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"])),
                                 errors="replace")
    if data.draw(st.booleans()):
        body = body[: data.draw(st.integers(0, len(body)))]  # a truncated download
    return body


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with one good month, built once; each example works on a copy."""
    folder = tmp_path_factory.mktemp("base")
    link = folder / "w.duckdb"
    load_police_uk(link, [write(folder / "in", "2019-01-cheshire-street.csv", street())])
    return link


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_files_are_refused_in_plain_words_and_change_nothing(
    base: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    link = copy_warehouse(base, folder / "w")
    before = WarehousePaths(link).live()
    kind = data.draw(st.sampled_from(["street", "outcomes", "stop-and-search", "crimes", "calls"]))
    if kind == "street":
        rows = [[f"id{i}", *STREET_ROW[1:]] for i in range(4)]
        body = _mutated(data, STREET_HEADER, rows)
        report = load_police_uk(link, [write(folder / "in", "2019-02-cheshire-street.csv", body)])
    elif kind == "outcomes":
        rows = [[f"id{i}", *STREET_ROW[1:9], "Offender given a caution"] for i in range(4)]
        body = _mutated(data, OUTCOME_HEADER, rows)
        report = load_police_uk(link, [write(folder / "in", "2019-02-cheshire-outcomes.csv", body)])
    elif kind == "stop-and-search":
        table = list(csv.reader(io.StringIO((EXAMPLES / "2019-01-cheshire-stop-and-search.csv").read_text())))
        body = _mutated(data, table[0], table[1:6])
        report = load_police_uk(link, [write(folder / "in", "2019-01-cheshire-stop-and-search.csv", body)])
    else:
        table = list(csv.reader(io.StringIO((EXAMPLES / f"{kind}.csv").read_text())))
        path = write(folder / "in", f"{kind}.csv", _mutated(data, table[0], table[1:6]))
        report = (load_crimes(link, str(path)) if kind == "crimes"
                  else load_service(link, kind, str(path)))
    plain(report.refused)
    if report.refused:
        assert not report.loaded and WarehousePaths(link).live() == before


# -- bounded work for any input --------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_in_seconds_and_the_other_files_load(tmp_path: Path) -> None:
    bomb = tmp_path / "in" / "bomb.zip"
    bomb.parent.mkdir()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("2019-02-cheshire-street.csv", "w", force_zip64=True) as member:
        block = b"\n" * (1 << 20)
        for _ in range(1024):  # 1 GiB of newlines: about 1 MB compressed
            member.write(block)
    good = write(tmp_path / "in", "2019-01-cheshire-street.csv", street())
    started = time.monotonic()
    report = load_police_uk(tmp_path / "w.duckdb", [bomb, good])
    assert time.monotonic() - started < 20
    assert [o for o, _ in report.loaded] == [str(good)]
    [refusal] = report.refused
    assert refusal.file == str(bomb) and "zip bomb" in refusal.problem and "1.0 GiB" in refusal.problem
    plain(report.refused)


def test_the_limits_can_be_set_and_are_named_when_hit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LG_MAX_ROWS_PER_FILE", "3")
    many = write(tmp_path / "in", "2019-01-cheshire-street.csv", street(n=5))
    no_breaks = write(tmp_path / "in", "2019-02-cheshire-street.csv",
                      ",".join(STREET_HEADER) + "x" * (2 << 20))
    plain_zip = tmp_path / "in" / "ok.zip"
    with zipfile.ZipFile(plain_zip, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("2019-03-cheshire-street.csv", street(month="2019-03", n=2) * 50)
    monkeypatch.setenv("LG_MAX_ZIP_RATIO", "2")
    report = load_police_uk(tmp_path / "w.duckdb", [many, no_breaks, plain_zip])
    by_file = {r.file: r.problem for r in report.refused}
    assert "5 rows is more than the 3 one file may hold (LG_MAX_ROWS_PER_FILE" in by_file[str(many)]
    assert "longer than 1.0 MiB without a line break" in by_file[str(no_breaks)]
    assert "LG_MAX_ZIP_RATIO" in by_file[str(plain_zip)]
    assert not report.loaded


def test_peak_memory_of_a_load_stays_within_twice_its_input_plus_500_mb(tmp_path: Path) -> None:
    body = street(n=120_000)
    path = write(tmp_path / "in", "2019-01-cheshire-street.csv", body)
    # A fresh parent per measurement: RUSAGE_CHILDREN is the peak of any child it waited for.
    probe = ("import resource, subprocess, sys; "
             "done = subprocess.run([sys.executable, '-m', 'etl', *sys.argv[1:]], capture_output=True); "
             "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", probe, "load", "police-uk", str(path),
                           "--warehouse", str(tmp_path / "w.duckdb")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    code, peak_kib = (int(x) for x in done.stdout.split())
    assert code == 0, done.stderr
    assert peak_kib * 1024 < 2 * len(body) + (500 << 20), f"{peak_kib >> 10} MiB for {len(body) >> 20} MiB"
