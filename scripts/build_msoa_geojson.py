"""Convert the ONS MSOA (2011) boundaries once into the compact WGS84 GeoJSON the maps draw.

Not run at run time: its output, data/reference/msoa_2011_ew_bsc_wgs84.geojson.gz, is
committed, and the dashboard reads only that (no map tiles, no request outside the app).
Same input gives byte-identical output:

    python scripts/build_msoa_geojson.py [SHARED_DATA_DIR]

Input: geography/msoa_2011_ew_bsc_v2_shp.zip (../shared/data/PROVENANCE.md section 8): ONS
MSOA December 2011 super-generalised clipped (BSC) boundaries, all 7,201 MSOAs of England and
Wales, British National Grid (EPSG:27700). Contains ONS data (c) Crown copyright and database
right; OGL v3.

What it does: reads the shapefile with pyshp, reprojects every vertex to WGS84 (EPSG:4326)
with pyproj (the OSTN15-free Helmert transform PROJ picks is good to a few metres, far below
the super-generalised boundaries' own error), rounds to 4 decimal places (about 7 m by 11 m
in England), and drops vertices that rounding made repeat. The BSC boundaries are already
generalised by ONS (to about 200 m), so no further simplification is done: neighbouring
MSOAs keep their shared edges exactly. All of England and Wales is kept (any real force can
be mapped): about 1 MB gzipped. Properties: code (MSOA11CD) and name (MSOA11NM).

pyshp and pyproj are script dependencies only (pyproject.toml, extra 'maps-build').
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import shapefile
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "reference" / "msoa_2011_ew_bsc_wgs84.geojson.gz"
ATTRIBUTION = ("ONS MSOA (Dec 2011) super-generalised clipped boundaries, EW BSC V2, reprojected to "
               "WGS84. Contains ONS data (c) Crown copyright and database right 2011. Open "
               "Government Licence v3.0. Built by scripts/build_msoa_geojson.py.")


def _ring(points: list, to_wgs84: Transformer) -> list[list[float]]:
    xs, ys = zip(*points, strict=True)
    lon, lat = to_wgs84.transform(xs, ys)
    out: list[list[float]] = []
    for x, y in zip(lon, lat, strict=True):
        p = [round(x, 4), round(y, 4)]
        if not out or out[-1] != p:
            out.append(p)
    if out[0] != out[-1]:
        out.append(out[0])
    return out


def build(shared: Path, out: Path = OUT) -> dict[str, int]:
    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    reader = shapefile.Reader(str(shared / "geography" / "msoa_2011_ew_bsc_v2_shp.zip"))
    features = []
    for sr in reader.iterShapeRecords():
        rec = sr.record.as_dict()
        geo = sr.shape.__geo_interface__
        if geo["type"] == "Polygon":
            coords = [[_ring(r, to_wgs84) for r in geo["coordinates"]]]
        else:
            coords = [[_ring(r, to_wgs84) for r in poly] for poly in geo["coordinates"]]
        coords = [[r for r in poly if len(r) >= 4] for poly in coords]
        coords = [poly for poly in coords if poly]
        geometry = ({"type": "Polygon", "coordinates": coords[0]} if len(coords) == 1
                    else {"type": "MultiPolygon", "coordinates": coords})
        features.append({"type": "Feature", "id": rec["MSOA11CD"],
                         "properties": {"code": rec["MSOA11CD"], "name": rec["MSOA11NM"]},
                         "geometry": geometry})
    features.sort(key=lambda f: f["id"])
    doc = {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    with gzip.GzipFile(out, "wb", mtime=0) as gz:
        gz.write(text.encode("utf-8"))
    return {"features": len(features), "bytes": len(text), "gzipped": out.stat().st_size}


if __name__ == "__main__":
    default = REPO.parent / "shared" / "data"
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
