"""The shipped boundaries and small-area tables: every MSOA of the demo's (Cheshire's) area is
drawn, in WGS84, and the demo's NPUs cover real Cheshire. Codes of Cheshire's four local
authorities are written here by hand (2011 LAD codes), not taken from the code under test."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from etl.demo.force import npu_centres
from etl.reference import areas, geo

REPO = Path(__file__).resolve().parents[2]
CHESHIRE_LAS = {"E06000049": "Cheshire East", "E06000050": "Cheshire West and Chester",
                "E06000006": "Halton", "E06000007": "Warrington"}


def cheshire_msoas() -> set[str]:
    text = (REPO / "data" / "reference" / "msoa_2011_ew.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(io.StringIO("\n".join(x for x in text.splitlines() if not x.startswith("#"))))
    return {r["msoa_code"] for r in rows if r["la_code"] in CHESHIRE_LAS}


def test_every_cheshire_msoa_is_drawn_in_wgs84() -> None:
    wanted = cheshire_msoas()
    # ONS: Cheshire East 51, Cheshire West and Chester 47, Halton 16, Warrington 25 MSOAs (2011)
    assert len(wanted) == 51 + 47 + 16 + 25
    shapes = geo.boundaries()
    assert len(shapes) == 7201 and wanted <= set(shapes)
    for code in wanted:
        g = shapes[code]["geometry"]
        rings = [g["coordinates"][0]] if g["type"] == "Polygon" else [p[0] for p in g["coordinates"]]
        for ring in rings:
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(-3.3 < x < -1.9 and 52.9 < y < 53.55 for x, y in ring), code  # Cheshire
    assert shapes["E02001399"]["properties"]["name"].startswith("Liverpool")


def test_the_demo_npus_cover_real_cheshire_within_their_bcus() -> None:
    got = geo.msoa_npus_by_centre("cheshire", npu_centres())
    assert set(got) == cheshire_msoas()
    assert set(got.values()) == set(npu_centres())   # every demo NPU has ground
    by_la = {m.code: CHESHIRE_LAS[m.la_code] for m in areas.msoas().values() if m.la_code in CHESHIRE_LAS}
    bcu = {"Halton": "northern", "Warrington": "northern", "Cheshire East": "eastern",
           "Cheshire West and Chester": "western"}
    assert all(npu.split("/")[1] == bcu[by_la[code]] for code, npu in got.items())
    # Widnes (a Halton town) gets Halton MSOAs; Macclesfield, Cheshire East ones
    assert {by_la[c] for c, n in got.items() if n.endswith("/widnes")} == {"Halton"}
    assert {by_la[c] for c, n in got.items() if n.endswith("/macclesfield")} == {"Cheshire East"}


def test_msoa_npus_from_lsoas_takes_the_majority() -> None:
    lsoas = [code for code, x in areas.lsoas().items() if x.msoa == "E02001399"]
    assert len(lsoas) >= 3
    pairs = [(lsoas[0], "f/a/x"), (lsoas[1], "f/a/y"), (lsoas[2], "f/a/y"), ("E01999999", "f/a/z")]
    assert geo.msoa_npus_from_lsoas(pairs) == {"E02001399": "f/a/y"}


def test_hilbert_order_and_compass_names_by_hand() -> None:
    # order-1 Hilbert curve visits (0,0), (0,1), (1,1), (1,0)
    assert [areas.hilbert_index(x, y, order=1) for x, y in ((0, 0), (0, 1), (1, 1), (1, 0))] == [0, 1, 2, 3]
    # four points on the corners of a square are visited round the square, not across it
    corners = [(0.0, 0.0), (1.0, 1.0), (0.0, 1.0), (1.0, 0.0)]
    assert areas.hilbert_order(corners) == [0, 2, 1, 3]
    # a part due north of the centre, one due south, one at the centre
    names = areas.compass_names("Halton", (0.0, 53.0), [(0.0, 53.1), (0.0, 52.9), (0.001, 53.0)])
    assert names == ["Halton: North", "Halton: South", "Halton: Central"]
    # two parts both north-east are told apart on 16 points
    names = areas.compass_names("X", (0.0, 0.0), [(1.0, 1.0), (0.5, 1.2), (-1.0, -1.0)])
    assert names == ["X: North East", "X: North North East", "X: South West"]


def test_the_boundaries_read_one_feature_at_a_time_equal_the_whole_file_read_at_once() -> None:
    """`boundaries()` keeps each feature as text (a worker's memory): what it hands out must be
    exactly the file's features, read here with one json.load, and a caller's change to a
    feature must not reach the next caller."""
    import gzip
    import json

    from etl.reference.tables import data_dir

    with gzip.open(data_dir() / geo.BOUNDARY_FILE, "rt", encoding="utf-8") as fh:
        whole = {f["id"]: f for f in json.load(fh)["features"]}
    shapes = geo.boundaries()
    assert list(shapes) == list(whole)
    for code in ("E02000001", "E02001399", next(iter(cheshire_msoas()))):
        assert shapes[code] == whole[code]
    shapes["E02000001"]["properties"]["name"] = "changed"
    assert shapes["E02000001"]["properties"]["name"] == whole["E02000001"]["properties"]["name"]
