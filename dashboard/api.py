"""The data API: the same numbers the charts draw, as JSON or CSV, on the dashboard's server.

    GET /api/v1/units                     every unit the actor may read (officers for roles allowed)
    GET /api/v1/measures                  the measures registry, with definitions
    GET /api/v1/series?measure=ID&unit=UNIT_ID&from=YYYY-MM-DD&to=YYYY-MM-DD&grain=month
                                          [&format=csv]
    GET /api/v1/assessments?unit=UNIT_ID[&from=YYYY-MM-DD&to=YYYY-MM-DD][&measure=ID][&format=csv]
                                          the scorecard's rows: one assessment per measure
    GET /api/v1/exceptions?unit=UNIT_ID[&month=YYYY-MM | &from=..&to=..][&all=1][&format=csv]
                                          the exceptions list, one item per measure, with where
    GET /api/v1/concentration?unit=UNIT_ID[&from=YYYY-MM-DD&to=YYYY-MM-DD][&measure=ID][&format=csv]
                                          the share of crime and harm in the unit's top 5% / 10%
                                          of LSOAs, Gini, repeat locations; CSV: every LSOA

`series` answers through `DataAccess.series`, the function the trend charts use, so the API
and the charts cannot disagree. A bad parameter gets a 400 whose JSON body names the
parameter and says why: {"error": "...", "parameter": "grain"}.
A unit the actor may not read gets a 403 with the same words as a unit that does not exist
(docs/access.md), so the API never says which units exist.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date
from typing import Any

import duckdb
import flask
import pandas as pd

from dashboard.analysis import assessment, concentration, harm, kinds, metrics, peer_comparison
from dashboard.auth import current_actor
from dashboard.data.access import NOT_AVAILABLE, describe
from dashboard.data.audit import UNAVAILABLE, AuditUnavailable
from dashboard.data.facade import DataAccess
from dashboard.data.model import GrainUnavailable
from dashboard.exports import to_csv
from dashboard.guard import NO_WAREHOUSE
from dashboard.periods import (
    GRAINS,
    MAX_BUCKETS,
    Period,
    bucket_count,
    month_end,
    outside_window,
    parse_date,
    preset_period,
)
from etl.measures.registry import MEASURES

blueprint = flask.Blueprint("api_v1", __name__, url_prefix="/api/v1")


def _one_version(view: Callable[[], flask.Response]) -> Callable[[], flask.Response]:
    """Every number of one API response comes from one warehouse version, and every check of
    what may be seen is made for the request's actor."""

    @functools.wraps(view)
    def wrapper() -> flask.Response:
        with _data().request(current_actor()):
            return view()

    return wrapper


FORMATS = ("json", "csv")
SERIES_PARAMS = ("measure", "unit", "from", "to", "grain", "format")
ASSESSMENT_PARAMS = ("unit", "from", "to", "measure", "format")
EXCEPTION_PARAMS = ("unit", "month", "from", "to", "all", "format")
# The parameters each route accepts: anything else, a parameter given twice, or a value longer
# than MAX_VALUE (no id, date or word the API takes is near it) is a 400 naming the parameter.
ROUTE_PARAMS = {
    "units": ("format",),
    "measures": ("format",),
    "series": SERIES_PARAMS,
    "assessments": ASSESSMENT_PARAMS,
    "exceptions": EXCEPTION_PARAMS,
    "concentration_route": ("unit", "from", "to", "measure", "format"),
}
MAX_VALUE = 200


class BadParameter(Exception):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message


def _data() -> DataAccess:
    return flask.current_app.extensions["looking_glass_data"]


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/NA/NaT -> null, dates -> ISO text, numpy scalars -> Python. NaT is
    tested first: it is a `datetime` whose `isoformat()` is the text "NaT", which a client
    would read as a date it cannot parse."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def _mark_synthetic(data: DataAccess, frame: pd.DataFrame) -> pd.DataFrame:
    """`synthetic` on every row that names a unit (true when the row's unit, or any unit of
    its `units` list, is synthetic demo data), so a row read alone still says so."""
    def one(unit_id: str) -> bool:
        found = data.unit(unit_id)
        return bool(found and found.synthetic)

    if "units" in frame.columns:
        marks = [any(one(u) for u in ids) or one(uid) for ids, uid in
                 zip(frame["units"], frame["unit_id"], strict=True)]
    else:
        marks = [one(u) for u in frame["unit_id"]]
    return frame.assign(synthetic=pd.Series(marks, index=frame.index, dtype=bool))


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row as a dict of JSON-safe cells, read column by column (`tolist`): the same cells
    as `to_dict("records")` once `_clean`ed, without pandas' per-row boxing (~1 ms a series)."""
    names = list(frame.columns)
    columns = [frame.iloc[:, j].tolist() for j in range(frame.shape[1])]
    return [{k: _clean(v) for k, v in zip(names, row, strict=True)} for row in zip(*columns, strict=True)] \
        if columns else [{} for _ in range(len(frame))]


def _format() -> str:
    fmt = flask.request.args.get("format", "json").strip().lower()
    if fmt not in FORMATS:
        raise BadParameter("format", f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    return fmt


def _respond(payload: dict[str, Any], frame: pd.DataFrame, stem: str) -> flask.Response:
    if _format() == "csv":
        response = flask.Response(to_csv(frame), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    return flask.jsonify(payload)


@blueprint.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter) -> tuple[flask.Response, int]:
    return flask.jsonify({"error": exc.message, "parameter": exc.parameter}), 400


@blueprint.before_request
def _check_request() -> None:
    """Refuse, before any work, what no route accepts: unknown or repeated parameters and
    over-long values (a value is never silently cut, nor the first of two taken)."""
    route = (flask.request.endpoint or "").rpartition(".")[2]
    accepted = ROUTE_PARAMS.get(route)
    if accepted is None:
        return
    args = flask.request.args
    for name in args:
        shown = name if len(name) <= 40 else name[:40] + "…"
        if name not in accepted:
            raise BadParameter(shown, f"unknown parameter {shown!r}; accepted: {', '.join(accepted)}")
        values = args.getlist(name)
        if len(values) > 1:
            raise BadParameter(name, f"{name} is given {len(values)} times; give it once")
        if len(values[0]) > MAX_VALUE:
            raise BadParameter(name, f"{name} is {len(values[0]):,} characters long; the most is {MAX_VALUE}")


class Refused(Exception):
    """A unit the actor may not read, or that does not exist: one answer for both (403), so
    the API never says which."""

    def __init__(self, unit_id: str) -> None:
        super().__init__(unit_id)
        self.message = f"unit {unit_id!r} is {NOT_AVAILABLE} (or does not exist); see /api/v1/units"


@blueprint.errorhandler(Refused)
def _refused(exc: Refused) -> tuple[flask.Response, int]:
    return flask.jsonify({"error": exc.message, "parameter": "unit"}), 403


@blueprint.errorhandler(AuditUnavailable)
def _audit_unavailable(exc: AuditUnavailable) -> tuple[flask.Response, int]:
    # the audit log could not be written, so the data is withheld (dashboard/data/audit.py)
    return flask.jsonify({"error": UNAVAILABLE}), 503


@blueprint.errorhandler(PermissionError)
def _forbidden(exc: PermissionError) -> tuple[flask.Response, int]:
    return flask.jsonify({"error": str(exc)}), 403


def _visible_unit(data: DataAccess, unit_id: str) -> Any:
    """The unit named by the request, if the actor may read it (the access seam decides)."""
    try:
        return data.visible_unit(unit_id, flask.request.path)
    except PermissionError:
        raise Refused(unit_id) from None


@blueprint.errorhandler(FileNotFoundError)
def _no_warehouse(exc: FileNotFoundError) -> tuple[flask.Response, int]:
    flask.current_app.logger.warning("API: no warehouse: %s", exc)
    return flask.jsonify({"error": NO_WAREHOUSE}), 503


@blueprint.errorhandler(duckdb.Error)
def _read_error(exc: duckdb.Error) -> tuple[flask.Response, int]:
    flask.current_app.logger.exception("API read failed")
    return flask.jsonify({"error": "the warehouse could not be read; see the server log "
                                   "(python -m etl status --verify names what is damaged)"}), 503


@blueprint.get("/units")
@_one_version
def units() -> flask.Response:
    """Every unit the actor may see (the access seam decides: officers only for roles that
    see individuals, and only in their scope)."""
    _format()
    data = _data()
    frame = data.visible_units()[
        ["unit_id", "level", "parent_id", "force_id", "name", "population", "synthetic"]
    ].reset_index(drop=True)
    sources = {f: data.source_for(f) for f in frame["force_id"].unique()}
    frame["source"] = [sources[f].source if sources[f] else None for f in frame["force_id"]]
    frame["first_day"] = [sources[f].first if sources[f] else None for f in frame["force_id"]]
    frame["last_day"] = [sources[f].as_of if sources[f] else None for f in frame["force_id"]]
    frame["daily"] = [bool(sources[f] and sources[f].has_days) for f in frame["force_id"]]
    payload = {"units": _rows(frame), "count": len(frame),
               "note": f"units your role may read: {describe(data.actor())}"}
    return _respond(payload, frame, "looking-glass-units")


@blueprint.get("/measures")
@_one_version
def measures() -> flask.Response:
    _format()
    rows = [
        {
            "id": m.id,
            "label": m.label,
            "domain": m.domain,
            "description": m.description,
            "numerator": m.numerator,
            "denominator": m.denominator,
            "per": kinds.per_word(m),
            "denominator_rule": metrics.denominator_text(m),
            "unit": metrics.unit_text(m),
            "scale": m.scale,
            "polarity": m.polarity,
            "model": m.model,
            "source": m.source,
            "categories": ";".join(m.categories),
            "column": m.column,
            "target": m.target,
            "headline": m.headline,
            "dataset": m.dataset,
            "aggregate": metrics.aggregate_kind(m),
            "target_source": m.target_source,
        }
        for m in MEASURES.values()
    ]
    frame = pd.DataFrame(rows)
    payload = {
        "measures": [{**r, "categories": r["categories"].split(";")} for r in rows],
        "count": len(rows),
    }
    return _respond(payload, frame, "looking-glass-measures")


def _date_param(name: str) -> date | None:
    text = flask.request.args.get(name)
    if text is None or not text.strip():
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise BadParameter(name, f"{name}: {exc}") from None


@blueprint.get("/series")
@_one_version
def series() -> flask.Response:
    """The measure for one unit, bucket by bucket: value, numerator, denominator, interval."""
    args = flask.request.args
    fmt = _format()
    data = _data()
    measure_id = (args.get("measure") or "").strip()
    if not measure_id:
        raise BadParameter("measure", "measure is required (a measure id from /api/v1/measures)")
    if measure_id not in MEASURES:
        raise BadParameter("measure", f"unknown measure {measure_id!r}; see /api/v1/measures for the ids")
    measure = MEASURES[measure_id]
    unit_id = (args.get("unit") or "").strip()
    if not unit_id:
        raise BadParameter("unit", "unit is required (a unit id from /api/v1/units)")
    unit = _visible_unit(data, unit_id)
    grain = (args.get("grain") or "month").strip()
    if grain not in GRAINS:
        raise BadParameter("grain", f"grain must be one of {', '.join(GRAINS)}; got {grain!r}")
    source = data.source_for(unit.force_id, measure.dataset)
    if source is None:
        raise BadParameter("unit", f"no {measure.domain.lower()} data is loaded for {unit.force_id!r}")
    default = preset_period("fytd", source.as_of)
    start = _date_param("from") or default.start
    end = _date_param("to") or default.end
    if end < start:
        raise BadParameter("to", f"to ({end}) is before from ({start})")
    period = Period(start, end)
    notes: list[str] = []
    if not source.has_days:
        if grain in ("day", "week"):
            raise BadParameter(
                "grain",
                f"grain {grain!r} needs daily data, and {source.label} for "
                f"{unit.force_id} has monthly data only: use month, quarter or fy",
            )
        if not period.whole_months:
            period = period.to_whole_months()
            notes.append("monthly data only: the range was widened to whole months")
    n_buckets = bucket_count(period, grain)
    if n_buckets > MAX_BUCKETS:
        raise BadParameter(
            "grain",
            f"{n_buckets} {grain} buckets is more than {MAX_BUCKETS}: "
            "choose a longer grain or a shorter range",
        )
    _check_window(period, source)
    if period.start < source.first or period.end > source.as_of:
        notes.append(
            f"data runs from {source.first} to {source.as_of}; buckets outside it are missing "
            "(null), not zero"
        )
    try:
        frame = data.series(measure.id, unit.unit_id, period.start, period.end, grain)
    except GrainUnavailable as exc:  # pragma: no cover - checked above
        raise BadParameter("grain", str(exc)) from None
    # the label last: one column selection (drop and assign were two frame copies)
    frame = frame[[c for c in frame.columns if c != "label"] + ["label"]]
    payload = {
        "measure": measure.id,
        "measure_label": measure.label,
        "value_unit": metrics.unit_text(measure),
        "unit": unit.unit_id,
        "unit_name": unit.name,
        "level": unit.level,
        "from": period.start.isoformat(),
        "to": period.end.isoformat(),
        "grain": grain,
        "source": source.source,
        "source_label": source.label,
        "as_of": source.as_of.isoformat(),
        "synthetic": unit.synthetic,
        "interval": "95%",
        "notes": notes,
        "rows": _rows(frame),
    }
    if kinds.is_weighted(measure):  # crime harm: exact or approximate, said in a field
        payload["harm_weights"] = harm.basis(
            data.harm_by_category(unit.unit_id, period.start, period.end)).as_dict()
    if fmt == "csv":
        frame = frame.copy()
        frame.insert(0, "measure", measure.id)
        frame.insert(1, "unit", unit.unit_id)
        frame.insert(2, "source", source.source)
        frame.insert(3, "synthetic", unit.synthetic)
    stem = f"looking-glass-{measure.id}-{unit.unit_id.replace('/', '_')}-{period.start}-{period.end}-{grain}"
    return _respond(payload, frame, stem)


def _check_window(period: Period, source: Any) -> None:
    """A range must lie within the data and a margin either side (periods.window)."""
    problem = outside_window(period, source.first, source.as_of)
    if problem:
        name = "from" if period.start < source.first else "to"
        raise BadParameter(name, f"{name}: {problem}")


def _unit_param(data: DataAccess) -> Any:
    unit_id = (flask.request.args.get("unit") or "").strip()
    if not unit_id:
        raise BadParameter("unit", "unit is required (a unit id from /api/v1/units)")
    unit = _visible_unit(data, unit_id)
    if data.source_for(unit.force_id) is None:
        raise BadParameter("unit", f"no crime data is loaded for {unit.force_id!r}")
    return unit


def _period_params(data: DataAccess, unit: Any) -> Period:
    source = data.source_for(unit.force_id)
    default = preset_period("fytd", source.as_of)
    start = _date_param("from") or default.start
    end = _date_param("to") or default.end
    if end < start:
        raise BadParameter("to", f"to ({end}) is before from ({start})")
    if (end - start).days > 3660:
        raise BadParameter("from", "a period of more than ten years cannot be assessed")
    period = Period(start, end)
    _check_window(period, source)
    return period


@blueprint.get("/assessments")
@_one_version
def assessments() -> flask.Response:
    """Exactly the rows the scorecard draws for a unit and period: the one assessment per
    measure (dashboard/analysis/assessment.py), every field, the exception flag and reasons."""
    _format()
    data = _data()
    unit = _unit_param(data)
    period = _period_params(data, unit)
    measure_id = (flask.request.args.get("measure") or "").strip()
    if measure_id and measure_id not in MEASURES:
        raise BadParameter("measure", f"unknown measure {measure_id!r}; see /api/v1/measures for the ids")
    frame = assessment.assess(data, unit.unit_id, period.start, period.end)
    frame = frame.drop(columns=assessment.SPARK_COLUMNS)
    if measure_id:
        frame = frame[frame["measure_id"] == measure_id]
        if frame.empty:
            raise BadParameter("measure", f"{measure_id!r} is not a headline measure of the scorecard")
    frame = frame.reset_index(drop=True)
    frame = _mark_synthetic(data, frame)
    frame["peers_synthetic"] = [peer_comparison.peers_synthetic(data, u, m)
                                for u, m in zip(frame["unit_id"], frame["measure_id"], strict=True)]
    payload = {"unit": unit.unit_id, "from": period.start.isoformat(), "to": period.end.isoformat(),
               "period": assessment.period_words(period), "synthetic": unit.synthetic,
               "interval": "95%", "count": len(frame), "assessments": _rows(frame)}
    stem = f"looking-glass-assessments-{unit.unit_id.replace('/', '_')}-{period.start}-{period.end}"
    return _respond(payload, frame, stem)


@blueprint.get("/exceptions")
@_one_version
def exceptions() -> flask.Response:
    """The exceptions list of a unit and the units below it (to NPU), one item per measure,
    most severe first: the top 10 (the PIM's list) unless all=1. The period is a month
    (month=YYYY-MM) or a range (from, to), by default the financial year to date."""
    _format()
    data = _data()
    unit = _unit_param(data)
    month = (flask.request.args.get("month") or "").strip()
    if month:
        if flask.request.args.get("from") or flask.request.args.get("to"):
            raise BadParameter("month", "give month or from/to, not both")
        try:
            first = parse_date(month + "-01")
        except ValueError:
            raise BadParameter("month", f"month must be written YYYY-MM; got {month!r}") from None
        period = Period(first, month_end(first))
        _check_window(period, data.source_for(unit.force_id))
    else:
        period = _period_params(data, unit)
    everything = (flask.request.args.get("all") or "0").strip()
    if everything not in ("0", "1"):
        raise BadParameter("all", f"all must be 0 or 1; got {everything!r}")
    frame = assessment.exceptions(data, unit.unit_id, period.start, period.end)
    total = len(frame)
    if everything == "0":
        frame = frame.head(assessment.TOP)
    frame = _mark_synthetic(data, frame)
    frame = frame.assign(units=[";".join(u) for u in frame["units"]])
    payload = {"unit": unit.unit_id, "from": period.start.isoformat(), "to": period.end.isoformat(),
               "period": assessment.period_words(period), "synthetic": unit.synthetic, "total": total,
               "count": len(frame), "exceptions": _rows(frame)}
    stem = f"looking-glass-exceptions-{unit.unit_id.replace('/', '_')}-{period.start}-{period.end}"
    return _respond(payload, frame, stem)


@blueprint.get("/concentration")
@_one_version
def concentration_route() -> flask.Response:
    """The concentration section's numbers (dashboard/components/concentration.py reads the
    same DataAccess.concentration): for a force, BCU or NPU and a period, the share of crime and
    of harm held by its top 5% and 10% of LSOAs (all LSOAs of its area are the denominator), the
    Gini coefficients and the repeat-location counts. Aggregates only: no location is listed."""
    _format()
    data = _data()
    unit = _unit_param(data)
    period = _period_params(data, unit)
    measure_id = (flask.request.args.get("measure") or "total_crime").strip()
    if measure_id not in MEASURES:
        raise BadParameter("measure", f"unknown measure {measure_id!r}; see /api/v1/measures for the ids")
    if not MEASURES[measure_id].categories:
        raise BadParameter("measure", f"{measure_id!r} is not a crime measure; concentration is of crimes")
    figures = data.concentration(unit.unit_id, period.start, period.end, measure_id)
    if figures.not_available is not None:
        raise BadParameter("unit", f"concentration for {unit.unit_id!r} is {figures.not_available}")
    lsoas = figures.lsoas
    summary = concentration.summarise(lsoas["crimes"], lsoas["harm"])
    points = data.repeat_locations(unit.unit_id, period.start, period.end, measure_id)
    rep = concentration.repeats(points["crimes"])
    basis = harm.Basis(int(lsoas["crimes"].sum()), int(lsoas["harm_approx"].sum()))
    names = {u: (data.unit(u).name if data.unit(u) else u) for u in lsoas["npu_id"].dropna().unique()}
    ranked = pd.DataFrame(concentration.ranked(
        list(lsoas["lsoa_code"]), list(lsoas["lsoa_name"]), [names.get(n, n) for n in lsoas["npu_id"]],
        lsoas["crimes"], lsoas["harm"]), columns=concentration.RANKED_COLUMNS)
    source = data.source_for(unit.force_id)
    payload = {
        "unit": unit.unit_id, "unit_name": unit.name, "level": unit.level, "measure": measure_id,
        "from": figures.first.isoformat(), "to": figures.last.isoformat(),
        "period": Period(figures.first, figures.last).label,
        "source": figures.source, "source_label": source.label if source else None,
        "synthetic": unit.synthetic,
        "lsoas": summary.lsoas, "lsoas_with_crime": summary.with_crime,
        "lsoas_from_default_hierarchy": figures.from_default,
        "crimes": summary.crimes, "harm": summary.harm,
        "crimes_without_lsoa": figures.blank, "crimes_outside_area": figures.outside,
        "top": [{"percent": round(ct.fraction * 100), "lsoas": ct.k, "of": ct.n,
                 "crime_share": _clean(ct.share), "harm_lsoas": ht.k, "harm_share": _clean(ht.share),
                 "ties_at_boundary_crime": ct.ties_at_boundary, "ties_at_boundary_harm": ht.ties_at_boundary}
                for ct, ht in zip(summary.crime_top, summary.harm_top, strict=True)],
        "gini_crime": _clean(summary.crime_gini), "gini_harm": _clean(summary.harm_gini),
        "repeat_locations": {"map_points": rep.locations, "repeat_points": rep.repeat_locations,
                             "crimes_with_a_point": rep.crimes,
                             "crimes_at_repeat_points": rep.crimes_at_repeats,
                             "share": _clean(rep.share),
                             "note": "data.police.uk snaps crimes to anonymous map points; a repeat "
                                     "point has 2 or more crimes in the period"},
        "harm_weights": basis.as_dict(),
    }
    stem = f"looking-glass-concentration-{unit.unit_id.replace('/', '_')}-{figures.first}-{figures.last}"
    return _respond(payload, ranked, stem)
