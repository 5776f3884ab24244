"""How do we compare with our most similar forces, and a BCU or NPU with its peers?

For the view's unit, measure and period (dashboard/analysis/peer_comparison.py does the numbers):
- the group: who is in it and on what basis -- the MSF file, or a proxy labelled "proxy, not
  the Home Office group" -- and every member month left out of an average, and why;
- a funnel plot (Spiegelhalter 2005) of the unit and its peers around the group's weighted
  average, with 95% and 99.8% limits;
- a ranked bar with 95% intervals and the weighted group average;
- the unit's trend against the group average month by month, months where the difference is
  significant marked (and said in words);
- the members table.

A force can also be set against every force loaded ("Compare with"). Figures are plain
dicts (see components/common.py); each has a process_* and a create_* function.
"""

from __future__ import annotations

import math
import textwrap
from collections import OrderedDict
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import state as url_state
from dashboard.analysis import peer_comparison as cmp
from dashboard.analysis.peer_comparison import Comparison
from dashboard.auth import current_actor
from dashboard.components.axes import ticks
from dashboard.components.common import (
    BLUE,
    GREY,
    MODEBAR_PX,
    SKY,
    SYNTHETIC_PEER_UNITS,
    SYNTHETIC_PEERS,
    VERMILLION,
    csv_button,
    decimal_column,
    empty_figure,
    figure,
    graph,
    grid,
    page_header,
    plot_text,
    section,
    values,
)
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import chart, export
from etl.measures.model import Measure

PATH = "/compare"
TITLE = "Compare"
SCOPES = OrderedDict([("msf", "Most similar forces"), ("all", "Every force loaded")])
WORSE_MARK = "▲"
BETTER_MARK = "▼"
# The text of a chart is laid out for the narrowest width it must read at: a full-width chart
# printed on A4 (794 CSS px, about 720 px of chart), or a half-width one on a wide screen.
# Plotly does not wrap titles, so they are wrapped here: about 8 px a character at the title's
# 15 px, 6 px at the subtitles' 11 px. Plotly spaces every line of a title at 1.3 x 15 px.
NARROWEST_PX = 720
TITLE_CHARS = 78
SUBTITLE_CHARS = 110
LINE_PX = 20
# Below the plot: tick labels, the x-axis title and up to three rows of legend, each on its
# own band so none is drawn over another (the legend sits at the foot of the figure).
FOOT_PX = 130


# -- numbers ---------------------------------------------------------------------------------------


def process_comparison(data: DataAccess, view: View, scope: str = "msf", adjust: bool = True) -> Comparison:
    """The unit against its group over the view's period (whole months); `adjust`: widen the
    funnel for over-dispersion when the group is over-dispersed (the default)."""
    scope = scope if scope in SCOPES and view.unit.level == "force" else "msf"
    return cmp.visible_to(data, cmp.compare(data, view.unit.unit_id, view.measure.id, view.period.start,
                                            view.period.end, scope, adjust=adjust))


def members_frame(c: Comparison) -> pd.DataFrame:
    """What the ranked bar, the funnel and the table draw (and their CSV), best first; the
    CSV says which limits the positions are against (phi, tau2, whether widened, in words)."""
    df = c.members.copy()
    df.insert(0, "measure_id", c.measure_id)
    df["group_average"] = c.average
    df["group"] = c.group.label
    df["x"] = _x(df, c)
    df["phi"] = c.phi
    df["tau2"] = c.tau2
    df["limits_adjusted"] = c.adjusted
    df["limits_note"] = c.limits_note
    return df.sort_values(["rank", "name"], na_position="last").reset_index(drop=True)


def _x(df: pd.DataFrame, c: Comparison) -> pd.Series:
    """The funnel's x axis in words a reader knows: residents (thousands) for per-head rates,
    else the denominator itself."""
    if c.basis.per_head:
        return df["n"] / df["months_used"].where(df["months_used"] > 0)
    return df["n"]


def x_title(c: Comparison, measure: Measure) -> str:
    if c.basis.per_head:
        return "Resident population (thousands)"
    return f"{measure.denominator or 'Denominator'}" if measure.denominator else "Denominator"


def exclusions_summary(c: Comparison) -> list[str]:
    """One line per member with anything left out (months grouped), for the screen."""
    by_member: dict[str, list[str]] = {}
    whole: list[str] = []
    for text in c.exclusions:
        if " left out of the average: " in text:
            whole.append(text)
            continue
        name, rest = text.split(", ", 1)
        month = rest.split(",", 1)[0]
        by_member.setdefault(name, []).append(month)
    lines = list(whole)
    for name, months in by_member.items():
        if any(line.startswith(name + " left out") for line in whole):
            continue
        lines.append(f"{name}: {', '.join(months)} left out of those months' averages (suspect or missing).")
    return lines


# -- figures ---------------------------------------------------------------------------------------


def _fmt(c: Comparison, v: float) -> str:
    if v is None or not math.isfinite(v):
        return "–"
    if c.basis.unit_text == "%" or c.basis.kind == "proportion":
        return f"{v:.1f}%"
    return f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"


def _units(c: Comparison) -> str:
    return "%" if c.basis.kind == "proportion" else c.basis.unit_text


def _axis_units(c: Comparison) -> str:
    """The units, short enough for an axis title (the full wording is in the subtitle): a
    y-axis title longer than the plot is tall runs up into the subtitle."""
    text = _units(c)
    if c.basis.per_head:
        return "per 1,000 residents"
    return text.split(" (", 1)[0]


def _lay_out(fig: dict[str, Any], title: str, subtitles: list[str], legend: bool = True,
             room_above: int = 0) -> dict[str, Any]:
    """Title, subtitle lines, plot, axis titles and legend in bands that never overlap at
    NARROWEST_PX or wider: the title and each subtitle wrapped to fit, the top margin as tall
    as their lines (plus `room_above` for a label drawn just above the plot), the legend at
    the foot of the figure below the x-axis title."""
    if "title" not in fig.get("layout", {}):
        return fig  # an empty figure: a message, nothing to lay out
    heads = textwrap.wrap(title, TITLE_CHARS) or [""]
    subs = [line for part in subtitles if part for line in textwrap.wrap(part, SUBTITLE_CHARS)]
    text = "<br>".join(plot_text(x) for x in heads) + "".join(
        f"<br><span style='font-size:11px'>{plot_text(x)}</span>" for x in subs)
    layout = fig["layout"]
    lines = len(heads) + len(subs)
    margin = dict(layout.get("margin", {}))
    margin["t"] = 30 + MODEBAR_PX + LINE_PX * lines + room_above
    if legend:
        margin["b"] = FOOT_PX
        layout["legend"] = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0,
                            "xanchor": "left"}
    layout["margin"] = margin
    extra = MODEBAR_PX + LINE_PX * max(lines - 2, 0) + room_above + (FOOT_PX - 50 if legend else 0)
    height = layout["height"] = layout.get("height", 380) + extra
    # Plotly puts the FIRST BASELINE of a multi-line title at y, whatever the anchor: 24 px
    # down leaves the 15 px capitals 10 px below the top edge (y=1 would cut them off);
    # MODEBAR_PX more keeps them below the toolbar (components/common.py).
    layout["title"] = {"text": text, "x": 0.01, "xanchor": "left", "yref": "container",
                       "y": 1 - (24 + MODEBAR_PX) / height, "yanchor": "top", "font": {"size": 15}}
    return fig


def synthetic_mark(c: Comparison, view: View) -> str:
    """The line every chart of a comparison with synthetic members carries (in its title
    block, so the PNG and SVG downloads carry it too); '' when every member is real."""
    if not c.synthetic_peers:
        return ""
    return SYNTHETIC_PEERS if view.unit.level == "force" else SYNTHETIC_PEER_UNITS


def _marker_for(row: pd.Series, c: Comparison, measure: Measure) -> str:
    pos = row["position"]
    if not isinstance(pos, str) or pos == "within":
        return ""
    side = "above" if pos.startswith("above") else "below"
    good = cmp.better_side(measure)
    if good is None:
        return ""
    return BETTER_MARK if side == good else WORSE_MARK


def _title_lead(c: Comparison, view: View, short: bool = False) -> str:
    """The finding: rank and value against the group average (short: for half-width charts)."""
    f = c.focus
    word = cmp.group_word(c.group)
    if not math.isfinite(f["value"]):
        return f"No {view.measure.label.lower()} figure for {view.unit.title} in {c.period.label}"
    if f["rank"] is None or (isinstance(f["rank"], float) and math.isnan(f["rank"])):
        return f"{view.unit.title}: {_fmt(c, f['value'])}"
    rank = f"{cmp.ordinal(int(f['rank']))} of {int(f['of'])}"
    if short:
        return f"{view.unit.name}: {rank}, {_fmt(c, f['value'])} against {_fmt(c, c.average)}"
    return (f"{view.unit.name} is {rank} (1st = best): "
            f"{_fmt(c, f['value'])} against the {word} average of {_fmt(c, c.average)}")


def create_funnel(c: Comparison, view: View, members: pd.DataFrame | None = None) -> dict[str, Any]:
    """Points at (size, value); the weighted group average; 95% and 99.8% limits around it.
    `members`: `members_frame(c)` when the caller has it (the page draws three views of it)."""
    m = view.measure
    df = members_frame(c) if members is None else members
    drawn = df[df["value"].notna() & df["x"].notna()]
    if c.basis.kind == "value":
        return empty_figure(
            f"{m.label} is a mean or a census: there is no funnel for it (see the ranked bar)."
        )
    if drawn.empty or not math.isfinite(c.average):
        return empty_figure("No group average for this measure and period: nothing to draw a funnel around.")
    curves = cmp.funnel_curves(c)
    per = 1.0 / df["months_used"].max() if c.basis.per_head and df["months_used"].max() else 1.0
    cx = values(curves["n"] * per)
    traces: list[dict[str, Any]] = []
    for col_lo, col_hi, label, dash_style in (("lo998", "hi998", "99.8% limits", "dot"),
                                              ("lo95", "hi95", "95% limits", "dash")):
        for col, show in ((col_lo, True), (col_hi, False)):
            traces.append({"type": "scatter", "mode": "lines", "x": cx, "y": values(curves[col]),
                           "name": label, "legendgroup": label, "showlegend": show, "hoverinfo": "skip",
                           "line": {"color": GREY, "width": 1.2, "dash": dash_style}})
    traces.append({"type": "scatter", "mode": "lines", "x": [cx[0], cx[-1]], "y": [c.average, c.average],
                   "name": plot_text(f"{cmp.group_word(c.group)} average (weighted)"), "hoverinfo": "skip",
                   "line": {"color": "#333333", "width": 1.5}})
    groups = [
        (drawn[~drawn["is_focus"] & drawn["in_average"]], "Members", SKY, "circle", 10),
        (drawn[~drawn["is_focus"] & ~drawn["in_average"]], "Left out of the average (incomplete)", "#ffffff",
         "circle-open", 10),
        (drawn[drawn["is_focus"]], view.unit.name, VERMILLION, "diamond", 15),
    ]
    for part, name, colour, symbol, size in groups:
        if part.empty:
            continue
        labels = [plot_text(n) + (" " + _marker_for(r, c, m) if _marker_for(r, c, m) else "")
                  for n, (_, r) in zip(part["name"], part.iterrows(), strict=True)]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "x": values(part["x"]),
                "y": values(part["value"]),
                "text": labels,
                "textposition": "top center",
                "textfont": {"size": 10},
                "name": plot_text(name),
                "marker": {
                    "symbol": symbol,
                    "size": size,
                    "color": colour,
                    "line": {"color": "#333333", "width": 1},
                },
                "customdata": [
                    [plot_text(t), plot_text(s)]
                    for t, s in zip(part["position_text"], part["status_text"], strict=True)
                ],
                "hovertemplate": "%{text}: %{y:,.4~g}<br>%{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            }
        )
    worse = int((df["position"].isin(["above_99.8", "below_99.8"]) & ~df["is_focus"]).sum())
    sub = (f"{m.label} ({_units(c)}), {c.period.label}, {view.as_of_text}; group: {c.group.label}; "
           f"{worse} member(s) outside the 99.8% limits")
    title = _title_lead(c, view, short=True)
    fig = figure(traces, title, sub, height=440,
                 xaxis={"title": {"text": plot_text(x_title(c, m))}, "type": "log"},
                 yaxis={"title": {"text": plot_text(_axis_units(c))}})
    return _lay_out(fig, title, [sub, c.limits_note, synthetic_mark(c, view)])


def create_ranked_bar(c: Comparison, view: View, members: pd.DataFrame | None = None) -> dict[str, Any]:
    """Bars best first (top), 95% intervals, the weighted group average as a line; the unit in
    vermillion, members left out of the average hatched grey. `members`: as create_funnel's."""
    m = view.measure
    df = members_frame(c) if members is None else members
    df = df[df["value"].notna()]
    if df.empty:
        return empty_figure("No values to rank for this measure and period.")
    d = df.iloc[::-1].reset_index(drop=True)
    labels = [plot_text(n) + (" ◆" if f else "") + (" (left out of the average)" if not f and not a else "")
              for n, f, a in zip(d["name"], d["is_focus"], d["in_average"], strict=True)]
    colours = [VERMILLION if f else (SKY if a else "#BBBBBB") for f, a in zip(d["is_focus"], d["in_average"],
                                                                              strict=True)]
    patterns = ["" if (f or a) else "/" for f, a in zip(d["is_focus"], d["in_average"], strict=True)]
    traces = [{
        "type": "bar", "orientation": "h", "y": labels, "x": values(d["value"]), "name": plot_text(m.label),
        "marker": {"color": colours, "line": {"color": "#333333", "width": 0.5},
                   "pattern": {"shape": patterns, "fgcolor": "#555555", "solidity": 0.3}},
        "error_x": {"type": "data", "symmetric": False, "array": values(d["upper"] - d["value"]),
                    "arrayminus": values(d["value"] - d["lower"]), "color": "#333333", "thickness": 1.2},
        "customdata": [[plot_text(t)] for t in d["position_text"]],
        "hovertemplate": "%{y}: %{x:,.4~g}<br>%{customdata[0]}<extra></extra>", "showlegend": False,
    }]
    shapes, annotations = [], []
    if math.isfinite(c.average):
        shapes.append({"type": "line", "x0": c.average, "x1": c.average, "y0": 0, "y1": 1, "yref": "paper",
                       "line": {"color": "#333333", "dash": "dash", "width": 1.5}})
        annotations.append({"x": c.average, "y": 1, "yref": "paper", "yanchor": "bottom", "showarrow": False,
                            "font": {"size": 11}, "text": plot_text(
                                f"{cmp.group_word(c.group)} average (weighted): {_fmt(c, c.average)}")})
    title = _title_lead(c, view, short=True)
    sub = (f"{m.label} ({_units(c)}), {c.period.label}, best at the top; lines: 95% intervals; "
           f"◆ {view.unit.name}")
    fig = figure(traces, title, sub, height=max(300, 120 + 28 * len(d)),
                 xaxis={"title": {"text": plot_text(_axis_units(c))}, "rangemode": "tozero"},
                 yaxis={"categoryorder": "array", "categoryarray": labels},
                 shapes=shapes, annotations=annotations,
                 margin={"l": 10, "r": 20, "t": 80, "b": 50})
    # room above the plot for the group-average label, under the subtitles
    return _lay_out(fig, title, [sub, synthetic_mark(c, view)], legend=False, room_above=22)


def trend_summary(c: Comparison, view: View) -> str:
    t = c.months
    tested = t[t["verdict"] != ""]
    word = cmp.group_word(c.group)
    if tested.empty:
        return f"No month of {view.unit.title} could be tested against the {word} average."
    sig = tested[tested["significant"]]
    if sig.empty:
        return (f"{view.unit.title} was not significantly different from the {word} average in any of the "
                f"{len(tested)} months.")
    good, bad = int((sig["verdict"] == "better").sum()), int((sig["verdict"] == "worse").sum())
    last = sig["month"].max()
    parts = []
    if bad:
        parts.append(f"significantly worse than the {word} average in {bad} of {len(tested)} months")
    if good:
        parts.append(f"significantly better in {good}")
    if not parts:
        parts.append(f"significantly different from the {word} average in {len(sig)} of {len(tested)} months")
    return f"{view.unit.title} was " + ", ".join(parts) + f" (latest: {last:%b %Y})."


def create_trend(c: Comparison, view: View, summary_text: str | None = None) -> dict[str, Any]:
    """The unit's monthly value and the group's weighted average; months where the difference is
    significant (5%, exact or z test) marked ▲ worse / ▼ better; open circles on the average where
    a member month was left out."""
    m = view.measure
    t = c.months
    if t.empty or t["focus_value"].isna().all():
        return empty_figure("No monthly figures for this unit and period.")
    x = [d.isoformat() for d in t["month"]]
    word = cmp.group_word(c.group)
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": values(t["group_value"]),
            "name": plot_text(f"{word} average (weighted, without {view.unit.name})"),
            "line": {"color": GREY, "dash": "dash", "width": 2},
            "marker": {
                "symbol": ["circle-open" if e else "circle" for e in t["excluded"]],
                "size": 7,
                "color": GREY,
            },
            "customdata": [
                [int(u), int(n), plot_text(e or "none")]
                for u, n, e in zip(t["members_used"], t["members"], t["excluded"], strict=True)
            ],
            "hovertemplate": "%{y:,.4~g}: average of %{customdata[0]} of %{customdata[1]} members"
            "<br>left out: %{customdata[2]}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": values(t["focus_value"]),
            "name": plot_text(view.unit.title),
            "line": {"color": BLUE, "width": 2.5},
            "marker": {"size": 6, "color": BLUE},
            "customdata": [
                [plot_text(v or "not tested"), p if p == p else None]
                for v, p in zip(t["verdict"], t["p_value"], strict=True)
            ],
            "hovertemplate": "%{y:,.4~g}<br>%{customdata[0]} (p = %{customdata[1]:.3f})<extra></extra>",
        },
    ]
    for verdict, mark, colour, label in (
        ("worse", "triangle-up", VERMILLION, f"Significantly worse {WORSE_MARK}"),
        ("better", "triangle-down", BLUE, f"Significantly better {BETTER_MARK}"),
    ):
        sel = t["significant"] & (t["verdict"] == verdict)
        if sel.any():
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [x[i] for i in range(len(x)) if sel.iloc[i]],
                    "y": values(t.loc[sel, "focus_value"]),
                    "name": label,
                    "marker": {
                        "symbol": mark,
                        "size": 13,
                        "color": colour,
                        "line": {"color": "#333333", "width": 1},
                    },
                    "hoverinfo": "skip",
                }
            )
    other = t["significant"] & ~t["verdict"].isin(["worse", "better"])
    if other.any():
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [x[i] for i in range(len(x)) if other.iloc[i]],
                "y": values(t.loc[other, "focus_value"]),
                "name": "Significantly different",
                "marker": {"symbol": "star", "size": 12, "color": GREY},
                "hoverinfo": "skip",
            }
        )
    sub = f"{m.label} ({_units(c)}) by month, {c.period.label}, {view.as_of_text}; test at 5% each month"
    if t["excluded"].astype(bool).any():
        sub += "; ○ = a member month left out of the average"
    title = trend_summary(c, view) if summary_text is None else summary_text
    fig = figure(traces, title, sub, xaxis={"type": "date", **ticks(list(t["month"]), "month", NARROWEST_PX)},
                 yaxis={"title": {"text": plot_text(_axis_units(c))}, "rangemode": "tozero"})
    return _lay_out(fig, title, [sub, synthetic_mark(c, view)])


def create_members_grid(c: Comparison, view: View, members: pd.DataFrame | None = None) -> Any:
    df = members_frame(c) if members is None else members
    show = pd.DataFrame({
        "rank": df["rank"], "name": df["name"] + [" ◆" if f else "" for f in df["is_focus"]],
        "value": df["value"], "interval": [f"{_fmt(c, lo)} to {_fmt(c, hi)}" if math.isfinite(lo) else ""
                                           for lo, hi in zip(df["lower"], df["upper"], strict=True)],
        "k": df["k"], "n": df["n"], "position_text": df["position_text"], "status_text": df["status_text"],
        "in_average": ["yes" if a else ("(the unit compared)" if f else "no") for a, f in
                       zip(df["in_average"], df["is_focus"], strict=True)],
        "data": ["synthetic demo" if x else "" for x in df["synthetic"]],
    })
    columns = [
        {"field": "rank", "headerName": "Rank (1 = best)", "maxWidth": 120, "type": "numericColumn"},
        {"field": "name", "headerName": "Unit", "minWidth": 170},
        {"field": "value", "headerName": f"{view.measure.label} ({_units(c)})", **decimal_column(2)},
        {"field": "interval", "headerName": "95% interval", "minWidth": 150},
        {"field": "k", "headerName": "Numerator", **decimal_column(0)},
        {"field": "n", "headerName": "Denominator / exposure", **decimal_column(1)},
        {"field": "position_text", "headerName": "Funnel position", "minWidth": 280},
        {"field": "in_average", "headerName": "In the average"},
        {"field": "status_text", "headerName": "Months", "minWidth": 200},
        *([{"field": "data", "headerName": "Data"}] if c.synthetic_peers else []),
    ]
    return grid("compare-grid", show, columns)


# -- exports: exactly what is drawn -----------------------------------------------------------------


PLAIN = "-plain"  # the export ids of the unadjusted funnel end so


def _export_members(scope: str, adjust: bool) -> Any:
    def fn(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
        c = process_comparison(data, view, scope, adjust)
        return members_frame(c), f"{view.measure.id}-compare-{scope}" + ("" if adjust else PLAIN)

    return fn


def _export_trend(scope: str) -> Any:
    def fn(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
        c = process_comparison(data, view, scope)
        out = c.months.copy()
        out.insert(0, "measure_id", c.measure_id)
        out.insert(1, "unit_id", c.unit_id)
        out["group"] = c.group.label
        return out, f"{view.measure.id}-compare-trend-{scope}"

    return fn


def _chart(make: Any, scope: str, adjust: bool = True) -> Any:
    def fn(data: DataAccess, view: View) -> dict[str, Any]:
        return make(process_comparison(data, view, scope, adjust), view)

    return fn


for _scope in SCOPES:
    for _adjust in (True, False):
        _end = "" if _adjust else PLAIN
        chart(f"compare-funnel-{_scope}{_end}")(_chart(create_funnel, _scope, _adjust))
        chart(f"compare-bar-{_scope}{_end}")(_chart(create_ranked_bar, _scope, _adjust))
    chart(f"compare-trend-{_scope}")(_chart(create_trend, _scope))
    export(f"compare-members-{_scope}")(_export_members(_scope, True))
    export(f"compare-members-{_scope}{PLAIN}")(_export_members(_scope, False))
    export(f"compare-trend-{_scope}")(_export_trend(_scope))


# -- the page ----------------------------------------------------------------------------------------


def group_card(c: Comparison, view: View) -> Any:
    g = c.group
    badge = dbc.Badge(g.label, color="warning" if g.is_proxy else "secondary", text_color="dark" if g.is_proxy
                      else None, className="me-2", id="compare-group-label")
    names = [n for n in c.members["name"].iloc[1:]]
    lines = exclusions_summary(c)
    body: list[Any] = [
        html.P([badge, f"{len(names)} member(s): " + (", ".join(names) if names else "none")],
               className="mb-2", id="compare-members"),
        *[html.P(n, className="small text-body-secondary mb-1") for n in g.notes],
    ]
    if c.synthetic_peers:
        body.insert(1, dbc.Badge(synthetic_mark(c, view), color="warning", text_color="dark",
                                 className="mb-2", id="compare-synthetic"))
    if g.missing:
        body.append(html.P(f"Named in the group but with no data loaded: {', '.join(g.missing)}.",
                           className="small mb-1"))
    body.append(html.Div(
        [html.P("Left out of the averages (suspect or missing months are never averaged in):",
                className="small fw-semibold mb-1"),
         html.Ul([html.Li(x) for x in lines], className="small mb-0")] if lines else
        html.P("No member month was suspect or missing: every member is in every average.",
               className="small mb-0"),
        id="compare-exclusions"))
    body.append(html.P(f"Compared as {c.basis.unit_text}: {c.basis.note}. The group average is weighted by "
                       "denominator (the pooled rate of the members) and never includes the unit itself.",
                       className="small text-body-secondary mt-2 mb-0"))
    return body


def summary(c: Comparison, view: View, summary_text: str | None = None) -> str:
    """The sentence to read first: rank, value against the group average, funnel position, trend."""
    text = _title_lead(c, view)
    pos = c.focus["position"]
    if isinstance(pos, str):
        text += f"; {c.focus['position_text']}"
    return f"{text}. {trend_summary(c, view) if summary_text is None else summary_text}"


def body(data: DataAccess, view: View, scope: str = "msf", adjust: bool = True) -> list[Any]:
    """Everything below the controls (redrawn when 'Compare with' or the over-dispersion
    switch changes)."""
    c = process_comparison(data, view, scope, adjust)
    members = members_frame(c)   # once: the funnel, the bar and the table each drew it again
    said = trend_summary(c, view)   # once: the summary, the trend's title and its caption say it
    scope = scope if scope in SCOPES and view.unit.level == "force" else "msf"
    members_csv = f"compare-members-{scope}" + ("" if adjust else PLAIN)
    who = "most similar forces" if view.unit.level == "force" else "peers"
    return [
        section(f"{view.unit.title} and its {who}", group_card(c, view), card_id="compare-group-card"),
        dbc.Alert(
            summary(c, view, said),
            color="light",
            className="border",
            id="compare-summary",
        ),
        dbc.Row(
            [
                dbc.Col(
                    section(
                        "Funnel plot",
                        graph("compare-funnel", create_funnel(c, view, members),
                              image=f"compare-funnel-{scope}" + ("" if adjust else PLAIN)),
                        action=csv_button(members_csv),
                        card_id="compare-funnel-card",
                    ),
                    xxl=6,
                ),
                dbc.Col(
                    section(
                        "Ranked",
                        graph("compare-bar", create_ranked_bar(c, view, members),
                              image=f"compare-bar-{scope}" + ("" if adjust else PLAIN)),
                        action=csv_button(members_csv),
                        card_id="compare-bar-card",
                    ),
                    xxl=6,
                ),
            ]
        ),
        section(
            "Trend against the group average",
            [
                graph("compare-trend", create_trend(c, view, said), image=f"compare-trend-{scope}"),
                html.P(said, id="compare-trend-summary", className="small mb-0"),
            ],
            action=csv_button(f"compare-trend-{scope}"),
            card_id="compare-trend-card",
        ),
        section(
            "Members",
            create_members_grid(c, view, members),
            card_id="compare-members-card",
            note="Funnel position: against the 95% and 99.8% limits around the group average at the "
            "member's size" + (f" ({c.limits_note[0].lower()}{c.limits_note[1:]})" if c.limits_note else "")
            + ". Rank 1 is the best (polarity-aware).",
        ),
    ]


def layout(data: DataAccess, view: View) -> list[Any]:
    settings: list[Any] = []
    if view.unit.level == "force":
        settings += [
            dbc.Label("Compare with", html_for="compare-scope", className="small fw-semibold me-2 mb-0"),
            dbc.RadioItems(id="compare-scope", inline=True, value="msf",
                           options=[{"label": v, "value": k} for k, v in SCOPES.items()],
                           className="small me-4"),
        ]
    else:  # a BCU or NPU has one group only; the callback's input must still exist
        settings.append(html.Div(dbc.RadioItems(id="compare-scope", value="msf",
                                                options=[{"label": SCOPES["msf"], "value": "msf"}]),
                                 hidden=True))
    settings.append(dbc.Switch(
        id="compare-adjust", value=True, className="small mb-0",
        label="Widen the funnel for over-dispersion when the group is over-dispersed (Spiegelhalter 2005)"))
    return [
        *page_header(TITLE, view),
        controls(data, view, measure=True),
        html.Div(settings, className="d-flex flex-wrap align-items-center mb-2 d-print-none",
                 id="compare-settings"),
        dcc.Loading(html.Div(body(data, view), id="compare-body"), type="default"),
    ]


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(
        Output("compare-body", "children"),
        Input("compare-scope", "value"),
        Input("compare-adjust", "value"),
        State("url", "search"),
        prevent_initial_call=True,
    )
    def on_settings(scope: str | None, adjust: bool | None, search: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(search))
            if view is None:
                return dash.no_update
            return body(data, view, scope or "msf", adjust is not False)
