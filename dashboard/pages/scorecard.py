"""The PIM front page: every headline measure for the chosen unit and period, exceptions first.

For each measure: the value with its 95% interval, the same period last year, the change
with its significance test (never a bare percentage), the target and whether it is met, and
a 13-month sparkline. A row links to that measure's drill-down for the same unit and period.

Three columns come from the early-warning, comparison and targets modules
(dashboard/pim_status.py): the SPC status (Making Data Count's verdict on the latest month,
linked to its chart), the position in the MSF or peer group (linked to the Compare page), and
the target's outlook (projection to the end of the period and the chance of meeting it). They
are filled by a second callback just after the table is drawn, so the table itself stays as
quick as the rest of the page.
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, dcc, html

from dashboard import state as url_state
from dashboard.analysis import metrics, pim_status
from dashboard.auth import current_actor
from dashboard.components.common import VERDICT_STYLE, csv_button, page_header, section
from dashboard.components.controls import controls
from dashboard.components.sparkline import sparkline
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import export
from etl.measures.registry import MEASURES

PATH = "/scorecard"
TITLE = "Scorecard"


def process_data(data: DataAccess, view: View) -> pd.DataFrame:
    """The scorecard rows for the view's unit and period (see DataAccess.scorecard)."""
    return data.scorecard(view.unit.unit_id, view.period.start, view.period.end)


def summary(df: pd.DataFrame, view: View) -> str:
    """One sentence a chief officer can read first: how many measures are exceptions."""
    rows = [
        r for r in df[["label", "verdict", "target_met"]].itertuples(index=False) if r.verdict != "not loaded"
    ]
    if not rows:
        return f"No data is loaded for {view.unit.title}."
    worse = [r.label for r in rows if r.verdict == "worse"]
    better = [r.label for r in rows if r.verdict == "better"]
    missed = [r.label for r in rows if r.target_met is False]
    nodata = sum(r.verdict == "no data" for r in rows)
    parts = [f"{view.unit.title}, {view.period.label}: "]
    if worse:
        parts.append(
            f"{len(worse)} of {len(rows)} headline measures are significantly worse than the "
            f"same period last year ({', '.join(worse)})"
        )
    else:
        parts.append(
            f"none of the {len(rows)} headline measures is significantly worse than the same period last year"
        )
    if better:
        parts.append(f"; {len(better)} significantly better ({', '.join(better)})")
    if missed:
        parts.append(f"; {len(missed)} miss their target ({', '.join(missed)})")
    if nodata:
        parts.append(f"; {nodata} cannot be compared (no data for last year or no population)")
    return "".join(parts) + "."


def _verdict_cell(row: pd.Series) -> Any:
    style = VERDICT_STYLE.get(row["verdict"], {})
    return html.Span(row["change_text"], style=style)


def _target_cell(row: pd.Series, measure_id: str) -> Any:
    measure = MEASURES[measure_id]
    if row["target_met"] is None or (isinstance(row["target_met"], float) and math.isnan(row["target_met"])):
        return html.Span("none set", className="text-body-secondary")
    met = bool(row["target_met"])
    return html.Span(
        [("✔ met" if met else "✘ not met"), f" (target {metrics.fmt(measure, row['target'])})"],
        style=VERDICT_STYLE["better" if met else "worse"],
    )


def _pending(kind: str, measure_id: str) -> Any:
    """A cell the second callback fills (SPC status, MSF position)."""
    return html.Div("…", id={"type": f"scorecard-{kind}", "measure": measure_id},
                    className="text-body-secondary small")


def process_extra(data: DataAccess, view: View) -> pd.DataFrame:
    """SPC status, MSF (or peer) position and target outlook per headline measure."""
    return pim_status.scorecard_extra(data, view.unit.unit_id, view.period.start, view.period.end)


_SPC_STYLE = {"special_cause_concern": VERDICT_STYLE["worse"],
              "special_cause_improvement": VERDICT_STYLE["better"]}
_STATUS_STYLE = {"missed": "worse", "off track": "worse", "not meeting now": "worse", "met": "better",
                 "on track": "better", "meeting now": "better"}


def spc_cell(row: Any, view: View) -> Any:
    if not row["spc_verdict"]:
        return html.Span("no chart (too few months)", className="text-body-secondary small")
    return dcc.Link(row["spc_text"], href=view.state.href("/early-warning", measure=row["measure_id"]),
                    title=row["spc_signals"] or "No special cause in the latest months.",
                    style=_SPC_STYLE.get(row["spc_verdict"], {}), className="small")


def msf_cell(row: Any, view: View) -> Any:
    """'1 of 5 · better (99.8%)': rank (1 = best) and the funnel verdict in two words; the full
    sentence and the group's basis on hover. A proxy group is always said on the cell."""
    if not row["msf_rank"] or (isinstance(row["msf_rank"], float) and math.isnan(row["msf_rank"])):
        return html.Span(row["msf_text"] or "no group", className="text-body-secondary small")
    pos = row["msf_position"]
    measure = MEASURES[row["measure_id"]]
    style: dict[str, Any] = {}
    verdict = ""
    if isinstance(pos, str):
        if pos == "within":
            verdict = "within limits"
        else:
            above = pos.startswith("above")
            level = "99.8%" if pos.endswith("99.8") else "95%"
            if measure.polarity in ("up", "down"):
                word = "better" if above == (measure.polarity == "up") else "worse"
                style = VERDICT_STYLE[word]
                verdict = f"{'▲' if above else '▼'} {word} ({level})"
            else:
                verdict = f"{'▲ above' if above else '▼ below'} ({level})"
    proxy = row["msf_label"] == "proxy, not the Home Office group"
    return html.Div([
        dcc.Link(f"{int(row['msf_rank'])} of {int(row['msf_of'])}",
                 href=view.state.href("/compare", measure=row["measure_id"]), className="fw-semibold"),
        html.Span(f" · {verdict}" if verdict else "", style=style),
        html.Div("proxy group", className="text-body-secondary") if proxy else None,
    ], className="small", title=f"{row['msf_text']}. Group: {row['msf_label']}.")


def target_cell_with_outlook(row: Any, fallback: Any) -> Any:
    if not row["target_status"]:
        return fallback
    style = VERDICT_STYLE.get(_STATUS_STYLE.get(row["target_status"], ""), {})
    return html.Span(row["target_text"], style=style, className="small")


def create_table(df: pd.DataFrame, view: View) -> Any:
    """The scorecard as a plain, printable table (one row per measure)."""
    spans = [m for m in df["spark_months"] if len(m)]
    header = html.Thead(
        html.Tr(
            [
                html.Th("Measure"),
                html.Th("Value (95% interval)", className="text-end"),
                html.Th("Same period last year", className="text-end"),
                html.Th("Change on last year"),
                html.Th("SPC status"),
                html.Th("MSF position" if view.unit.level == "force" else "Peer position"),
                html.Th("Target"),
                html.Th("13 months to " + (f"{spans[0][-1]:%b %Y}" if spans else "")),
                # The measure name links to the same place: on narrow screens and paper, this goes.
                html.Th("", className="d-none d-xl-table-cell"),
            ]
        )
    )
    body = []
    for i, row in df.iterrows():
        measure = MEASURES[row["measure_id"]]
        href = view.state.href("/drill-down", measure=measure.id)
        months = row["spark_months"]
        spark_alt = (
            (
                f"{measure.label}, {months[0]:%b %Y} to {months[-1]:%b %Y}: "
                + ", ".join(metrics.fmt(measure, v) for v in row["spark"])
            )
            if len(months)
            else ""
        )
        exception = bool(row["exception"])
        body.append(
            html.Tr(
                [
                    html.Td(
                        [
                            dcc.Link(measure.label, href=href, className="fw-semibold"),
                            html.Div(metrics.unit_text(measure), className="small text-body-secondary"),
                            dbc.Badge("Exception", color="danger", className="ms-0 mt-1")
                            if exception
                            else None,
                        ]
                    ),
                    html.Td(
                        [
                            html.Div(metrics.fmt(measure, row["value"]), className="fs-5"),
                            html.Div(
                                metrics.fmt_interval(measure, row["lower"], row["upper"]),
                                className="small text-body-secondary",
                            ),
                        ],
                        className="text-end",
                    ),
                    html.Td(metrics.fmt(measure, row["previous"]), className="text-end"),
                    html.Td(_verdict_cell(row)),
                    html.Td(_pending("spc", measure.id)),
                    html.Td(_pending("msf", measure.id)),
                    html.Td(html.Div(_target_cell(row, measure.id),
                                     id={"type": "scorecard-target", "measure": measure.id})),
                    html.Td(sparkline(row["spark"], spark_alt)),
                    html.Td(
                        dcc.Link(
                            "Drill down ›",
                            href=href,
                            className="text-nowrap",
                            id={"type": "scorecard-drill", "measure": measure.id},
                        ),
                        className="d-none d-xl-table-cell",
                    ),
                ],
                className="exception-row" if exception else None,
                id={"type": "scorecard-row", "index": int(i)},
            )
        )
    return dbc.Table(
        [header, html.Tbody(body)],
        hover=True,
        responsive=True,
        className="align-middle mb-0",
        id="scorecard-table",
    )


@export("scorecard")
def export_scorecard(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    """Exactly the table: one row per measure, the sparkline's 13 values as columns."""
    df = process_data(data, view)
    flat = df.drop(columns=["spark_months", "spark"]).copy()
    extra = process_extra(data, view)
    flat = flat.merge(extra, on="measure_id", how="left")
    flat.insert(0, "unit_id", view.unit.unit_id)
    flat.insert(1, "period_start", view.period.start)
    flat.insert(2, "period_end", view.period.end)
    if not df.empty:
        for j, month in enumerate(df["spark_months"].iloc[0]):
            flat[f"spark_{month:%Y-%m}"] = [s[j] for s in df["spark"]]
    return flat, "scorecard"


def layout(data: DataAccess, view: View) -> list[Any]:
    full = process_data(data, view)
    df = full[full["verdict"] != "not loaded"].reset_index(drop=True)
    absent = full[full["verdict"] == "not loaded"]
    exceptions = int(df["exception"].sum()) if not df.empty else 0
    lead = dbc.Alert(
        summary(df, view),
        color="warning" if exceptions else "light",
        className="border",
        id="scorecard-summary",
    )
    how = html.P(
        [
            "Exceptions first: measures significantly worse than the same period last year "
            "(polarity-aware: a rise in crime is worse, a rise in detections better), then targets "
            "missed. ▲▼ show the direction of the change; the words say whether it is better or "
            "worse and whether it is beyond chance (exact test, 95%). Intervals are exact Poisson "
            "for counts and rates, Wilson for percentages. SPC status: the Making Data Count verdict on "
            "the latest whole month (▲ concern, ★ improvement; hover for the signal, click for the "
            "chart). MSF position: rank in the most similar forces (or, below force level, the peer "
            "BCUs, NPU cluster or teams), 1 = best, and whether the funnel plot puts it beyond the "
            "95% or 99.8% limits of the group's weighted average (hover for the group). Target: the "
            "policing plan's target (data/targets.csv), the projection to the end of its period and "
            "the chance of meeting it.",
        ],
        className="small text-body-secondary",
    )
    table = create_table(df, view) if not df.empty else html.P("No data.")
    missing = (
        html.P(
            "Headline measures with no data loaded for this force: "
            + "; ".join(f"{r['label']} ({r['domain'].lower()})" for _, r in absent.iterrows())
            + ".",
            className="small text-body-secondary",
            id="scorecard-not-loaded",
        )
        if not absent.empty
        else None
    )
    return [
        *page_header(TITLE, view, with_measure=False),
        controls(data, view),
        dcc.Store(id="scorecard-extra-view", data=view.state.query()),
        lead,
        section(
            f"Headline measures, {view.unit.title}",
            [table, missing, how],
            action=csv_button("scorecard"),
            card_id="scorecard-card",
        ),
    ]


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(
        Output({"type": "scorecard-spc", "measure": ALL}, "children"),
        Output({"type": "scorecard-msf", "measure": ALL}, "children"),
        Output({"type": "scorecard-target", "measure": ALL}, "children"),
        Input("scorecard-extra-view", "data"),
    )
    def fill_extra(query: str | None) -> Any:
        """The SPC, MSF and target cells, for the measures the table shows, in its order."""
        ids = [o["id"]["measure"] for o in dash.ctx.outputs_list[0]]
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None or not ids:
                return dash.no_update
            extra = process_extra(data, view).set_index("measure_id", drop=False)
            full = process_data(data, view).set_index("measure_id", drop=False)
            spc, msf, target = [], [], []
            for mid in ids:
                if mid not in extra.index:
                    spc.append("")
                    msf.append("")
                    target.append(dash.no_update)
                    continue
                row = extra.loc[mid]
                spc.append(spc_cell(row, view))
                msf.append(msf_cell(row, view))
                target.append(target_cell_with_outlook(row, _target_cell(full.loc[mid], mid)))
            return spc, msf, target
