"""Choropleth maps of NPUs on real boundaries, drawn offline.

Each NPU is drawn as its MSOAs (etl/reference/geo.py says which), every MSOA filled with its
NPU's value of the measure for the period, so an NPU reads as one patch with its MSOAs'
edges faintly inside it. Boundaries come from the shipped GeoJSON only, and the figure is a
Plotly choropleth on a blank geo subplot (no base map, no tiles): nothing is requested
outside the app's origin. The colour scale is ColorBrewer 'Blues', sequential and safe for
colour-blind readers and in greyscale print (darker = higher, whatever the measure's
polarity: the legend says what the colour measures, the title says what is good news).

On an NPU's drill-down the map shows its BCU's NPUs, the NPU itself outlined, with its
records as points on top where the access rules let the actor see records.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from plotly.colors import sequential

from dashboard.analysis import kinds, metrics
from dashboard.components.common import GREY, figure, plot_text
from dashboard.data.facade import DataAccess
from dashboard.data.model import Unit, View
from etl.demo.force import npu_centres
from etl.reference import geo

# ColorBrewer Blues (9 classes), light to dark
COLOURS = [[i / (len(sequential.Blues) - 1), c] for i, c in enumerate(sequential.Blues)]
# Plotly fetches a geo subplot's base layers from cdn.plot.ly by default: point it at the
# empty layers served from the app's own assets (dashboard/assets/topojson/).
TOPOJSON_URL = "/assets/topojson/"


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
    """The choropleth, or None when no NPU of the view can be placed on the boundaries."""
    m, p = view.measure, view.period
    npus = npus_of(data, view)
    if not npus:
        return None
    by_msoa = msoa_npus(data, view.unit.force_id, npus)
    shapes = geo.boundaries()
    by_msoa = {code: npu for code, npu in by_msoa.items() if code in shapes}
    if not by_msoa:
        return None
    vals = data.values(m.id, tuple(n.unit_id for n in npus), p.start, p.end)
    value = dict(zip(vals["unit_id"], vals["value"], strict=True))
    names = {n.unit_id: n.name for n in npus}
    codes = sorted(by_msoa)
    z = [value.get(by_msoa[c], math.nan) for c in codes]
    units = kinds.unit_text(m)
    text = [plot_text(f"{names[by_msoa[c]]} ({shapes[c]['properties']['name']}): "
                      f"{metrics.fmt(m, value.get(by_msoa[c]))} {units}") for c in codes]
    traces: list[dict[str, Any]] = [{
        "type": "choropleth",
        "geojson": {"type": "FeatureCollection", "features": [shapes[c] for c in codes]},
        "featureidkey": "id",
        "locations": codes,
        "z": [None if not math.isfinite(v) else v for v in z],
        "colorscale": COLOURS,
        "marker": {"line": {"color": "#ffffff", "width": 0.4}},
        "colorbar": {"title": {"text": _wrap(units), "side": "right"}, "thickness": 14,
                     "len": 0.8},
        "text": text,
        "customdata": [by_msoa[c] for c in codes],
        "hovertemplate": "%{text}<extra></extra>",
        "name": m.label,
    }]
    focus = [c for c in codes if by_msoa[c] == view.unit.unit_id]
    if focus:  # the NPU itself, outlined
        traces.append({
            "type": "choropleth", "geojson": traces[0]["geojson"], "featureidkey": "id",
            "locations": focus, "z": [0] * len(focus), "showscale": False, "hoverinfo": "skip",
            "colorscale": [[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
            "marker": {"line": {"color": "#D55E00", "width": 2}}, "name": view.unit.name,
        })
    if points is not None and not points.empty:
        traces.append({
            "type": "scattergeo", "mode": "markers", "name": "records",
            "lon": points["longitude"].round(4).tolist(), "lat": points["latitude"].round(4).tolist(),
            "marker": {"size": 3, "color": GREY, "opacity": 0.5}, "hoverinfo": "skip",
        })
    ranked = sorted(((value.get(n.unit_id, math.nan), n.name) for n in npus),
                    key=lambda t: (-t[0] if math.isfinite(t[0]) else math.inf))
    top = ranked[0]
    title = (f"{top[1]} has the highest {m.label.lower()} of the {len(npus)} NPUs shown"
             if math.isfinite(top[0]) else f"{m.label}: no values for these NPUs")
    fig = figure(traces, title, f"{units}, {p.label}; NPUs drawn as their 2011 MSOAs; darker = higher",
                 height=520, margin={"l": 10, "r": 10, "t": 70, "b": 30})
    fig["layout"]["annotations"] = [{
        "text": plot_text(geo.ATTRIBUTION), "showarrow": False, "xref": "paper", "yref": "paper",
        "x": 0, "y": -0.04, "xanchor": "left", "yanchor": "top", "font": {"size": 9, "color": GREY}}]
    fig["layout"]["geo"] = {"fitbounds": "locations", "visible": False,
                            "projection": {"type": "mercator"}, "bgcolor": "#ffffff"}
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
