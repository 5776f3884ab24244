"""`load satisfaction|calls|dv|missing|rso|workforce`, their cubes, links, refusals and demo.

Expected numbers are computed here, independently, from the example files in docs/examples
with the csv and datetime modules (slugs, unit ids, month arithmetic, review and visit rules
and the Wilson interval are all written out again below), never with the code under test.
Refusal cases write a broken copy of an example and check the file, the line, the problem and
that the warehouse did not change.
"""

from __future__ import annotations

import calendar
import csv
import json
import math
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from etl.lake.ingest import load_crimes, load_service
from etl.lake.warehouse import WarehousePaths, connect_readonly
from etl.measures import registry as measures
from tests.support import EXAMPLES
from tests.support.cli import etl, etl_here

SOURCES = ("satisfaction", "calls", "dv", "missing", "rso", "workforce")
TABLES = ("dim_unit", "lake_manifest", "load_log", "dq_log", "cube_service_month",
          "cube_service_day", "cube_crime_month")
FORCE = "cheshire"


# --------------------------------------------------------------------------- independent rules


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def rows_of(source: str) -> list[dict[str, str]]:
    with open(EXAMPLES / f"{source}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def lines_of(source: str) -> list[str]:
    return (EXAMPLES / f"{source}.csv").read_text(encoding="utf-8").splitlines()


CRIMES = rows_of("crimes")
CRIME_REFS = {r["crime_ref"] for r in CRIMES}
NPU_IDS = {r["npu"]: f"{FORCE}/{slug(r['bcu'])}/{slug(r['npu'])}" for r in CRIMES}
BCU_IDS = {r["bcu"]: f"{FORCE}/{slug(r['bcu'])}" for r in CRIMES}
OFFICER_IDS = sorted({
    (f"{NPU_IDS[r['npu']]}/{slug(r['team'])}" if r["team"] else NPU_IDS[r["npu"]])
    + f"/{slug(r['officer'])}" for r in CRIMES if r["officer"]})


def officer_id(name: str, npu: str | None) -> str | None:
    """By name within the force, preferring an officer under the row's NPU, then the first id."""
    same = [o for o in OFFICER_IDS if o.rsplit("/", 1)[1] == slug(name)]
    near = [o for o in same if npu and o.startswith(npu + "/")]
    return min(near or same) if same else None


def ts(text: str) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text) if len(text) > 10 else datetime.fromisoformat(text + " 00:00")


def add_months(d: datetime, k: int) -> datetime:
    y, m = divmod(d.month - 1 + k, 12)
    year, month = d.year + y, m + 1
    return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))


def reviews_due(risk: str, reported: datetime, found: datetime | None, as_at: date) -> int:
    """Weekly for medium/high; every case at 28 days, 3 months, 6 months, then yearly."""
    until = found or datetime.combine(as_at + timedelta(days=1), datetime.min.time())
    due = math.floor((until - reported).total_seconds() / 604800) if risk in ("medium", "high") else 0
    due += (reported + timedelta(days=28) <= until) + (add_months(reported, 3) <= until) \
        + (add_months(reported, 6) <= until)
    k = 1
    while add_months(reported, 12 * k) <= until:
        due, k = due + 1, k + 1
    return due


VISIT_MONTHS = {"low": 12, "medium": 6, "high": 3, "very high": 1}


def visit_overdue(row: dict[str, str]) -> bool:
    base = row["last_visit"] or row["managed_from"]
    if not base:
        return True
    due = add_months(datetime.fromisoformat(base), VISIT_MONTHS[row["risk"]]).date()
    return date.fromisoformat(row["as_at"]) > due


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


SCALE = {"completely satisfied": 1, "very satisfied": 2, "fairly satisfied": 3,
         "neither satisfied nor dissatisfied": 4, "fairly dissatisfied": 5, "very dissatisfied": 6,
         "completely dissatisfied": 7}
QUESTIONS = ("ease_of_contact", "actions_taken", "kept_informed", "treatment", "whole_experience")
TYPES = {"burglary": "burglary", "vehicle crime": "vehicle", "vehicle": "vehicle",
         "violent crime": "violent", "violence": "violent", "racist incident": "racist",
         "anti-social behaviour": "asb", "asb": "asb"}


def score(text: str) -> int | None:
    return None if text == "" else int(text) if text.isdigit() else SCALE[text.lower()]


def month_of(text: str) -> date:
    return date.fromisoformat(text[:7] + "-01")


# Per source: (month, [(level, unit)], {measure: (num, den or None)}) for each row.
def _units(npu_name: str | None, officer: str | None = None, bcu_name: str | None = None) -> list:
    out = [("force", FORCE)]
    npu = NPU_IDS.get(npu_name) if npu_name else None
    if npu:
        out += [("bcu", npu.rsplit("/", 1)[0]), ("npu", npu)]
    elif bcu_name in BCU_IDS:
        out.append(("bcu", BCU_IDS[bcu_name]))
    oid = officer_id(officer, npu) if officer else None
    if oid:
        out.append(("officer", oid))
    return out


def contributions(source: str, r: dict[str, str]) -> tuple[date, list, dict]:
    if source == "satisfaction":
        c: dict = {}
        for q in QUESTIONS:
            v = score(r[q])
            c[f"satisfaction_{q}"] = (int(v is not None and v <= 3), int(v is not None))
        kind = TYPES[r["incident_type"].lower()]
        v = score(r["whole_experience"])
        for t in set(TYPES.values()):
            c[f"satisfaction_whole_experience_{t}"] = (
                int(t == kind and v is not None and v <= 3), int(t == kind and v is not None))
        return month_of(r["interview_date"]), _units(r["npu"], r["officer"]), c
    if source == "calls":
        rec, ans, aband, arr = (ts(r[k]) for k in ("received", "answered", "abandoned", "arrived"))
        is999, is101 = r["channel"] == "999", r["channel"] == "101"
        grade = int(r["grade"]) if r["grade"] else None
        secs = (ans - rec).total_seconds() if ans else None

        def attended(g: int, area: str | None, minutes: int) -> tuple[int, int]:
            hit = grade == g and (area is None or r["area"] == area)
            return int(hit and arr is not None and arr - rec <= timedelta(minutes=minutes)), int(hit)

        return month_of(r["received"]), _units(r["npu"]), {
            "calls_999": (int(is999), None), "calls_101": (int(is101), None),
            "calls_999_answered_10s": (int(is999 and secs is not None and secs <= 10), int(is999)),
            "calls_abandoned_rate": (int(aband is not None), 1),
            "calls_101_abandoned_rate": (int(is101 and aband is not None), int(is101)),
            "calls_101_answer_time": ((secs or 0.0) if is101 else 0.0, int(is101 and ans is not None)),
            "grade1_urban_15min": attended(1, "urban", 15),
            "grade1_rural_20min": attended(1, "rural", 20),
            "grade2_60min": attended(2, None, 60),
            "grade3_72h": attended(3, None, 72 * 60),
        }
    if source == "dv":
        rep, form = ts(r["reported"]), ts(r["form_40a_submitted"])
        return month_of(r["reported"]), _units(r["npu"], r["officer"]), {
            "dv_incidents": (1, None),
            "dv_high_risk": (int(r["risk"] in ("high", "very high")), None),
            "dv_arrest_rate": (int(r["arrest"] == "yes"), 1),
            "dv_repeat_victims": (int(r["repeat_victim"] == "yes"), 1),
            "dv_form40a_24h": (int(form is not None and form - rep <= timedelta(hours=24)), 1),
        }
    if source == "missing":
        due = reviews_due(r["risk"], ts(r["reported"]), ts(r["found"]), date.fromisoformat(r["as_at"]))
        return month_of(r["reported"]), _units(r["npu"]), {
            "missing_reports": (1, None),
            **{f"missing_{k}_risk": (int(r["risk"] == k), None) for k in ("low", "medium", "high")},
            "missing_reviews_overdue": (int(int(r["reviews_done"]) < due), int(due > 0)),
        }
    if source == "rso":
        late = visit_overdue(r)
        return month_of(r["as_at"]), _units(r["npu"], r["officer"]), {
            "rso_managed": (1, None),
            **{f"rso_mappa_level_{k}": (int(r["mappa_level"] == str(k)), None) for k in (1, 2, 3)},
            "rso_visits_overdue": (int(late), 1),
            **{f"rso_visits_overdue_{k.replace(' ', '_')}": (int(late and r["risk"] == k),
                                                            int(r["risk"] == k))
               for k in VISIT_MONTHS},
            "rso_next_visit_missing": (int(r["next_visit"] == ""), 1),
        }
    if source == "workforce":
        o, p = float(r["officer_fte"]), float(r["pcso_fte"])
        duty = float(r["duty_hours"]) if r["duty_hours"] else (o + p) * 40 * 52 / 12
        planned, spont = float(r["abstraction_planned_hours"]), float(r["abstraction_spontaneous_hours"])
        c = {"officer_fte": (o, None), "pcso_fte": (p, None),
             "sickness_days_per_fte": (float(r["sickness_days"]), o + p),
             "abstraction_rate": (planned + spont, duty),
             "abstraction_planned_rate": (planned, duty),
             "abstraction_spontaneous_rate": (spont, duty)}
        if r["special_hours"]:
            c["special_hours"] = (float(r["special_hours"]), None)
        return month_of(r["month"]), _units(r["unit"], bcu_name=r["unit"]), c
    raise AssertionError(source)


def expected_cube(source: str) -> dict[tuple[str, str, str, date], tuple[float, float | None]]:
    acc: dict = defaultdict(lambda: [0.0, 0.0])
    plain: dict[str, bool] = {}
    for r in rows_of(source):
        month, units, contrib = contributions(source, r)
        for level, unit in units:
            if level == "officer" and source not in ("satisfaction", "dv", "rso"):
                continue
            for mid, (num, den) in contrib.items():
                a = acc[(mid, level, unit, month)]
                a[0] += num
                a[1] += den or 0
                plain[mid] = den is None
    return {k: (round(n, 6), None if plain[k[0]] else round(d, 6)) for k, (n, d) in acc.items()
            if plain[k[0]] or d != 0}


# --------------------------------------------------------------------------- helpers


def query(link: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect_readonly(link)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def cube(link: Path, dataset: str, measure_ids: set[str] | None = None) -> dict:
    got = {}
    for mid, level, unit, month, num, den in query(
            link, "SELECT measure_id, level, unit_id, month, num, den FROM cube_service_month "
                  "WHERE dataset = ? AND source = 'force'", [dataset]):
        if measure_ids is None or mid in measure_ids:
            got[(mid, level, unit, month)] = (round(num, 6), None if den is None else round(den, 6))
    return got


def snapshot(link: Path) -> tuple[Path | None, dict[str, int]]:
    live = WarehousePaths(link).live()
    if live is None:
        return None, {}
    return live, {t: query(link, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


def fresh(tmp: Path) -> Path:
    link = tmp / "warehouse.duckdb"
    report = load_crimes(link, str(EXAMPLES / "crimes.csv"))
    assert report.committed and not report.refused
    return link


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    link = fresh(tmp_path_factory.mktemp("services"))
    reports = {}
    for source in SOURCES:
        report = load_service(link, source, str(EXAMPLES / f"{source}.csv"))
        assert report.refused == [], [str(r) for r in report.refused]
        assert report.committed
        assert report.loaded == [(str(EXAMPLES / f"{source}.csv"), len(rows_of(source)))]
        reports[source] = report
    return link, reports


# --------------------------------------------------------------------------- good input


@pytest.mark.parametrize("source", SOURCES)
def test_example_rows_per_month(source: str, loaded: tuple[Path, dict]) -> None:
    link, _ = loaded
    expected = Counter(contributions(source, r)[0] for r in rows_of(source))
    got = dict(query(link, "SELECT month, rows FROM lake_manifest WHERE dataset = ? "
                           "AND source = 'force' AND force_id = ?", [source, FORCE]))
    assert got == dict(expected)


@pytest.mark.parametrize("source", SOURCES)
def test_cube_num_den_match_the_raw_rows(source: str, loaded: tuple[Path, dict]) -> None:
    link, _ = loaded
    expected = expected_cube(source)
    got = cube(link, source, {k[0] for k in expected})
    assert got == expected
    levels = {k[1] for k in got}
    assert {"force", "bcu", "npu"} <= levels
    if source in ("satisfaction", "dv", "rso"):
        assert "officer" in levels


def test_every_service_measure_is_cubed_from_the_examples(loaded: tuple[Path, dict]) -> None:
    link, _ = loaded
    service = {m.id for m in measures.MEASURES.values() if m.dataset in SOURCES}
    got = {r[0] for r in query(link, "SELECT DISTINCT measure_id FROM cube_service_month")}
    assert service == got


def test_solo_caseload_counts_each_solo_once(loaded: tuple[Path, dict]) -> None:
    link, _ = loaded
    rows = rows_of("rso")
    for month in {month_of(r["as_at"]) for r in rows}:
        snap = [r for r in rows if month_of(r["as_at"]) == month]
        solos = {r["officer"] for r in snap if r["officer"]}
        [(num, den)] = query(link, "SELECT num, den FROM cube_service_month WHERE "
                                   "measure_id = 'solo_caseload' AND level = 'force' AND month = ?",
                             [month])
        assert (num, den) == (len(snap), len(solos))
    assert measures.get("solo_caseload").target == 50.0


def test_101_answer_time_mean_and_spread(loaded: tuple[Path, dict]) -> None:
    link, _ = loaded
    secs = [(ts(r["answered"]) - ts(r["received"])).total_seconds() for r in rows_of("calls")
            if r["channel"] == "101" and r["answered"] and r["received"].startswith("2024-02")]
    [(num, den, num2)] = query(link, "SELECT num, den, num2 FROM cube_service_month WHERE "
                                     "measure_id = 'calls_101_answer_time' AND level = 'force' "
                                     "AND month = DATE '2024-02-01'")
    assert den == len(secs)
    assert num == pytest.approx(sum(secs))
    assert num2 == pytest.approx(sum(s * s for s in secs))


def test_satisfaction_percentage_and_wilson_interval(loaded: tuple[Path, dict]) -> None:
    """Warrington Central NPU, February 2024: every question, from the raw rows."""
    from dashboard.analysis.stats import wilson_interval

    link, _ = loaded
    npu = NPU_IDS["Warrington Central"]
    raw = [r for r in rows_of("satisfaction")
           if r["npu"] == "Warrington Central" and r["interview_date"].startswith("2024-02")]
    assert len(raw) >= 5
    for q in QUESTIONS:
        answers = [score(r[q]) for r in raw if r[q] != ""]
        k, n = sum(a <= 3 for a in answers), len(answers)
        [(num, den)] = query(
            link, "SELECT num, den FROM cube_service_month WHERE measure_id = ? AND unit_id = ? "
                  "AND month = DATE '2024-02-01'", [f"satisfaction_{q}", npu])
        assert (num, den) == (k, n), q
        measure = measures.get(f"satisfaction_{q}")
        assert measure.model == "binomial" and measure.scale == 100.0
        assert 100.0 * num / den == pytest.approx(100.0 * k / n)
        lo, hi = wilson_interval(int(num), int(den))
        want = wilson(k, n)
        if k not in (0, n):
            assert (lo, hi) == pytest.approx(want, abs=1e-12), q
        assert lo <= k / n <= hi


def test_links_to_crimes_and_officers_are_counted(loaded: tuple[Path, dict]) -> None:
    link, reports = loaded
    for source, noun in (("satisfaction", "respondents"), ("dv", "incidents")):
        rows = rows_of(source)
        with_ref = [r for r in rows if r["incident_ref"]]
        linked = sum(r["incident_ref"] in CRIME_REFS for r in with_ref)
        named = [r for r in rows if r["officer"]]
        known = sum(officer_id(r["officer"], NPU_IDS.get(r["npu"])) is not None for r in named)
        notes = "\n".join(reports[source].notes)
        assert (f"{source}: {linked} of {len(with_ref)} {noun} with an incident reference linked "
                f"to a recorded crime; {len(with_ref) - linked} not found") in notes
        assert f"{source}: {known} of {len(named)} {noun} naming an officer" in notes
        dq = query(link, "SELECT kind, sum(rows) FROM dq_log WHERE source = 'force' AND kind IN "
                         "('crime_link', 'officer_link') AND detail LIKE ? GROUP BY kind",
                   [f"{source}:%"])
        assert dict(dq) == {"crime_link": len(with_ref) - linked, "officer_link": len(named) - known}
        assert 0 < linked < len(with_ref)


def test_reload_is_idempotent(loaded: tuple[Path, dict], tmp_path: Path) -> None:
    link, _ = loaded
    before = {s: cube(link, s) for s in SOURCES}
    rows = query(link, "SELECT dataset, month, rows FROM lake_manifest ORDER BY ALL")
    for source in SOURCES:
        report = load_service(link, source, str(EXAMPLES / f"{source}.csv"))
        assert report.committed and not report.refused
    assert {s: cube(link, s) for s in SOURCES} == before
    assert query(link, "SELECT dataset, month, rows FROM lake_manifest ORDER BY ALL") == rows
    # A file holding only February replaces February and keeps the other months.
    lines = lines_of("dv")
    feb = [ln for ln in lines[1:] if ",2024-02-" in ln]
    part = tmp_path / "february.csv"
    part.write_text("\n".join([lines[0], *feb[1:]]) + "\n", encoding="utf-8")
    assert load_service(link, "dv", str(part)).committed
    months = dict(query(link, "SELECT month, rows FROM lake_manifest WHERE dataset = 'dv'"))
    assert months[date(2024, 2, 1)] == len(feb) - 1
    assert months[date(2024, 1, 1)] == sum(",2024-01-" in ln for ln in lines)
    assert load_service(link, "dv", str(EXAMPLES / "dv.csv")).committed
    assert cube(link, "dv") == before["dv"]


def test_query_loads_the_same_cube_as_the_file(loaded: tuple[Path, dict], tmp_path: Path) -> None:
    link, _ = loaded
    rows = rows_of("calls")
    columns = list(rows[0])
    db = tmp_path / "calls.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE calls ({', '.join(columns)})")
    con.executemany(f"INSERT INTO calls VALUES ({', '.join('?' for _ in columns)})",
                    [[r[c] or None for c in columns] for r in rows])
    con.commit()
    con.close()
    other = fresh(tmp_path)
    report = load_service(other, "calls", f"sqlite:///{db}", query="SELECT * FROM calls")
    assert report.committed and not report.refused
    assert cube(other, "calls") == cube(link, "calls")


def test_query_with_typed_columns(loaded: tuple[Path, dict], tmp_path: Path) -> None:
    """A database with real TIMESTAMP, BOOLEAN and NULL values (DuckDB through duckdb-engine)."""
    import duckdb

    link, _ = loaded
    db = tmp_path / "dv.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"""CREATE TABLE dv AS SELECT incident_ref, CAST(reported AS TIMESTAMP) AS reported,
                    force, npu, officer, risk, arrest = 'yes' AS arrest,
                    repeat_victim = 'yes' AS repeat_victim,
                    CAST(form_40a_submitted AS TIMESTAMP) AS form_40a_submitted
                    FROM read_csv('{EXAMPLES / "dv.csv"}', all_varchar = true)""")
    con.close()
    other = fresh(tmp_path)
    report = load_service(other, "dv", f"duckdb:///{db}", query="SELECT * FROM dv")
    assert report.committed and not report.refused, [str(r) for r in report.refused]
    assert cube(other, "dv") == cube(link, "dv")


# --------------------------------------------------------------------------- refusals


def _edit(source: str, line: int, old: str, new: str) -> str:
    lines = lines_of(source)
    assert old in lines[line - 1], (source, line, old)
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines) + "\n"


def _drop_column(source: str, column: str) -> str:
    lines = lines_of(source)
    i = lines[0].split(",").index(column)
    return "\n".join(",".join(f for j, f in enumerate(ln.split(",")) if j != i) for ln in lines) + "\n"


# (source, case) -> (file text, line named, words in the problem)
BROKEN = {
    ("satisfaction", "missing column"): (lambda: _drop_column("satisfaction", "npu"), 1, "'npu'"),
    ("satisfaction", "bad date"): (lambda: _edit("satisfaction", 5, "2024-01-24", "2024-02-30"), 5,
                                   "unparsable interview_date '2024-02-30'"),
    ("satisfaction", "9 on the 7-point scale"): (
        lambda: _edit("satisfaction", 4, ",3,4,,2,4", ",9,4,,2,4"), 4,
        "ease_of_contact '9' is not on the 7-point scale"),
    ("satisfaction", "unknown incident type"): (
        lambda: _edit("satisfaction", 3, "Vehicle crime", "Fraud"), 3, "unknown incident_type 'Fraud'"),
    ("calls", "missing column"): (lambda: _drop_column("calls", "received"), 1, "'received'"),
    ("calls", "bad date"): (lambda: _edit("calls", 6, "2024-01-09 10:11:00", "2024-01-09 25:11:00"), 6,
                            "unparsable received '2024-01-09 25:11:00'"),
    ("calls", "answered before received"): (
        lambda: _edit("calls", 2, "2024-01-03 08:15:07", "2024-01-03 08:14:07"), 2,
        "answered '2024-01-03 08:14:07' is before received '2024-01-03 08:15:02'"),
    ("calls", "unknown grade"): (lambda: _edit("calls", 10, ",101,2,rural,", ",101,4,rural,"), 10,
                                 "unknown grade '4'"),
    ("calls", "arrived before received"): (
        lambda: _edit("calls", 4, "2024-01-05 23:20:00", "2024-01-05 22:20:00"), 4, "arrived"),
    ("calls", "neither answered nor abandoned"): (
        lambda: _edit("calls", 5, ",2024-01-07 13:00:25,", ",,"), 5, "neither answered nor abandoned"),
    ("dv", "missing column"): (lambda: _drop_column("dv", "arrest"), 1, "'arrest'"),
    ("dv", "bad date"): (lambda: _edit("dv", 3, "2024-01-06 23:10", "06/01/2024 23:10"), 3,
                         "unparsable reported"),
    ("dv", "unknown risk"): (lambda: _edit("dv", 4, ",medium,", ",severe,"), 4, "unknown risk 'severe'"),
    ("dv", "not yes or no"): (lambda: _edit("dv", 2, ",yes,no,", ",maybe,no,"), 2, "arrest 'maybe'"),
    ("missing", "missing column"): (lambda: _drop_column("missing", "as_at"), 1, "'as_at'"),
    ("missing", "bad date"): (lambda: _edit("missing", 4, "2024-01-05 02:00", "2024-01-35 02:00"), 4,
                              "unparsable found"),
    ("missing", "found before reported"): (
        lambda: _edit("missing", 5, "2024-01-20 12:00", "2024-01-02 12:00"), 5, "is before reported"),
    ("missing", "negative reviews"): (lambda: _edit("missing", 2, ",3,2024", ",-1,2024"), 2, "minimum 0"),
    ("rso", "missing column"): (lambda: _drop_column("rso", "mappa_level"), 1, "'mappa_level'"),
    ("rso", "bad date"): (lambda: _edit("rso", 3, "2023-07-01", "2023-07-00"), 3, "unparsable last_visit"),
    ("rso", "unknown MAPPA level"): (lambda: _edit("rso", 2, ",low,1,", ",low,4,"), 2,
                                     "unknown mappa_level '4'"),
    ("rso", "second snapshot in a month"): (
        lambda: _edit("rso", 4, "SYN-R003,2024-02-29", "SYN-R003,2024-02-28"), 4, "second snapshot"),
    ("workforce", "missing column"): (lambda: _drop_column("workforce", "sickness_days"), 1,
                                      "'sickness_days'"),
    ("workforce", "bad date"): (lambda: _edit("workforce", 3, "2024-01,", "2024-1,"), 3,
                                "unparsable month '2024-1'"),
    ("workforce", "abstraction above duty hours"): (
        lambda: _edit("workforce", 2, ",420,380,7600", ",4200,3800,7600"), 2, "exceed"),
    ("workforce", "unit repeated"): (
        lambda: _edit("workforce", 3, "Widnes", "Warrington Central"), 3, "repeat line 2"),
}


@pytest.mark.parametrize(("source", "case"), list(BROKEN), ids=[f"{s}-{c}" for s, c in BROKEN])
def test_refused_with_file_line_problem_and_warehouse_unchanged(
        source: str, case: str, loaded: tuple[Path, dict], tmp_path: Path) -> None:
    link, _ = loaded
    make, line, words = BROKEN[(source, case)]
    path = tmp_path / f"{source}.csv"
    path.write_text(make(), encoding="utf-8")
    before = snapshot(link)
    report = load_service(link, source, str(path))
    assert not report.committed and report.exit_code == 1 and report.loaded == []
    [refusal] = report.refused
    assert refusal.file == str(path)
    assert refusal.line == line, str(refusal)
    assert words.lower() in refusal.problem.lower(), str(refusal)
    assert f"{path}, line {line}: " in str(refusal)
    assert snapshot(link) == before


def test_every_source_refuses_a_missing_column_and_a_bad_date() -> None:
    cases = {(s, c) for s, c in BROKEN}
    for source in SOURCES:
        assert (source, "missing column") in cases and (source, "bad date") in cases


def test_unknown_npu_and_officer_are_reported_not_dropped(tmp_path: Path) -> None:
    link = fresh(tmp_path)
    path = tmp_path / "satisfaction.csv"
    text = _edit("satisfaction", 4, "Chester,PC 4402", "Atlantis,PC 0000")
    path.write_text(text, encoding="utf-8")
    report = load_service(link, "satisfaction", str(path))
    assert report.committed and not report.refused
    notes = "\n".join(report.notes)
    assert "1 row(s) name an NPU the warehouse does not know: 'Atlantis' (first at line 4)" in notes
    assert "1 row(s) name an officer the warehouse does not know: 'PC 0000'" in notes
    dq = query(link, "SELECT month, line, rows, detail FROM dq_log WHERE kind = 'unknown_unit'")
    assert sorted((m, ln, n) for m, ln, n, _ in dq) == [(date(2024, 1, 1), 4, 1), (date(2024, 1, 1), 4, 1)]
    assert any("Atlantis" in d for *_, d in dq) and any("PC 0000" in d for *_, d in dq)
    # Every row is kept: the force counts all January respondents, no NPU counts Atlantis's.
    jan = [r for r in rows_of("satisfaction") if r["interview_date"].startswith("2024-01")]
    [(den,)] = query(link, "SELECT den FROM cube_service_month WHERE level = 'force' AND "
                           "measure_id = 'satisfaction_treatment' AND month = DATE '2024-01-01'")
    assert den == len(jan)
    npu_total = query(link, "SELECT sum(den) FROM cube_service_month WHERE level = 'npu' AND "
                            "measure_id = 'satisfaction_treatment' AND month = DATE '2024-01-01'")
    assert npu_total == [(len(jan) - 1,)]
    assert query(link, "SELECT npu_ref, officer_ref FROM read_parquet(?, hive_partitioning = false) "
                       "WHERE line = 4",
                 [[str(WarehousePaths(link).lake / p) for (p,) in query(
                     link, "SELECT path FROM lake_manifest WHERE dataset = 'satisfaction' "
                           "AND month = DATE '2024-01-01'")]]) == [("Atlantis", "PC 0000")]


# --------------------------------------------------------------------------- CLI and status


def test_cli_status_lists_every_source_with_rows_and_months(loaded: tuple[Path, dict],
                                                            tmp_path: Path) -> None:
    link, _ = loaded
    bad = tmp_path / "calls.csv"
    bad.write_text(BROKEN[("calls", "unknown grade")][0](), encoding="utf-8")
    refused = etl("load", "calls", str(bad), "--warehouse", str(link))
    assert refused.returncode == 1
    assert f"{bad}, line 10: unknown grade '4'" in " ".join(refused.stderr.split())
    # the second command through typer's runner: this test's process is the refused load above
    status = etl_here("status", "--json", "--warehouse", str(link))
    assert status.returncode == 0, status.stderr
    info = {(d["dataset"], d["source"]): d for d in json.loads(status.stdout)["datasets"]}
    for source in SOURCES:
        d = info[(source, "force")]
        months = sorted({contributions(source, r)[0] for r in rows_of(source)})
        assert d["rows"] == len(rows_of(source)), source
        assert (d["months"], d["first_month"], d["last_month"]) == (
            len(months), f"{months[0]:%Y-%m}", f"{months[-1]:%Y-%m}"), source
    assert info[("crime", "force")]["rows"] == len(CRIMES)


# --------------------------------------------------------------------------- demo


def test_demo_builds_every_service_dataset_with_plausible_values(demo_warehouse: Callable) -> None:
    from etl.sources.national import DEMO_MSF

    link, report = demo_warehouse(5, 1)   # built once per session, shared with test_demo_warehouse
    assert report.committed
    datasets = dict(query(link, "SELECT dataset, sum(rows) FROM lake_manifest WHERE source = 'demo' "
                                "GROUP BY ALL"))
    assert set(SOURCES) | {"service_force_month", "crime"} <= set(datasets)

    def force_rate(measure_id: str, forces: tuple[str, ...] = ("cheshire",)) -> float:
        [(num, den)] = query(link, "SELECT sum(num), sum(den) FROM cube_service_month WHERE "
                                   "measure_id = ? AND level = 'force' AND force_id IN "
                                   "(SELECT unnest(?::VARCHAR[]))", [measure_id, list(forces)])
        return num / den

    arrest = force_rate("dv_arrest_rate")
    assert 0.45 <= arrest <= 0.60
    assert force_rate("dv_arrest_rate", DEMO_MSF) < arrest - 0.1
    assert 0.25 <= force_rate("dv_arrest_rate", DEMO_MSF) <= 0.40
    for q in QUESTIONS:
        assert force_rate(f"satisfaction_{q}") < force_rate(f"satisfaction_{q}", DEMO_MSF), q
    assert 0.85 <= force_rate("calls_999_answered_10s") <= 0.95
    assert 0.85 <= force_rate("calls_999_answered_10s", DEMO_MSF) <= 0.95
    for mid, lo, hi in (("grade1_urban_15min", 0.75, 0.95), ("grade3_72h", 0.75, 0.95),
                        ("calls_abandoned_rate", 0.01, 0.10), ("dv_form40a_24h", 0.5, 0.9),
                        ("rso_visits_overdue", 0.05, 0.3), ("abstraction_rate", 0.05, 0.2)):
        assert lo <= force_rate(mid) <= hi, mid
    # RSOs grow quarter by quarter, about 100 per SOLO against the notional 1:50.
    rso = dict(query(link, "SELECT month, num FROM cube_service_month WHERE measure_id = "
                           "'rso_managed' AND level = 'force' ORDER BY month"))
    quarters = [rso[m] for m in sorted(rso) if m.month in (3, 6, 9, 12)]
    assert len(quarters) == 4 and quarters == sorted(quarters) and quarters[0] < quarters[-1]
    [(caseload,)] = query(link, "SELECT num / den FROM cube_service_month WHERE measure_id = "
                                "'solo_caseload' AND level = 'force' AND month = DATE '2008-03-01'")
    assert 80 <= caseload <= 130
    # Every service measure has a force-level row for the demo force, and other forces are
    # there as comparators only for their measures.
    got = {r[0] for r in query(link, "SELECT DISTINCT measure_id FROM cube_service_month WHERE "
                                     "force_id = 'cheshire' AND level = 'force' AND dataset IN "
                                     "(SELECT unnest(?::VARCHAR[]))", [list(SOURCES)])}
    assert {m.id for m in measures.MEASURES.values() if m.dataset in SOURCES} == got
    assert query(link, "SELECT count(DISTINCT force_id) FROM cube_service_month "
                       "WHERE dataset = 'service_force_month'") == [(42,)]
    # Survey respondents are victims of the demo's own crimes: most references link.
    [(missed, total)] = query(link, "SELECT sum(rows), count(*) FROM dq_log WHERE kind = 'crime_link' "
                                    "AND detail LIKE 'satisfaction:%'")
    respondents = datasets["satisfaction"]
    assert total == 12 and missed < 0.25 * respondents


