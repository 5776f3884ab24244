"""docs/security.md names every role the code defines, with the label the screens use, and
every setting it tells an administrator to set exists in the code under that name."""

from __future__ import annotations

from dashboard import ratelimit, signin
from dashboard.data.access import ROLES
from tests.support import REPO

DOC = (REPO / "docs" / "security.md").read_text(encoding="utf-8")


def test_the_roles_table_lists_every_role_by_its_label() -> None:
    rows = [line for line in DOC.splitlines() if line.startswith("| ") and not line.startswith("| role")]
    labels = {row.split("|")[1].strip() for row in rows if not row.startswith("|---")}
    assert {r.label for r in ROLES.values()} <= labels


def test_the_settings_named_are_the_codes() -> None:
    for name in (signin.AUTH_ENV, signin.SECRET_ENV, signin.IDLE_ENV, signin.MAX_ENV, ratelimit.RATE_ENV,
                 "LG_OIDC_CONFIG", "LG_OIDC_CLIENT_SECRET"):
        assert name in DOC, name
