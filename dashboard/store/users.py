"""Users, their roles scoped to units, and their API tokens.

A role is granted for a unit (a user may hold several grants): a BCU commander for their BCU,
an NPU inspector for their NPU, an officer for their own officer unit. Force-wide roles
(chief officer, analyst, police authority member) may be granted for one force or, without a
unit, for every force loaded. The roles are defined once, in dashboard/data/access.py (ROLES),
which also decides what each may see from the grants this module stores; `actor_for` turns a
stored user into the `Actor` the seam asks about.

API tokens are random (32 bytes, `secrets`), shown once, and stored only as their SHA-256: a
token has the full entropy of its random bytes, so a slow password hash would add nothing,
and a lookup by hash stays one indexed query per API request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from dashboard.data import access
from dashboard.data.access import Actor, Role
from dashboard.store import schema
from dashboard.store.actions import actor_id
from dashboard.store.db import Store, aware, now
from dashboard.store.errors import NotFoundError, StoreError, ValidationError
from etl import hierarchy

# The roles are defined once, in the access seam (dashboard/data/access.py), which also decides
# what each may see; the store only records grants of them.
ROLES: dict[str, Role] = access.ROLES

A_LEVEL = {"force": "a force", "bcu": "a BCU", "npu": "an NPU", "team": "a team", "officer": "an officer"}
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
TOKEN_PREFIX = "lg_"


@dataclass(frozen=True)
class Grant:
    role: str
    unit_id: str | None   # None: every force

    @property
    def scope(self) -> str:
        return self.unit_id if self.unit_id is not None else "every force"


@dataclass(frozen=True)
class User:
    id: int
    name: str
    admin: bool
    disabled: bool
    created_by: str
    created_at: datetime
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Token:
    id: int
    user: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


def actor_for(user: User) -> Actor:
    """The actor the access seam asks about for a signed-in user: their name and every grant
    they hold, and whether they are an administrator (the one place a stored user becomes an
    actor)."""
    return Actor(user.name, tuple(access.Grant(g.role, g.unit_id) for g in user.grants), admin=user.admin)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- checks ----------------------------------------------------------------------------------


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_PATTERN.match(name):
        raise ValidationError({"name": (
            f"{name[:40]!r} is not a usable user name: use 1 to 100 letters, digits, '.', '_', '@' "
            "or '-', starting with a letter or digit.")})
    return name


def check_grant(role: str, unit_id: str | None, unit_levels: Mapping[str, str]) -> Grant:
    """The grant, or a ValidationError saying why the role cannot be granted for that unit.
    `unit_levels` maps every unit id of the warehouse to its level."""
    found = ROLES.get(role)
    if found is None:
        raise ValidationError({"role": f"Unknown role {role[:40]!r}; the roles are: {', '.join(ROLES)}."})
    if unit_id is None or not unit_id.strip():
        if not found.force_wide:
            level = hierarchy.level(found.scope_level).label
            raise ValidationError({"unit": f"The {found.id} role needs a unit: name the {level} "
                                           "with --unit."})
        return Grant(found.id, None)
    unit_id = unit_id.strip()
    level = unit_levels.get(unit_id)
    if level is None:
        raise ValidationError({"unit": f"There is no unit {unit_id[:300]!r} in the warehouse."})
    if level != found.scope_level:
        raise ValidationError({"unit": f"The {found.id} role is granted for {A_LEVEL[found.scope_level]}; "
                                       f"{unit_id!r} is {A_LEVEL.get(level, level)}."})
    return Grant(found.id, unit_id)


# -- reading ---------------------------------------------------------------------------------


def _user_row(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(select(schema.users).where(schema.users.c.name == name)).first()
    if row is None:
        raise NotFoundError(f"There is no user {name[:100]!r}.")
    return row


def _grants(conn: Connection, user_id: int) -> tuple[Grant, ...]:
    g = schema.role_grants
    rows = conn.execute(select(g.c.role, g.c.unit_id).where(g.c.user_id == user_id).order_by(g.c.id))
    return tuple(Grant(r.role, r.unit_id) for r in rows)


def _user(conn: Connection, row: Row[Any]) -> User:
    return User(row.id, row.name, bool(row.admin), bool(row.disabled), row.created_by,
                aware(row.created_at), _grants(conn, row.id))


def get_user(store: Store, name: str) -> User:
    with store.connect() as conn:
        return _user(conn, _user_row(conn, name))


def list_users(store: Store) -> list[User]:
    with store.connect() as conn:
        rows = conn.execute(select(schema.users).order_by(schema.users.c.name)).all()
        return [_user(conn, r) for r in rows]


# -- writing ---------------------------------------------------------------------------------


def add_user(store: Store, name: str, *, role: str, unit_id: str | None, unit_levels: Mapping[str, str],
             actor: Actor | str, admin: bool = False) -> User:
    """A new user holding one role (more with `grant`). No password is set: local sign-in
    passwords are set by the sign-in work; until then a user signs in by token or single sign-on."""
    name = check_name(name)
    grant_ = check_grant(role, unit_id, unit_levels)
    who, when = actor_id(actor), now()
    with store.begin() as conn:
        if conn.execute(select(schema.users.c.id).where(schema.users.c.name == name)).first():
            raise StoreError(f"There is already a user {name!r}; use `users grant` to give them "
                             "another role.")
        user_id = conn.execute(insert(schema.users).values(
            name=name, admin=admin, disabled=False, created_by=who, created_at=when, updated_at=when,
        )).inserted_primary_key[0]
        conn.execute(insert(schema.role_grants).values(
            user_id=user_id, role=grant_.role, unit_id=grant_.unit_id, granted_by=who, granted_at=when))
    return get_user(store, name)


def grant(store: Store, name: str, *, role: str, unit_id: str | None, unit_levels: Mapping[str, str],
          actor: Actor | str) -> User:
    grant_ = check_grant(role, unit_id, unit_levels)
    g = schema.role_grants
    with store.begin() as conn:
        row = _user_row(conn, name)
        if grant_ in _grants(conn, row.id):
            raise StoreError(f"{name} already holds {grant_.role} for {grant_.scope}.")
        conn.execute(insert(g).values(user_id=row.id, role=grant_.role, unit_id=grant_.unit_id,
                                      granted_by=actor_id(actor), granted_at=now()))
    return get_user(store, name)


def revoke(store: Store, name: str, *, role: str, unit_id: str | None = None) -> User:
    """Take a role away: the grant for `unit_id`, or (without one) every grant of that role."""
    if role not in ROLES:
        raise ValidationError({"role": f"Unknown role {role[:40]!r}; the roles are: {', '.join(ROLES)}."})
    g = schema.role_grants
    with store.begin() as conn:
        row = _user_row(conn, name)
        query = delete(g).where(g.c.user_id == row.id, g.c.role == role)
        if unit_id:
            query = query.where(g.c.unit_id == unit_id.strip())
        if conn.execute(query).rowcount == 0:
            scope = f" for {unit_id}" if unit_id else ""
            raise NotFoundError(f"{name} does not hold the {role} role{scope}.")
    return get_user(store, name)


def set_disabled(store: Store, name: str, disabled: bool = True) -> User:
    """Disable (or enable again) a user: a disabled user's tokens stop working at once."""
    with store.begin() as conn:
        row = _user_row(conn, name)
        conn.execute(update(schema.users).where(schema.users.c.id == row.id)
                     .values(disabled=disabled, updated_at=now()))
    return get_user(store, name)


# -- API tokens ------------------------------------------------------------------------------


def create_token(store: Store, name: str, actor: Actor | str) -> tuple[str, Token]:
    """A new API token for the user: returns the token (shown once, never stored) and its record."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    when = now()
    with store.begin() as conn:
        row = _user_row(conn, name)
        if row.disabled:
            raise StoreError(f"{name} is disabled: enable the user before giving them a token.")
        token_id = conn.execute(insert(schema.api_tokens).values(
            user_id=row.id, token_hash=token_hash(token), prefix=token[:10],
            created_by=actor_id(actor), created_at=when,
        )).inserted_primary_key[0]
    return token, Token(token_id, name, token[:10], actor_id(actor), aware(when), None)


def list_tokens(store: Store, name: str | None = None) -> list[Token]:
    t, u = schema.api_tokens, schema.users
    query = select(t, u.c.name).join(u, u.c.id == t.c.user_id).order_by(t.c.id)
    if name:
        query = query.where(u.c.name == name)
    with store.connect() as conn:
        return [Token(r.id, r.name, r.prefix, r.created_by, aware(r.created_at),
                      aware(r.revoked_at) if r.revoked_at else None) for r in conn.execute(query)]


def revoke_tokens(store: Store, name: str, token_id: int | None = None) -> int:
    """Revoke the user's live tokens (or only `token_id`); returns how many were revoked."""
    t = schema.api_tokens
    with store.begin() as conn:
        row = _user_row(conn, name)
        query = update(t).where(t.c.user_id == row.id, t.c.revoked_at.is_(None))
        if token_id is not None:
            query = query.where(t.c.id == token_id)
        count = conn.execute(query.values(revoked_at=now())).rowcount
    if count == 0:
        which = f"token {token_id}" if token_id is not None else "live token"
        raise NotFoundError(f"{name} has no {which} to revoke.")
    return count


def user_for_token(store: Store, token: str) -> User | None:
    """The user a bearer token belongs to, or None when it is unknown, revoked or its user is
    disabled (the API answers all of these alike)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    t, u = schema.api_tokens, schema.users
    query = (select(u).join(t, t.c.user_id == u.c.id)
             .where(t.c.token_hash == token_hash(token), t.c.revoked_at.is_(None), u.c.disabled.is_(False)))
    with store.connect() as conn:
        row = conn.execute(query).first()
        return _user(conn, row) if row is not None else None
