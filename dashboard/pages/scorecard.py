"""The PIM front page: the verdict first, then the exceptions that say why and where, then
every headline measure.

Everything on it is one assessment per measure (dashboard/analysis/assessment.py), the same
rows the API's /api/v1/assessments returns and the drill-down and Early warning pages read:
value with its 95% interval, the same period last year and the change with its test, the SPC
verdict at the period's last whole month, the target restated for the row's own period with
whether it is met and the outlook to the end of the target's period, and the position in the
MSF or peer group. At 1366x768 the verdict sentence and the top exceptions (with where and
why) are above the fold; the pickers collapse to one line.
"""

from __future__ import annotations

import math
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, dcc, html

from dashboard import state as url_state
from dashboard.analysis import assessment, metrics
from dashboard.auth import current_actor
from dashboard.components.cells import msf_cell
from dashboard.components.common import VERDICT_STYLE, csv_button, page_header, section
from dashboard.components.controls import controls
from dashboard.components.open_actions import open_actions_line
from dashboard.components.sparkline import sparkline
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import export
from etl.measures.registry import MEASURES

PATH = "/scorecard"
TITLE = "Scorecard"
FIRST_SCREEN = 5     # exceptions listed in the verdict box; the rest one click away


def process_data(data: DataAccess, view: View) -> pd.DataFrame:
    """The unit's assessments for the view's period (see assessment.assess)."""
    return assessment.assess(data, view.unit.unit_id, view.period.start, view.period.end)


def process_exceptions(data: DataAccess, view: View) -> pd.DataFrame:
    """The exceptions of the unit and the units below it, one item per measure."""
    return assessment.exceptions(data, view.unit.unit_id, view.period.start, view.period.end)


def summary(df: pd.DataFrame, view: View) -> str:
    """One sentence a chief officer can read first (assessment.verdict_sentence)."""
    return assessment.verdict_sentence(df, view.unit.title, assessment.period_words(view.period))


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def verdict_box(df: pd.DataFrame, view: View) -> Any:
    """The verdict sentence (the unit's own assessments, drawn with the page) and the place
    the top exceptions with why and where arrive in (`exceptions_list`, a second callback:
    they need the assessments of every unit below, which cost more than the page)."""
    return dbc.Alert(
        [
            html.P(summary(df, view), className="mb-1 fw-semibold", id="scorecard-summary"),
            dcc.Store(id="scorecard-exceptions-view", data=view.state.query()),
            dcc.Loading(html.Div(html.Span("Finding where the exceptions are…", className="small"),
                                 id="scorecard-exceptions"), type="dot"),
        ],
        color="warning" if bool(df["exception"].any()) else "light",
        className="border py-2 mb-2",
        id="scorecard-verdict",
    )


def exceptions_list(items: pd.DataFrame, view: View) -> Any:
    """The top exceptions of the unit and below, one per measure, each with why and where."""
    if items.empty:
        return html.Span(f"No exceptions in {view.unit.title} or the units below it.", className="small")
    rows = []
    for r in items.head(FIRST_SCREEN).itertuples(index=False):
        rows.append(html.Li([
            dcc.Link(r.measure, href=view.state.href("/drill-down", measure=r.measure_id, unit=r.unit_id),
                     className="fw-semibold"),
            html.Span(f" ({r.unit}): " if r.unit_id != view.unit.unit_id else ": "),
            html.Span(r.why),
            html.Span(f"; {r.where}" if r.where else "", className="text-body-secondary"),
        ], className="small"))
    more = len(items) - FIRST_SCREEN
    return html.Div([
        html.Ol(rows, className="mb-1 ps-3"),
        html.Div(dcc.Link(f"All {len(items)} exceptions in {view.unit.title} and below ›",
                          href=view.state.href("/early-warning")), className="small") if more > 0 else None,
    ])


def _verdict_cell(row: pd.Series) -> Any:
    style = VERDICT_STYLE.get(row["verdict"], {})
    return html.Span(row["change_text"], style=style)


_SPC_STYLE = {"special_cause_concern": VERDICT_STYLE["worse"],
              "special_cause_improvement": VERDICT_STYLE["better"]}


def spc_cell(row: Any, view: View) -> Any:
    if not row["spc_verdict"]:
        return html.Span(row["spc_text"] or "no chart", className="text-body-secondary small")
    fired = f" ({row['spc_rule']}, {row['spc_month']:%b %Y})" if row["spc_rule"] and row["spc_month"] else ""
    href = view.state.href("/early-warning", measure=row["measure_id"])
    return dcc.Link(row["spc_text"] + fired, href=href,
                    title=row["spc_signals"] or "No special cause in the latest months.",
                    style=_SPC_STYLE.get(row["spc_verdict"], {}), className="small")


PROJECTED = ("on track", "at risk", "off track")   # outlooks that say something the row does not


def target_cell(row: Any) -> Any:
    """The target for the row's own period, met or missed; MDC's assurance; and, while the
    target's own period is still running, its outlook. How the target was restated is on hover."""
    if _empty(row["target"]):
        return html.Span(row["target_text"] or "none set", className="text-body-secondary small")
    met = row["target_met"]
    style = VERDICT_STYLE["better" if met else "worse"] if met is not None else {}
    head = "✔ met" if met else "✘ missed" if met is not None else "target"
    measure = MEASURES[row["measure_id"]]
    outlook = row["outlook_text"] if row["outlook_status"] in PROJECTED else ""
    return html.Div([
        html.Span(f"{head}: {metrics.fmt(measure, row['target'])} for {row['target_period']}", style=style),
        html.Div(row["assurance"], className="text-body-secondary") if row["assurance"] else None,
        html.Div(outlook, className="text-body-secondary") if outlook else None,
    ], className="small", title=f"{row['target_text']}. Outlook: {row['outlook_text'] or 'none'}.")


def _records(df: pd.DataFrame) -> list[tuple[Any, dict[str, Any]]]:
    """(index, row) as `iterrows` gives them, each row a dict: iterrows makes each row's Series
    from `df.values` (one object array of the frame), and so does this, without a Series a row
    (a cell looked up in one cost ~10 us, and a scorecard row looks up ~40)."""
    names = list(df.columns)
    return [(i, dict(zip(names, cells, strict=True)))
            for i, cells in zip(df.index, df.values.tolist(), strict=True)]


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
                html.Th("Target for this period"),
                # narrow screens and A4 paper drop the sparkline (its values are in the CSV)
                html.Th("13 months to " + (f"{spans[0][-1]:%b %Y}" if spans else ""),
                        className="d-none d-lg-table-cell"),
            ]
        )
    )
    body = []
    for i, row in _records(df):
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
                            dcc.Link(measure.label, href=href, className="fw-semibold",
                                     id={"type": "scorecard-drill", "measure": measure.id}),
                            html.Div(metrics.unit_text(measure), className="small text-body-secondary"),
                            html.Div([dbc.Badge("Exception", color="danger", className="me-1"),
                                      html.Span(row["reasons"], className="small")],
                                     className="mt-1") if exception else None,
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
                    html.Td(spc_cell(row, view), id={"type": "scorecard-spc", "measure": measure.id}),
                    html.Td(msf_cell(row, view), id={"type": "scorecard-msf", "measure": measure.id}),
                    html.Td(target_cell(row), id={"type": "scorecard-target", "measure": measure.id}),
                    html.Td(sparkline(row["spark"], spark_alt), className="d-none d-lg-table-cell"),
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
    """Exactly the table: one row per measure (the assessment's fields), the sparkline's 13
    values as columns (every row has the same 13 months: blank for a measure not loaded)."""
    df = process_data(data, view)
    flat = df.drop(columns=assessment.SPARK_COLUMNS)
    if not df.empty:
        # the 13 columns framed once and joined (inserting them one by one was ~5 ms)
        sparks = list(df["spark"])
        spark = pd.DataFrame({f"spark_{month:%Y-%m}": [s[j] for s in sparks]
                              for j, month in enumerate(df["spark_months"].iloc[0])}, index=flat.index)
        flat = pd.concat([flat, spark], axis=1)
    return flat, "scorecard"


def layout(data: DataAccess, view: View) -> list[Any]:
    full = process_data(data, view)
    # usually every headline measure is loaded: then the frame itself, not a boolean mask's copy
    # of its ~90 columns (~5-10 ms a page for each of the two)
    loaded = full["verdict"] != "not loaded"
    if bool(loaded.all()) and isinstance(full.index, pd.RangeIndex) and full.index.start == 0 \
            and full.index.step == 1:
        df, absent = full, full.iloc[0:0]
    else:
        df = full[loaded].reset_index(drop=True)
        absent = full[~loaded]
    how = html.P(
        [
            "Exceptions first, by severity. An exception is a measure significantly worse than the "
            "same period last year (polarity-aware: a rise in crime is worse, a rise in detections "
            "better; exact tests, 95%), an SPC special cause of concern in the latest months (Making "
            "Data Count, at the period's last whole month; hover for the signal, click for the chart), "
            "a target missed for this period or at risk, or an outlier beyond the 99.8% funnel limit of "
            "its MSF (force) or peer group (BCUs, NPU cluster, teams) on the bad side. Intervals are "
            "exact Poisson for counts and rates, Wilson for percentages. The target is restated for "
            "the row's own period (a year's count target by last year's months; a rate target as it "
            "stands; data/targets.csv), with the outlook to the end of its own period and Making Data "
            "Count's assurance (whether the process limits lie beyond the target).",
        ],
        className="small text-body-secondary",
    )
    table = create_table(df, view) if not df.empty else html.P("No data.")
    missing = (
        html.P(
            "Headline measures with no data loaded for this force: "
            + "; ".join(f"{label} ({domain.lower()})" for label, domain in
                        zip(absent["label"].tolist(), absent["domain"].tolist(), strict=True))
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
        verdict_box(df, view),
        open_actions_line(data, view),
        section(
            f"Headline measures, {view.unit.title}, {assessment.period_words(view.period)}",
            [table, missing, how],
            action=csv_button("scorecard"),
            card_id="scorecard-card",
        ),
    ]


def register(app: dash.Dash, data: DataAccess) -> None:
    @app.callback(Output("scorecard-exceptions", "children"), Input("scorecard-exceptions-view", "data"))
    def fill_exceptions(query: str | None) -> Any:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update
            return exceptions_list(process_exceptions(data, view), view)
