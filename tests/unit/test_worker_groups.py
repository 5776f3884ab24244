"""The files tests/conftest.py sends to one xdist worker (SAME_WORKER) exist and use the fixture
that is the reason: a renamed or split file would otherwise leave its group without a word,
and the run would start a second JVM again (docs/testing-speed.md, third pass)."""

from __future__ import annotations

import re

from tests.conftest import REPO, SAME_WORKER


def test_every_grouped_file_exists_and_uses_the_shared_fixture() -> None:
    assert SAME_WORKER, "no group: then the hook has nothing to do but the ordering"
    for path, group in SAME_WORKER.items():
        source = REPO / path
        assert source.is_file(), f"{path} (group {group!r}) does not exist: rename it in SAME_WORKER"
        # the group is named after the session fixture its files share
        assert re.search(rf"def \w+\([^)]*\b{group}\b", source.read_text(encoding="utf-8")), (
            f"{path} asks for no {group!r} fixture: it need not be in the {group!r} group")
    groups = list(SAME_WORKER.values())
    assert all(groups.count(g) >= 2 for g in groups), "a group of one file is no group"

