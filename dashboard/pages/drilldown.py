"""One measure down the hierarchy: force -> BCU -> NPU -> team.

- a ranked bar of the unit's children with their 95% intervals (click a bar to go down);
- the trend of the unit against its parent (the force against the same period last year);
- breadcrumbs back up; a table of the children (click a row to go down);
- for an NPU, a map of its records from their coordinates (plain axes, no tile server);
- the drill-through table of the raw records behind the cell, with CSV export.

Each chart has a `process_*` function (numbers, from DataAccess) and a `create_*` function
(the figure), so callbacks and exports are testable without a browser.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import state as url_state
from dashboard.analysis import assessment, kinds, metrics, pim_status, ranking
from dashboard.analysis.metrics import has_denominator
from dashboard.auth import current_actor
from dashboard.components import officers as officer_page
from dashboard.components.axes import ticks
from dashboard.components.charts import finding
from dashboard.components.common import (
    BLUE,
    GREY,
    ORANGE,
    SKY,
    VERMILLION,
    csv_button,
    empty_figure,
    figure,
    graph,
    grid,
    page_header,
    plot_text,
    records,
    section,
    values,
    wrap_titles,
)
from dashboard.components.concentration import concentration_card
from dashboard.components.controls import controls
from dashboard.components.coverage import unassigned_note
from dashboard.components.harm import harm_card
from dashboard.components.maps import map_figure, npus_of
from dashboard.data.access import NOT_AVAILABLE
from dashboard.data.facade import RECORDS_CSV_LIMIT, DataAccess
from dashboard.data.model import Unit, View
from dashboard.exports import chart, export
from dashboard.periods import month_end, month_start
from etl import hierarchy
from etl.measures.crime import CATEGORY_LABELS, SANCTION_TYPES
from etl.measures.model import Measure
from etl.reference import areas, geo
from etl.sources.registry import recorded_down_to

PATH = "/drill-down"
TITLE = "Drill-down"
PAGE_ROWS = 100
NO_CHILDREN = "No units below this one."
TREND_WIDTH_PX = 620  # the trend's narrowest: a half column of a wide screen (A4 is ~720)


# -- the children: ranked bar and table ------------------------------------------------------


def empty_note(data: DataAccess, view: View) -> str:
    """What an empty ranking says: that the measure is not recorded at the children's level,
    why the units below are hidden, or that there are none."""
    below = children_level(view)
    if below is not None and hierarchy.level(below).individual and data.children(view.unit.unit_id):
        return officer_page.NOT_RANKED
    return (not_recorded_note(view.measure, view.unit.level)
            or not_recorded_note(view.measure, below)
            or data.hidden_children_note(view.unit.unit_id) or NO_CHILDREN)


def children_level(view: View) -> str | None:
    """The level the bars rank: the next one down, or NPUs of the force with rank=npu."""
    if view.state.rank == "npu" and view.unit.level == "force":
        return "npu"
    return hierarchy.below(view.unit.level)


def not_recorded_note(measure: Measure, level_id: str | None) -> str | None:
    """'Missing persons reported: not recorded at team level (...)' when `level_id` is below
    the lowest level the measure's dataset records (etl.sources.registry.recorded_down_to,
    derived from the dataset's columns); None where it is recorded. A unit there has no
    figure for the measure, which is not the same as a figure of 0."""
    if level_id is None:
        return None
    lowest = recorded_down_to(measure.dataset)
    if hierarchy.depth(level_id) <= hierarchy.depth(lowest):
        return None
    label = hierarchy.level(level_id).label
    lowest_label = hierarchy.level(lowest).label
    return f"{measure.label}: not recorded at {label} level (records go down to {lowest_label} level only)"


def recorded_at(measure: Measure, level_id: str) -> bool:
    """Whether the measure has figures at this level (see `not_recorded_note`)."""
    return not_recorded_note(measure, level_id) is None


def child_units(data: DataAccess, view: View) -> list[Unit]:
    """What the bar ranks: the unit's children, or every NPU of the force with rank=npu;
    none where the measure is not recorded at that level."""
    level_id = children_level(view)
    if not recorded_at(view.measure, view.unit.level) or level_id is None or not recorded_at(view.measure,
                                                                                            level_id):
        return []
    if hierarchy.level(level_id).individual:  # officers are never ranked (no league table)
        return []
    if view.state.rank == "npu" and view.unit.level == "force":
        return sorted(data.units_at(view.unit.force_id, "npu"), key=lambda u: u.name)
    return sorted(data.children(view.unit.unit_id), key=lambda u: u.name)


def parent_name(view: View) -> str:
    """How a sentence names the unit the children are judged against: 'the force', 'Northern
    BCU'."""
    return "the force" if view.unit.level == "force" else view.unit.title


def process_children(data: DataAccess, view: View, also: Sequence[str] = ()) -> pd.DataFrame:
    """The children's values for the period, with their rate (per 1,000 residents for
    counts), its interval and one verdict against the unit itself (the funnel around its
    rate, dashboard/analysis/ranking.py), ordered significantly worse first, then by rate.
    `also`: other units of the force whose values the page draws next (the force's map of its
    NPUs), read in the same query and cached for it (DataAccess.values caches unit by unit)."""
    units = child_units(data, view)
    measure = view.measure
    if not units:
        frame = data.values(measure.id, (), view.period.start, view.period.end)
        return frame.assign(rank=[], **{c: [] for c in ranking.RATE_COLUMNS}, parent_rate=[], per_head=[])
    ids = [u.unit_id for u in units]
    taken = {*ids, view.unit.unit_id}
    extra = tuple(dict.fromkeys(a for a in also if a not in taken))
    # The unit itself comes along in the same query, as the reference.
    both = data.values(measure.id, (*ids, view.unit.unit_id, *extra), view.period.start,
                       view.period.end).iloc[:len(ids) + 1]
    frame, parent = both.iloc[:-1].copy(), both.iloc[-1]
    return ranking.rank_against(measure, frame, parent, parent_name(view))


def bar_title(df: pd.DataFrame, view: View) -> str:
    """The finding: the child significantly worse than the unit, or that none differs."""
    lv = hierarchy.level(str(df["level"].iloc[0]))
    return ranking.headline(view.measure, df, parent_name(view), lv.label, lv.plural)


_BAR_GROUPS = (  # verdict codes -> legend, colour, hatching; the words carry the meaning
    (("worse",), "Significantly worse than {p} (hatched)", VERMILLION, "/"),
    (("above", "below"), "Significantly different from {p}", ORANGE, "/"),
    (("better",), "Significantly better than {p}", BLUE, ""),
    (("same",), "Not significantly different from {p}", SKY, ""),
    (("none",), "Not tested", GREY, ""),
)


def create_bar(df: pd.DataFrame, view: View, empty: str = NO_CHILDREN) -> dict[str, Any]:
    """Horizontal bars of the children's rates, in the order `process_children` gives (top
    first), 95% intervals as error bars, the unit's own rate as a dashed line. The colour,
    the hatching, the legend and ▲/▼ (which side of the unit's rate, beyond the 99.8% limit)
    all say the one verdict the table shows. `empty`: what to say when there are no bars
    (`empty_note` says why)."""
    if df.empty:
        return empty_figure(empty)
    m = view.measure
    by_head = bool(df["per_head"].iloc[0])
    parent = parent_name(view)
    # plotly draws the first category at the bottom: the rows reversed, as Python lists (a
    # pandas mask and column arithmetic per verdict group were most of this function)
    rows = df.iloc[::-1]
    col = {c: rows[c].tolist() for c in ("name", "position", "numerator", "vs_parent", "rate", "rate_lower",
                                         "rate_upper", "unit_id", "vs_parent_text")}
    names = [
        plot_text(n) + (" ▲" if str(pos).startswith("above_99") else " ▼" if str(pos).startswith("below_99")
                        else "")
        for n, pos in zip(col["name"], col["position"], strict=True)
    ]
    counts = [metrics.fmt(m, v) for v in col["numerator"]] if not has_denominator(m) else [""] * len(names)
    count_text = [f"<br>{c} {m.unit}" if c and by_head else "" for c in counts]
    traces: list[dict[str, Any]] = []
    for codes, label, colour, pattern in _BAR_GROUPS:
        part = [i for i, v in enumerate(col["vs_parent"]) if v in codes]
        if not part:
            continue
        marker: dict[str, Any] = {"color": colour, "line": {"color": "#333333", "width": 0.5}}
        if pattern:
            marker["pattern"] = {"shape": pattern, "fgcolor": "#ffffff", "fillmode": "overlay",
                                 "solidity": 0.35}
        rate = [float(col["rate"][i]) for i in part]
        lower = [float(col["rate_lower"][i]) for i in part]
        upper = [float(col["rate_upper"][i]) for i in part]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": [names[i] for i in part],
                "x": _json_floats(rate),
                "name": plot_text(label.format(p=parent)),
                "marker": marker,
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": _json_floats([hi - r for hi, r in zip(upper, rate, strict=True)]),
                    "arrayminus": _json_floats([r - lo for r, lo in zip(rate, lower, strict=True)]),
                    "color": "#333333",
                    "thickness": 1.2,
                },
                "customdata": [
                    [col["unit_id"][i], lo, hi, plot_text(col["vs_parent_text"][i]), count_text[i]]
                    for i, lo, hi in zip(part, _json_floats(lower), _json_floats(upper), strict=True)
                ],
                "hovertemplate": "%{y}: %{x:,.4~g} " + plot_text(ranking.rate_unit(m, by_head))
                + "%{customdata[4]}<br>95% interval %{customdata[1]:,.4~g} to %{customdata[2]:,.4~g}"
                "<br>%{customdata[3]}<br>Click to drill down<extra></extra>",
            }
        )
    shapes, annotations = [], []
    ref = float(df["parent_rate"].iloc[0])
    if (by_head or has_denominator(m)) and math.isfinite(ref):
        shapes.append({"type": "line", "x0": ref, "x1": ref, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": GREY, "dash": "dash", "width": 1.5}})
        annotations.append({"x": ref, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11, "color": "#444444"},
                            "text": plot_text(f"{view.unit.name}: {ranking.fmt_rate(m, ref, by_head)}")})
    unit = ranking.rate_unit(m, by_head)
    if (df["vs_parent"] == "none").all():
        order = "ranked by rate" if by_head or has_denominator(m) else "ranked by count"
    else:
        order = "significantly worse first, then by rate"
    fig = figure(
        traces,
        "",
        "",
        height=max(250, 150 + 28 * len(df)),
        xaxis={"title": {"text": plot_text(unit)}, "rangemode": "tozero"},
        yaxis={"categoryorder": "array", "categoryarray": names},
        barmode="overlay",
        bargap=0.25,
        shapes=shapes,
        annotations=annotations,
        margin={"l": 10, "r": 20, "t": 62, "b": 84},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
    )
    return wrap_titles(fig, bar_title(df, view),
                       [f"{m.label}, {unit}, {view.period.label}, {view.as_of_text}; {order}, "
                        "with 95% intervals"], room_above=16 if shapes else 0)





def _json_floats(xs: list[float]) -> list[float | None]:
    """Floats as the figure's JSON holds them: NaN -> None (what `values` does for a column)."""
    return [None if x != x else x for x in xs]


CHILD_FIELDS = ["unit_id", "rank", "name", "value_text", "rate_text", "interval_text", "numerator",
                "vs_parent_text", "spc_text", "peer_text"]


def children_rows(df: pd.DataFrame, view: View, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the children table shows, in the bars' order with the bars' verdict. The interval
    is the rate's. SPC status and position among peers come from dashboard/pim_status.py
    (`extra`); without it (first draw) they read '…' until the second callback fills them."""
    m = view.measure
    show = df.copy()
    by_head = bool(show["per_head"].iloc[0]) if len(show) else False
    show["value_text"] = [metrics.fmt(m, v) for v in show["value"]]
    show["rate_text"] = [ranking.fmt_rate(m, v, True) for v in show["rate"]] if by_head else ""
    show["interval_text"] = [
        metrics.fmt_interval(m, lo, hi) if not by_head else
        ("" if not (math.isfinite(lo) and math.isfinite(hi)) else f"{lo:,.2f} to {hi:,.2f}")
        for lo, hi in zip(show["rate_lower"], show["rate_upper"], strict=True)
    ]
    if extra is not None and not extra.empty:
        found = extra.set_index("unit_id")
        show["spc_text"] = [found.at[u, "spc_text"] if u in found.index else "" for u in show["unit_id"]]
        show["peer_text"] = [found.at[u, "peer_text"] if u in found.index else "" for u in show["unit_id"]]
    else:
        show["spc_text"] = "…"
        show["peer_text"] = "…"
    return show[CHILD_FIELDS]


def process_children_extra(data: DataAccess, view: View, df: pd.DataFrame) -> pd.DataFrame:
    """Each child's SPC status for the measure and its position among its own peers."""
    return pim_status.children_extra(data, list(df["unit_id"]), view.measure.id, view.period.start,
                                     view.period.end)


def create_children_grid(df: pd.DataFrame, view: View, empty: str = NO_CHILDREN) -> Any:
    m = view.measure
    if df.empty:
        return html.P(empty, className="mb-0", id="children-empty")
    by_head = bool(df["per_head"].iloc[0])
    columns = [
        {"field": "rank", "headerName": "Rank", "maxWidth": 90, "type": "numericColumn"},
        {
            "field": "name",
            "headerName": "Unit",
            "minWidth": 160,
            "cellStyle": {"textDecoration": "underline", "cursor": "pointer"},
        },
        {"field": "value_text", "headerName": m.label, "type": "rightAligned"},
        *([{"field": "rate_text", "headerName": "Per 1,000 residents", "type": "rightAligned"}] if by_head
          else []),
        {"field": "interval_text", "headerName": "95% interval" + (" (per 1,000)" if by_head else ""),
         "type": "rightAligned"},
        {"field": "numerator", "headerName": "Numerator", "type": "numericColumn"},
        {"field": "vs_parent_text", "headerName": f"Against {view.unit.name} ({ranking.SIGNIFICANT} limits)",
         "minWidth": 320},
        {"field": "spc_text", "headerName": "SPC status", "minWidth": 140},
        {"field": "peer_text", "headerName": "Among its peers (1 = best)", "minWidth": 300},
    ]
    return html.Div([
        dcc.Store(id="children-extra-view", data=view.state.query()),
        grid("children-grid", children_rows(df, view), columns, row_id="unit_id"),
    ])


def unit_status(data: DataAccess, view: View) -> Any:
    """One line for the unit itself, from its assessment (the scorecard's row): SPC status of
    the measure, its MSF or peer position and its target for the period, linked to the Early
    warning and Compare pages; where the measure is not recorded at the unit's level, that."""
    missing = not_recorded_note(view.measure, view.unit.level)
    if missing:
        return [html.Span(missing)]
    row = assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end,
                            measure_ids=[view.measure.id]).iloc[0]
    group = "MSF" if view.unit.level == "force" else "peers"
    spc = row["spc_text"] or "no chart (too few months)"
    parts: list[Any] = [
        html.Span("SPC status: ", className="fw-semibold"),
        dcc.Link(spc, href=view.state.href("/early-warning"), title=row["spc_signals"] or None),
        html.Span(f"  ·  Among its {group}: ", className="fw-semibold"),
        # The group's name is a tooltip, so the line stays short above the bars.
        dcc.Link(row["peer_text"] or "no group", href=view.state.href("/compare"),
                 title=f"Group: {row['peer_group']}" if row["peer_group"] else None),
    ]
    if row["target_text"]:
        parts += [html.Span("  ·  Target: ", className="fw-semibold"), html.Span(row["target_text"])]
    if row["exception"]:
        parts += [html.Span("  ·  Exception: ", className="fw-semibold"), html.Span(row["reasons"])]
    return parts


# -- the trend ---------------------------------------------------------------------------------


def process_trend(data: DataAccess, view: View) -> pd.DataFrame:
    """The unit's series by the view's grain, and its comparison line: the parent's series
    (scaled to the unit for counts), or for a force the same period last year."""
    m = view.measure
    p = view.period
    parent = view.path[-2] if len(view.path) > 1 else None
    ids = (view.unit.unit_id,) if parent is None else (view.unit.unit_id, parent.unit_id)
    both = data.series_many(m.id, ids, p.start, p.end, view.grain)  # one query for the two
    out = both[view.unit.unit_id]
    if parent is None:
        last = p.last_year()
        ref = data.series(m.id, view.unit.unit_id, last.start, last.end, view.grain)
        label = "Same period last year"
        before = ref["value"].to_numpy()
        n = min(len(before), len(out))
        compare = np.full(len(out), np.nan)
        compare[:n] = before[:n]
    else:
        ref = both[parent.unit_id]
        compare = ref["value"].to_numpy(dtype=float)
        label = parent.title
        if not has_denominator(m):
            if view.unit.population and parent.population:
                compare = compare * view.unit.population / parent.population
                label = f"{parent.title} at {view.unit.name}'s population (rate per head)"
            else:
                tot_u, tot_p = np.nansum(out["value"]), np.nansum(compare)
                compare = compare * (tot_u / tot_p) if tot_p else compare * np.nan
                label = f"{parent.title}'s pattern, scaled to {view.unit.name}'s total"
    out["comparison"] = compare
    out["comparison_label"] = label
    return out


def _trend_title(data: DataAccess, view: View) -> str:
    m = view.measure
    p = view.period
    now = data.values(m.id, (view.unit.unit_id,), p.start, p.end).iloc[0]  # one query: cube
    last = p.last_year()
    head = f"{view.unit.title}: {metrics.fmt(m, now['value'])} {m.unit}"
    if not data.covered(view.unit.force_id, last, m.dataset):
        return head + "; no data for the same period last year"
    before = data.values(m.id, (view.unit.unit_id,), last.start, last.end).iloc[0]
    comp = metrics.compare(
        m,
        now["numerator"],
        now["denominator"],
        before["numerator"],
        before["denominator"],
        now["num2"],
        before["num2"],
    )
    return f"{head}, {comp.text} on last year"


def create_trend(df: pd.DataFrame, view: View, title: str) -> dict[str, Any]:
    m = view.measure
    if df.empty or df["missing"].all():
        return empty_figure("No data for this period.")
    x = [d.isoformat() for d in df["period_start"]]
    ok = ~df["missing"]
    band_x = x + x[::-1]
    band_y = values(df["upper"]) + values(df["lower"])[::-1]
    symbols = [
        "x" if s else ("circle-open" if pt else "circle")
        for s, pt in zip(df["suspect"], df["partial"], strict=True)
    ]
    notes = [
        ("suspect month; " if s else "") + ("partial period" if pt else "")
        for s, pt in zip(df["suspect"], df["partial"], strict=True)
    ]
    comparison_label = plot_text(df["comparison_label"].iloc[0])
    traces = [
        {
            "type": "scatter",
            "x": band_x,
            "y": band_y,
            "mode": "lines",  # a band, not points: with few months Plotly would add markers
            "fill": "toself",
            "fillcolor": "rgba(0,114,178,0.15)",
            "line": {"width": 0},
            "hoverinfo": "skip",
            "name": "95% interval",
        },
        {
            "type": "scatter",
            "x": x,
            "y": values(df["value"].where(ok)),
            "mode": "lines+markers",
            "name": plot_text(view.unit.title),
            "line": {"color": BLUE, "width": 2.5},
            "marker": {"symbol": symbols, "size": 7, "color": BLUE},
            "customdata": [
                [lbl, n, note]
                for lbl, n, note in zip(df["label"], values(df["numerator"]), notes, strict=True)
            ],
            "hovertemplate": "%{customdata[0]}: %{y:,.4~g}<br>numerator %{customdata[1]:,.0f}"
            "<br>%{customdata[2]}<extra></extra>",
        },
        {
            "type": "scatter",
            "x": x,
            "y": values(df["comparison"]),
            "mode": "lines",
            "name": comparison_label,
            "line": {"color": GREY, "width": 2, "dash": "dash"},
            "hovertemplate": "%{y:,.4~g}<extra>" + comparison_label + "</extra>",
        },
    ]
    grain_word = "financial year" if view.grain == "fy" else view.grain
    sub = f"{m.label} ({metrics.unit_text(m)}) by {grain_word}, {view.period.label}, {view.as_of_text}"
    if df["suspect"].any():
        sub += "; × = suspect month"
    if df["partial"].any():
        sub += "; open marker = partial period"
    fig = figure(
        traces,
        "",
        "",
        # The y-axis title short (the full unit is in the subtitle): a long one runs up into it.
        yaxis={"title": {"text": plot_text(m.unit)}, "rangemode": "tozero"},
        # Police-paper ticks ('Q1 2007/08', '2007/08'), thinned for the narrowest the chart is
        # read at: half a wide screen beside the bars, or an A4 page.
        xaxis={"type": "date", **ticks(list(df["period_start"]), view.grain, width_px=TREND_WIDTH_PX)},
    )
    return wrap_titles(fig, title, [sub])


# -- the NPU map ---------------------------------------------------------------------------------

MAP_PENDING = "Placing the records on the map…"
NPU_MAP_PENDING = "Placing the NPUs on the map…"
NOT_PLACED = "These NPUs cannot be placed on the boundaries."


def npus_map_shown(view: View, npu_without_records: bool) -> bool:
    """Whether the page has the map of NPUs' values (a force's or a BCU's; an NPU's own when its
    records may not be seen: its values, no points)."""
    return view.unit.level in ("force", "bcu") or npu_without_records


def process_map(data: DataAccess, view: View) -> pd.DataFrame:
    return data.map_points(view.measure.id, view.unit.unit_id, view.period.start, view.period.end)


def npu_map(data: DataAccess, view: View, points: pd.DataFrame, total: int) -> dict[str, Any]:
    """The NPU on real boundaries with its records on top; the plain-axes map where the NPU
    cannot be placed on the boundaries."""
    fig = map_figure(data, view, points)
    return fig if fig is not None else create_map(points, view, total)


def create_map(df: pd.DataFrame, view: View, total: int) -> dict[str, Any]:
    """Records as points on plain longitude/latitude axes with equal ground scale: no map
    tiles, so it works on a machine with no internet."""
    m = view.measure
    if df.empty:
        return empty_figure("No records with coordinates for this cell.")
    lat0 = float(df["latitude"].mean())
    if m.column == "sd":
        groups = [
            (df[df["sanction"].astype(bool)], "Sanction detection", BLUE, "circle"),
            (df[~df["sanction"].astype(bool)], "Not detected", ORANGE, "x"),
        ]
    else:
        groups = [(df, m.label, BLUE, "circle")]
    traces = []
    for part, name, colour, symbol in groups:
        if part.empty:
            continue
        labels = {c: plot_text(CATEGORY_LABELS.get(c, c)) for c in part["category"].unique()}
        trace: dict[str, Any] = {
            # SVG scatter, not WebGL: it prints, and needs no GPU (headless browsers log
            # warnings when WebGL falls back to software).
            "type": "scatter",
            "mode": "markers",
            "x": values(part["longitude"].round(4)),
            "y": values(part["latitude"].round(4)),
            "name": plot_text(name),
            "marker": {"color": colour, "size": 5, "opacity": 0.6, "symbol": symbol},
        }
        if len(labels) > 1:
            trace["text"] = part["category"].map(labels).tolist()
            trace["hovertemplate"] = "%{text}<br>%{x:.4f}, %{y:.4f}<extra></extra>"
        else:
            trace["hovertemplate"] = next(iter(labels.values()), "") + "<br>%{x:.4f}, %{y:.4f}<extra></extra>"
        traces.append(trace)
    shown = len(df)
    what = f"{total:,} records" if shown == total else f"a sample of {shown:,} of {total:,} records"
    return figure(
        traces,
        f"Where {view.unit.title}'s {m.label.lower()} were recorded: {what}",
        f"{view.period.label}, {view.as_of_text}; approximate locations, no map tiles",
        height=480,
        xaxis={
            "title": {"text": "Longitude"},
            "showgrid": True,
            "gridcolor": "#eeeeee",
            "constrain": "domain",
        },
        yaxis={
            "title": {"text": "Latitude"},
            "showgrid": True,
            "gridcolor": "#eeeeee",
            "scaleanchor": "x",
            "scaleratio": 1 / math.cos(math.radians(lat0)),
            "constrain": "domain",
        },
    )


# -- drill-through records -------------------------------------------------------------------


def record_columns(view: View, sortable: Sequence[str]) -> list[dict[str, Any]]:
    daily = bool(view.source and view.source.has_days)
    cols = [
        {"field": "date" if daily else "month", "headerName": "Date" if daily else "Month", "minWidth": 110},
        {"field": "crime_id", "headerName": "Crime reference", "minWidth": 150},
        {"field": "category", "headerName": "Category", "minWidth": 150},
        {"field": "outcome", "headerName": "Outcome", "minWidth": 170},
        {"field": "sanction", "headerName": "Sanction detection"},
        {"field": "detection_type", "headerName": "Detection type", "minWidth": 150},
        {"field": "npu", "headerName": "NPU", "minWidth": 130},
        {"field": "team", "headerName": "Team (of the officer in charge)", "minWidth": 150},
        {"field": "lsoa_code", "headerName": "LSOA"},
        {"field": "location", "headerName": "Location", "minWidth": 170},
    ]
    for c in cols:
        c["sortable"] = c["field"] in sortable
    return cols


def shape_records(data: DataAccess, frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows -> what the table shows: labels for codes and unit names for unit ids. The
    officer in charge is not shown (officer level is off until access control lands).
    Vectorised (column maps), because the CSV export shapes up to 100,000 rows."""
    names = {u: _unit_name(data, u) for col in ("npu_id", "team_id") for u in frame[col].dropna().unique()}
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d"),
            "month": pd.to_datetime(frame["month"]).dt.strftime("%Y-%m"),
            "crime_id": frame["crime_id"],
            "category": frame["category"].map(lambda c: CATEGORY_LABELS.get(c, c)),
            "outcome": frame["outcome"],
            "sanction": frame["sanction"].map({True: "Yes", False: "No"}).fillna("No"),
            "detection_type": frame["detection_type"].map(SANCTION_TYPES).fillna(frame["detection_type"]),
            "npu": frame["npu_id"].map(names),
            "team": frame["team_id"].map(names),
            "lsoa_code": frame["lsoa_code"],
            "location": frame["location"],
        }
    )
    return out.astype(object).where(out.notna(), None)


def record_rows(data: DataAccess, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`shape_records(data, frame).to_dict("records")`, the same dicts, built from the columns
    as Python lists: a page of the table is 100 rows, for which pandas' date parsing, maps and
    the frame-wide astype/where cost ~5 ms (a third of a records request's Python). The CSV
    export (up to 100,000 rows) keeps the vectorised `shape_records`."""
    def col(name: str) -> list[Any]:
        return [None if _missing(v) else v for v in frame[name].tolist()]

    names = {u: _unit_name(data, u) for c in ("npu_id", "team_id") for u in frame[c].dropna().unique()}
    sanction = {True: "Yes", False: "No"}
    out = {
        "date": [None if v is None else v.strftime("%Y-%m-%d") for v in col("date")],
        "month": [None if v is None else v.strftime("%Y-%m") for v in col("month")],
        "crime_id": col("crime_id"),
        "category": [None if v is None else _present_or_none(CATEGORY_LABELS.get(v, v))
                     for v in col("category")],
        "outcome": col("outcome"),
        "sanction": [sanction.get(v, "No") if v is not None else "No" for v in col("sanction")],
        "detection_type": [None if v is None else SANCTION_TYPES.get(v, v) for v in col("detection_type")],
        "npu": [None if v is None else _present_or_none(names.get(v)) for v in col("npu_id")],
        "team": [None if v is None else _present_or_none(names.get(v)) for v in col("team_id")],
        "lsoa_code": col("lsoa_code"),
        "location": col("location"),
    }
    keys = list(out)
    return [dict(zip(keys, row, strict=True)) for row in zip(*out.values(), strict=True)]


def _missing(v: Any) -> bool:
    """pd.isna for one cell (None, NaN, NaT, NA)."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def _present_or_none(v: Any) -> Any:
    return None if _missing(v) else v


def _unit_name(data: DataAccess, unit_id: Any) -> str | None:
    if not isinstance(unit_id, str):
        return None
    unit = data.unit(unit_id)
    return unit.name if unit else unit_id


def _row_index(value: Any, default: int) -> int:
    """A row index from the grid's request, kept to what a table can hold (a malformed
    request's text or 10**30 becomes the default or the cap, never an error)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return default
    return int(min(max(value, 0), 10**9))


def records_response(data: DataAccess, view: View, request: dict[str, Any] | None) -> dict[str, Any]:
    """AG Grid's infinite row model asks for rows [startRow, endRow) in a sort order; the
    server answers with that page and the total (so pagination knows how many pages)."""
    if not data.may_see_records(view.unit):
        return {"rowData": [], "rowCount": 0}
    request = request if isinstance(request, dict) else {}
    start = _row_index(request.get("startRow"), 0)
    end = max(_row_index(request.get("endRow"), start + PAGE_ROWS), start)
    order_by, descending = "date" if view.source and view.source.has_days else "month", False
    sorts = request.get("sortModel")
    for sort in sorts if isinstance(sorts, list) else []:
        if not isinstance(sort, dict) or not isinstance(sort.get("colId"), str):
            continue
        col = {"npu": "npu_id", "team": "team_id"}.get(sort["colId"], sort["colId"])
        if col in data.record_columns():
            order_by, descending = col, sort.get("sort") == "desc"
            break
    p = view.period
    frame = data.records(
        view.measure.id,
        view.unit.unit_id,
        p.start,
        p.end,
        offset=start,
        limit=min(end - start, 1000),
        order_by=order_by,
        descending=descending,
    )
    total = data.record_count(view.measure.id, view.unit.unit_id, p.start, p.end)
    return {"rowData": record_rows(data, frame), "rowCount": total}


def create_records_grid(view: View, sortable: Sequence[str]) -> dag.AgGrid:
    return dag.AgGrid(
        id="records-grid",
        columnDefs=record_columns(view, sortable),
        defaultColDef={"sortable": False, "filter": False, "resizable": True, "minWidth": 100},
        rowModelType="infinite",
        columnSize="autoSize",
        dashGridOptions={
            "pagination": True,
            "paginationPageSize": PAGE_ROWS,
            "cacheBlockSize": PAGE_ROWS,
            "paginationPageSizeSelector": False,
            "maxBlocksInCache": 5,
            "rowBuffer": 0,
            "enableCellTextSelection": True,
        },
        style={"height": 460},
    )


# -- exports: exactly what is drawn ---------------------------------------------------------


@export("drill-children")
def export_children(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    df = process_children(data, view)
    return df, f"{view.measure.id}-ranked"


@export("drill-trend")
def export_trend(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    return process_trend(data, view), f"{view.measure.id}-{view.grain}-trend"


@export("drill-map")
def export_map(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    return process_map(data, view), f"{view.measure.id}-map"


@export("drill-records")
def export_records(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    p = view.period
    frame = data.records(view.measure.id, view.unit.unit_id, p.start, p.end, limit=RECORDS_CSV_LIMIT)
    return shape_records(data, frame), f"{view.measure.id}-records"


# -- the page ----------------------------------------------------------------------------------


def breadcrumbs(view: View) -> html.Nav:
    items = []
    for i, u in enumerate(view.path):
        last = i == len(view.path) - 1
        label = u.title
        if last:
            items.append(html.Li(label, className="breadcrumb-item active", **{"aria-current": "page"}))
        else:
            items.append(
                html.Li(
                    dcc.Link(
                        label,
                        href=view.state.href(PATH, unit=u.unit_id, rank=None),
                        id={"type": "crumb", "level": u.level},
                    ),
                    className="breadcrumb-item",
                )
            )
    return html.Nav(
        html.Ol(items, className="breadcrumb mb-2"), **{"aria-label": "breadcrumb"}, id="breadcrumbs"
    )


@chart("drill-bar")
def bar_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return create_bar(process_children(data, view), view, empty_note(data, view))


@chart("drill-trend")
def trend_figure(data: DataAccess, view: View) -> dict[str, Any]:
    missing = not_recorded_note(view.measure, view.unit.level)
    if missing:
        return empty_figure(missing)
    return create_trend(process_trend(data, view), view, _trend_title(data, view))


@chart("drill-map")
def map_chart(data: DataAccess, view: View) -> dict[str, Any]:
    p = view.period
    total = data.record_count(view.measure.id, view.unit.unit_id, p.start, p.end)
    return npu_map(data, view, process_map(data, view), total)


@chart("drill-npu-map")
def npus_map_chart(data: DataAccess, view: View) -> dict[str, Any]:
    return map_figure(data, view) or empty_figure(NOT_PLACED)


def read_ahead(data: DataAccess, view: View, also: Sequence[str]) -> contextlib.ExitStack:
    """Announce the measure's cube rows the page reads (DataAccess.read_ahead), so they come
    in one query instead of four: by month, the unit's, its parent's, its children's and
    `also`'s from last year's period to the end of this one (the children's values, the
    trend and its title's last year); by day, the unit's and its parent's over the same span
    (a day or week trend and last year's)."""
    p = view.period
    last = p.last_year()
    parent = [view.path[-2].unit_id] if len(view.path) > 1 else []
    own = [view.unit.unit_id, *parent]
    ranked = [u.unit_id for u in child_units(data, view)]
    stack = contextlib.ExitStack()
    stack.enter_context(data.read_ahead(view.measure.id, [*own, *ranked, *also], month_start(last.start),
                                        month_end(p.end), "month"))
    stack.enter_context(data.read_ahead(view.measure.id, own, last.start, p.end, "day"))
    return stack


def layout(data: DataAccess, view: View) -> list[Any]:
    # a force's page also colours every NPU on its map: their values come in the children's read
    also = [n.unit_id for n in npus_of(data, view)] if view.unit.level == "force" else []
    with read_ahead(data, view, also):
        return _layout(data, view, also)


def _layout(data: DataAccess, view: View, also: list[str]) -> list[Any]:
    m = view.measure
    p = view.period
    children = process_children(data, view, also)
    empty = empty_note(data, view)
    bar = create_bar(children, view, empty)
    rank_choice: Any = None
    if view.unit.level == "force" and recorded_at(m, "npu") and data.units_at(view.unit.force_id, "npu"):
        rank_choice = dbc.RadioItems(
            id={"ctl": "rank"},
            inline=True,
            value=view.state.rank or "",
            options=[{"label": "BCUs", "value": ""}, {"label": "All NPUs", "value": "npu"}],
            className="small me-2",
        )
    below = children_level(view)
    level_word = hierarchy.level(below).plural if below else "units"
    officers = officer_page.officers_below(data, view) if below == "officer" else []
    trend = trend_figure(data, view)
    # The answer first: where under this unit the problem is (the ranked bars, titled by the
    # child significantly worse than the unit) directly under the one-line status, above the
    # fold at 1366x768; the trend beside it on wide screens, below it otherwise.
    cards: list[Any] = [
        *page_header(TITLE, view),
        controls(data, view, measure=True),
        breadcrumbs(view),
        dcc.Store(id="drill-status-view", data=view.state.query()),
        html.P("SPC status and position among peers: …", id="drill-status", className="small mb-2"),
        dbc.Row(
            [
                dbc.Col(
                    # below a team: officers listed by name in place of the bars (never ranked)
                    officer_page.officer_list(officers, view) if officers else section(
                        f"{m.label}: {level_word} of {view.unit.name}"
                        if view.state.rank != "npu"
                        else f"{m.label}: every NPU of {view.unit.name}",
                        [
                            graph("drill-bar", bar),
                            html.P(
                                "Click a bar, or a row below, to drill down.",
                                className="small text-body-secondary mb-0",
                            ) if not children.empty else None,
                        ],
                        action=[rank_choice, csv_button("drill-children")],
                        card_id="bar-card",
                    ),
                    xxl=6,
                ),
                dbc.Col(
                    section(
                        f"Trend: {view.unit.title}",
                        graph("drill-trend", trend),
                        action=csv_button("drill-trend"),
                        card_id="trend-card",
                    ),
                    xxl=6,
                ),
            ]
        ),
        None if officers else section(
            f"{level_word[0].upper() + level_word[1:]} ranked",
            create_children_grid(children, view, empty),
            note=f"Significantly worse first, then by rate (counts per 1,000 residents, so units of "
            f"different size compare). 'Against {view.unit.name}': where the unit's rate lies on the "
            f"funnel around {view.unit.name}'s rate: beyond the {ranking.SIGNIFICANT} limit is a "
            "significant difference; beyond the 95% limit only is a warning, not a difference.",
            card_id="children-card",
        ),
    ]
    # NPUs on real boundaries (components/maps.py). An NPU's own map, its MSOAs' values, is
    # drawn below with its records; an actor who may not see the records still gets the
    # values (aggregates, like concentration), here, with no points.
    npu_without_records = (view.unit.level == "npu" and bool(m.categories)
                           and not data.may_see_records(view.unit))
    if npus_map_shown(view, npu_without_records) and npus_of(data, view):
        # drawn by its own callback (fill_npu_map) once the page is on screen: the boundaries of
        # every MSOA of the area, ~100 KB of figure, below the fold
        title = f"Map: {view.unit.title}" if npu_without_records else f"Map: NPUs of {view.unit.title}"
        cards.append(section(title, [dcc.Store(id="drill-npu-map-view", data=view.state.query()),
                                     graph("drill-npu-map", empty_figure(NPU_MAP_PENDING))],
                             card_id="npu-map-card"))
    gap = unassigned_note(data, view) if m.categories else None
    if gap is not None:  # records counted for the force but no BCU or NPU
        cards.append(gap)
    if kinds.is_weighted(m):  # crime harm: where it comes from, and how it was weighted
        cards.append(harm_card(data, view))
    if m.categories and view.unit.level in ("force", "bcu", "npu"):  # where in its LSOAs the crime is
        # below the fold: drawn by its own callback (fill_concentration) once the answer above
        # is on screen, as the children's status is (~25-40 ms of a national page's first draw)
        cards.append(html.Div(
            [dcc.Store(id="concentration-view", data=view.state.query()),
             section(f"Concentration: {view.unit.title}'s LSOAs",
                     html.P("Placing the crime in its LSOAs…", className="small mb-0"),
                     card_id="concentration-pending")],
            id="concentration-slot",
        ))
    if not m.categories:  # records are listed by crime category
        cards.append(
            dbc.Alert(
                f"Records behind {m.domain.lower()} measures are listed on their own page "
                "(coming); the map and drill-through table cover crime measures.",
                color="info",
                className="small",
                id="records-coming",
            )
        )
        return cards
    if not data.may_see_records(view.unit):  # the access seam: nothing record-level is sent
        cards.append(dbc.Alert(f"Records and the map behind {view.unit.title} are {NOT_AVAILABLE}.",
                               color="info", className="small", id="records-not-available"))
        return cards
    if view.unit.level == "npu":
        # below the fold: the records' points and the MSOAs' values are drawn by their own
        # callback (fill_map) once the page is on screen (~40-70 ms of a national NPU page)
        cards.append(
            section(
                f"Map: {view.unit.title}",
                [dcc.Store(id="drill-map-view", data=view.state.query()),
                 graph("drill-map", empty_figure(MAP_PENDING))],
                action=csv_button("drill-map"),
                card_id="map-card",
            )
        )
    count = data.record_count(m.id, view.unit.unit_id, p.start, p.end)
    note = (
        f"{count:,} records behind {m.label}, {view.unit.title}, {p.label}. "
        f"Pages of {PAGE_ROWS}; sort by clicking a column heading. The CSV holds every record "
        f"(up to {RECORDS_CSV_LIMIT:,}). The officer in charge is shown on officers' own pages only."
    )
    cards.append(
        section(
            "Records (drill-through)",
            create_records_grid(view, data.record_columns()),
            note=note,
            action=csv_button("drill-records"),
            card_id="records-card",
        )
    )
    return cards


def register(app: dash.Dash, data: DataAccess) -> None:
    # The map's reference data (the MSOA boundaries and their centres, the LSOA, MSOA and local
    # authority lookups) is read once per process: at start-up, not by the first drill-down a
    # user opens (~0.8 s of CPU that the first map view paid; every worker reads them then
    # anyway). Each is cached by the folder it reads, however it is called.
    geo.boundaries()
    areas.lsoas()
    areas.msoas()
    areas.local_authorities()
    # and the national grouping of LSOAs and MSOAs every force's default hierarchy is built from
    # (the concentration card of a custom range reads a force's hierarchy: ~70 ms the first card
    # of a worker paid), warmed by one force's hierarchy; each other force's adds ~6 ms on use
    forces = sorted({force for _name, force in areas.local_authorities().values()})
    if forces:
        areas.hierarchy(forces[0])
    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("drill-bar", "clickData"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def bar_click(click: dict[str, Any] | None, search: str | None) -> Any:
        unit_id = unit_from_click(click)
        if unit_id is None:
            return dash.no_update
        return url_state.parse(search).href(PATH, unit=unit_id, rank=None)

    @app.callback(
        Output("url", "href", allow_duplicate=True),
        Input("children-grid", "cellClicked"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def row_click(cell: dict[str, Any] | None, search: str | None) -> Any:
        if not cell or not cell.get("rowId"):
            return dash.no_update
        return url_state.parse(search).href(PATH, unit=str(cell["rowId"]), rank=None)

    @app.callback(
        Output("drill-status", "children"),
        Input("drill-status-view", "data"),
    )
    def fill_status(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update
            return unit_status(data, view)

    @app.callback(
        Output("children-grid", "rowData"),
        Input("children-extra-view", "data"),
    )
    def fill_children(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update
            df = process_children(data, view)
            if df.empty:
                return dash.no_update
            return records(children_rows(df, view, process_children_extra(data, view, df)))

    @app.callback(
        Output("concentration-slot", "children"),
        Input("concentration-view", "data"),
    )
    def fill_concentration(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update
            return concentration_card(data, view)

    @app.callback(
        Output("drill-map", "figure"),
        Output("drill-map-caption", "children"),
        Input("drill-map-view", "data"),
    )
    def fill_map(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            # the page draws this map only for an NPU whose records the actor may see: the same
            # test here, before anything record-level is read (dashboard/data/access.py)
            if (view is None or view.unit.level != "npu" or not view.measure.categories
                    or not data.may_see_records(view.unit)):
                return dash.no_update, dash.no_update
            fig = map_chart(data, view)
            return fig, finding(fig) or "Chart"

    @app.callback(
        Output("drill-npu-map", "figure"),
        Output("drill-npu-map-caption", "children"),
        Input("drill-npu-map-view", "data"),
    )
    def fill_npu_map(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update, dash.no_update
            without = (view.unit.level == "npu" and bool(view.measure.categories)
                       and not data.may_see_records(view.unit))
            if not npus_map_shown(view, without):
                return dash.no_update, dash.no_update
            fig = map_figure(data, view) or empty_figure(NOT_PLACED)
            return fig, finding(fig) or "Chart"

    @app.callback(
        Output("records-grid", "getRowsResponse"),
        Input("records-grid", "getRowsRequest"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def get_rows(request: dict[str, Any] | None, search: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(search))
            if view is None or request is None:
                return dash.no_update
            return records_response(data, view, request)


def unit_from_click(click: dict[str, Any] | None) -> str | None:
    """The unit id a click on a bar carries (customdata[0]); None for other marks."""
    if not click or not click.get("points"):
        return None
    custom = click["points"][0].get("customdata")
    if isinstance(custom, list) and custom and isinstance(custom[0], str):
        return custom[0]
    return None
