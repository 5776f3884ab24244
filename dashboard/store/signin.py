"""Local sign-in against the store: passwords (argon2id) and login throttling.

Passwords are hashed with argon2-cffi's `PasswordHasher` (argon2id, its current defaults);
a hash made with older parameters is upgraded at the next successful sign-in. A password is
set only from the command line (`python -m dashboard users set-password NAME`, read from a
prompt or standard input, never an argument): there is no default password anywhere.

Throttling is kept in the store (table `login_failures`), not in memory, so that every
gunicorn worker counts the same failures: after `MAX_PER_NAME` failed sign-ins for one name,
or `MAX_PER_ADDRESS` from one client address, within `WINDOW`, sign-in is refused for that
name (or address) until the window has passed. Failures are counted for names that are not
users too, and the refusal says the same words either way, so throttling never tells whether
a user exists. The address limit is higher than the name limit because a police station's
machines often reach the server through one address.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update

from dashboard.store import schema
from dashboard.store.db import Store, now
from dashboard.store.errors import NotFoundError, ValidationError
from dashboard.store.users import User, get_user

MIN_PASSWORD = 12          # NCSC: length over complexity
MAX_PASSWORD = 1024        # argon2 would hash more, but a longer "password" is an attack
MAX_PER_NAME = 5
MAX_PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)

_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is not a user (or has no password), so that a wrong
    name takes as long to refuse as a wrong password. Made at the first sign-in, not at
    import: hashing costs ~0.4 s, which every `python -m dashboard` command paid."""
    return _HASHER.hash("not a password: equalises the time of a refusal")


def warm() -> None:
    """Make the dummy hash now: the web app calls this when it starts, so that even the first
    sign-in with an unknown name costs one verification, like the rest."""
    _dummy_hash()


@dataclass(frozen=True)
class Attempt:
    """The outcome of a sign-in: the user, or why not (in words safe to show)."""

    user: User | None
    locked: bool = False


def check_password_rules(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"The password is too short: use at least {MIN_PASSWORD} "
                                           "characters (a few unrelated words are easy to remember)."})
    if len(password) > MAX_PASSWORD:
        raise ValidationError({"password": f"The password is too long: at most {MAX_PASSWORD} characters."})
    return password


def set_password(store: Store, name: str, password: str) -> User:
    """Set (or replace) the user's local password, stored only as its argon2id hash."""
    check_password_rules(password)
    hashed = _HASHER.hash(password)
    with store.begin() as conn:
        done = conn.execute(update(schema.users).where(schema.users.c.name == name)
                            .values(password_hash=hashed, updated_at=now())).rowcount
    if not done:
        raise NotFoundError(f"There is no user {name[:100]!r}.")
    return get_user(store, name)


def has_users(store: Store) -> bool:
    """Whether the store holds any user at all (then sign-in is required: dashboard/signin.py)."""
    with store.connect() as conn:
        return conn.execute(select(schema.users.c.id).limit(1)).first() is not None


def _keys(name: str, address: str | None) -> list[str]:
    keys = [f"name:{name.strip().lower()[:300]}"]
    if address:
        keys.append(f"addr:{address[:100]}")
    return keys


def locked(store: Store, name: str, address: str | None) -> bool:
    """Whether sign-in is refused for this name or address because of recent failures."""
    since = now() - WINDOW
    lf = schema.login_failures
    limits = dict(zip(_keys(name, address), (MAX_PER_NAME, MAX_PER_ADDRESS), strict=False))
    with store.connect() as conn:
        for key, limit in limits.items():
            count = conn.execute(select(func.count()).select_from(lf)
                                 .where(lf.c.key == key, lf.c.at >= since)).scalar_one()
            if count >= limit:
                return True
    return False


def _record_failure(store: Store, name: str, address: str | None) -> None:
    lf = schema.login_failures
    when = now()
    with store.begin() as conn:
        conn.execute(delete(lf).where(lf.c.at < when - WINDOW))
        conn.execute(insert(lf), [{"key": k, "at": when} for k in _keys(name, address)])


def sign_in(store: Store, name: str, password: str, address: str | None) -> Attempt:
    """Check a name and password: the user when both are right and the user is enabled; else
    no user, and `locked` when throttling refused without checking. A failure is recorded
    against the name and the address whether or not the name is a user."""
    name = (name or "").strip()
    if locked(store, name, address):
        return Attempt(None, locked=True)
    with store.connect() as conn:
        row = conn.execute(select(schema.users.c.password_hash, schema.users.c.disabled)
                           .where(schema.users.c.name == name)).first()
    stored = row.password_hash if row is not None and row.password_hash else None
    try:
        _HASHER.verify(stored or _dummy_hash(), password or "")
        ok = stored is not None and not row.disabled
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        _record_failure(store, name, address)
        return Attempt(None)
    if _HASHER.check_needs_rehash(stored):
        set_password(store, name, password)
    lf = schema.login_failures
    with store.begin() as conn:  # a success clears the name's failures (not the address's)
        conn.execute(delete(lf).where(lf.c.key == _keys(name, None)[0]))
    return Attempt(get_user(store, name))
