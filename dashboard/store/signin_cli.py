"""`python -m dashboard users set-password NAME`, and the password reading `users add
--password-stdin` shares.

A password is never a command-line argument (it would sit in the shell history and in `ps`):
it is read from a prompt, typed twice, when standard input is a terminal, else as the first
line of standard input (`printf '%s\\n' "$PW" | python -m dashboard users set-password ada`).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dashboard.store import signin as S
from dashboard.store.db import Store, open_store
from dashboard.store.errors import StoreError, ValidationError
from dashboard.store.users import User
from etl.config import warehouse_path

err = Console(stderr=True, highlight=False, soft_wrap=True)


def read_password() -> str:
    """The new password from a prompt (twice) or the first line of standard input, checked
    against the password rules before anything is written."""
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("The same again: ") != first:
            raise ValidationError({"password": "The two passwords differ; nothing was changed."})
        password = first
    else:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ValidationError({"password": "No password on standard input; nothing was changed."})
    return S.check_password_rules(password)


def set_password(store: Store, name: str, password: str) -> User:
    return S.set_password(store, name, password)


def users_set_password(
    name: str,
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb).")] = None,
) -> None:
    """Set a user's sign-in password, read from a prompt or standard input (never an argument)."""
    try:
        password = read_password()
        S.set_password(open_store(warehouse_path(warehouse)), name, password)
    except StoreError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    err.print(f"Password set for {name}.", markup=False)
