"""The check stage's blank-line test (etl/sources/csvscan.py `_has_blank_line`) answers as the
plain substring searches it replaced: an empty line (LF or CRLF) between two others."""

from __future__ import annotations

import random

import pytest

from etl.sources.csvscan import _has_blank_line


@pytest.mark.parametrize(("data", "blank"), [
    (b"", False), (b"\n", False), (b"a\nb\n", False), (b"a\r\nb\r\n", False),
    (b"a\n\nb\n", True), (b"a\r\n\r\nb", True), (b"\n\n", True), (b"a\n\r\n", True),
    (b"a\n\rb\n", False), (b"a\r\rb", False), (b"\r\n\r", False),
])
def test_known_cases(data: bytes, blank: bool) -> None:
    assert _has_blank_line(data) is blank


def test_agrees_with_the_substring_searches_on_random_bytes() -> None:
    rng = random.Random(11)
    for _ in range(5000):
        data = bytes(rng.choice(b"x\n\r,") for _ in range(rng.randint(0, 16)))
        assert _has_blank_line(data) is (b"\n\n" in data or b"\n\r\n" in data), data
