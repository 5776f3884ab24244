"""Figures drawn by kaleido in the installed Chromium: valid SVG/PNG, the synthetic mark burned in."""

from __future__ import annotations

import io
import time
import xml.etree.ElementTree as ET

import plotly.graph_objects as go
import pytest

from dashboard import images
from dashboard.images import ImageError, figure_bytes


def _fig() -> go.Figure:
    return go.Figure(go.Bar(x=["Apr", "May"], y=[3, 4]), layout={"title": {"text": "Burglary"}})


def test_svg_parses_and_has_the_size_asked() -> None:
    root = ET.fromstring(figure_bytes(_fig(), "svg", width=640, height=320))
    assert root.tag.endswith("svg")
    assert (root.get("width"), root.get("height")) == ("640", "320")
    assert "Burglary" in "".join(root.itertext())
    assert "SYNTHETIC" not in "".join(root.itertext()).upper()


def test_synthetic_mark_is_in_the_image_not_the_figure() -> None:
    fig = _fig()
    text = "".join(ET.fromstring(figure_bytes(fig, "svg", width=640, height=320, synthetic=True)).itertext())
    assert "SYNTHETIC DATA" in text
    assert not fig.layout.annotations  # the caller's figure is left alone


def test_png_is_a_png_at_twice_the_size() -> None:
    data = figure_bytes(_fig(), "png", width=300, height=200)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (600, 400)
    assert io.BytesIO(data).getbuffer().nbytes > 1000


def test_bad_format_is_refused() -> None:
    with pytest.raises(ValueError, match="svg"):
        figure_bytes(_fig(), "jpg", width=10, height=10)  # type: ignore[arg-type]


def test_a_killed_chromium_is_replaced_and_the_chart_still_drawn() -> None:
    """The CI stall this guards against: kaleido's own sync server waited forever once its
    Chromium had gone. Here the renderer's Chromium is killed outright; the next chart starts
    a fresh one and is drawn."""
    figure_bytes(_fig(), "svg", width=200, height=100)
    first = images._renderer
    assert first is not None and first.alive()
    first._kaleido.subprocess.kill()
    first._kaleido.subprocess.wait(10)
    root = ET.fromstring(figure_bytes(_fig(), "svg", width=200, height=100))
    assert "Burglary" in "".join(root.itertext())
    assert images._renderer is not first and images._renderer.alive()


def test_a_chromium_that_never_answers_gives_a_plain_error_not_a_hang(
    tmp_path, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    """A 'browser' that starts and then says nothing: the start-up deadline ends the wait."""
    silent = tmp_path / "chromium"
    silent.write_text("#!/bin/sh\nexec sleep 600\n")
    silent.chmod(0o755)
    images._stop_renderer()
    monkeypatch.setattr(images, "CHROMIUM", silent)
    monkeypatch.setattr(images, "START_TIMEOUT_S", 1.0)  # any deadline ends a silent start
    started = time.monotonic()
    with pytest.raises(ImageError, match="Chromium did not start"):
        figure_bytes(_fig(), "svg", width=200, height=100)
    assert time.monotonic() - started < 30
    assert images._renderer is None
    monkeypatch.undo()
    assert figure_bytes(_fig(), "svg", width=200, height=100).startswith(b"<svg")
