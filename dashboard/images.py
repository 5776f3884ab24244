"""Plotly figures as SVG or PNG bytes, for packs and chart downloads.

Kaleido 1.x renders a figure in the same headless Chromium the tests drive (Debian's
/usr/bin/chromium; kaleido never downloads one here). Starting Chromium costs about 2 s, so
the first call in a process starts one renderer and later calls reuse it (about 0.15 s an
image). MathJax is switched off: kaleido would otherwise load it from a CDN, and nothing may
download at run time; plotly.js comes from the installed plotly package.

Why not kaleido's own `start_sync_server`: it has no deadline anywhere. If its Chromium fails
to start (seen on a loaded CI machine), the server thread dies and every later call waits
forever on a queue nobody reads; a stalled render waits forever too. So the renderer here runs
kaleido's async API on an event loop of its own and gives starting and each image a deadline;
on a timeout or a dead browser it kills that Chromium, starts a fresh one and tries once more,
then says in plain words that the chart could not be drawn.

The public API is two functions, kept small because the chart downloads and the packs share
it: `figure_bytes` and `image_name`.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import re
import signal
import subprocess
import threading
from collections.abc import Coroutine
from datetime import date
from pathlib import Path
from typing import Any, Literal

import kaleido
import plotly.graph_objects as go

CHROMIUM = Path("/usr/bin/chromium")
SYNTHETIC_TEXT = "Synthetic data"

START_TIMEOUT_S = 60.0  # Chromium start-up: ~2 s quiet, 10-20 s on a loaded 2-core machine
DRAW_TIMEOUT_S = 60.0  # one image: ~0.15 s; a map with boundaries ~1 s

_lock = threading.Lock()  # one renderer per process; images are drawn one at a time
_renderer: _Renderer | None = None


class ImageError(RuntimeError):
    """A chart could not be drawn as an image (said in plain words)."""


class _Renderer:
    """One kaleido Chromium driven from its own event loop thread; every call has a deadline."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        # a start-up cut short by its deadline leaves a task whose error nobody reads; the
        # caller already has the plain-words error, so the loop need not print a traceback
        self._loop.set_exception_handler(lambda _loop, _context: None)
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="kaleido-renderer", daemon=True
        )
        self._thread.start()
        self._kaleido: Any = None
        self._opened = False
        try:
            self._kaleido = self._run(self._open(), START_TIMEOUT_S)
            self._opened = True
        except BaseException:
            self.close()
            raise

    async def _open(self) -> Any:
        kwargs: dict[str, Any] = {"mathjax": False, "timeout": None}
        if CHROMIUM.exists():
            kwargs["path"] = str(CHROMIUM)
        k = kaleido.Kaleido(**kwargs)
        self._kaleido = k  # so close() can kill its Chromium if opening stalls
        await k.open()
        return k

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer from Chromium within {timeout:.0f} s") from None

    def draw(self, fig: go.Figure, opts: dict[str, Any]) -> bytes:
        return bytes(self._run(
            self._kaleido.calc_fig(fig, opts=opts, topojson=_TOPOJSON), DRAW_TIMEOUT_S
        ))

    def alive(self) -> bool:
        process = getattr(self._kaleido, "subprocess", None)
        return process is not None and process.poll() is None

    def close(self) -> None:
        """Close an opened Chromium politely if it answers within 5 s; then kill whatever is
        left of its process group (choreographer starts it in a session of its own, through a
        small Python wrapper, so killing the wrapper alone would leave Chromium behind)."""
        k, self._kaleido = self._kaleido, None
        if k is not None and self._opened and self._loop.is_running():
            try:
                self._run(k.close(), 5)
            except Exception:  # noqa: BLE001, S110 - a stuck browser is killed below
                pass
        process = getattr(k, "subprocess", None)
        if process is not None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def _renderer_locked() -> _Renderer:
    """The process's renderer, started on first use; the caller holds `_lock`."""
    global _renderer
    if _renderer is None:
        try:
            _renderer = _Renderer()
        except Exception as exc:  # no browser, or it did not start: say what to do
            if not CHROMIUM.exists():
                raise ImageError(
                    "charts cannot be drawn as images: Chromium was not found "
                    "(install it with: sudo apt-get install -y chromium)"
                ) from exc
            raise ImageError("charts cannot be drawn as images: Chromium did not start") from exc
    return _renderer


def _restart_locked() -> _Renderer:
    global _renderer
    if _renderer is not None:
        _renderer.close()
        _renderer = None
    return _renderer_locked()


def warm_up() -> None:
    """Start the renderer in the background now, so its ~2 s start-up overlaps other work
    (a pack's assessments); the first `figure_bytes` then waits only for what is left."""
    if _renderer is None:
        threading.Thread(target=_start_quietly, name="kaleido-warm-up", daemon=True).start()


def _start_quietly() -> None:
    try:
        with _lock:
            _renderer_locked()
    except ImageError:  # said again, in plain words, by the figure_bytes call that needs it
        pass


@atexit.register
def _stop_renderer() -> None:
    global _renderer
    if _renderer is not None:
        try:
            _renderer.close()
        except Exception:  # noqa: BLE001, S110 - best effort at interpreter exit
            pass
        _renderer = None


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
    drawn = mark_synthetic(fig) if synthetic else fig
    opts = {"format": fmt, "width": int(width), "height": int(height),
            "scale": 2 if fmt == "png" else 1}
    with _lock:
        renderer = _renderer_locked()
        try:
            return renderer.draw(drawn, opts)
        except Exception as exc:
            if not isinstance(exc, TimeoutError) and renderer.alive():
                raise ImageError("the chart could not be drawn as an image") from exc
        try:  # a stalled or dead Chromium: kill it and try once more on a fresh one
            return _restart_locked().draw(drawn, opts)
        except ImageError:
            raise
        except Exception as exc:
            raise ImageError("the chart could not be drawn as an image") from exc


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
