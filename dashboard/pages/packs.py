"""Packs: the monthly PIM pack, a thematic pack or the police authority bulletin, downloaded
as one self-contained HTML file or an A4 PDF.

The unit and period come from the view (the picker bar, as on every page); the page adds the
kind of pack, its theme and the protective marking, says what the pack will hold, and builds
it on a click with the same code as `python -m dashboard pack` (dashboard/packs/build.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, ctx, dcc, html

from dashboard import state as url_state
from dashboard.analysis import assessment
from dashboard.auth import current_actor
from dashboard.components.common import page_header, section
from dashboard.components.controls import controls
from dashboard.data.facade import DataAccess
from dashboard.data.model import View
from dashboard.images import ImageError, slug
from dashboard.packs import themes

if TYPE_CHECKING:
    from dashboard.packs.build import Request
from etl.measures.registry import MEASURES

PATH = "/packs"
TITLE = "Packs"

KINDS = [
    {"label": "PIM pack: every headline measure family of the unit", "value": "pim"},
    {"label": "Thematic pack: one family or one measure across every unit to NPU", "value": "thematic"},
    {"label": "Police authority bulletin: force and BCUs, the last complete quarter", "value": "authority"},
]


def _pipeline() -> Any:
    """The pack modules. They reuse this package's figure builders (dashboard.pages.drilldown),
    so importing them when this module loads would be a cycle: the page asks at call time."""
    from dashboard.packs import build, bulletin, content, pdf  # lazy: the cycle said above

    return build, bulletin, content, pdf


def theme_options() -> list[dict[str, str]]:
    fams = [{"label": f"{t.title} (all {len(t.measure_ids)} measures)", "value": t.id}
            for t in themes.families(headline_only=False)]
    singles = [{"label": label, "value": tid} for tid, label in themes.measure_choices()]
    return fams + singles


def make_request(view: View, kind: str, theme: str | None, marking: str | None) -> Request:
    """What the page asks for: the view's unit and period (the bulletin: the last complete
    quarter, as the command line does)."""
    build, _, content, _ = _pipeline()
    period = None if kind == "authority" else f"{view.period.start}:{view.period.end}"
    return build.Request(view.unit.unit_id, period=period, theme=theme if kind == "thematic" else None,
                   audience="authority" if kind == "authority" else "pim",
                   marking=(marking or "").strip() or content.DEFAULT_MARKING)


def file_name(view: View, req: Request, ext: str) -> str:
    """'cheshire-western_pim-pack_2007-04_2007-11.pdf' (the period's months)."""
    kind = "pa-bulletin" if req.audience == "authority" else (
        f"{slug(req.theme)}-pack" if req.theme else "pim-pack")
    content = _pipeline()[2]
    if req.audience == "authority":
        p = content.last_complete_quarter(content.as_of_source(view))
    else:
        p = view.period
    return f"{slug(view.unit.unit_id)}_{kind}_{p.start:%Y-%m}_{p.end:%Y-%m}.{ext}"


def preview(data: DataAccess, view: View, kind: str, theme: str | None) -> list[Any]:
    """What the pack will hold, in a few lines: built from the same pieces, without drawing."""
    _, bulletin, content, _ = _pipeline()
    unit = view.unit
    if unit.level not in assessment.EXCEPTION_LEVELS:
        return [html.P(f"Packs are for a force, BCU or NPU; {unit.title} is a {unit.level}. "
                       "Pick one in the unit picker.", className="text-danger")]
    if kind == "authority":
        if unit.level not in bulletin.LEVELS:
            return [html.P("The police authority bulletin covers a force or a BCU: pick one in the "
                           "unit picker.", className="text-danger")]
        period = content.last_complete_quarter(content.as_of_source(view))
        parts = [f"{title}: {', '.join(MEASURES[m].label for m in mids)}"
                 for title, _, mids in bulletin.SECTIONS]
        return [
            html.P(f"{unit.title} and its BCUs, {assessment.period_words(period)} (the last complete "
                   "quarter). Aggregates only: no NPU, team, officer or record."),
            html.Ul([html.Li("Cover: the verdict sentence and what needs attention, in plain words")]
                    + [html.Li(p) for p in parts] + [html.Li("What the words mean")]),
        ]
    frame = assessment.assess(data, unit.unit_id, view.period.start, view.period.end)
    verdict = assessment.verdict_sentence(frame, unit.title, assessment.period_words(view.period))
    if kind == "thematic":
        if not theme:
            return [html.P("Choose a theme.")]
        t = themes.thematic(theme)
        items = [html.Li(f"{MEASURES[m].label}: its trend, the units below by rank, and every unit's "
                         "assessment") for m in t.measure_ids]
        scope = f"{unit.title} and every unit below it to NPU"
    else:
        loaded = set(frame.loc[frame["verdict"] != "not loaded", "measure_id"])
        items = [html.Li(f"{t.title}: " + ", ".join(MEASURES[m].label for m in t.measure_ids if m in loaded))
                 for t in themes.scorecard_themes() if loaded & set(t.measure_ids)]
        scope = unit.title
    return [
        html.P([html.Strong("Cover: "), html.Span(verdict, id="packs-verdict"),
                " With the exceptions of the unit and below, why and where."]),
        html.P(f"Then one page per theme for {scope}, {view.period.label}:", className="mb-1"),
        html.Ul(items + [html.Li("The actions of the last PIM and those still open")]),
    ]


def layout(data: DataAccess, view: View) -> list[Any]:
    content = _pipeline()[2]
    form = dbc.Row([
        dbc.Col([
            dbc.Label("Kind of pack", html_for="packs-kind"),
            dbc.RadioItems(id="packs-kind", options=KINDS, value="pim"),
        ], md=6),
        dbc.Col([
            dbc.Label("Theme (thematic pack)", html_for="packs-theme"),
            dcc.Dropdown(id="packs-theme", options=theme_options(), value="crime-by-category",
                         clearable=False, searchable=True, disabled=True),
            dbc.Label("Protective marking (every page's header)", html_for="packs-marking", className="mt-2"),
            dbc.Input(id="packs-marking", value=content.DEFAULT_MARKING, maxLength=60, type="text"),
        ], md=6),
    ], className="g-3 mb-3")
    buttons = html.Div([
        dbc.Button("Download HTML", id="packs-html", color="primary", className="me-2"),
        dbc.Button("Download PDF (A4)", id="packs-pdf", color="primary", outline=True),
        html.Span(" Building a pack takes a few seconds.", className="small text-body-secondary ms-2"),
    ], className="mb-2")
    return [
        *page_header(TITLE, view, with_measure=False),
        controls(data, view),
        dcc.Store(id="packs-view", data=view.state.query()),
        section("Build a pack", [
            form, buttons,
            dcc.Loading(html.Div(id="packs-status", className="small"), type="dot"),
            dcc.Download(id="packs-download"),
        ], note="The unit and period are the ones picked above. The HTML file opens offline in any "
                "browser; the PDF is A4 with the marking, force and period on every page."),
        section("What the pack will hold", html.Div(preview(data, view, "pim", None), id="packs-preview")),
    ]


def build_download(data: DataAccess, query: str | None, kind: str, theme: str | None,
                   marking: str | None, fmt: str) -> tuple[Any, Any]:
    """(the dcc.Download payload, a status line); any failure is said in plain words."""
    build, _, content, pdf = _pipeline()
    view = data.resolve(url_state.parse(query))
    if view is None:
        return dash.no_update, dbc.Alert("No data is loaded.", color="warning", className="py-1")
    req = make_request(view, kind, theme, marking)
    try:
        pack = build.make_pack(data, req)
        body = build.pack_bytes(pack, fmt)
    except (content.PackError, pdf.PdfError, ImageError) as exc:
        return dash.no_update, dbc.Alert(str(exc), color="danger", className="py-1")
    name = file_name(view, req, fmt)
    done = f"{pack.title}, {pack.period_label}: {name} ({len(body) // 1024} KB)."
    return dcc.send_bytes(body, name), html.Span(done, id="packs-done")


def register(app: dash.Dash, data: DataAccess) -> None:
    # import the pack modules at start-up (every page module has loaded by now: no cycle), not
    # in the first Packs page a user opens (their imports, playwright's among them, were most
    # of that first page's time; ~7 MB a worker)
    _pipeline()
    @app.callback(Output("packs-preview", "children"), Output("packs-theme", "disabled"),
                  Input("packs-kind", "value"), Input("packs-theme", "value"), State("packs-view", "data"),
                  prevent_initial_call=True)
    def show_preview(kind: str, theme: str | None, query: str | None) -> tuple[Any, bool]:
        with data.request(current_actor()):
            view = data.resolve(url_state.parse(query))
            if view is None:
                return dash.no_update, kind != "thematic"
            return preview(data, view, kind, theme), kind != "thematic"

    @app.callback(Output("packs-download", "data"), Output("packs-status", "children"),
                  Input("packs-html", "n_clicks"), Input("packs-pdf", "n_clicks"),
                  State("packs-view", "data"), State("packs-kind", "value"), State("packs-theme", "value"),
                  State("packs-marking", "value"), prevent_initial_call=True)
    def download(_h: int | None, _p: int | None, query: str | None, kind: str, theme: str | None,
                 marking: str | None) -> tuple[Any, Any]:
        fmt = "pdf" if ctx.triggered_id == "packs-pdf" else "html"
        with data.request(current_actor()):
            return build_download(data, query, kind, theme, marking, fmt)
