"""The demo's sample users: one per role, so that whoever runs `make run` can see the dashboard
as each of the people HMIC names (a chief officer, an analyst, a BCU commander, an NPU
inspector, a police authority member, an officer) without anyone choosing a password.

Only for a synthetic warehouse (the demo): a real force's users are added one by one by an
administrator. Each password is random (secrets.token_urlsafe), printed once by the command
that made it and stored only as its argon2 hash; run the command again to reset them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.store import signin as S
from dashboard.store import users as U
from dashboard.store.db import Store
from dashboard.store.errors import NotFoundError, StoreError


@dataclass(frozen=True)
class Sample:
    name: str
    role: str
    unit_id: str | None
    admin: bool
    password: str


# name, role, the level of the unit it is scoped to (None: force-wide), administrator
PLAN: tuple[tuple[str, str, str | None, bool], ...] = (
    ("chief", "chief_officer", None, True),
    ("analyst", "analyst", None, False),
    ("bcu-commander", "bcu_commander", "bcu", False),
    ("npu-inspector", "npu_inspector", "npu", False),
    ("authority", "police_authority", None, False),
    ("officer", "officer", "officer", False),
)


def _first_chain(unit_levels: Mapping[str, str]) -> dict[str, str]:
    """The first BCU, the first NPU inside it and the first officer inside that NPU (unit ids
    nest by path: etl/units.py), so the three scoped users sit in one line of command."""
    ordered = sorted(unit_levels)
    bcu = next((u for u in ordered if unit_levels[u] == "bcu"), None)
    npu = next((u for u in ordered if unit_levels[u] == "npu" and bcu and u.startswith(bcu + "/")), None)
    officer = next(
        (u for u in ordered if unit_levels[u] == "officer" and npu and u.startswith(npu + "/")), None)
    if not (bcu and npu and officer):
        raise StoreError("The warehouse has no BCU, NPU and officer in one line of command, so the "
                         "sample users cannot be scoped: build the demo (python -m etl demo).")
    return {"bcu": bcu, "npu": npu, "officer": officer}


def add_sample_users(store: Store, unit_levels: Mapping[str, str], *, actor: str) -> list[Sample]:
    """Add (or, when they exist, reset the password of) the sample users; returns them with
    their new passwords, to be shown once."""
    chain = _first_chain(unit_levels)
    made: list[Sample] = []
    for name, role, level, admin in PLAN:
        unit = chain[level] if level else None
        try:
            U.get_user(store, name)
        except NotFoundError:
            U.add_user(store, name, role=role, unit_id=unit, unit_levels=unit_levels, actor=actor,
                       admin=admin)
        password = secrets.token_urlsafe(12)  # 16 characters, ~96 bits
        S.set_password(store, name, password)
        made.append(Sample(name, role, unit, admin, password))
    return made
