"""Our stop-and-search rate ratio against published figures, and the shipped population file
against the raw census lookup.

BlackThrive's ExtractSS (MIT; ../shared/data/stop_search_derived, PROVENANCE.md section 6)
published Black/White risk ratios with 95% intervals for 331 local authorities x 2019-2021
(993 rows), computed with epitools::riskratio (method 'wald', i.e. the log/Katz interval) on
a 2x2 table of stopped / not stopped (R/riskratio_from_df.R). dashboard.stats.rate_ratio
implements the same formula; from their own counts and populations it reproduces all 923
rows with non-zero counts to within 1e-9 relative (observed: at most 1.5e-15, rounding
noise), far inside the 6 significant figures asked for (5e-7).

Their 66 rows with no Black searches have (rr 0, low 0, high NA); ours are (0, nan, nan): the
lower limit 0 is epitools' arithmetic 0 * exp(-inf), not an interval, so we give none (see
rate_ratio's docstring). Their 4 rows with no searches of either group are NA throughout, as
ours are.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from dashboard.analysis.stats import rate_ratio

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
BLACKTHRIVE = "stop_search_derived/blackthrive_summarised_stops_by_la_2019-2021.csv"
REL_TOL = 1e-9


def _rows(shared_data: Path) -> list[dict[str, str]]:
    with open(shared_data / BLACKTHRIVE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ours(r: dict[str, str]) -> tuple[float, float, float]:
    return rate_ratio(int(r["Black_stopped"]), int(r["Black_population"]),
                      int(r["White_stopped"]), int(r["White_population"]))


def _theirs(r: dict[str, str]) -> tuple[float, float, float]:
    return tuple(math.nan if r[k] == "NA" else float(r[k]) for k in ("rr", "rr_ci_low", "rr_ci_upp"))


def test_every_non_zero_row_matches_blackthrive(shared_data: Path) -> None:
    rows = [r for r in _rows(shared_data)
            if r["Black_stopped"] not in ("0", "NA") and r["White_stopped"] not in ("0", "NA")]
    assert len(rows) == 923
    worst = [0.0, 0.0, 0.0]
    for r in rows:
        ours, theirs = _ours(r), _theirs(r)
        for i in range(3):
            rel = abs(ours[i] - theirs[i]) / abs(theirs[i])
            worst[i] = max(worst[i], rel)
            assert rel <= REL_TOL, (r["la"], r["date"], ours, theirs)
    # Recorded for the docs: the figures agree to rounding noise.
    assert max(worst) < 1e-13, worst


def test_zero_rows_differ_only_where_documented(shared_data: Path) -> None:
    rows = _rows(shared_data)
    no_black = [r for r in rows if r["Black_stopped"] == "0" and r["White_stopped"] != "0"]
    neither = [r for r in rows if r["Black_stopped"] == "0" and r["White_stopped"] == "0"]
    assert (len(no_black), len(neither)) == (66, 4)
    for r in no_black:
        (ratio, low, high), (rr, rr_low, rr_high) = _ours(r), _theirs(r)
        assert ratio == rr == 0.0
        assert rr_low == 0.0 and math.isnan(rr_high)   # epitools: 0 * exp(-inf), 0 * exp(inf)
        assert math.isnan(low) and math.isnan(high)    # ours: no interval
    for r in neither:
        assert all(math.isnan(x) for x in _ours(r)) and all(math.isnan(x) for x in _theirs(r))


def test_shipped_population_file_matches_the_raw_lookup(shared_data: Path) -> None:
    """Cheshire's row of data/reference/population_by_ethnicity_census2011.csv, counted again
    from the raw local-authority lookup with the csv module."""
    columns = {
        "all": "Ethnic Group: All categories: Ethnic group; measures: Value",
        "white": "Ethnic Group: White; measures: Value",
        "black": "Ethnic Group: Black; measures: Value",
        "asian": "Ethnic Group: Asian; measures: Value",
        "mixed": "Ethnic Group: Mixed; measures: Value",
        "other": "Ethnic Group: Other; measures: Value",
    }
    raw = shared_data / "lookups" / "la_csp_pfa_2016_with_census2011_ethnicity.csv"
    expected = dict.fromkeys(columns, 0)
    las = 0
    with open(raw, encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["PFA16NM"] == "Cheshire":
                las += 1
                for k, col in columns.items():
                    expected[k] += int(r[col])
    assert las == 4
    with open(REPO / "data" / "reference" / "population_by_ethnicity_census2011.csv",
              encoding="utf-8", newline="") as fh:
        shipped = {r["force_id"]: r for r in csv.DictReader(fh)}
    assert len(shipped) == 43
    cheshire = {k: int(v) for k, v in shipped["cheshire"].items() if k != "force_id"}
    assert cheshire == expected
    assert cheshire["all"] == 1_027_709
    # and the force-level raw file says the same
    with open(shared_data / "lookups" / "force_census2011_ethnicity.csv", encoding="utf-8-sig",
              newline="") as fh:
        force_row = next(r for r in csv.DictReader(fh) if r["PFA16NM"] == "Cheshire")
    assert {k: int(force_row[col]) for k, col in columns.items()} == expected
