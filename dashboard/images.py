"""Plotly figures as SVG or PNG bytes, for packs and chart downloads.

Kaleido 1.x renders a figure in the same headless Chromium the tests drive (Debian's
/usr/bin/chromium; kaleido never downloads one here). Starting Chromium costs about 2 s, so
the first call in a process starts kaleido's persistent sync server and later calls reuse it
(about 0.15 s an image). MathJax is switched off: kaleido would otherwise load it from a CDN,
and nothing may download at run time; plotly.js comes from the installed plotly package.

The public API is two functions, kept small because the chart downloads and the packs share
it: `figure_bytes` and `image_name`.
"""

from __future__ import annotations

import atexit
import re
import threading
from datetime import date
from pathlib import Path
from typing import Literal

import kaleido
import plotly.graph_objects as go

CHROMIUM = Path("/usr/bin/chromium")
SYNTHETIC_TEXT = "Synthetic data"

_lock = threading.Lock()
_started = False


class ImageError(RuntimeError):
    """A chart could not be drawn as an image (said in plain words)."""


def _ensure_server() -> None:
    """Start kaleido's sync server once per process (see the module docstring)."""
    global _started
    if _started:
        return
    with _lock:
        if _started:
            return
        kwargs: dict = {"mathjax": False, "silence_warnings": True}
        if CHROMIUM.exists():
            kwargs["path"] = str(CHROMIUM)
        try:
            kaleido.start_sync_server(**kwargs)
        except Exception as exc:  # no browser: say what to install, not a traceback
            raise ImageError(
                "charts cannot be drawn as images: Chromium was not found "
                "(install it with: sudo apt-get install -y chromium)"
            ) from exc
        atexit.register(_stop_server)
        _started = True


def warm_up() -> None:
    """Start the renderer in the background now, so its ~2 s start-up overlaps other work
    (a pack's assessments); the first `figure_bytes` then waits only for what is left."""
    if not _started:
        threading.Thread(target=_ensure_quietly, daemon=True).start()


def _ensure_quietly() -> None:
    try:
        _ensure_server()
    except ImageError:  # said again, in plain words, by the figure_bytes call that needs it
        pass


def _stop_server() -> None:
    try:
        kaleido.stop_sync_server(silence_warnings=True)
    except Exception:  # noqa: S110 - best effort at interpreter exit
        pass


def mark_synthetic(fig: go.Figure) -> go.Figure:
    """A copy of `fig` with 'Synthetic data' across it, so the mark survives any crop or copy.

    A faint diagonal layout annotation in the middle of the plotting area: it cannot collide
    with titles, legends or axis labels (as a corner label would) and is part of the image.
    """
    marked = go.Figure(fig)  # the copy constructor: the caller's figure is left alone
    marked.add_annotation(
        text=SYNTHETIC_TEXT.upper(),
        xref="paper", yref="paper", x=0.5, y=0.5,
        showarrow=False, textangle=-18, opacity=0.18,
        font={"size": 44, "color": "#b00020"},
        name="synthetic-mark",
    )
    return marked


def figure_bytes(
    fig: go.Figure,
    fmt: Literal["svg", "png"],
    *,
    width: int,
    height: int,
    synthetic: bool = False,
) -> bytes:
    """The figure drawn at width x height CSS pixels as SVG or PNG bytes.

    `synthetic=True` burns the 'Synthetic data' mark into the image (see `mark_synthetic`).
    PNG is drawn at scale 2 so it stays sharp when pasted into a report.
    """
    if fmt not in ("svg", "png"):
        raise ValueError(f"image format must be 'svg' or 'png', not {fmt!r}")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size must be positive, not {width} x {height}")
    _ensure_server()
    drawn = mark_synthetic(fig) if synthetic else fig
    opts = {"format": fmt, "width": int(width), "height": int(height),
            "scale": 2 if fmt == "png" else 1}
    try:
        with _lock:  # one sync server per process; calls are serialised through it
            out = kaleido.calc_fig_sync(drawn, opts=opts, topojson=_TOPOJSON)
    except Exception as exc:
        raise ImageError("the chart could not be drawn as an image") from exc
    return bytes(out)


# Map base layers from the app's own files (dashboard/assets/topojson), as file:// for the
# headless Chromium: kaleido would otherwise fetch them from Plotly's CDN and fail offline.
_TOPOJSON = (Path(__file__).resolve().parent / "assets" / "topojson").as_uri() + "/"

_UNSAFE = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower case letters, digits and single hyphens: safe in a file name on any system."""
    s = _UNSAFE.sub("-", str(text).lower()).strip("-")
    return s or "chart"


def image_name(unit_id: str, measure_id: str, start: date, end: date, ext: str) -> str:
    """'cheshire-western_burglary_2007-04_2008-03.svg': unit, measure and period's months."""
    ext = slug(ext.lstrip("."))
    return f"{slug(unit_id)}_{slug(measure_id)}_{start:%Y-%m}_{end:%Y-%m}.{ext}"
