"""Choropleth maps of NPUs on real boundaries, drawn offline.

Each NPU is drawn as its MSOAs (etl/reference/geo.py says which), every MSOA filled with its
NPU's value of the measure for the period, so an NPU reads as one patch with its MSOAs'
edges faintly inside it. Boundaries come from the shipped GeoJSON only, and the figure is a
Plotly choropleth on a blank geo subplot (no base map, no tiles): nothing is requested
outside the app's origin. The colour scale is ColorBrewer 'Blues', sequential and safe for
colour-blind readers and in greyscale print (darker = higher, whatever the measure's
polarity: the legend says what the colour measures, the title says what is good news).

On an NPU's drill-down the map shows the NPU's own MSOAs, each filled with its own value of
the measure (added up from the LSOAs its records name: dashboard/analysis/msoa.py), the
BCU's other NPUs in grey around it, and the NPU's records as points on top where the access
rules let the actor see records. Where no per-MSOA figure exists (a measure that is not a
count, rate per 1,000 or harm of crimes; a force whose records carry no LSOA, the demo) it
shows the BCU's NPUs, the NPU outlined, and says so under the map.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from plotly.colors import sequential

from dashboard.analysis import kinds, metrics
from dashboard.analysis import msoa as msoa_stats
from dashboard.components.common import GREY, figure, plot_text
from dashboard.data.facade import DataAccess
from dashboard.data.model import MsoaFigures, Unit, View
from dashboard.periods import Period
from etl.demo.force import npu_centres
from etl.reference import geo

# ColorBrewer Blues (9 classes), light to dark
COLOURS = [[i / (len(sequential.Blues) - 1), c] for i, c in enumerate(sequential.Blues)]
# Plotly fetches a geo subplot's base layers from cdn.plot.ly by default: point it at the
# empty layers served from the app's own assets (dashboard/assets/topojson/).
TOPOJSON_URL = "/assets/topojson/"
# the BCU's other NPUs around an NPU drawn by its own MSOAs' values: context, not a value
CONTEXT = "#e4e4e4"


def npus_of(data: DataAccess, view: View) -> list[Unit]:
    """The NPUs the map colours: the force's or the BCU's, or the NPU's BCU's."""
    if view.unit.level == "npu":
        parents = [data.unit(view.unit.parent_id)] if view.unit.parent_id else []
    elif view.unit.level == "bcu":
        parents = [view.unit]
    elif view.unit.level == "force":
        parents = data.children(view.unit.unit_id)
    else:
        return []
    return [n for b in parents if b is not None for n in data.children(b.unit_id) if n.level == "npu"]


def msoa_npus(data: DataAccess, force_id: str, npus: list[Unit]) -> dict[str, str]:
    """MSOA code -> NPU id for the NPUs drawn: by the force's LSOA mapping, or, for the demo's
    synthetic NPUs (which have no LSOAs), laid onto the real force's MSOAs by their towns."""
    ids = {n.unit_id for n in npus}
    if npus and all(n.synthetic for n in npus):
        found = geo.msoa_npus_by_centre(force_id, npu_centres())
    else:
        pairs = data.lsoa_npus(force_id)
        found = geo.msoa_npus_from_lsoas(zip(pairs["lsoa_code"], pairs["npu_id"], strict=True))
    return {m: n for m, n in found.items() if n in ids}


def map_figure(data: DataAccess, view: View, points: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """The choropleth, or None when no NPU of the view can be placed on the boundaries. For an
    NPU whose records name LSOAs, its own MSOAs each with their own value (msoa_figure)."""
    m, p = view.measure, view.period
    npus = npus_of(data, view)
    if not npus:
        return None
    by_msoa = msoa_npus(data, view.unit.force_id, npus)
    shapes = geo.boundaries()
    by_msoa = {code: npu for code, npu in by_msoa.items() if code in shapes}
    if not by_msoa:
        return None
    names = {n.unit_id: n.name for n in npus}
    if view.unit.level == "npu":
        own = data.msoa_values(view.unit.unit_id, m.id, p.start, p.end)
        if own is not None and any(c in shapes for c in own.msoas["msoa_code"]):
            return msoa_figure(view, own, by_msoa, names, points)
    vals = data.values(m.id, tuple(n.unit_id for n in npus), p.start, p.end)
    value = dict(zip(vals["unit_id"], vals["value"], strict=True))
    codes = sorted(by_msoa)
    z = [value.get(by_msoa[c], math.nan) for c in codes]
    units = kinds.unit_text(m)
    text = [plot_text(f"{names[by_msoa[c]]} ({shapes[c]['properties']['name']}): "
                      f"{metrics.fmt(m, value.get(by_msoa[c]))} {units}") for c in codes]
    traces: list[dict[str, Any]] = [_values_trace(codes, z, text, units, p.label, m.label)]
    traces[0]["customdata"] = [by_msoa[c] for c in codes]
    focus = [c for c in codes if by_msoa[c] == view.unit.unit_id]
    if focus:  # the NPU itself, outlined
        traces.append(_outline(focus, view.unit.name))
    traces += _points(points)
    ranked = sorted(((value.get(n.unit_id, math.nan), n.name) for n in npus),
                    key=lambda t: (-t[0] if math.isfinite(t[0]) else math.inf))
    top = ranked[0]
    title = (f"{top[1]} has the highest {m.label.lower()} of the {len(npus)} NPUs shown"
             if math.isfinite(top[0]) else f"{m.label}: no values for these NPUs")
    notes = [geo.ATTRIBUTION]
    if view.unit.level == "npu":
        why = ("this measure" if msoa_stats.numerator_column(m) is None
               else "this NPU (its records name no LSOA)")
        notes.insert(0, f"MSOA values are not available for {why}; each MSOA shows its NPU's value.")
    return _layout(traces, title, f"{units}, {p.label}; NPUs drawn as their 2011 MSOAs; darker = higher",
                   notes, {"fitbounds": "locations"})


def msoa_figure(view: View, own: MsoaFigures, by_msoa: dict[str, str], names: dict[str, str],
                points: pd.DataFrame | None = None) -> dict[str, Any]:
    """An NPU's own MSOAs, each filled with its own value (added up from its LSOAs), the rest
    of its BCU's NPUs in plain grey around them for context, the view zoomed to the NPU."""
    m = view.measure
    shapes = geo.boundaries()
    # a dict lookup per MSOA: pandas' isin against the ~7,200 boundaries converted every one of
    # them per call (~30 ms of an NPU's drill-down at national scale)
    frame = own.msoas[[c in shapes for c in own.msoas["msoa_code"]]]
    codes = list(frame["msoa_code"])
    units = kinds.unit_text(m)
    z = [float(v) if v is not None and math.isfinite(v) else math.nan for v in frame["value"]]
    text = [plot_text(f"{name} ({view.unit.name}): {metrics.fmt(m, v)} {units}")
            for name, v in zip(frame["msoa_name"], z, strict=True)]
    mine = set(codes)
    others = sorted(c for c in by_msoa if c not in mine)
    traces: list[dict[str, Any]] = []
    if others:  # the BCU's other NPUs, for where the NPU is
        traces.append({
            "type": "choropleth", "geojson": _features(others), "featureidkey": "id",
            "locations": others, "z": [0] * len(others), "showscale": False,
            "colorscale": [[0, CONTEXT], [1, CONTEXT]],
            "marker": {"line": {"color": "#ffffff", "width": 0.4}},
            "text": [plot_text(f"{names[by_msoa[c]]} ({shapes[c]['properties']['name']})") for c in others],
            "hovertemplate": "%{text}<extra></extra>", "name": "other NPUs",
        })
    period = Period(own.first, own.last).label
    traces.append(_values_trace(codes, z, text, units, period, m.label))
    traces.append(_outline(codes, view.unit.name))
    traces += _points(points)
    ranked = sorted(((v, n) for v, n in zip(z, frame["msoa_name"], strict=True) if math.isfinite(v)),
                    key=lambda t: -t[0])
    title = (f"{ranked[0][1]} has the highest {m.label.lower()} of {view.unit.name}'s {len(codes)} MSOAs"
             if ranked else f"{m.label}: no values for {view.unit.name}'s MSOAs")
    sub = f"{units}, {period}; each MSOA from its LSOAs' records; other NPUs grey; darker = higher"
    return _layout(traces, title, sub, [geo.ATTRIBUTION], _zoom(codes))


def _features(codes: list[str]) -> dict[str, Any]:
    shapes = geo.boundaries()
    return {"type": "FeatureCollection", "features": [shapes[c] for c in codes]}


def _values_trace(codes: list[str], z: list[float], text: list[str], units: str, period: str,
                  name: str) -> dict[str, Any]:
    """The filled shapes; the colour bar states the units and the period."""
    return {
        "type": "choropleth", "geojson": _features(codes), "featureidkey": "id", "locations": codes,
        "z": [None if not math.isfinite(v) else v for v in z],
        "colorscale": COLOURS,
        "marker": {"line": {"color": "#ffffff", "width": 0.4}},
        "colorbar": {"title": {"text": f"{_wrap(units)}<br>{_wrap(period)}", "side": "right"},
                     "thickness": 14, "len": 0.8},
        "text": text, "hovertemplate": "%{text}<extra></extra>", "name": name,
    }


def _outline(codes: list[str], name: str) -> dict[str, Any]:
    return {
        "type": "choropleth", "geojson": _features(codes), "featureidkey": "id",
        "locations": codes, "z": [0] * len(codes), "showscale": False, "hoverinfo": "skip",
        "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
        "marker": {"line": {"color": "#D55E00", "width": 2}}, "name": name,
    }


def _points(points: pd.DataFrame | None) -> list[dict[str, Any]]:
    if points is None or points.empty:
        return []
    return [{
        "type": "scattergeo", "mode": "markers", "name": "records",
        "lon": points["longitude"].round(4).tolist(), "lat": points["latitude"].round(4).tolist(),
        "marker": {"size": 3, "color": GREY, "opacity": 0.5}, "hoverinfo": "skip",
    }]


def _zoom(codes: list[str]) -> dict[str, Any]:
    """Longitude and latitude ranges around the MSOAs (with a margin), so the NPU fills the
    map and its neighbours are cut off at the edge."""
    lons, lats = [], []
    for c in codes:
        g = geo.boundaries()[c]["geometry"]
        polygons = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for polygon in polygons:
            lons += [pt[0] for pt in polygon[0]]
            lats += [pt[1] for pt in polygon[0]]
    pad_x, pad_y = (max(lons) - min(lons)) * 0.08 + 0.005, (max(lats) - min(lats)) * 0.08 + 0.005
    return {"fitbounds": False, "lonaxis": {"range": [min(lons) - pad_x, max(lons) + pad_x]},
            "lataxis": {"range": [min(lats) - pad_y, max(lats) + pad_y]}}


def _layout(traces: list[dict[str, Any]], title: str, subtitle: str, notes: list[str],
            geo_extent: dict[str, Any]) -> dict[str, Any]:
    fig = figure(traces, title, subtitle, height=520,
                 margin={"l": 10, "r": 10, "t": 70, "b": 30 + 14 * len(notes)})
    fig["layout"]["annotations"] = [{
        "text": plot_text(note), "showarrow": False, "xref": "paper", "yref": "paper",
        "x": 0, "y": -0.04 - 0.035 * i, "xanchor": "left", "yanchor": "top",
        "font": {"size": 9 if note == geo.ATTRIBUTION else 11, "color": GREY},
    } for i, note in enumerate(notes)]
    fig["layout"]["geo"] = {**geo_extent, "visible": False, "projection": {"type": "mercator"},
                            "bgcolor": "#ffffff"}
    fig["layout"]["showlegend"] = False
    return fig


def _wrap(text: str, width: int = 18) -> str:
    """Escaped text broken into lines of about `width` characters for a colour bar title."""
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(plot_text(x) for x in lines)
