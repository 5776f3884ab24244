"""Sign-in's pure parts: where a sign-in may send the browser next (never off this server),
the password rules, and the SSO group-to-grant mapping."""

from __future__ import annotations

import pytest

from dashboard import oidc
from dashboard.data.access import Grant
from dashboard.signin import safe_next
from dashboard.store import signin as S
from dashboard.store.errors import ValidationError


@pytest.mark.parametrize(("asked", "goes"), [
    ("/scorecard?unit=cheshire/northern", "/scorecard?unit=cheshire/northern"),
    (None, "/"),
    ("", "/"),
    ("https://evil.example/", "/"),
    ("//evil.example/path", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("scorecard", "/"),
    ("/login?next=/x", "/"),      # never back to the sign-in page itself
    ("/logout", "/"),
])
def test_next_stays_on_this_server(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def test_password_rules() -> None:
    assert S.check_password_rules("twelve chars") == "twelve chars"
    with pytest.raises(ValidationError, match="at least 12 characters"):
        S.check_password_rules("eleven char")
    with pytest.raises(ValidationError, match="too long"):
        S.check_password_rules("x" * 1025)


def test_groups_map_to_grants_once_each_in_file_order() -> None:
    cfg = oidc.Config("https://idp", "lg", "s", "groups", "preferred_username", (
        oidc.GroupRule("A", Grant("bcu_commander", "cheshire/northern")),
        oidc.GroupRule("B", Grant("analyst")),
        oidc.GroupRule("C", Grant("analyst")),
    ))
    assert cfg.grants_for(["C", "A", "Z"]) == (Grant("bcu_commander", "cheshire/northern"), Grant("analyst"))
    assert cfg.grants_for(["Z"]) == ()
