"""`python -m dashboard users ...` and `python -m dashboard tokens ...`: who may use the dashboard.

The first administrator is made here (`users add NAME --role chief_officer --admin`): there is
no default account and no default password anywhere. Units named with `--unit` are checked
against the warehouse's units (read through DataAccess); a role's scope decides which level
the unit must be at (dashboard/store/users.py ROLES).

`tokens create NAME` prints the new token alone on standard output (so a script can capture
it) and everything else on standard error; the token is shown once and only its hash is kept.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import duckdb
import typer
from rich.console import Console
from rich.table import Table

from dashboard.data.access import ROLES
from dashboard.store import users as U
from dashboard.store.db import Store, open_store
from dashboard.store.errors import StoreError
from dashboard.store.sample_users import add_sample_users
from dashboard.store.signin_cli import read_password, set_password
from etl.config import warehouse_path

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse",
        help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb); "
        "the store sits beside it unless $LG_STORE_URL is set.",
    ),
]
RoleOpt = Annotated[str, typer.Option("--role", help=f"One of: {', '.join(U.ROLES)}.")]
UnitOpt = Annotated[
    str | None,
    typer.Option(
        "--unit",
        help="The unit the role covers (e.g. cheshire/western). Without it a force-wide "
        "role covers every force loaded.",
    ),
]

users = typer.Typer(help="Users and their roles.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens (sent as 'Authorization: Bearer TOKEN').", no_args_is_help=True)

T = TypeVar("T")


def actor() -> str:
    """Who ran the command, as the store records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _store(warehouse: Path | None) -> Store:
    return open_store(warehouse_path(warehouse))


def unit_levels(warehouse: Path | None, *, synthetic_only: bool = False) -> dict[str, str]:
    """Every unit id of the warehouse and its level, read through DataAccess (only the
    synthetic demo's units with `synthetic_only`)."""
    link = warehouse_path(warehouse)
    if not link.exists():
        raise StoreError(
            f"There is no warehouse at {link}: build one (python -m etl demo) or load data "
            "before naming a unit, or give --warehouse."
        )
    # most commands here (passwords, tokens, listing users) never read the warehouse's units
    from dashboard.data.facade import DataAccess  # lazy: imports scipy via the analysis (~1 s)
    from dashboard.data.warehouse import WarehouseReader  # lazy: as above

    data = DataAccess(WarehouseReader(link))
    try:
        frame = data.units()
    except duckdb.Error as exc:
        raise StoreError(f"The warehouse at {link} could not be read ({exc}).") from exc
    finally:
        data.reader.close()
    if synthetic_only:
        frame = frame[frame["synthetic"].fillna(False).astype(bool)]
    return dict(zip(frame["unit_id"], frame["level"], strict=True))


def _levels_if(unit: str | None, warehouse: Path | None) -> dict[str, str]:
    return unit_levels(warehouse) if unit else {}


@contextmanager
def _plain_errors() -> Iterator[None]:
    """A refusal in words on standard error and exit status 1 (no traceback)."""
    try:
        yield
    except StoreError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None


def _run(fn: Callable[[], T]) -> T:
    with _plain_errors():
        return fn()


def _describe(user: U.User) -> str:
    roles = ", ".join(f"{g.role} ({g.scope})" for g in user.grants) or "no role"
    flags = (" [admin]" if user.admin else "") + (" [disabled]" if user.disabled else "")
    return f"{user.name}{flags}: {roles}"


@users.command("add")
def users_add(
    name: str,
    role: RoleOpt,
    unit: UnitOpt = None,
    admin: Annotated[bool, typer.Option("--admin", help="May manage users in the dashboard.")] = False,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Set a sign-in password, read from standard input (or a prompt).")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Add a user with one role (add more with `users grant`)."""
    levels = _run(lambda: _levels_if(unit, warehouse))  # the warehouse first: no store for a wrong path
    password = _run(read_password) if password_stdin else None  # checked before the user is added
    user = _run(
        lambda: U.add_user(
            _store(warehouse),
            name,
            role=role,
            unit_id=unit,
            unit_levels=levels,
            actor=actor(),
            admin=admin,
        )
    )
    if password is not None:
        _run(lambda: set_password(_store(warehouse), name, password))
    err.print(f"Added {_describe(user)}{' with a password' if password else ''}.", markup=False)


@users.command("sample")
def users_sample(warehouse: WarehouseOpt = None) -> None:
    """The demo's sample users, one per role, with new random passwords printed once
    (again: new passwords). Refused on a warehouse that is not the synthetic demo."""
    levels = _run(lambda: unit_levels(warehouse, synthetic_only=True))
    if not levels:
        err.print("error: sample users are for the synthetic demo only; this warehouse holds real "
                  "data. Add users one by one with: python -m dashboard users add NAME --role ROLE",
                  markup=False)
        raise typer.Exit(1)
    made = _run(lambda: add_sample_users(_store(warehouse), levels, actor=actor()))
    table = Table(box=None)
    for heading in ("user", "password", "role", "scope"):
        table.add_column(heading, overflow="fold")
    for s in made:
        table.add_row(s.name, s.password, ROLES[s.role].label + (" (admin)" if s.admin else ""),
                      s.unit_id or "every force")
    out.print("Sample users for the synthetic demo (passwords shown once; run "
              "`python -m dashboard users sample` again for new ones):", markup=False)
    out.print(table)


@users.command("list")
def users_list(warehouse: WarehouseOpt = None) -> None:
    """Every user, their roles and scopes."""
    found = _run(lambda: U.list_users(_store(warehouse)))
    if not found:
        err.print(
            "No users yet. Add the first administrator with: python -m dashboard users add NAME "
            "--role chief_officer --admin",
            markup=False,
        )
        return
    table = Table("user", "roles (scope)", "admin", "disabled", "created", box=None)
    for u in found:
        table.add_row(
            u.name,
            "; ".join(f"{g.role} ({g.scope})" for g in u.grants) or "none",
            "yes" if u.admin else "",
            "yes" if u.disabled else "",
            f"{u.created_at:%Y-%m-%d %H:%M} by {u.created_by}",
        )
    out.print(table)


@users.command("grant")
def users_grant(name: str, role: RoleOpt, unit: UnitOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Give a user another role (for a unit, or force-wide)."""
    levels = _run(lambda: _levels_if(unit, warehouse))  # the warehouse first: no store for a wrong path
    user = _run(
        lambda: U.grant(
            _store(warehouse),
            name,
            role=role,
            unit_id=unit,
            unit_levels=levels,
            actor=actor(),
        )
    )
    err.print(f"Granted: {_describe(user)}.", markup=False)


@users.command("revoke")
def users_revoke(name: str, role: RoleOpt, unit: UnitOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Take a role away (for one unit, or every grant of that role without --unit)."""
    user = _run(lambda: U.revoke(_store(warehouse), name, role=role, unit_id=unit))
    err.print(f"Revoked: {_describe(user)}.", markup=False)


@users.command("disable")
def users_disable(name: str, warehouse: WarehouseOpt = None) -> None:
    """Disable a user: their tokens stop working at once; nothing they wrote is removed."""
    user = _run(lambda: U.set_disabled(_store(warehouse), name, True))
    err.print(f"Disabled: {_describe(user)}.", markup=False)


@users.command("enable")
def users_enable(name: str, warehouse: WarehouseOpt = None) -> None:
    """Enable a disabled user again."""
    user = _run(lambda: U.set_disabled(_store(warehouse), name, False))
    err.print(f"Enabled: {_describe(user)}.", markup=False)


@tokens.command("create")
def tokens_create(name: str, warehouse: WarehouseOpt = None) -> None:
    """Create an API token for a user and print it, alone, on standard output (shown once)."""
    token, record = _run(lambda: U.create_token(_store(warehouse), name, actor()))
    err.print(
        f"Token {record.id} ({record.prefix}…) created for {name}. It is shown once; keep it secret.",
        markup=False,
    )
    sys.stdout.write(token + "\n")
    sys.stdout.flush()


@tokens.command("revoke")
def tokens_revoke(
    name: str,
    token_id: Annotated[int | None, typer.Option("--id", help="Only this token (see tokens list).")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Revoke a user's tokens (all live ones, or one with --id)."""
    count = _run(lambda: U.revoke_tokens(_store(warehouse), name, token_id))
    err.print(f"Revoked {count} token{'s' if count != 1 else ''} of {name}.", markup=False)


@tokens.command("list")
def tokens_list(
    name: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Tokens by id, user, first characters and whether revoked (never the token itself)."""
    found = _run(lambda: U.list_tokens(_store(warehouse), name))
    table = Table("id", "user", "starts", "created", "revoked", box=None)
    for t in found:
        table.add_row(
            str(t.id),
            t.user,
            t.prefix + "…",
            f"{t.created_at:%Y-%m-%d %H:%M} by {t.created_by}",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    out.print(table)
