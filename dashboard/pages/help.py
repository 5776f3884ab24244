"""The Help page: every measure's definition, and the abbreviations used on screen."""

from __future__ import annotations

import functools
from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
from dash import html

from dashboard.analysis import metrics
from dashboard.components.common import csv_button, page_header, section
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.exports import export
from etl.measures.registry import MEASURES

PATH = "/help"
TITLE = "Help"

POLARITY_TEXT = {"up": "higher is better", "down": "lower is better", "neutral": "no preferred direction"}
MODEL_TEXT = {
    "poisson": "count or rate (exact Poisson interval)",
    "binomial": "proportion (Wilson interval)",
    "mean": "mean (t interval)",
    "none": "census total (no sampling interval)",
}

# Abbreviations used on screen and in PIM papers (HMIC, October 2007, and the Home Office).
GLOSSARY: tuple[tuple[str, str], ...] = (
    ("ACC", "Assistant Chief Constable."),
    ("ASB", "Anti-social behaviour. ASB incidents are recorded as incidents, never counted as crime."),
    (
        "BCU",
        "Basic command unit: a territorial division of a force. Cheshire had three in 2007: Northern, "
        "Eastern and Western.",
    ),
    ("CDRP", "Crime and disorder reduction partnership (police, councils and partners)."),
    (
        "CSV",
        "Comma-separated values: the download format. Cells that would start a spreadsheet formula "
        "are prefixed with an apostrophe.",
    ),
    ("DCC", "Deputy Chief Constable."),
    ("FY", "Financial year, April to March, written 2007/08. Q1 = April-June ... Q4 = January-March."),
    ("FYTD", "Financial year to date."),
    ("HMIC", "Her Majesty's Inspectorate of Constabulary."),
    ("iQuanta", "The Home Office's national police performance comparison tool of the time."),
    (
        "LSOA",
        "Lower layer super output area: a small census area (about 1,500 residents); data.police.uk "
        "places each crime in one.",
    ),
    ("MSF", "Most similar forces: the group of forces a force is compared with (iQuanta families)."),
    ("MSOA", "Middle layer super output area: a group of LSOAs."),
    (
        "NPU",
        "Neighbourhood policing unit: the area a neighbourhood inspector is accountable for at the "
        "PIM. Cheshire had 18 in 2007.",
    ),
    ("OIC", "Officer in charge of an investigation. An officer's own page (Officer) shows the crimes "
            "they were officer in charge of, for the roles allowed to see it (docs/access.md)."),
    ("PCSO", "Police community support officer."),
    (
        "PIM",
        "Performance improvement meeting: the monthly meeting where BCU commanders and NPU "
        "inspectors are held to account.",
    ),
    ("PND", "Penalty notice for disorder, one kind of sanction detection."),
    ("PPU / PVP", "Public protection unit / protecting vulnerable people."),
    ("QTD", "Quarter to date (financial-year quarters)."),
    (
        "SD",
        "Sanction detection (2007 Home Office definition): charge or summons, caution, penalty notice, "
        "cannabis/drugs warning, or an offence taken into consideration (TIC).",
    ),
    (
        "SPC",
        "Statistical process control: charts that separate special-cause variation (a real change) "
        "from common-cause variation (noise).",
    ),
    ("TIC", "Offence taken into consideration by a court alongside another charge."),
)


def measures_frame() -> pd.DataFrame:
    rows = []
    for m in MEASURES.values():
        rows.append(
            {
                "id": m.id,
                "measure": m.label,
                "domain": m.domain,
                "definition": m.description,
                "numerator": m.numerator,
                "denominator": m.denominator or "none (a count)",
                "denominator_rule": metrics.denominator_text(m),
                "unit": metrics.unit_text(m),
                "polarity": POLARITY_TEXT[m.polarity],
                "model": MODEL_TEXT.get(m.model, m.model),
                "source": m.source,
                "target": "none set" if m.target is None else metrics.fmt(m, m.target),
                "target_source": getattr(m, "target_source", None) or "",
                "headline": "yes" if m.headline else "no",
            }
        )
    return pd.DataFrame(rows)


@export("help-measures", view_in_name=False)
def export_measures(data: DataAccess, view: View | None) -> tuple[pd.DataFrame, str]:
    return measures_frame(), "measures"


@functools.lru_cache(maxsize=1)
def _measure_table() -> Any:
    """Built once per process: the registry does not change while the server runs (Dash
    only reads components to serialise them, so one tree can serve every request)."""
    df = measures_frame()
    head = html.Thead(
        html.Tr(
            [
                html.Th(h)
                for h in (
                    "Measure",
                    "Definition",
                    "Numerator",
                    "Denominator",
                    "Polarity",
                    "Statistical model",
                    "Source",
                    "Target",
                )
            ]
        )
    )
    body = html.Tbody(
        [
            html.Tr(
                [
                    html.Td(
                        [
                            html.Div(r["measure"], className="fw-semibold"),
                            html.Div(r["id"], className="small font-monospace text-body-secondary"),
                            html.Div(r["unit"], className="small text-body-secondary"),
                        ]
                    ),
                    html.Td(r["definition"]),
                    html.Td(r["numerator"]),
                    html.Td(
                        [
                            html.Div(r["denominator"]),
                            html.Div(r["denominator_rule"], className="small text-body-secondary"),
                        ]
                    ),
                    html.Td(r["polarity"]),
                    html.Td(r["model"]),
                    html.Td(r["source"], className="small"),
                    html.Td(
                        [
                            html.Div(r["target"]),
                            html.Div(r["target_source"], className="small text-body-secondary"),
                        ]
                    ),
                ]
            )
            for _, r in df.iterrows()
        ]
    )
    return dbc.Table([head, body], responsive=True, size="sm", className="mb-0", id="measures-table")


def layout(data: DataAccess, view: View | None) -> list[Any]:
    glossary = html.Dl(
        [
            item
            for abbr, text in GLOSSARY
            for item in (html.Dt(abbr, className="col-sm-2"), html.Dd(text, className="col-sm-10"))
        ],
        className="row mb-0",
        id="glossary",
    )
    reading = html.Ul(
        [
            html.Li(
                "Every value comes with its 95% interval: exact Poisson for counts and rates, Wilson for "
                "percentages, t for means; census figures (hours, FTE) have none. A small team's count "
                "moves a lot by chance."
            ),
            html.Li(
                "Change on last year is tested (exact conditional test for counts, two-proportion test "
                "for percentages, Welch's t for means) and called better or worse only when it is "
                "significant at 5%."
            ),
            html.Li(
                "Crime per 1,000 population is for the period shown, not annualised: a month's rate is "
                "about a twelfth of a year's."
            ),
            html.Li(
                "▲ and ▼ give the direction of a change; the words say whether it is better or worse. "
                "Colours (Okabe-Ito palette, safe for colour-blind readers) never carry meaning alone."
            ),
            html.Li(
                "Months a source did not deliver are shown as gaps, never as zero. Suspect months (far "
                "below the expected level) are marked × on trend charts and listed on the Data page."
            ),
            html.Li(
                "Every link carries the view in its address (unit, measure, period, grain): paste it into "
                "a PIM paper and it opens the same view."
            ),
            html.Li(
                "Every chart and table has a CSV download of exactly what it draws; the data API at "
                "/api/v1/ returns the same numbers (see docs/dashboard.md)."
            ),
        ]
    )
    return [
        *page_header(TITLE, view, with_measure=False),
        *([controls(data, view)] if view is not None else []),
        section("How to read the pages", reading),
        section(
            "Measures",
            _measure_table(),
            action=csv_button("help-measures"),
            note=("Every measure in the registry (etl/measures/registry.py). "
                  "The scorecard shows the headline ones."),
            card_id="measures-card",
        ),
        section("Glossary", glossary, note="Police abbreviations used on screen.", card_id="glossary-card"),
    ]
