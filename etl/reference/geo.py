"""Boundaries for the maps: the shipped MSOA GeoJSON, and which MSOAs make up each NPU.

The GeoJSON (data/reference/msoa_2011_ew_bsc_wgs84.geojson.gz, built once by
scripts/build_msoa_geojson.py from the ONS boundaries) is read on first use and kept for the
life of the process (about 4 MB of JSON, 0.3 s; kept as text: see `Boundaries`). An NPU is drawn as its MSOAs:

- a real force's NPUs from its LSOA mapping (dim_lsoa: LSOA -> NPU), each MSOA going to the
  NPU most of its LSOAs are in (the default hierarchy's NPUs are whole MSOAs, so exactly);
- the demo force's synthetic NPUs (towns with a centre, etl/demo/force.py) by laying them
  onto real Cheshire: every MSOA of the BCU's local authorities goes to the nearest NPU
  centre of that BCU, so the demo map has Cheshire's real shape and the demo's own units.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from etl.reference import areas
from etl.reference.tables import data_dir

BOUNDARY_FILE = "reference/msoa_2011_ew_bsc_wgs84.geojson.gz"
ATTRIBUTION = ("Boundaries: ONS MSOA (Dec 2011) super-generalised. Contains ONS data © Crown "
               "copyright and database right 2011, Open Government Licence v3.0.")


class Boundaries(Mapping[str, dict[str, Any]]):
    """MSOA code -> GeoJSON feature (WGS84), read-only.

    Each feature is kept as its compact JSON text and parsed when asked for: the 7,201 MSOAs
    of England and Wales as Python lists of floats cost a web worker about 70 MB for good
    (measured: 35 MB for the features and as much again left behind by the allocator), as
    text about 4 MB; a map parses the few hundred it draws in a millisecond or two. A caller
    gets a fresh dict each time, so it may change it."""

    def __init__(self, texts: dict[str, str], centres: dict[str, tuple[float, float]]) -> None:
        self._texts = texts
        self.centres = centres

    def __getitem__(self, code: str) -> dict[str, Any]:
        return json.loads(self._texts[code])

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __contains__(self, code: object) -> bool:
        return code in self._texts


def _stream_features(text: str) -> Iterator[dict[str, Any]]:
    """The FeatureCollection's features one at a time (raw_decode from each one's start), so
    the whole collection is never held parsed at once."""
    decoder = json.JSONDecoder()
    i = text.index("[", text.index('"features"')) + 1
    while True:
        while text[i] in " \n\r\t,":
            i += 1
        if text[i] == "]":
            return
        feature, i = decoder.raw_decode(text, i)
        yield feature


def boundaries(directory: Path | None = None) -> Boundaries:
    """MSOA code -> GeoJSON feature (WGS84), with each MSOA's centre (see `Boundaries`).

    Cached by the folder it resolves to: `boundaries()` and `boundaries(None)` were two cache
    entries, so a process parsed the 13 MB file twice."""
    return _boundaries(directory or data_dir())


@cache
def _boundaries(directory: Path) -> Boundaries:
    with gzip.open(directory / BOUNDARY_FILE, "rt", encoding="utf-8") as fh:
        text = fh.read()
    texts: dict[str, str] = {}
    centres: dict[str, tuple[float, float]] = {}
    for f in _stream_features(text):
        texts[f["id"]] = json.dumps(f, separators=(",", ":"))
        centres[f["id"]] = _centroid(f)
    return Boundaries(texts, centres)


def _outer_rings(feature: dict[str, Any]) -> list[list[list[float]]]:
    g = feature["geometry"]
    return [g["coordinates"][0]] if g["type"] == "Polygon" else [p[0] for p in g["coordinates"]]


def _centroid(f: dict[str, Any]) -> tuple[float, float]:
    """The area-weighted centre of the feature's outer rings (shoelace), (lon, lat)."""
    a_sum = x_sum = y_sum = 0.0
    for ring in _outer_rings(f):
        for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
            cross = x0 * y1 - x1 * y0
            a_sum += cross
            x_sum += (x0 + x1) * cross
            y_sum += (y0 + y1) * cross
    if a_sum:
        return (x_sum / (3 * a_sum), y_sum / (3 * a_sum))
    ring = _outer_rings(f)[0]
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def centroids(directory: Path | None = None) -> dict[str, tuple[float, float]]:
    """MSOA code -> (lon, lat): the area-weighted centre of its outer rings."""
    return boundaries(directory).centres


def msoa_npus_from_lsoas(pairs: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """MSOA code -> NPU id from (LSOA code, NPU id) pairs: the NPU most of its LSOAs are in."""
    lsoas = areas.lsoas()
    votes: dict[str, Counter[str]] = {}
    for lsoa, npu in pairs:
        if npu and lsoa in lsoas:
            votes.setdefault(lsoas[lsoa].msoa, Counter())[npu] += 1
    return {m: c.most_common(1)[0][0] for m, c in votes.items()}


def msoa_npus_by_centre(force_id: str, centres: dict[str, tuple[str, float, float]]) -> dict[str, str]:
    """MSOA code -> NPU id, every MSOA of the force's area going to the nearest centre among
    the NPUs of its BCU (centres: NPU id -> (BCU name, lon, lat)); distances on a plane
    scaled by cos(latitude), plenty at county scale."""
    h = areas.hierarchy(force_id)
    if h is None:
        return {}
    cents = centroids()
    out: dict[str, str] = {}
    for npu_name, msoa_codes in h.npu_msoas.items():
        bcu = next(b for b, n in h.lsoa_npu.values() if n == npu_name)
        mine = {nid: (lon, lat) for nid, (b, lon, lat) in centres.items() if b == bcu} or \
            {nid: (lon, lat) for nid, (_, lon, lat) in centres.items()}
        for code in msoa_codes:
            if code not in cents:
                continue
            x, y = cents[code]
            k = math.cos(math.radians(y))
            out[code] = min(mine, key=lambda nid: ((mine[nid][0] - x) * k) ** 2 + (mine[nid][1] - y) ** 2)
    return out
