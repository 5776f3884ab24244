"""A tiny server-drawn SVG sparkline, shown as an <img>: light enough for a table of them,
crisp in print, and built only from numbers (no data string goes into the SVG)."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

from dash import html

from dashboard.components.common import BLUE, GREY


def svg(values: Sequence[float], width: int = 120, height: int = 28, colour: str = BLUE) -> str:
    """SVG text: a polyline through the finite values (gaps where a month is missing), a dot
    on the last point and a faint line at the first point's level for reference."""
    pad = 3
    finite = [v for v in values if v is not None and not math.isnan(v)]
    if not finite:
        body = ""
    else:
        lo, hi = min(finite), max(finite)
        span = hi - lo or 1.0
        n = max(len(values) - 1, 1)

        def xy(i: int, v: float) -> tuple[float, float]:
            x = pad + (width - 2 * pad) * i / n
            y = height - pad - (height - 2 * pad) * (v - lo) / span
            return round(x, 1), round(y, 1)

        segments: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(values):
            if v is None or math.isnan(v):
                if segments[-1]:
                    segments.append([])
                continue
            segments[-1].append(xy(i, v))
        lines = "".join(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" '
            f'points="{" ".join(f"{x},{y}" for x, y in seg)}"/>'
            for seg in segments
            if len(seg) > 1
        )
        last_i = max(i for i, v in enumerate(values) if v is not None and not math.isnan(v))
        lx, ly = xy(last_i, values[last_i])
        first_i = min(i for i, v in enumerate(values) if v is not None and not math.isnan(v))
        _, fy = xy(first_i, values[first_i])
        body = (
            f'<line x1="{pad}" x2="{width - pad}" y1="{fy}" y2="{fy}" stroke="{GREY}" '
            f'stroke-width="0.5" stroke-dasharray="2,2"/>{lines}'
            f'<circle cx="{lx}" cy="{ly}" r="2.2" fill="{colour}"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{body}</svg>'
    )


def sparkline(values: Sequence[float], alt: str, **kwargs: object) -> html.Img:
    data = base64.b64encode(svg(values, **kwargs).encode()).decode()  # type: ignore[arg-type]
    return html.Img(
        src=f"data:image/svg+xml;base64,{data}",
        alt=alt,
        title=alt,
        className="sparkline",
        style={"display": "block"},
    )
