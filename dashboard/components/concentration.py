"""The concentration section of the drill-down: how much of a unit's crime and harm its busiest
LSOAs hold (the "law of crime concentration"), the Lorenz curve, the top LSOAs, and repeat
locations.

Its data is `DataAccess.concentration` and `DataAccess.repeat_locations`, read through
`dashboard.analysis.concentration` (pure); its CSV (export 'drill-concentration') is every LSOA
of the unit in the order the curve draws them. docs/concentration.md says what each number
means.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.analysis import concentration, harm
from dashboard.components.common import (
    BLUE,
    GREY,
    ORANGE,
    csv_button,
    decimal_column,
    figure,
    graph,
    grid,
    section,
)
from dashboard.data.facade import DataAccess
from dashboard.data.model import PlaceFigures, View
from dashboard.exports import chart, export
from dashboard.periods import Period
from etl.measures.crime import ALL_CRIME, CATEGORY_LABELS

TOP_ROWS = 25          # LSOAs listed on screen (the CSV has every one)
TOP_LOCATIONS = 10     # repeat locations listed, for roles that may see records
SNAPPED = ("data.police.uk places each crime at one of a fixed set of anonymous map points "
           "(\"On or near ...\"), never at the address: a repeat location is a point with 2 or more "
           "crimes in the period, which may be several addresses near one another.")


@dataclass(frozen=True)
class Concentration:
    figures: PlaceFigures
    summary: concentration.Summary | None
    ranked: pd.DataFrame
    repeats: concentration.Repeats | None
    locations: pd.DataFrame          # the top repeat points, with text only for roles allowed
    basis: harm.Basis
    period: Period


def process(data: DataAccess, view: View) -> Concentration:
    m, p = view.measure, view.period
    fig = data.concentration(view.unit.unit_id, p.start, p.end, m.id)
    period = Period(fig.first, fig.last)
    lsoas = fig.lsoas
    if fig.not_available is not None:
        return Concentration(fig, None, pd.DataFrame(columns=concentration.RANKED_COLUMNS), None,
                             pd.DataFrame(), harm.Basis(0, 0), period)
    names = {u: data.unit(u).name if data.unit(u) else u for u in lsoas["npu_id"].dropna().unique()}
    rows = concentration.ranked(list(lsoas["lsoa_code"]), list(lsoas["lsoa_name"]),
                                [names.get(n, n) for n in lsoas["npu_id"]], lsoas["crimes"], lsoas["harm"])
    ranked = pd.DataFrame(rows, columns=concentration.RANKED_COLUMNS)
    # the points' counts and the top repeat points, not every point (a custom range at national
    # scale has ~74,000); the locations only for roles that may see records
    totals, listed = data.repeat_summary(view.unit.unit_id, p.start, p.end, m.id, at_least=2,
                                         top=TOP_LOCATIONS)
    repeats = concentration.Repeats(*totals)
    top = listed if listed is not None else pd.DataFrame()
    basis = harm.Basis(int(lsoas["crimes"].sum()), int(lsoas["harm_approx"].sum()))
    return Concentration(fig, concentration.summarise(lsoas["crimes"], lsoas["harm"]), ranked, repeats,
                         top, basis, period)


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x * 100:.0f}%"


def crimes_word(view: View) -> str:
    """What is counted: the crimes of the measure's categories ('crime' for all of them, as for
    total crime, crime harm or sanction detections; 'burglary' for burglary). The section
    counts crimes, never the measure's own numerator (a detection, a rate)."""
    cats = view.measure.categories
    if set(cats) == set(ALL_CRIME):
        return "crime"
    return ", ".join(CATEGORY_LABELS.get(c, c) for c in cats).lower()


def headline(c: Concentration, view: View) -> str:
    """'In Q4 2007/08, the 5% of Northern BCU's LSOAs with most crime (12 of 231) held 31% of
    its crime; the 5% with most harm held 38% of its harm.'"""
    s = c.summary
    if s is None or s.crimes == 0:
        return f"No crime placed in an LSOA of {view.unit.title} in {c.period.label}."
    five, harm5 = s.crime_top[0], s.harm_top[0]
    return (f"In {c.period.label}, the 5% of {view.unit.title}'s LSOAs with most crime ({five.k:,} of "
            f"{five.n:,}) held {_pct(five.share)} of its {crimes_word(view)}; the 5% with most "
            f"harm held {_pct(harm5.share)} of its harm.")


def lorenz_figure(c: Concentration, view: View) -> dict[str, Any]:
    """The Lorenz curve read from the top (LSOAs from most to least), for crime and harm, with
    the line of equality and the top 5% and 10% marked."""
    lsoas = c.figures.lsoas
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "x": [0, 100], "y": [0, 100], "name": "Line of equality",
         "line": {"color": GREY, "dash": "dot", "width": 1.5}, "hoverinfo": "skip"},
    ]
    for values, name, colour, dash in ((lsoas["crimes"], "Crime", BLUE, "solid"),
                                       (lsoas["harm"], "Harm (CSS, approximate)" if c.basis.approximate
                                        else "Harm (CSS)", ORANGE, "dash")):
        x, y = concentration.concentration_curve(values)
        what = name.split(" ")[0].lower()
        traces.append({"type": "scatter", "mode": "lines", "x": [round(v * 100, 2) for v in x],
                       "y": [round(v * 100, 2) for v in y], "name": name,
                       "line": {"color": colour, "width": 2.5, "dash": dash},
                       "hovertemplate": "%{x:.1f}% of LSOAs hold %{y:.1f}% of " + what + "<extra></extra>"})
    s = c.summary
    shapes, notes = [], []
    if s is not None:
        for t in s.crime_top:
            x = t.k / t.n * 100 if t.n else 0
            shapes.append({"type": "line", "x0": x, "x1": x, "y0": 0, "y1": 100,
                           "line": {"color": "#999999", "width": 1}})
            first = t.fraction == concentration.FRACTIONS[0]   # labels either side of the two lines
            label = f"top {t.percent_text} " if first else f" top {t.percent_text}"
            notes.append({"x": x, "y": 96, "text": label, "showarrow": False,
                          "xanchor": "right" if first else "left", "font": {"size": 11, "color": "#444444"}})
    title = (f"{_pct(s.crime_top[0].share)} of the crime in 5% of LSOAs" if s is not None and s.crimes
             else "No crime placed in an LSOA")
    sub = (f"{view.unit.title}, {c.period.label}, {view.as_of_text}; {crimes_word(view)}, "
           f"{c.figures.lsoas.shape[0]:,} LSOAs, most crime first")
    return figure(traces, title, sub, height=400,
                  xaxis={"title": {"text": "LSOAs, most crime first (% of the unit's LSOAs)"},
                         "range": [0, 100], "ticksuffix": "%"},
                  yaxis={"title": {"text": "% of the unit's total"}, "range": [0, 100.5], "ticksuffix": "%"},
                  shapes=shapes, annotations=notes,
                  legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "yref": "container", "x": 0},
                  margin={"l": 60, "r": 20, "t": 70, "b": 90})


def _figures_table(c: Concentration) -> html.Table:
    s = c.summary
    assert s is not None
    head = html.Thead(html.Tr([html.Th("Top LSOAs"), html.Th("LSOAs"), html.Th("Share of crime"),
                               html.Th("Share of harm")]))
    body = [html.Tr([html.Td(f"Top {ct.percent_text}"), html.Td(f"{ct.k:,} of {ct.n:,}"),
                     html.Td(_pct(ct.share)), html.Td(_pct(ht.share))])
            for ct, ht in zip(s.crime_top, s.harm_top, strict=True)]
    body.append(html.Tr([html.Td("Gini coefficient"), html.Td(f"{s.with_crime:,} with any crime"),
                         html.Td("–" if not math.isfinite(s.crime_gini) else f"{s.crime_gini:.2f}"),
                         html.Td("–" if not math.isfinite(s.harm_gini) else f"{s.harm_gini:.2f}")]))
    return html.Table([head, html.Tbody(body)], className="table table-sm small mb-2",
                      id="concentration-figures")


def _repeats_text(c: Concentration) -> str:
    r = c.repeats
    if r is None or r.locations == 0:
        return "Repeat locations: no crime of this unit carries a map point in the period."
    return (f"Repeat locations: {r.repeat_locations:,} of {r.locations:,} map points had 2 or more crimes "
            f"and held {_pct(r.share)} of the {r.crimes:,} crimes with a map point.")


def _notes(c: Concentration, view: View) -> list[Any]:
    f = c.figures
    source = view.source.label if view.source else "no source"
    out: list[Any] = [
        f"{c.period.label} ({c.period.start:%d %b %Y} to {c.period.end:%d %b %Y}); source: {source}. "
        f"LSOAs: all {len(f.lsoas):,} of the unit's area, those with no crime included"
        + (f" ({f.from_default:,} named by no record yet, from the default hierarchy)"
           if f.from_default else "")
        + ". Crime and harm are ranked separately; LSOAs tied at the edge of a top group do not change its "
        "share (the listing breaks ties by LSOA code). ",
        html.Strong(f"Harm: {c.basis.label}. "), c.basis.detail()[:1].upper() + c.basis.detail()[1:], " ",
        harm.ATTRIBUTION, " ", SNAPPED,
    ]
    if f.blank or f.outside:
        out.append(f" Not in the unit's LSOAs and not counted here: {f.blank:,} crimes with no LSOA, "
                   f"{f.outside:,} in an LSOA outside the area.")
    return out


_HEAD = {"wrapHeaderText": True, "autoHeaderHeight": True, "filter": False}
_WRAP = {"wrapText": True, "autoHeight": True, "cellStyle": {"lineHeight": "1.3", "paddingTop": "4px",
                                                             "paddingBottom": "4px"}}
# narrow enough for an A4 page (about 736 px of grid): the LSOA's name (its code in the tooltip
# and the CSV), numbers in 70 px columns with wrapped headings
LSOA_COLUMNS = [
    {"field": "rank", "headerName": "Rank", "maxWidth": 80, "minWidth": 68, "type": "numericColumn", **_HEAD},
    {"field": "lsoa", "headerName": "LSOA", "minWidth": 170, "tooltipField": "lsoa_code", **_HEAD, **_WRAP},
    {"field": "npu_short", "headerName": "NPU", "minWidth": 84, "tooltipField": "npu", **_HEAD, **_WRAP},
    {"field": "crimes", "headerName": "Crimes", "minWidth": 76, "type": "numericColumn", **_HEAD},
    {"field": "crime_share", "headerName": "% of crime", "minWidth": 70, **decimal_column(1), **_HEAD},
    {"field": "cumulative_share", "headerName": "Cumulative % of crime", "minWidth": 70, **decimal_column(1),
     **_HEAD},
    {"field": "harm", "headerName": "Harm (CSS)", "minWidth": 86, **decimal_column(0), **_HEAD},
    {"field": "harm_share", "headerName": "% of harm", "minWidth": 70, **decimal_column(1), **_HEAD},
]
LOCATION_COLUMNS = [
    {"field": "location", "headerName": "Map point (snapped)", "minWidth": 200},
    {"field": "lsoa_code", "headerName": "LSOA", "minWidth": 110},
    {"field": "crimes", "headerName": "Crimes", "type": "numericColumn"},
]


def _shown(ranked: pd.DataFrame) -> pd.DataFrame:
    """The table's LSOA column: its name ("Cheshire West and Chester 012A"), else its code; its
    NPU without the authority the LSOA's name already says ("West" for "Cheshire West and
    Chester: West"; the full name in the tooltip and the CSV)."""
    npu = [n.split(": ", 1)[-1] if isinstance(n, str) else n for n in ranked["npu"]]
    return ranked.assign(lsoa=ranked["lsoa_name"].where(ranked["lsoa_name"].notna(), ranked["lsoa_code"]),
                         npu_short=npu)


def concentration_card(data: DataAccess, view: View) -> Any:
    c = process(data, view)
    title = f"Concentration: {view.unit.title}'s LSOAs"
    if c.summary is None:
        return section(title, html.P(f"Concentration by LSOA is {c.figures.not_available}.",
                                     className="small mb-0", id="concentration-not-available"),
                       card_id="concentration-card")
    body: list[Any] = [
        html.P(headline(c, view), className="fw-semibold mb-2", id="concentration-headline"),
        dbc.Row([
            dbc.Col(graph("drill-lorenz", lorenz_figure(c, view)), lg=7),
            dbc.Col([_figures_table(c), html.P(_repeats_text(c), className="small mb-2",
                                               id="concentration-repeats")], lg=5),
        ]),
        html.H3(f"The {min(TOP_ROWS, len(c.ranked))} LSOAs with most crime", className="h6 mt-2"),
        grid("concentration-grid", _shown(c.ranked.head(TOP_ROWS)), LSOA_COLUMNS, row_id="lsoa_code"),
    ]
    if not c.locations.empty:
        body += [html.H3("Repeat locations with most crime", className="h6 mt-3"),
                 grid("repeat-locations-grid", c.locations[["location", "lsoa_code", "crimes"]],
                      LOCATION_COLUMNS)]
    body.append(html.P(_notes(c, view), className="small text-body-secondary mt-2 mb-0",
                       id="concentration-notes"))
    return section(title, body, action=csv_button("drill-concentration"), card_id="concentration-card")


@chart("drill-lorenz")
def lorenz_chart(data: DataAccess, view: View) -> dict[str, Any]:
    return lorenz_figure(process(data, view), view)


@export("drill-concentration")
def export_concentration(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    """Every LSOA of the unit, most crime first: what the curve draws and the table lists."""
    c = process(data, view)
    out = c.ranked.assign(period_from=c.period.start.isoformat(), period_to=c.period.end.isoformat(),
                          harm_weights=c.basis.text())
    return out, f"{view.measure.id}-concentration"
