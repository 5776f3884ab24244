"""The crime harm card: where a unit's harm comes from, by category, against its share of
crimes, with how the figure was weighted (exact or approximate) and the ONS attribution.

Shown on the drill-down for the harm measures; its data is `DataAccess.harm_by_category` read
through `dashboard.analysis.harm`, and its CSV (export 'drill-harm') is the same table.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import html

from dashboard.analysis import harm
from dashboard.components.common import BLUE, SKY, csv_button, figure, graph, plot_text, section, values
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import export


def harm_table(data: DataAccess, view: View) -> tuple[pd.DataFrame, harm.Basis]:
    frame = data.harm_by_category(view.unit.unit_id, view.period.start, view.period.end)
    return harm.shares(frame), harm.basis(frame)


def harm_figure(shares: pd.DataFrame, view: View) -> dict[str, Any]:
    top = shares.head(1)
    title = (f"{top['label'].iloc[0]}: {top['harm_share'].iloc[0]:.0f}% of the harm from "
             f"{top['crime_share'].iloc[0]:.0f}% of the crimes" if not top.empty else "No crime harm")
    rows = shares.iloc[::-1]   # most harm at the top of a horizontal bar chart
    traces = [
        {"type": "bar", "orientation": "h", "name": "share of crime harm (%)",
         "y": [plot_text(x) for x in rows["label"]], "x": values(rows["harm_share"].round(1)),
         "marker": {"color": BLUE}, "hovertemplate": "%{y}: %{x:.1f}% of harm<extra></extra>"},
        {"type": "bar", "orientation": "h", "name": "share of crimes (%)",
         "y": [plot_text(x) for x in rows["label"]], "x": values(rows["crime_share"].round(1)),
         "marker": {"color": SKY}, "hovertemplate": "%{y}: %{x:.1f}% of crimes<extra></extra>"},
    ]
    return figure(traces, title, f"{view.unit.title}, {view.period.label}; % of the unit's total",
                  height=420, barmode="group", xaxis={"ticksuffix": "%"},
                  margin={"l": 190, "r": 20, "t": 70, "b": 70})


def harm_card(data: DataAccess, view: View) -> Any:
    shares, how = harm_table(data, view)
    note = [html.Strong(f"{how.label}. "), how.detail()[:1].upper() + how.detail()[1:], " ",
            harm.ATTRIBUTION]
    return section(
        "Crime harm by category",
        [html.P(note, className="small mb-2", id="harm-basis"),
         graph("drill-harm", harm_figure(shares, view))],
        action=csv_button("drill-harm"),
        card_id="harm-card",
    )


@export("drill-harm")
def export_harm(data: DataAccess, view: View) -> tuple[pd.DataFrame, str]:
    shares, how = harm_table(data, view)
    return shares.assign(weights=how.text()), f"{view.measure.id}-harm-by-category"
