"""What a pack holds, built from DataAccess and the one assessment (never a verdict of its own).

A `Pack` is plain data: the cover (the verdict sentence the scorecard shows for the same unit
and period, and the exceptions with why and where from `assessment.exceptions`), one section
per theme with its charts (SVG drawn from the pages' own figure builders) and tables, the
unit's actions, and on every page the data-as-of date, the source and, for the demo, the
synthetic-data mark. The HTML and the PDF are both drawn from one `Pack`, so they cannot
disagree.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from sqlalchemy.exc import SQLAlchemyError

from dashboard.analysis import assessment, metrics
from dashboard.components.open_actions import store_for, visible
from dashboard.data.facade import DataAccess
from dashboard.data.model import Unit, View
from dashboard.images import figure_bytes, warm_up
from dashboard.packs.themes import Theme, scorecard_themes, thematic
from dashboard.pages import drilldown
from dashboard.periods import (
    PRESETS,
    Period,
    add_months,
    last_complete_month,
    month_end,
    parse_date,
    preset_period,
    quarter_start,
)
from dashboard.state import ViewState
from dashboard.store import actions
from etl.measures.registry import MEASURES

# The A4 content width is 182 mm (210 mm less 2 x 14 mm margins), about 690 px at 96 px per inch.
CHART_WIDTH = 800     # drawn wider and scaled down to the page, so the pages' titles fit
CHART_HEIGHT = 320
DEFAULT_MARKING = "OFFICIAL-SENSITIVE"
AUDIENCES = ("pim", "authority")
PERIOD_CHOICES = (*[p for p in PRESETS if p != "custom"], "quarter")


class PackError(ValueError):
    """A pack could not be built as asked (an unknown unit, theme or period): plain words."""


@dataclass(frozen=True)
class Chart:
    title: str
    drawing: Future[str]   # sanitised inline SVG (see `clean_svg`), drawn in the background
    alt: str               # the finding in words, for screen readers and the PDF's text

    @property
    def svg(self) -> str:
        return self.drawing.result()


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    flagged: tuple[bool, ...] = ()   # rows to highlight (exceptions, overdue actions)
    numeric: tuple[int, ...] = ()    # columns aligned right


@dataclass(frozen=True)
class Section:
    title: str
    intro: str
    source: str                       # 'synthetic demo data, data to 31 Mar 2008'
    charts: tuple[Chart, ...] = ()
    tables: tuple[Table, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExceptionItem:
    measure: str
    unit: str
    why: str
    where: str

    @property
    def text(self) -> str:
        head = f"{self.measure} ({self.unit}): " if self.unit else f"{self.measure}: "
        return head + self.why + (f"; {self.where}" if self.where else "")


@dataclass(frozen=True)
class Pack:
    kind: str                         # 'force', 'bcu', 'thematic', 'authority'
    title: str                        # 'PIM pack: Cheshire Constabulary'
    subtitle: str
    force: str
    unit: Unit
    period: Period
    period_label: str                 # assessment.period_words: what the scorecard says
    marking: str
    synthetic: bool
    as_of: str                        # 'data to 31 Mar 2008'
    source: str
    verdict: str
    exceptions: tuple[ExceptionItem, ...]
    exceptions_note: str
    sections: tuple[Section, ...]
    actions: Section | None          # None: the bulletin (the authority sees no actions)
    glossary: tuple[tuple[str, str], ...] = ()
    built: str = field(default_factory=lambda: datetime.now(UTC).strftime("%d %b %Y %H:%M UTC"))

    @property
    def footer_text(self) -> str:
        mark = " · SYNTHETIC DATA" if self.synthetic else ""
        return f"Source: {self.source}, {self.as_of}{mark}"


# -- period ------------------------------------------------------------------------------------------


def last_complete_quarter(as_of: date) -> Period:
    """The last financial quarter wholly inside the data (the police authority's cadence)."""
    last = last_complete_month(as_of)
    end = month_end(last)
    q = quarter_start(last)
    if month_end(add_months(q, 2)) != end:
        q = add_months(q, -3)
    return Period(q, month_end(add_months(q, 2)), "custom")


def parse_period(text: str | None, as_of: date, default: str = "fytd") -> Period:
    """A preset (month, qtd, fytd, 12m, quarter), 'YYYY-MM-DD:YYYY-MM-DD', a financial year
    '2007/08' or a quarter 'Q4 2007/08'. The presets count back from the data's as-of date,
    as the URL's do (dashboard/periods.py)."""
    raw = (text or default).strip()
    key = raw.lower()
    if key == "quarter":
        return last_complete_quarter(as_of)
    if key in PRESETS and key != "custom":
        return preset_period(key, as_of)
    m = re.fullmatch(r"(?:q([1-4])\s+)?(\d{4})/(\d{2})", key)
    if m:
        year = int(m.group(2))
        start = date(year, 4, 1)
        if m.group(1):
            start = add_months(start, 3 * (int(m.group(1)) - 1))
            return Period(start, month_end(add_months(start, 2)), "custom")
        return Period(start, date(year + 1, 3, 31), "custom")
    if ":" in raw:
        a, b = raw.split(":", 1)
        try:
            return Period(parse_date(a), parse_date(b), "custom")
        except ValueError as exc:
            raise PackError(f"--period {raw!r}: {exc}") from None
    raise PackError(
        f"unknown period {raw!r}; use one of {', '.join(PERIOD_CHOICES)}, a financial year such as "
        "2007/08, a quarter such as 'Q4 2007/08', or FROM:TO as YYYY-MM-DD:YYYY-MM-DD"
    )


def unit_view(data: DataAccess, unit_id: str, period: Period, measure_id: str | None = None) -> View:
    """The view the pages would draw for this unit, measure and period (DataAccess.resolve)."""
    state = ViewState(unit=unit_id, measure=measure_id, preset="custom",
                      start=period.start.isoformat(), end=period.end.isoformat(), grain="month")
    view = data.resolve(state)
    if view is None or view.unit.unit_id != unit_id:
        raise PackError(f"unknown unit {unit_id!r}, or not one you may see")
    return view


def check_unit(data: DataAccess, unit_id: str) -> Unit:
    unit = data.unit(unit_id)
    if unit is None or not data.may_see(unit):
        forces = ", ".join(u.unit_id for u in data.units_at(data.default_unit() or "", "bcu"))
        raise PackError(f"unknown unit {unit_id!r}; a unit id is the force ({data.default_unit()}) "
                        f"or a BCU or NPU below it, e.g. {forces}")
    if unit.level not in assessment.EXCEPTION_LEVELS:
        raise PackError(f"packs are for a force, BCU or NPU; {unit_id!r} is a {unit.level}")
    return unit


def as_of_source(view: View) -> date:
    """The view's data-as-of date (the presets count back from it)."""
    return view.source.as_of if view.source is not None else view.period.end


def as_of(data: DataAccess, unit: Unit) -> date:
    source = data.source_for(unit.force_id, "crime")
    if source is None:
        raise PackError(f"no crime data is loaded for {unit.force_id}")
    return source.as_of


# -- charts ------------------------------------------------------------------------------------------


_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_TAGS = {"script", "foreignObject", "iframe", "object", "embed"}


def clean_svg(raw: bytes, alt: str = "") -> str:
    """The SVG as an element safe to put inline in the page: no script, no event attribute,
    no link out of the document, no namespace URLs (HTML knows an inline <svg> is SVG), so the
    file holds no http(s) reference at all."""
    root = ET.fromstring(raw)
    if alt:   # the finding in words: what a screen reader says for the chart
        label = ET.Element("title")
        label.text = alt
        root.insert(0, label)
        root.set("role", "img")
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag.split("}")[-1] in _FORBIDDEN_TAGS:
                parent.remove(child)
    for el in root.iter():
        el.tag = el.tag.split("}")[-1]
        for name in list(el.attrib):
            value = el.attrib[name]
            local = name.split("}")[-1]
            if local.lower().startswith("on"):
                del el.attrib[name]
            elif name == _XLINK or local == "href":
                del el.attrib[name]
                if value.startswith("#"):
                    el.set("href", value)
            elif re.search(r"url\((?!#)", value) or "http:" in value or "https:" in value:
                del el.attrib[name]
    return ET.tostring(root, encoding="unicode")


# While a pack is built (`drawing()`), one background thread draws its charts while the main
# thread reads the next measure's data: kaleido works in Chromium (another process), so the two
# overlap on a 2-core machine. The thread ends with the build: none outlives it.
_POOL: ContextVar[ThreadPoolExecutor | None] = ContextVar("pack_chart_pool", default=None)


@contextmanager
def drawing() -> Iterator[None]:
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-charts")
    token = _POOL.set(pool)
    try:
        yield
    finally:
        _POOL.reset(token)
        pool.shutdown(wait=True)


def _svg(figure: go.Figure, height: int, synthetic: bool, alt: str) -> str:
    raw = figure_bytes(figure, "svg", width=CHART_WIDTH, height=height, synthetic=synthetic)
    return clean_svg(raw, alt)


def draw(fig: dict[str, Any] | go.Figure, title: str, alt: str, synthetic: bool,
         height: int = CHART_HEIGHT) -> Chart:
    """The chart, drawn in the background (its `svg` waits for it)."""
    figure = go.Figure(fig)
    figure.update_layout(width=CHART_WIDTH, height=height)
    pool = _POOL.get()
    if pool is not None:
        return Chart(title, pool.submit(_svg, figure, height, synthetic, alt), alt)
    done: Future[str] = Future()
    done.set_result(_svg(figure, height, synthetic, alt))
    return Chart(title, done, alt)


# -- tables from assessments ------------------------------------------------------------------------


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v == ""


def target_words(row: dict[str, Any]) -> str:
    if _blank(row.get("target")):
        return str(row.get("target_text") or "none set")
    m = MEASURES[row["measure_id"]]
    met = row.get("target_met")
    head = "met" if met else "missed" if met is not None else "target"
    return f"{head}: {metrics.fmt(m, row['target'])} for {row['target_period']}"


def peer_words(row: dict[str, Any]) -> str:
    if _blank(row.get("peer_rank")):
        return str(row.get("peer_text") or "no group")
    if int(row["peer_of"]) <= 1:
        return "no comparator data"
    verdict = row.get("peer_verdict") or ""
    pos = str(row.get("peer_position") or "")
    extra = "" if pos in ("within", "") else f", {verdict or pos}"
    return f"{int(row['peer_rank'])} of {int(row['peer_of'])}{extra}"


def spc_words(row: dict[str, Any]) -> str:
    text = str(row.get("spc_text") or "no chart")
    month = row.get("spc_month")
    if row.get("spc_rule") and month is not None and not _blank(month):
        text += f" ({row['spc_rule']}, {month:%b %Y})"
    return text


def value_words(row: dict[str, Any]) -> tuple[str, str]:
    m = MEASURES[row["measure_id"]]
    interval = metrics.fmt_interval(m, row["lower"], row["upper"])
    return metrics.fmt(m, row["value"]), interval


def assessment_table(rows: pd.DataFrame, caption: str, first: str = "label") -> Table:
    """One row per assessment: what the scorecard's table says, in words."""
    out, flagged = [], []
    for r in rows.to_dict("records"):
        value, interval = value_words(r)
        m = MEASURES[r["measure_id"]]
        first_cell = r["label"] if first == "label" else r["unit"]
        out.append((
            str(first_cell),
            f"{value} ({interval})" if interval else value,
            metrics.fmt(m, r["previous"]),
            str(r["change_text"] or ""),
            spc_words(r),
            peer_words(r),
            target_words(r),
            str(r["reasons"] or "") if r["exception"] else "",
        ))
        flagged.append(bool(r["exception"]))
    head = "Measure" if first == "label" else "Unit"
    return Table(caption, (head, "Value (95% interval)", "Same period last year", "Change on last year",
                           "SPC status", "MSF / peer position", "Target for this period", "Exception: why"),
                 tuple(out), tuple(flagged), numeric=(1, 2))


def children_table(df: pd.DataFrame, view: View) -> Table | None:
    """The drill-down's table of the units below (drilldown.children_rows), for the same
    measure and period: value, rate per 1,000 where it ranks by head, interval, verdict."""
    if df.empty:
        return None
    m = view.measure
    show = drilldown.children_rows(df, view)
    by_head = bool(df["per_head"].iloc[0])
    rows, flagged = [], []
    for r, verdict in zip(show.to_dict("records"), df["vs_parent"], strict=True):
        cells = [str(r["name"]), str(r["value_text"])]
        if by_head:
            cells.append(str(r["rate_text"]))
        cells += [str(r["interval_text"]), str(r["vs_parent_text"])]
        rows.append(tuple(cells))
        flagged.append(verdict == "worse")
    columns = ["Unit", m.label] + (["Per 1,000 residents"] if by_head else []) + \
        ["95% interval" + (" (per 1,000)" if by_head else ""), f"Against {view.unit.title}"]
    numeric = (1, 2, 3) if by_head else (1, 2)
    return Table(f"{m.label}: the units below {view.unit.title}, {view.period.label}",
                 tuple(columns), tuple(rows), tuple(flagged), numeric=numeric)


def source_line(view: View) -> str:
    src = view.source.label if view.source else "no data loaded"
    return f"Source: {src}, {view.as_of_text}"


# -- exceptions --------------------------------------------------------------------------------------


def exception_items(frame: pd.DataFrame, unit_id: str) -> tuple[ExceptionItem, ...]:
    """The exceptions list as the scorecard shows it (assessment.exceptions)."""
    return tuple(
        ExceptionItem(str(r.measure), "" if r.unit_id == unit_id else str(r.unit), str(r.why), str(r.where))
        for r in frame.itertuples(index=False)
    )


def group_exceptions(flagged: pd.DataFrame, unit_id: str) -> tuple[ExceptionItem, ...]:
    """Flagged assessment rows, one item per measure, most severe first: the highest unit that
    has it leads with its reasons; the others are named after it ('also Western BCU; ...')."""
    if flagged.empty:
        return ()
    depth = {lv: i for i, lv in enumerate(assessment.EXCEPTION_LEVELS)}
    ranked = flagged.assign(_d=flagged["level"].map(depth)).sort_values(["_d", "severity"],
                                                                      ascending=[True, False])
    worst = ranked.groupby("measure_id", sort=False)["severity"].max().sort_values(ascending=False)
    items = []
    for mid in worst.index:
        rows = ranked[ranked["measure_id"] == mid].to_dict("records")
        lead, others = rows[0], rows[1:]
        names = [str(r["unit"]) for r in others]
        where = ("also " + "; ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
                 ) if names else ""
        lead_unit = "" if lead["unit_id"] == unit_id else str(lead["unit"])
        items.append(ExceptionItem(str(lead["label"]), lead_unit, str(lead["reasons"]), where))
    return tuple(items)


# -- actions -----------------------------------------------------------------------------------------


def actions_section(data: DataAccess, unit: Unit, period: Period, source: str,
                    today: date | None = None) -> Section:
    """The actions of the last PIM for the unit and below (any status), and every action still
    open from earlier meetings, from the action tracker (dashboard/store/actions.py), with the
    same store and visibility rule the Actions page uses. Overdue is as of today: an action's
    due date is a real date, whatever period the pack is about."""
    title = "Actions: the last PIM and those still open"
    today = today or date.today()
    try:
        found = visible(data, actions.list_actions(store_for(data), unit_id=unit.unit_id, include_below=True))
    except (SQLAlchemyError, OSError):
        return Section(title, "", source,
                       notes=("The action store could not be read: no actions are shown.",))
    if not found:
        return Section(title, "", source,
                       notes=(f"No actions are recorded for {unit.title} or the units below it.",))
    last = max(a.meeting for a in found)
    shown = [a for a in found if a.meeting == last or a.status in actions.OPEN_STATUSES]
    rows, flagged = [], []
    for a in shown:
        where = data.unit(a.unit_id)
        measure = MEASURES[a.measure_id].label if a.measure_id in MEASURES else ""
        overdue = a.overdue(today)
        status = a.status_label + (f": {a.status_reason}" if a.status_reason else "")
        due = f"{a.due:%d %b %Y}" + (" (overdue)" if overdue else "")
        rows.append((a.description, where.title if where else a.unit_id, measure, a.owner, due, status,
                     f"{a.meeting:%d %b %Y}"))
        flagged.append(overdue)
    n_over = sum(flagged)
    intro = (f"{len(shown)} actions: those raised at the PIM of {last:%d %B %Y} and every one still open; "
             f"{n_over} overdue on {today:%d %b %Y} (highlighted).")
    table = Table(f"Actions for {unit.title} and below", ("Action", "Unit", "Measure", "Owner", "Due",
                                                            "Status", "Meeting"),
                  tuple(rows), tuple(flagged))
    return Section(title, intro, source, tables=(table,))


# -- the packs ---------------------------------------------------------------------------------------


def _measure_charts(data: DataAccess, unit: Unit, period: Period, row: dict[str, Any],
                    synthetic: bool) -> tuple[list[Chart], list[Table], View]:
    """The drill-down's trend for one measure, and its table of the units below."""
    view = unit_view(data, unit.unit_id, period, row["measure_id"])
    m = view.measure
    value, _ = value_words(row)
    title = f"{unit.title}: {value} {m.unit}, {row['change_text'] or 'no comparison'} on last year"
    trend = drilldown.process_trend(data, view)
    charts = [draw(drilldown.create_trend(trend, view, title), title,
                   f"{m.label} by month, {view.period.label}: {title}.", synthetic)]
    tables = []
    if data.children(unit.unit_id):
        kids = drilldown.process_children(data, view)
        t = children_table(kids, view)
        if t is not None:
            tables.append(t)
    return charts, tables, view


def _cover(data: DataAccess, unit: Unit, period: Period) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    frame = assessment.assess(data, unit.unit_id, period.start, period.end)
    loaded = frame[frame["verdict"] != "not loaded"]
    verdict = assessment.verdict_sentence(loaded, unit.title, assessment.period_words(period))
    ex = assessment.exceptions(data, unit.unit_id, period.start, period.end)
    return verdict, frame, ex


def build_pack(data: DataAccess, unit_id: str, period: Period, theme: str | None = None,
               marking: str = DEFAULT_MARKING) -> Pack:
    """A force/BCU pack (theme None: every headline family) or a thematic pack (`theme`)."""
    unit = check_unit(data, unit_id)
    warm_up()
    base = unit_view(data, unit.unit_id, period)
    period = base.period
    synthetic = bool(unit.synthetic or (base.source is not None and base.source.source == "demo"))
    verdict, frame, ex = _cover(data, unit, period)
    force = data.path(unit.unit_id)[0].title
    if theme:
        return _thematic(data, unit, period, thematic(theme), marking, synthetic, verdict, ex, base, force)
    sections = []
    for t in scorecard_themes():
        rows = frame[frame["measure_id"].isin(t.measure_ids) & (frame["verdict"] != "not loaded")]
        if rows.empty:
            continue
        charts: list[Chart] = []
        tables = [assessment_table(rows, f"{t.title}: headline measures, {unit.title}, "
                                         f"{assessment.period_words(period)}")]
        view = base
        for r in rows.to_dict("records"):
            c, tb, view = _measure_charts(data, unit, period, r, synthetic)
            charts += c
            tables += tb
        n_ex = int(rows["exception"].astype(bool).sum())
        intro = (f"{len(rows)} headline measure{'s' if len(rows) != 1 else ''}; "
                 f"{n_ex} {'is an exception' if n_ex == 1 else 'are exceptions'}.")
        sections.append(Section(t.title, intro, source_line(view), tuple(charts), tuple(tables)))
    kind = "force" if unit.level == "force" else unit.level
    return Pack(
        kind=kind, title=f"PIM pack: {unit.title}",
        subtitle=f"Performance Improvement Meeting, {assessment.period_words(period)}",
        force=force, unit=unit, period=period, period_label=assessment.period_words(period),
        marking=marking, synthetic=synthetic, as_of=base.as_of_text,
        source=base.source.label if base.source else "no data loaded",
        verdict=verdict, exceptions=exception_items(ex, unit.unit_id),
        exceptions_note=f"Exceptions in {unit.title} and the units below it to NPU, most severe first.",
        sections=tuple(sections), actions=actions_section(data, unit, period, source_line(base)),
    )


def _thematic(data: DataAccess, unit: Unit, period: Period, theme: Theme, marking: str, synthetic: bool,
              verdict: str, ex: pd.DataFrame, base: View, force: str) -> Pack:
    """One family or measure across the unit and every unit below it to NPU."""
    units = assessment.scope_units(data, unit.unit_id)
    ids = [u.unit_id for u in units]
    frame = assessment.assess_many(data, ids, period.start, period.end, measure_ids=theme.measure_ids)
    frame = frame[frame["verdict"] != "not loaded"]
    sections = []
    for mid in theme.measure_ids:
        rows = frame[frame["measure_id"] == mid]
        if rows.empty:
            continue
        m = MEASURES[mid]
        own = rows[rows["unit_id"] == unit.unit_id]
        charts: list[Chart] = []
        tables: list[Table] = []
        view = unit_view(data, unit.unit_id, period, mid)
        if not own.empty:
            charts, _, view = _measure_charts(data, unit, period, own.iloc[0].to_dict(), synthetic)
        if data.children(unit.unit_id):
            kids = drilldown.process_children(data, view)
            if not kids.empty:
                title = drilldown.bar_title(kids, view)
                charts.append(draw(drilldown.create_bar(kids, view), title,
                                   f"{m.label} by unit below {unit.title}: {title}.", synthetic,
                                   height=max(CHART_HEIGHT, 90 + 26 * len(kids))))
        tables.append(assessment_table(rows, f"{m.label}: every unit, {assessment.period_words(period)}",
                                       first="unit"))
        n_ex = int(rows["exception"].astype(bool).sum())
        intro = (f"{m.label} ({metrics.unit_text(m)}): {len(rows)} units assessed; "
                 f"{n_ex} {'is an exception' if n_ex == 1 else 'are exceptions'}.")
        sections.append(Section(m.label, intro, source_line(view), tuple(charts), tuple(tables)))
    if not sections:
        raise PackError(f"no data is loaded for the theme {theme.title!r} in {unit.title}")
    # The theme's exceptions: the same assessments' flagged rows, one item per measure as
    # assessment.exceptions groups them (led by the highest unit that has it, then where else).
    items = group_exceptions(frame[frame["exception"].astype(bool)], unit.unit_id)
    return Pack(
        kind="thematic", title=f"Thematic pack: {theme.title}",
        subtitle=f"{unit.title} and the units below it, {assessment.period_words(period)}",
        force=force, unit=unit, period=period, period_label=assessment.period_words(period),
        marking=marking, synthetic=synthetic, as_of=base.as_of_text,
        source=base.source.label if base.source else "no data loaded",
        verdict=verdict, exceptions=tuple(items),
        exceptions_note=f"{theme.title}: every exception in {unit.title} and the units below it to NPU.",
        sections=tuple(sections), actions=actions_section(data, unit, period, source_line(base)),
    )
