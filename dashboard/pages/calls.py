"""Calls: contact management "against national call-handling standards" (HMIC L659).

Three answers, each from the one assessment per unit x measure x period
(dashboard/analysis/assessment.py), the same numbers and verdicts as the scorecard, the
drill-down and the API:

1. the call-handling and attendance measures of the view's unit and period, each with its
   95% interval, its standard met or missed, the change on last year and the verdict;
2. the headline standard (999 calls answered within 10 seconds, 90%) by the unit's BCUs or
   NPUs, ranked, with intervals and verdicts;
3. demand by hour of day and day of week (a heat map of calls received), from the calls'
   received timestamps (DataAccess.call_demand).

Below the force a call counts in the NPU it came from (abandoned calls too). Calls whose NPU
the input does not give count only at the force: the page says how many, and only then
(unplaced_calls: the force's count less its BCUs').

A standard is the measure's own (`Measure.target`, etl/sources/calls.py) unless the
assessment restates a target for the period from data/targets.csv, which then wins: the
page never disagrees with the scorecard. Attendance measures carry their time standard in
their definition (15/20/60 minutes, 72 hours); the share to attend within it is not given in
the seed, so they say so instead of inventing one.
"""

from __future__ import annotations

import math
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from dashboard.analysis import assessment, metrics
from dashboard.components.common import (
    BETTER_TEXT,
    BLUE,
    GREY,
    VERDICT_STYLE,
    VERMILLION,
    csv_button,
    empty_figure,
    figure,
    finite,
    graph,
    page_header,
    plot_text,
    section,
    values,
)
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import chart, export
from etl.measures.registry import MEASURES

PATH = "/calls"
TITLE = "Calls"

HEADLINE = "calls_999_answered_10s"
# The table's rows, in the order a contact management report reads them.
MEASURE_IDS: tuple[str, ...] = (
    "calls_999_answered_10s",
    "calls_abandoned_rate",
    "calls_101_abandoned_rate",
    "calls_101_answer_time",
    "calls_999",
    "calls_101",
    "grade1_urban_15min",
    "grade1_rural_20min",
    "grade2_60min",
    "grade3_72h",
)
CHILD_LEVELS = ("bcu", "npu")          # the call data is held down to the NPU
DEMAND_LEVELS = ("force", "bcu", "npu")
# Below the force a call counts in the NPU it came from (the input's `npu`: the incident's, or
# the caller's when none followed). A call whose NPU is not given, or is one the warehouse does
# not know, counts only at the force; the page says so, with how many, only when there are any.
VOLUME_IDS = ("calls_999", "calls_101", "calls_abandoned_rate")
STANDARD_COLUMNS = ("standard", "standard_met", "standard_text")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ------------------------------------------------------------------------ standards

def standard(row: Any) -> tuple[float | None, bool | None]:
    """(standard, met) of one assessment row: the assessment's period target when it has
    one, else the measure's own target; met is None when there is no standard or no value."""
    m = MEASURES[row["measure_id"]]
    if finite(row.get("target")):
        return float(row["target"]), row.get("target_met")
    if m.target is None:
        return None, None
    if not finite(row.get("value")) or m.polarity not in ("up", "down"):
        return float(m.target), None
    v = float(row["value"])
    return float(m.target), bool(v >= m.target if m.polarity == "up" else v <= m.target)


def standard_words(row: Any) -> str:
    """'met: 90.4% against the 90.0% standard', or why there is none."""
    m = MEASURES[row["measure_id"]]
    target, met = standard(row)
    if target is None:
        return f"no percentage standard: {m.target_source}" if m.target_source else "no standard"
    if met is None:
        return f"standard {metrics.fmt(m, target)}"
    word = "met" if met else "missed"
    return f"{word}: {metrics.fmt(m, float(row['value']))} against {metrics.fmt(m, target)}"


# ------------------------------------------------------------------------ process_*

def process_data(data: DataAccess, view: View) -> pd.DataFrame:
    """The unit's call assessments for the view's period, in MEASURE_IDS order, with the
    standard and whether it is met."""
    df = assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end,
                           measure_ids=list(MEASURE_IDS))
    df = _with_standard(df)
    order = {mid: i for i, mid in enumerate(MEASURE_IDS)}
    return df.sort_values("measure_id", key=lambda s: s.map(order)).reset_index(drop=True)


def _with_standard(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    # only the fields `standard` and `standard_words` read, once: a frame's every column as a
    # dict per row, twice, was a tenth of the page
    rows = out[["measure_id", "target", "target_met", "value"]].to_dict("records")
    pairs = [standard(r) for r in rows]
    out["standard"] = [p[0] if p[0] is not None else math.nan for p in pairs]
    out["standard_met"] = [p[1] for p in pairs]
    out["standard_text"] = [standard_words(r) for r in rows]
    return out


def ranked_units(data: DataAccess, view: View) -> tuple[list[Any], str]:
    """The units the headline standard is ranked across, and their name: the unit's BCUs or
    NPUs; at an NPU (whose children are teams: the call data stops at the NPU), the NPUs of
    its BCU, itself among them; none at a team."""
    kids = [u for u in data.children(view.unit.unit_id) if u.level in CHILD_LEVELS]
    if kids:
        return kids, f"by {'BCU' if view.unit.level == 'force' else 'NPU'} of {view.unit.title}"
    parent = data.unit(view.unit.parent_id) if view.unit.level == "npu" and view.unit.parent_id else None
    if parent is None:
        return [], ""
    return [u for u in data.children(parent.unit_id) if u.level == "npu"], f"by NPU of {parent.title}"


def unplaced_calls(data: DataAccess, view: View) -> tuple[int, int, int, int] | None:
    """(calls that no BCU holds, every call, abandoned calls no BCU holds, every abandoned call)
    of the view's force in the period, from the numerators the assessments are built on
    (DataAccess.scorecard: the numbers without the verdicts, which are not needed here and cost
    the force's peer comparisons): the force's count less its BCUs'. None when the actor may not
    see the force and every BCU of it: the difference would then be of calls hidden from them,
    not of calls without a place."""
    force = data.unit(view.unit.force_id)
    if force is None or not data.may_see(force) or data.hidden_children_note(force.unit_id):
        return None
    ids = [force.unit_id, *(u.unit_id for u in data.children(force.unit_id))]
    # a preset period: the numbers from the units' stored assessment tables (the scorecard's
    # numbers, without its change tests computed again); else the force's and its BCUs'
    # numbers in one read per source
    df = assessment.stored_numbers(data, ids, view.period.start, view.period.end, VOLUME_IDS)
    if df is None:
        cards = data.scorecards(ids, view.period.start, view.period.end, VOLUME_IDS)
        df = pd.concat([card.assign(unit_id=uid) for uid, card in zip(ids, cards, strict=True)],
                       ignore_index=True)
    df = df[df["verdict"] != "not loaded"]
    if df.empty:
        return None
    num = pd.to_numeric(df["numerator"], errors="coerce").fillna(0)
    here = df["unit_id"] == force.unit_id
    calls = df["measure_id"].isin(("calls_999", "calls_101"))
    abandoned = df["measure_id"] == "calls_abandoned_rate"
    total, placed = int(num[here & calls].sum()), int(num[~here & calls].sum())
    total_ab, placed_ab = int(num[here & abandoned].sum()), int(num[~here & abandoned].sum())
    return total - placed, total, total_ab - placed_ab, total_ab


def unplaced_text(counts: tuple[int, int, int, int] | None, view: View) -> str | None:
    """What the page says when some calls count only at the force; None when every call is
    placed in an NPU (or nothing can be said)."""
    if counts is None or counts[0] <= 0:
        return None
    unplaced, total, unplaced_ab, total_ab = counts
    share = 100 * unplaced / total if total else math.nan
    ab = (f"; {unplaced_ab:,} of the {total_ab:,} abandoned calls among them" if unplaced_ab > 0
          else "")
    return (
        f"{unplaced:,} of the force's {total:,} calls in {assessment.period_words(view.period)} "
        f"({share:.1f}%) do not say which NPU they came from, or name one the warehouse does not "
        f"know{ab}: they count at force level only, so the BCUs and NPUs add up to less than the "
        "force and their rates leave those calls out. Below the force, a call counts in the NPU it "
        "came from: where the incident was, or where the caller was when no incident followed.")


def process_children(data: DataAccess, view: View) -> pd.DataFrame:
    """The headline standard for each unit of `ranked_units`, best first (empty at a team)."""
    kids, _ = ranked_units(data, view)
    if not kids:
        return pd.DataFrame(columns=[*assessment.ASSESSMENT_COLUMNS, *STANDARD_COLUMNS])
    df = assessment.assess_many(data, [u.unit_id for u in kids], view.period.start, view.period.end,
                                measure_ids=[HEADLINE])
    df = df[df["verdict"] != "not loaded"]
    df = _with_standard(df)
    return df.sort_values("value", ascending=False, na_position="last").reset_index(drop=True)


def process_demand(data: DataAccess, view: View) -> pd.DataFrame:
    """Calls received by weekday (1 = Monday) and hour, both channels, every cell present."""
    if view.unit.level not in DEMAND_LEVELS:
        return pd.DataFrame(columns=["weekday", "hour", "calls", "calls_999", "calls_101"])
    raw = data.call_demand(view.unit.unit_id, view.period.start, view.period.end)
    grid = pd.MultiIndex.from_product([range(1, 8), range(24)], names=["weekday", "hour"])
    if raw.empty:
        return pd.DataFrame(columns=["weekday", "hour", "calls", "calls_999", "calls_101"])
    wide = raw.pivot_table(index=["weekday", "hour"], columns="channel", values="calls",
                           aggfunc="sum", fill_value=0)
    wide = wide.reindex(grid, fill_value=0)
    out = pd.DataFrame(index=grid).reset_index()
    out["calls_999"] = wide.get("999", pd.Series(0, index=grid)).to_numpy().astype(int)
    out["calls_101"] = wide.get("101", pd.Series(0, index=grid)).to_numpy().astype(int)
    out["calls"] = out["calls_999"] + out["calls_101"]
    out.insert(1, "day", [WEEKDAYS[d - 1] for d in out["weekday"]])
    return out


# ------------------------------------------------------------------------ findings

def summary(df: pd.DataFrame, view: View) -> str:
    """One sentence: the headline standard, then how many standards are missed and which
    measures are exceptions."""
    period = assessment.period_words(view.period)
    head = df[df["measure_id"] == HEADLINE]
    parts = []
    if not head.empty and finite(head.iloc[0]["value"]):
        r = head.iloc[0]
        parts.append(f"In {view.unit.title}, {period}, {metrics.fmt(MEASURES[HEADLINE], r['value'])} of "
                     f"999 calls were answered within 10 seconds: {r['standard_text'].split(':')[0]} "
                     f"the national standard of {metrics.fmt(MEASURES[HEADLINE], r['standard'])}")
    else:
        parts.append(f"No 999 call-handling data for {view.unit.title}, {period}")
    loaded = df[df["verdict"] != "not loaded"]
    exc = loaded[loaded["exception"].astype(bool)]
    if not exc.empty:
        parts.append(f"{len(exc)} exception{'s' if len(exc) != 1 else ''}: "
                     + "; ".join(exc["label"].str.lower()))
    elif not loaded.empty:
        parts.append("No call-handling or attendance measure is an exception")
    return ". ".join(parts) + "."


def _subtitle(view: View, what: str) -> str:
    return f"{what} · {view.unit.title}, {assessment.period_words(view.period)} · data as of " \
           f"{view.as_of_text.removeprefix('data to ')}"


def children_finding(df: pd.DataFrame, view: View) -> str:
    level = "BCUs" if df.iloc[0]["level"] == "bcu" else "NPUs"
    met = int(sum(bool(v) for v in df["standard_met"]))
    worst = df.dropna(subset=["value"]).iloc[-1]
    m = MEASURES[HEADLINE]
    mine = [i for i, u in enumerate(df["unit_id"]) if u == view.unit.unit_id]
    rank = f"{view.unit.title} {mine[0] + 1} of {len(df)}; " if mine else ""
    lowest = f"; lowest {worst['unit']} {metrics.fmt(m, worst['value'])}" if not mine else ""
    return f"{rank}{met} of {len(df)} {level} met the 90% standard{lowest}"


def demand_finding(df: pd.DataFrame) -> str:
    peak = df.loc[df["calls"].idxmax()]
    low = df.loc[df["calls"].idxmin()]
    return (f"Demand peaks on {peak['day']}s at {int(peak['hour']):02d}:00 "
            f"({int(peak['calls']):,} calls); quietest {low['day']}s at {int(low['hour']):02d}:00 "
            f"({int(low['calls']):,})")


# ------------------------------------------------------------------------ create_*

def _change_cell(row: Any) -> Any:
    return html.Span(row["change_text"] or "–", style=VERDICT_STYLE.get(row["verdict"], {}))


def _standard_cell(row: Any) -> Any:
    met = row["standard_met"]
    style = VERDICT_STYLE["better" if met else "worse"] if met is not None else {}
    head = "✔ met" if met else "✘ missed" if met is not None else ""
    if not head:
        m = MEASURES[row["measure_id"]]
        words = "time standard; no % given" if m.id.startswith("grade") else "none set"
        return html.Span(words, title=row["standard_text"], className="small text-body-secondary")
    m = MEASURES[row["measure_id"]]
    return html.Span(f"{head} ({metrics.fmt(m, row['standard'])})", style=style,
                     title=row["standard_text"], className="small")


def create_table(df: pd.DataFrame, view: View) -> Any:
    header = html.Thead(html.Tr([
        html.Th("Measure"),
        html.Th("Value (95% interval)", className="text-end"),
        html.Th("Standard"),
        html.Th("Same period last year", className="text-end"),
        html.Th("Change on last year"),
        html.Th("Verdict"),
    ]))
    body = []
    for r in df.to_dict("records"):
        m = MEASURES[r["measure_id"]]
        loaded = r["verdict"] != "not loaded"
        exception = bool(r["exception"])
        body.append(html.Tr([
            html.Td([
                dcc.Link(m.label, href=view.state.href("/drill-down", measure=m.id), className="fw-semibold"),
                html.Div(metrics.unit_text(m), className="small text-body-secondary"),
            ]),
            html.Td([
                html.Div(metrics.fmt(m, r["value"]) if loaded else "not loaded", className="fs-6"),
                html.Div(metrics.fmt_interval(m, r["lower"], r["upper"]) if loaded else "",
                         className="small text-body-secondary"),
            ], className="text-end", id={"type": "calls-value", "measure": m.id}),
            html.Td(_standard_cell(r), id={"type": "calls-standard", "measure": m.id}),
            html.Td(metrics.fmt(m, r["previous"]) if loaded else "", className="text-end"),
            html.Td(_change_cell(r) if loaded else ""),
            html.Td([dbc.Badge("Exception", color="danger", className="me-1"),
                     html.Span(r["reasons"], className="small")] if exception else
                    html.Span("no exception" if loaded else "", className="small text-body-secondary"),
                    id={"type": "calls-verdict", "measure": m.id}),
        ], className="exception-row" if exception else None))
    return dbc.Table([header, html.Tbody(body)], hover=True, responsive=True,
                     className="align-middle mb-0", id="calls-table")


def create_children_figure(df: pd.DataFrame, view: View) -> dict[str, Any]:
    m = MEASURES[HEADLINE]
    shown = df.dropna(subset=["value"]).iloc[::-1]       # best at the top of a horizontal bar
    if shown.empty:
        return empty_figure("No 999 call-handling data for the units below this one.")
    target = float(shown["standard"].dropna().iloc[0]) if shown["standard"].notna().any() else None
    words = ["met" if v else "missed" if v is not None else "" for v in shown["standard_met"]]
    colours = [BLUE if w == "met" else VERMILLION if w == "missed" else GREY for w in words]
    trace = {
        "type": "bar", "orientation": "h",
        "y": [plot_text(u) for u in shown["unit"]], "x": values(shown["value"]),
        "error_x": {"type": "data", "symmetric": False,
                    "array": values(shown["upper"] - shown["value"]),
                    "arrayminus": values(shown["value"] - shown["lower"]), "color": "#444444"},
        "marker": {"color": colours},
        "text": [f"{metrics.fmt(m, v)} · {w}" for v, w in zip(shown["value"], words, strict=True)],
        "textposition": "inside", "insidetextanchor": "start", "textfont": {"color": "#ffffff"},
        "customdata": [[plot_text(c), plot_text(t)]
                       for c, t in zip(shown["change_text"], shown["standard_text"], strict=True)],
        "hovertemplate": ("%{y}: %{x:.1f}%<br>%{customdata[1]}<br>on last year: %{customdata[0]}"
                          "<extra></extra>"),
        "name": m.label,
    }
    lo = max(0.0, float((shown["lower"]).min()) - 2.0)
    hi = min(100.0, max(float(shown["upper"].max()), target or 0.0) + 1.0)
    layout: dict[str, Any] = {"showlegend": False}
    if target is not None:
        layout["shapes"] = [{"type": "line", "xref": "x", "yref": "paper", "x0": target, "x1": target,
                             "y0": 0, "y1": 1, "line": {"color": BETTER_TEXT, "dash": "dash", "width": 2}}]
        layout["annotations"] = [{"x": target, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
                                  "text": f"{target:.0f}% standard", "showarrow": False,
                                  "font": {"size": 11, "color": BETTER_TEXT}}]
    return figure(
        [trace], children_finding(df, view),
        _subtitle(view, "% of 999 calls answered within 10 seconds, 95% interval"),
        height=max(220, 90 + 34 * len(shown)),
        xaxis={"title": {"text": "% answered within 10 seconds"}, "range": [lo, hi], "ticksuffix": "%"},
        yaxis={"automargin": True},
        margin={"l": 60, "r": 20, "t": 80, "b": 50},
        **layout,
    )


def create_demand_figure(df: pd.DataFrame, view: View) -> dict[str, Any]:
    hours = [f"{h:02d}:00" for h in range(24)]
    # summed into a weekday x hour array (a pandas lookup per cell cost ~30 ms a page)
    grid = np.zeros((7, 24), dtype=np.int64)
    for d, h, c in zip(df["weekday"], df["hour"], df["calls"], strict=True):
        grid[int(d) - 1, int(h)] += int(c)
    z = grid.tolist()
    trace = {
        "type": "heatmap", "x": hours, "y": list(WEEKDAYS), "z": z,
        "colorscale": "Blues", "reversescale": True,
        "colorbar": {"title": {"text": "calls"}, "thickness": 12},
        "hovertemplate": "%{y} %{x}: %{z:,} calls<extra></extra>", "xgap": 1, "ygap": 1,
    }
    return figure(
        [trace], demand_finding(df),
        _subtitle(view, "999 and 101 calls received, by hour of day and day of week"),
        height=340,
        xaxis={"title": {"text": "hour the call was received"}, "showline": False, "tickangle": 0,
               "tickmode": "array", "tickvals": hours[::3], "ticktext": hours[::3]},
        yaxis={"autorange": "reversed", "showline": False},
    )


# ------------------------------------------------------------------------ exports

@chart("calls-by-unit", measure="calls_999_answered_10s")
def children_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return create_children_figure(process_children(data, view), view)


@chart("calls-demand", measure="calls-demand")
def demand_figure(data: DataAccess, view: View) -> dict[str, Any]:
    return create_demand_figure(process_demand(data, view), view)


@export("calls-standards")
def export_standards(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    """The table: one row per call measure, the assessment's fields and the standard."""
    return process_data(data, view).drop(columns=assessment.SPARK_COLUMNS), "calls-standards"


@export("calls-by-unit")
def export_children(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    df = process_children(data, view)
    return df.drop(columns=[c for c in assessment.SPARK_COLUMNS if c in df.columns]), "calls-999-10s-by-unit"


@export("calls-demand")
def export_demand(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    return process_demand(data, view), "calls-demand-by-hour"


# ------------------------------------------------------------------------ layout

def layout(data: DataAccess, view: View) -> list[Any]:
    df = process_data(data, view)
    period = assessment.period_words(view.period)
    unplaced = unplaced_text(unplaced_calls(data, view), view)
    out: list[Any] = [
        *page_header(TITLE, view, with_measure=False),
        controls(data, view),
        dbc.Alert(html.P(summary(df, view), className="mb-0 fw-semibold", id="calls-summary"),
                  color="warning" if bool(df["exception"].astype(bool).any()) else "light",
                  className="border py-2 mb-2"),
        section(
            f"Contact management against national call-handling standards, {view.unit.title}, {period}",
            [create_table(df, view), html.P(
                "The 999 standard is the national one: 90% of emergency calls answered within 10 seconds "
                "(abandoned calls count as not answered). Grade 1 (emergency) incidents are to be attended "
                "within 15 minutes in urban and 20 minutes in rural areas, grade 2 (priority) within 60 "
                "minutes and grade 3 within the \"72-hour target time\" (HMIC L508); the seed gives "
                "\"targets for grade 1 and 2 incidents\" but not the share to meet them (L663), so none is "
                "invented. Intervals are Wilson for percentages, exact Poisson for counts, t for the mean "
                "answer time; the change on last year and the verdict are the scorecard's.",
                className="small text-body-secondary mt-2"),
             html.P(unplaced, className="small text-body-secondary", id="calls-below-force")
             if unplaced else None],
            action=csv_button("calls-standards"), card_id="calls-standards-card",
        ),
    ]
    kids = process_children(data, view)
    _, ranked = ranked_units(data, view)
    if kids.empty:
        body: Any = html.P(
            f"{view.unit.title} is below the NPU: call data is held down to the NPU.",
            className="small text-body-secondary", id="calls-by-unit-none")
        action = None
    else:
        body = graph("calls-by-unit", create_children_figure(kids, view))
        action = csv_button("calls-by-unit")
    out.append(section(f"999 calls answered within 10 seconds, {ranked or 'by unit'}",
                       body, action=action, card_id="calls-by-unit-card"))
    demand = process_demand(data, view)
    if demand.empty or int(demand["calls"].sum()) == 0:
        demand_body: Any = html.P(
            "No demand by hour: the call data gives the time each call was received, but it is held "
            "by force, BCU and NPU only, and none is loaded for this unit and period."
            if view.unit.level not in DEMAND_LEVELS else
            "No calls were received in this unit and period.",
            className="small text-body-secondary", id="calls-demand-none")
        demand_action = None
    else:
        demand_body = [graph("calls-demand", create_demand_figure(demand, view)), html.P(
            f"{demand_finding(demand)}. {int(demand['calls'].sum()):,} calls in all. At a BCU or NPU, "
            "the calls that came from it are counted.",
            className="small text-body-secondary", id="calls-demand-text")]
        demand_action = csv_button("calls-demand")
    out.append(section("Demand by hour of day and day of week", demand_body, action=demand_action,
                       card_id="calls-demand-card"))
    return out
