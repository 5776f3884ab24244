"""The access seam's rules (dashboard/data/access.py) on hand-made units, and a guard that no
API route or Dash callback reads data without saying who is asking."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pytest

from dashboard.data import access
from dashboard.data.access import ANONYMOUS, Actor, Grant
from tests.support import REPO


@dataclass(frozen=True)
class U:
    unit_id: str
    level: str

    @property
    def force_id(self) -> str:
        return self.unit_id.split("/", 1)[0]

    @property
    def lineage(self) -> tuple[str, ...]:
        parts = self.unit_id.split("/")
        return tuple("/".join(parts[: i + 1]) for i in range(len(parts)))


FORCE = U("cheshire", "force")
OTHER_FORCE = U("kent", "force")
NORTH = U("cheshire/northern", "bcu")
EAST = U("cheshire/eastern", "bcu")
WIDNES = U("cheshire/northern/widnes", "npu")
RUNCORN = U("cheshire/northern/runcorn", "npu")
CREWE = U("cheshire/eastern/crewe", "npu")
WIDNES_TEAM = U("cheshire/northern/widnes/cid", "team")
RUNCORN_TEAM = U("cheshire/northern/runcorn/cid", "team")
CREWE_TEAM = U("cheshire/eastern/crewe/cid", "team")
ME = U("cheshire/northern/widnes/cid/pc-1", "officer")
COLLEAGUE = U("cheshire/northern/widnes/cid/pc-2", "officer")
RUNCORN_PC = U("cheshire/northern/runcorn/cid/pc-3", "officer")
CREWE_PC = U("cheshire/eastern/crewe/cid/pc-4", "officer")
ALL = (FORCE, OTHER_FORCE, NORTH, EAST, WIDNES, RUNCORN, CREWE, WIDNES_TEAM, RUNCORN_TEAM, CREWE_TEAM,
       ME, COLLEAGUE, RUNCORN_PC, CREWE_PC)

# role -> (grant, units it may see, units whose records it may list): written out by hand
# from the rules in docs/access.md, not computed.
AGGREGATES = {FORCE, OTHER_FORCE, NORTH, EAST, WIDNES, RUNCORN, CREWE}
EXPECTED = {
    "chief_officer": (Grant("chief_officer", "cheshire"), set(ALL),
                      set(ALL) - {OTHER_FORCE}),
    "analyst": (Grant("analyst"), set(ALL), set(ALL)),
    "bcu_commander": (Grant("bcu_commander", "cheshire/northern"),
                      AGGREGATES | {WIDNES_TEAM, RUNCORN_TEAM, ME, COLLEAGUE, RUNCORN_PC},
                      {NORTH, WIDNES, RUNCORN, WIDNES_TEAM, RUNCORN_TEAM, ME, COLLEAGUE, RUNCORN_PC}),
    "npu_inspector": (Grant("npu_inspector", "cheshire/northern/widnes"),
                      AGGREGATES | {WIDNES_TEAM, ME, COLLEAGUE},
                      {WIDNES, WIDNES_TEAM, ME, COLLEAGUE}),
    "police_authority": (Grant("police_authority", "cheshire"), AGGREGATES, set()),
    "officer": (Grant("officer", ME.unit_id), AGGREGATES | {ME}, {ME}),
}


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_role_sees_what_the_table_says(role: str) -> None:
    grant, sees, records = EXPECTED[role]
    actor = Actor("someone", (grant,))
    assert {u for u in ALL if access.may_see_unit(actor, u, u.lineage)} == sees
    assert {u for u in ALL if access.may_see_records(actor, u, u.lineage)} == records


def test_a_chief_officer_of_another_force_sees_only_its_force_level_here() -> None:
    actor = Actor("kent-chief", (Grant("chief_officer", "kent"),))
    assert {u for u in ALL if access.may_see_unit(actor, u, u.lineage)} == {FORCE, OTHER_FORCE}
    assert not any(access.may_see_records(actor, u, u.lineage) for u in ALL if u != OTHER_FORCE)


def test_grants_add_up() -> None:
    actor = Actor("two-hats", (Grant("officer", ME.unit_id),
                               Grant("npu_inspector", "cheshire/eastern/crewe")))
    seen = {u for u in ALL if access.may_see_unit(actor, u, u.lineage)}
    assert seen == AGGREGATES | {ME, CREWE_TEAM, CREWE_PC}


def test_the_anonymous_actor_keeps_todays_rule() -> None:
    seen = {u for u in ALL if access.may_see_unit(ANONYMOUS, u, u.lineage)}
    assert seen == {u for u in ALL if u.level != "officer"}
    assert "officer_id" in access.hidden_columns(ANONYMOUS)
    assert access.visible_levels(ANONYMOUS) == ("force", "bcu", "npu", "team")


@pytest.mark.parametrize(("role", "officer_column"), [("police_authority", False), ("officer", True),
                                                       ("analyst", True)])
def test_the_officer_column(role: str, officer_column: bool) -> None:
    grant = EXPECTED[role][0]
    actor = Actor("x", (grant,))
    assert ("officer_id" in access.visible_columns(actor, ["crime_id", "officer_id"])) is officer_column


def test_refusals_say_the_same_for_unknown_and_forbidden_units() -> None:
    actor = Actor("pa", (Grant("police_authority", "cheshire"),))
    assert access.refusal(actor, "team") == access.refusal(actor, None) == access.refusal(actor, "officer")
    assert access.NOT_AVAILABLE in access.refusal(actor, "team")


def test_grants_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        Grant("superintendent", "cheshire")
    with pytest.raises(ValueError, match="needs a unit"):
        Grant("bcu_commander")
    assert set(access.ROLES) == {"chief_officer", "analyst", "bcu_commander", "npu_inspector",
                                 "police_authority", "officer"}


@pytest.mark.parametrize("role", sorted(access.ROLES))
def test_only_an_administrator_reads_the_audit_log(role: str) -> None:
    """Whatever the role (a chief officer included), the audit log is an administrator's; the
    anonymous actor of an open dashboard never reads it."""
    grant = Grant(role, None if access.ROLES[role].force_wide else "cheshire/northern")
    assert not access.may_read_audit(Actor("u", (grant,)))
    assert access.may_read_audit(Actor("u", (grant,), admin=True))
    assert not access.may_read_audit(ANONYMOUS)
    assert not access.may_read_audit(Actor(access.ANONYMOUS_ID, (), admin=True))


# -- no route or callback forgets to say who is asking ----------------------------------------


def _decorators(fn: ast.FunctionDef) -> list[str]:
    return [ast.unparse(d) for d in fn.decorator_list]


def test_every_api_route_runs_inside_a_request_with_the_actor() -> None:
    tree = ast.parse((REPO / "dashboard" / "api.py").read_text())
    routes = [f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
              and any(d.startswith(("blueprint.get", "blueprint.route", "blueprint.post"))
                      for d in _decorators(f))]
    assert len(routes) >= 5
    for fn in routes:
        assert "_one_version" in _decorators(fn), f"api.{fn.name} does not run inside data.request(actor)"


def test_every_callback_that_reads_data_says_who_is_asking() -> None:
    """A Dash callback that calls DataAccess (`data.<method>`) must do it inside
    `data.request(current_actor())`: the seam then checks every read for that actor (and the
    running app's DataAccess refuses a read outside a request)."""
    checked = 0
    for path in sorted((REPO / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            if not any("callback" in d for d in _decorators(fn)):
                continue
            body = ast.unparse(fn)
            reads = [n for n in ast.walk(fn) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
                     and n.value.id == "data" and n.attr != "request"]
            if reads or "render(" in body:
                checked += 1
                assert "data.request(current_actor())" in body, (
                    f"{path.relative_to(REPO)}:{fn.lineno} {fn.name} reads data outside data.request(actor)")
    assert checked >= 6
