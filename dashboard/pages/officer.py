"""Officer: one officer's crimes investigated, sanction detections and the detection rate, and
the satisfaction of the victims of the crimes they handled (HMIC L781, L677), each with its
95% interval, and each set against officers in the same role and team size on a funnel.

Never a league table: officers are listed by name (to open a page), never ranked by a
figure, and peers are unlabelled points on the funnel. Below a minimum count a rate is not
shown ("too few to judge": dashboard/analysis/officers.py). Who may open which officer is the
access seam's decision (dashboard/data/access.py); an officer opens their own page.
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.analysis import officers as officer_stats
from dashboard.analysis import stats
from dashboard.components.common import BLUE, GREY, VERMILLION, figure, graph, page_header, section
from dashboard.components.controls import controls
from dashboard.components.officers import OFFICER_PATH, officer_list, officers_below
from dashboard.data.access import NOT_AVAILABLE
from dashboard.data.facade import DataAccess
from dashboard.data.model import View

PATH = OFFICER_PATH
PEER_WORDS = "an officer in the same role and team size"
TITLE = "Officer"
def process_data(data: DataAccess, view: View) -> dict[str, Any]:
    """The officer's figures and their rates (shown only from the minimum count)."""
    p = view.period
    fig = data.officer_figures(view.unit.unit_id, p.start, p.end)
    peers, totals = data.officer_peers(view.unit.unit_id, p.start, p.end)
    detection = officer_stats.Rate(int(fig["detected"]), int(fig["crimes"]), officer_stats.MIN_CRIMES)
    satisfaction = officer_stats.Rate(int(fig["satisfied"]), int(fig["respondents"]),
                                      officer_stats.MIN_RESPONDENTS)
    return {"figures": fig, "peers": peers, "totals": totals, "detection": detection,
            "satisfaction": satisfaction}


def create_funnel(peers: pd.DataFrame, totals: dict[str, float], k: str, n: str, rate: officer_stats.Rate,
                  title: str, what: str, view: View,
                  axis: str) -> tuple[dict[str, Any], officer_stats.FunnelResult]:
    """The peers' funnel for one rate: limits around the group's pooled rate, the peers the
    actor may see as unlabelled grey points, the officer in colour."""
    drawn = peers[peers[n] >= rate.minimum]  # below the minimum a rate is not shown, peers' neither
    result = officer_stats.funnel(totals[k], totals[n], rate.k, rate.n, rate.minimum,
                                  float(drawn[n].max()) if not drawn.empty else 0.0)
    traces: list[dict[str, Any]] = []
    if result.limits:
        x = result.curve_n.tolist()
        for level, dash_style in ((0.95, "dash"), (0.998, "dot")):
            lo, hi = result.limits[level]
            for side, ys in (("lower", lo), ("upper", hi)):
                traces.append({"type": "scatter", "mode": "lines", "x": x, "y": ys.tolist(),
                               "line": {"color": GREY, "dash": dash_style, "width": 1},
                               "name": f"{level:.1%} limits".replace(".0%", "%"),
                               "showlegend": side == "lower", "hoverinfo": "skip"})
        traces.append({"type": "scatter", "mode": "lines", "x": [x[0], x[-1]], "y": [result.p0] * 2,
                       "line": {"color": GREY, "width": 1}, "name": "peers' rate", "hoverinfo": "skip"})
    others = drawn[~drawn["self"]]
    if not others.empty:
        traces.append({"type": "scatter", "mode": "markers", "x": others[n].tolist(),
                       "y": (others[k] / others[n]).tolist(), "name": PEER_WORDS,
                       "marker": {"color": BLUE, "opacity": 0.35, "size": 6},
                       "hovertemplate": "%{y:.1%} of %{x}<extra></extra>"})
    if rate.shown:
        traces.append({"type": "scatter", "mode": "markers", "x": [rate.n], "y": [rate.k / rate.n],
                       "name": view.unit.title,
                       "marker": {"color": VERMILLION, "size": 11, "symbol": "diamond"},
                       "hovertemplate": "%{y:.1%} of %{x}<extra></extra>"})
    headline = (f"{title}: {result.words}" if result.position else f"{title}: {officer_stats.TOO_FEW}")
    subtitle = (f"{what}, {view.period.label}; peers: {int(totals['officers'])} officers "
                f"(role and team size as {view.unit.title}); 95% and 99.8% limits")
    fig = figure(traces, headline, subtitle, height=400,
                 xaxis={"title": {"text": what, "standoff": 4}, "rangemode": "tozero"},
                 yaxis={"title": {"text": axis}, "tickformat": ".0%", "range": [0, 1]},
                 legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
                 margin={"l": 60, "r": 20, "t": 70, "b": 100})
    return fig, result


def _figure_card(label: str, text: str, card_id: str) -> Any:
    return dbc.Col(dbc.Card(dbc.CardBody([html.Div(label, className="small text-body-secondary"),
                                          html.Div(text, className="fw-semibold")]), id=card_id),
                   md=4, className="mb-2")


def officer_body(data: DataAccess, view: View) -> list[Any]:
    d = process_data(data, view)
    fig = d["figures"]
    detection, satisfaction = d["detection"], d["satisfaction"]
    crimes = int(fig["crimes"])
    lo, hi = (stats.poisson_interval(crimes) if crimes > 0 else (0.0, math.nan))
    crimes_text = f"{crimes:,}" + (f" (95% interval {lo:,.0f} to {hi:,.0f})" if crimes > 0 else "")
    role = f"{fig['role']} team, {fig['band']}"
    det_fig, _ = create_funnel(d["peers"], d["totals"], "detected", "crimes", detection,
                               "Sanction detection rate", "crimes investigated", view, "detected")
    sat_fig, _ = create_funnel(d["peers"], d["totals"], "satisfied", "respondents", satisfaction,
                               "Victims satisfied (whole experience)", "survey respondents", view,
                               "satisfied")
    return [
        html.P(f"Role: {role}. Crimes recorded {view.period.label} with this officer as officer in "
               "charge; victim satisfaction from survey respondents whose crime reference matches "
               "one of those crimes.", className="small", id="officer-role"),
        dbc.Row([
            _figure_card("Crimes investigated (officer in charge)", crimes_text, "officer-crimes"),
            _figure_card(f"Sanction detection rate (shown from {officer_stats.MIN_CRIMES} crimes)",
                         detection.text(), "officer-detection"),
            _figure_card(f"Victims satisfied (shown from {officer_stats.MIN_RESPONDENTS} respondents)",
                         satisfaction.text(), "officer-satisfaction"),
        ]),
        dbc.Row([
            dbc.Col(section("Detection rate against peers", graph("officer-detection-funnel", det_fig),
                            card_id="officer-detection-card"), xxl=6),
            dbc.Col(section("Victim satisfaction against peers",
                            graph("officer-satisfaction-funnel", sat_fig),
                            card_id="officer-satisfaction-card"), xxl=6),
        ]),
    ]


def layout(data: DataAccess, view: View) -> list[Any]:
    head = [*page_header(TITLE, view, with_measure=False), controls(data, view)]
    if view.unit.level == "officer":
        return [*head, *officer_body(data, view)]
    if not data.may_see_level("officer"):
        return [*head, dbc.Alert(f"The officer level is {NOT_AVAILABLE}.", color="info",
                                 id="officer-not-available")]
    units = officers_below(data, view)
    if not units:
        return [*head, dbc.Alert(f"No officer below {view.unit.title} is available to your role.",
                                 color="info", id="officer-not-available")]
    return [*head, officer_list(units, view)]
