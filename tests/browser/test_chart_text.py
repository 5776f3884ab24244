"""No chart text overlaps other chart text, on a laptop screen and on an A4 page (issue 9, item 6).

In headless Chromium (dash_duo) at 1366x768 and at A4 print width (210 mm = 794 CSS px), the
Compare and drill-down pages of the demo are drawn, and for every plotly chart the bounding
boxes of its title and subtitle lines (.gtitle), axis titles (.xtitle, .ytitle), tick labels
(.xtick / .ytick text), annotations and legend entries are read from the SVG. No two may
overlap, and none may run off the chart's edges (plotly does not wrap text: a subtitle longer
than the chart is cut off, and a title anchored too high loses its first line). A failure
names the chart, the two texts and the width.
"""

from __future__ import annotations

import time
from itertools import combinations
from typing import Any

import pytest

from tests.support.browser import settled, wait

SIZES = {"laptop": (1366, 768), "a4": (794, 1123)}
PAGES = {
    "compare": "/compare?unit=cheshire&measure=sanction_detection_rate",
    "compare-burglary": "/compare?unit=cheshire&measure=crime_burglary",
    "drill-down": "/drill-down?unit=cheshire&measure=total_crime",
    # 18 bars and the longest title: several NPUs significantly worse than the force
    "drill-down-npus": "/drill-down?unit=cheshire&measure=sanction_detection_rate&rank=npu",
}
TOLERANCE_PX = 1.0  # boxes that merely touch (anti-aliasing, rounding) do not overlap

# Every text element of every plotly chart on the page, with its box in page pixels. A
# multi-line title is one <text> with a <tspan class="line"> per line: each line is a box.
COLLECT = """
const out = [];
for (const plot of document.querySelectorAll('.js-plotly-plot')) {
  const holder = plot.parentElement ? plot.parentElement.closest('[id]') : null;
  const svg = plot.querySelector('.main-svg');
  if (!svg) continue;
  const f = svg.getBoundingClientRect();
  const items = [];
  const add = (el, kind) => {
    const text = (el.textContent || '').trim();
    const r = el.getBoundingClientRect();
    if (!text || r.width <= 0 || r.height <= 0) return;
    if (getComputedStyle(el).visibility === 'hidden' || el.closest('[style*="opacity: 0"]')) return;
    items.push({kind: kind, text: text, l: r.left, t: r.top, r: r.right, b: r.bottom});
  };
  const lines = (el, kind) => {
    const ls = el.querySelectorAll('tspan.line');
    if (ls.length) { ls.forEach(l => add(l, kind)); } else { add(el, kind); }
  };
  plot.querySelectorAll('.gtitle').forEach(el => lines(el, 'title'));
  plot.querySelectorAll('.xtitle, .ytitle').forEach(el => lines(el, 'axis title'));
  plot.querySelectorAll('.xtick text, .ytick text').forEach(el => add(el, 'tick label'));
  plot.querySelectorAll('.annotation-text').forEach(el => lines(el, 'annotation'));
  plot.querySelectorAll('.legendtext').forEach(el => add(el, 'legend'));
  out.push({id: holder ? holder.id : '?', l: f.left, r: f.right, t: f.top, b: f.bottom, items: items});
}
return out;
"""


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    dx = min(a["r"], b["r"]) - max(a["l"], b["l"])
    dy = min(a["b"], b["b"]) - max(a["t"], b["t"])
    return dx > TOLERANCE_PX and dy > TOLERANCE_PX


def _problems(charts: list[dict[str, Any]]) -> list[str]:
    found = []
    for chart in charts:
        items = chart["items"]
        for a, b in combinations(items, 2):
            if _overlap(a, b):
                found.append(f"{chart['id']}: {a['kind']} {a['text'][:60]!r} overlaps {b['kind']} "
                             f"{b['text'][:60]!r}")
        for a in items:
            if a["l"] < chart["l"] - TOLERANCE_PX or a["r"] > chart["r"] + TOLERANCE_PX:
                found.append(f"{chart['id']}: {a['kind']} {a['text'][:60]!r} runs off the chart "
                             f"({a['l']:.0f}-{a['r']:.0f} px, chart {chart['l']:.0f}-{chart['r']:.0f} px)")
            if a["t"] < chart["t"] - TOLERANCE_PX or a["b"] > chart["b"] + TOLERANCE_PX:
                found.append(f"{chart['id']}: {a['kind']} {a['text'][:60]!r} is cut off at the top or "
                             f"bottom ({a['t']:.0f}-{a['b']:.0f} px, chart {chart['t']:.0f}-"
                             f"{chart['b']:.0f} px)")
    return found


def _charts(dash_duo) -> list[dict[str, Any]]:  # noqa: ANN001
    dash_duo.wait_for_element(".js-plotly-plot .main-svg", timeout=30)
    settled(dash_duo, timeout=30)
    # plotly redraws a responsive chart after the page settles at its width: wait for the
    # text boxes to stop moving
    previous: list[dict[str, Any]] | None = None
    for _ in range(20):
        time.sleep(0.4)
        charts = dash_duo.driver.execute_script(COLLECT)
        if charts == previous:
            return charts
        previous = charts
    return previous or []


CASES = [
    pytest.param("laptop", ("compare", "compare-burglary"), id="laptop-compare"),
    pytest.param("a4", ("compare", "compare-burglary"), id="a4-compare"),
    pytest.param("laptop", ("drill-down", "drill-down-npus"), id="laptop-drill-down"),
    pytest.param("a4", ("drill-down", "drill-down-npus"), id="a4-drill-down"),
]


@pytest.mark.parametrize(("size", "pages"), CASES)
def test_no_chart_text_overlaps(demo_duo, size: str, pages: tuple[str, ...]) -> None:  # noqa: ANN001
    dash_duo = demo_duo
    width, height = SIZES[size]
    dash_duo.driver.set_window_size(width, height)
    problems: list[str] = []
    for name in pages:
        dash_duo.wait_for_page(url=f"{dash_duo.server_url}{PAGES[name]}", timeout=30)
        charts = wait(lambda: [c for c in _charts(dash_duo) if c["items"]], timeout=60,
                      what=f"the {name} page's charts")
        assert len(charts) >= (3 if name.startswith("compare") else 1), f"{name}: charts missing"
        problems += [f"{size} {width}px, {name}: {p}" for p in _problems(charts)]
    assert not problems, "\n".join(problems)
