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
from dashboard.analysis import assessment, metrics, pim_status
from dashboard.analysis.metrics import has_denominator
from dashboard.auth import current_actor
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
)
from dashboard.components.controls import controls
from dashboard.data.access import OFFICER_OFF
from dashboard.data.facade import RECORDS_CSV_LIMIT, DataAccess
from dashboard.data.model import Unit, View
from dashboard.exports import export
from etl import hierarchy
from etl.measures.crime import CATEGORY_LABELS, SANCTION_TYPES
from etl.measures.model import Measure

PATH = "/drill-down"
TITLE = "Drill-down"
PAGE_ROWS = 100
NO_CHILDREN = "No units below this one."


# -- the children: ranked bar and table ------------------------------------------------------


def empty_note(data: DataAccess, view: View) -> str:
    """What an empty ranking says: why the units below are hidden, or that there are none."""
    return data.hidden_children_note(view.unit.unit_id) or NO_CHILDREN


def child_units(data: DataAccess, view: View) -> list[Unit]:
    """What the bar ranks: the unit's children, or every NPU of the force with rank=npu."""
    if view.state.rank == "npu" and view.unit.level == "force":
        return sorted(data.units_at(view.unit.force_id, "npu"), key=lambda u: u.name)
    return sorted(data.children(view.unit.unit_id), key=lambda u: u.name)


def _vs_parent(
    measure: Measure, row: pd.Series, parent_value: float, parent_pop: float | None
) -> tuple[str, str]:
    """(code, words) for a child against its parent: is the parent's level outside the
    child's 95% interval? For counts the parent's level is its rate per head applied to the
    child's population (no population: no comparison)."""
    if not all(np.isfinite([row["lower"], row["upper"]])) or not math.isfinite(parent_value):
        return "none", "no comparison"
    reference = parent_value
    if not has_denominator(measure):
        pop = row["population"]
        if not parent_pop or not pop or not math.isfinite(pop):
            return "none", "no comparison (no population)"
        reference = parent_value * pop / parent_pop
    if row["lower"] > reference:
        side = "above"
    elif row["upper"] < reference:
        side = "below"
    else:
        return "same", "not significantly different"
    if measure.polarity == "neutral":
        return side, f"significantly {side}"
    worse = (side == "above") == (measure.polarity == "down")
    return ("worse" if worse else "better"), f"{'▲' if side == 'above' else '▼'} significantly {side}: " + (
        "worse" if worse else "better"
    )


def process_children(data: DataAccess, view: View) -> pd.DataFrame:
    """The children's values for the period, ranked worst first (polarity-aware), with the
    parent's reference and whether each differs significantly from it."""
    units = child_units(data, view)
    measure = view.measure
    if not units:
        frame = data.values(measure.id, (), view.period.start, view.period.end)
        return frame.assign(rank=[], vs_parent=[], vs_parent_text=[], expected=[], parent_value=[])
    # The unit itself comes along in the same query, as the reference.
    both = data.values(
        measure.id, (*[u.unit_id for u in units], view.unit.unit_id), view.period.start, view.period.end
    )
    frame, parent = both.iloc[:-1].copy(), both.iloc[-1]
    parent_pop = view.unit.population
    codes, texts, expected = [], [], []
    for _, row in frame.iterrows():
        code, text = _vs_parent(measure, row, parent["value"], parent_pop)
        codes.append(code)
        texts.append(text)
        if not has_denominator(measure) and parent_pop and math.isfinite(row["population"] or math.nan):
            expected.append(parent["value"] * row["population"] / parent_pop)
        else:
            expected.append(math.nan)
    frame["vs_parent"] = codes
    frame["vs_parent_text"] = texts
    frame["expected"] = expected
    frame["parent_value"] = parent["value"]
    ascending = measure.polarity == "up"  # worst first: lowest detection rate, highest crime
    frame = frame.sort_values(["value", "name"], ascending=[ascending, True], na_position="last")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def _bar_title(df: pd.DataFrame, view: View, level_word: str) -> str:
    m = view.measure
    worst = df.iloc[0]
    n_worse = int((df["vs_parent"] == "worse").sum())
    lead = "highest" if m.polarity != "up" else "lowest"
    text = (
        f"{worst['name']} is {lead} of the {len(df)} {level_word}: {metrics.fmt(m, worst['value'])}"
        f"{'' if m.unit == '%' else ' ' + m.unit}"
    )
    if n_worse:
        text += f"; {n_worse} significantly worse than {view.unit.name}"
    elif (df["vs_parent"] != "none").any():
        text += f"; none significantly worse than {view.unit.name}"
    return text


def create_bar(df: pd.DataFrame, view: View, empty: str = NO_CHILDREN) -> dict[str, Any]:
    """Horizontal bars, worst at the top, 95% intervals as error bars. Significantly worse
    than the parent: vermillion, hatched and ▲ in the label; better: blue, ▼; else sky blue.
    `empty`: what to say when there are no children (the data layer says why, see
    `empty_note`)."""
    if df.empty:
        return empty_figure(empty)
    m = view.measure
    level_word = hierarchy.level(str(df["level"].iloc[0])).plural
    d = df.iloc[::-1].reset_index(drop=True)  # plotly draws the first category at the bottom
    # The arrow says which side of the parent the unit lies (▲ above, ▼ below); the colour,
    # the hatching and the legend say whether that is worse or better.
    names = [
        plot_text(n) + (" ▲" if "above" in t else " ▼" if "below" in t else "")
        for n, t in zip(d["name"], d["vs_parent_text"], strict=True)
    ]
    d["label"] = names
    traces: list[dict[str, Any]] = []
    groups = [
        ("worse", f"Significantly worse than {view.unit.name} (hatched)", VERMILLION, "/"),
        ("better", f"Significantly better than {view.unit.name}", BLUE, ""),
        ("other", "Not significantly different, or no comparison", SKY, ""),
    ]
    for code, label, colour, pattern in groups:
        sel = d["vs_parent"] == code if code != "other" else ~d["vs_parent"].isin(["worse", "better"])
        if not sel.any():
            continue
        part = d[sel]
        marker: dict[str, Any] = {"color": colour, "line": {"color": "#333333", "width": 0.5}}
        if pattern:
            marker["pattern"] = {
                "shape": pattern,
                "fgcolor": "#ffffff",
                "fillmode": "overlay",
                "solidity": 0.35,
            }
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "y": list(part["label"]),
                "x": values(part["value"]),
                "name": plot_text(label),
                "marker": marker,
                "error_x": {
                    "type": "data",
                    "symmetric": False,
                    "array": values(part["upper"] - part["value"]),
                    "arrayminus": values(part["value"] - part["lower"]),
                    "color": "#333333",
                    "thickness": 1.2,
                },
                "customdata": [
                    [u, lo, hi, plot_text(t)]
                    for u, lo, hi, t in zip(
                        part["unit_id"],
                        values(part["lower"]),
                        values(part["upper"]),
                        part["vs_parent_text"],
                        strict=True,
                    )
                ],
                "hovertemplate": "%{y}: %{x:,.4~g}<br>95% interval %{customdata[1]:,.4~g} to "
                "%{customdata[2]:,.4~g}<br>%{customdata[3]}<br>Click to drill down<extra></extra>",
            }
        )
    shapes, annotations = [], []
    parent_value = df["parent_value"].iloc[0]
    if has_denominator(m) and math.isfinite(parent_value):
        shapes.append(
            {
                "type": "line",
                "x0": float(parent_value),
                "x1": float(parent_value),
                "y0": 0,
                "y1": 1,
                "yref": "paper",
                "line": {"color": GREY, "dash": "dash", "width": 1.5},
            }
        )
        annotations.append(
            {
                "x": float(parent_value),
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11, "color": "#444444"},
                "text": plot_text(f"{view.unit.name}: {metrics.fmt(m, parent_value)}"),
            }
        )
    elif d["expected"].notna().any():
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "y": names,
                "x": values(d["expected"]),
                "name": plot_text(f"Expected at {view.unit.name}'s rate per head"),
                "marker": {
                    "symbol": "diamond",
                    "color": ORANGE,
                    "size": 9,
                    "line": {"color": "#333333", "width": 1},
                },
                "hovertemplate": "Expected at the parent's rate per head: %{x:,.0f}<extra></extra>",
            }
        )
    height = max(300, 180 + 26 * len(df))
    return figure(
        traces,
        _bar_title(df, view, level_word),
        f"{m.label} ({metrics.unit_text(m)}), {view.period.label}, {view.as_of_text}; lines: 95% intervals",
        height=height,
        xaxis={"title": {"text": plot_text(metrics.unit_text(m))}, "rangemode": "tozero"},
        yaxis={"categoryorder": "array", "categoryarray": names},
        barmode="overlay",
        bargap=0.25,
        shapes=shapes,
        annotations=annotations,
        margin={"l": 10, "r": 20, "t": 80, "b": 110},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
    )


CHILD_FIELDS = ["unit_id", "rank", "name", "value_text", "interval_text", "numerator", "vs_parent_text",
                "spc_text", "peer_text"]


def children_rows(df: pd.DataFrame, view: View, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """What the children table shows. SPC status and position among peers come from
    dashboard/pim_status.py (`extra`); without it (first draw) they read '…' until the second
    callback fills them."""
    m = view.measure
    show = df.copy()
    show["value_text"] = [metrics.fmt(m, v) for v in show["value"]]
    show["interval_text"] = [
        metrics.fmt_interval(m, lo, hi) for lo, hi in zip(show["lower"], show["upper"], strict=True)
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
        return html.P(empty, className="mb-0")
    columns = [
        {"field": "rank", "headerName": "Rank", "maxWidth": 90, "type": "numericColumn"},
        {
            "field": "name",
            "headerName": "Unit",
            "minWidth": 160,
            "cellStyle": {"textDecoration": "underline", "cursor": "pointer"},
        },
        {"field": "value_text", "headerName": m.label, "type": "rightAligned"},
        {"field": "interval_text", "headerName": "95% interval", "type": "rightAligned"},
        {"field": "numerator", "headerName": "Numerator", "type": "numericColumn"},
        {"field": "vs_parent_text", "headerName": f"Against {view.unit.name}", "minWidth": 280},
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
    warning and Compare pages."""
    row = assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end,
                            measure_ids=[view.measure.id]).iloc[0]
    group = "MSF" if view.unit.level == "force" else "peers"
    spc = row["spc_text"] or "no chart (too few months)"
    parts: list[Any] = [
        html.Span("SPC status: ", className="fw-semibold"),
        dcc.Link(spc, href=view.state.href("/early-warning"), title=row["spc_signals"] or None),
        html.Span(f"  ·  Position among its {group}: ", className="fw-semibold"),
        dcc.Link(row["peer_text"] or "no group", href=view.state.href("/compare")),
    ]
    if row["peer_group"]:
        parts.append(html.Span(f" ({row['peer_group']})", className="text-body-secondary"))
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
    return figure(
        traces,
        title,
        sub,
        yaxis={"title": {"text": plot_text(metrics.unit_text(m))}, "rangemode": "tozero"},
        xaxis={"type": "date"},
    )


# -- the NPU map ---------------------------------------------------------------------------------


def process_map(data: DataAccess, view: View) -> pd.DataFrame:
    return data.map_points(view.measure.id, view.unit.unit_id, view.period.start, view.period.end)


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


def _unit_name(data: DataAccess, unit_id: Any) -> str | None:
    if not isinstance(unit_id, str):
        return None
    unit = data.unit(unit_id)
    return unit.name if unit else unit_id


def records_response(data: DataAccess, view: View, request: dict[str, Any] | None) -> dict[str, Any]:
    """AG Grid's infinite row model asks for rows [startRow, endRow) in a sort order; the
    server answers with that page and the total (so pagination knows how many pages)."""
    request = request or {}
    start = max(int(request.get("startRow") or 0), 0)
    end = max(int(request.get("endRow") or start + PAGE_ROWS), start)
    order_by, descending = "date" if view.source and view.source.has_days else "month", False
    for sort in request.get("sortModel") or []:
        col = {"npu": "npu_id", "team": "team_id"}.get(sort.get("colId"), sort.get("colId"))
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
    return {"rowData": shape_records(data, frame).to_dict("records"), "rowCount": total}


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


def layout(data: DataAccess, view: View) -> list[Any]:
    m = view.measure
    p = view.period
    children = process_children(data, view)
    empty = empty_note(data, view)
    bar = create_bar(children, view, empty)
    trend = process_trend(data, view)
    rank_choice: Any = None
    if view.unit.level == "force" and data.units_at(view.unit.force_id, "npu"):
        rank_choice = dbc.RadioItems(
            id={"ctl": "rank"},
            inline=True,
            value=view.state.rank or "",
            options=[{"label": "BCUs", "value": ""}, {"label": "All NPUs", "value": "npu"}],
            className="small me-2",
        )
    level_word = hierarchy.level(str(children["level"].iloc[0])).plural if not children.empty else "units"
    cards: list[Any] = [
        *page_header(TITLE, view),
        controls(data, view, measure=True),
        breadcrumbs(view),
        dcc.Store(id="drill-status-view", data=view.state.query()),
        html.P("SPC status and position among peers: …", id="drill-status", className="small mb-2"),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        f"{m.label}: {level_word} of {view.unit.name}"
                        if view.state.rank != "npu"
                        else f"{m.label}: every NPU of {view.unit.name}",
                        [
                            graph("drill-bar", bar),
                            html.P(
                                "Click a bar, or a row below, to drill down.",
                                className="small text-body-secondary mb-0",
                            ),
                        ],
                        action=[rank_choice, csv_button("drill-children")],
                        card_id="bar-card",
                    ),
                    xxl=6,
                ),
                dbc.Col(
                    section(
                        f"Trend: {view.unit.title}",
                        graph("drill-trend", create_trend(trend, view, _trend_title(data, view))),
                        action=csv_button("drill-trend"),
                        card_id="trend-card",
                    ),
                    xxl=6,
                ),
            ]
        ),
        section(
            f"{level_word[0].upper() + level_word[1:]} ranked",
            create_children_grid(children, view, empty),
            note=f"Worst first. 'Against {view.unit.name}': whether {view.unit.name}'s level lies outside "
            "the unit's 95% interval (for counts, its rate per head applied to the unit's population).",
            card_id="children-card",
        ),
    ]
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
    if view.unit.level == "npu":
        total = data.record_count(m.id, view.unit.unit_id, p.start, p.end)
        cards.append(
            section(
                f"Map: {view.unit.title}",
                graph("drill-map", create_map(process_map(data, view), view, total)),
                action=csv_button("drill-map"),
                card_id="map-card",
            )
        )
    count = data.record_count(m.id, view.unit.unit_id, p.start, p.end)
    note = (
        f"{count:,} records behind {m.label}, {view.unit.title}, {p.label}. "
        f"Pages of {PAGE_ROWS}; sort by clicking a column heading. The CSV holds every record "
        f"(up to {RECORDS_CSV_LIMIT:,}). The officer in charge is not shown: {OFFICER_OFF.lower()}"
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
