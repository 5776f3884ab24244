"""`python -m dashboard users ...` and `tokens ...` as an administrator runs them (the first
in a process of its own, the rest through typer's runner), against a copy of the demo
warehouse, the store a real SQLite file beside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard.store import db
from dashboard.store import users as U
from tests.support.cli import dashboard
from tests.support.warehouses import copy_warehouse


@pytest.fixture(scope="module")
def link(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_warehouse(demo_link, tmp_path_factory.mktemp("users-cli"))


def test_users_roles_and_tokens_end_to_end(link: Path) -> None:
    w = ("--warehouse", str(link))
    added = dashboard("users", "add", "ada", "--role", "chief_officer", "--admin", *w, process=True)
    assert added.returncode == 0, added.stderr
    assert "Added ada [admin]: chief_officer (every force)." in added.stderr and added.stdout == ""
    assert (link.parent / "warehouse.store.sqlite").exists()  # beside the warehouse

    bell = dashboard("users", "add", "bell", "--role", "bcu_commander", "--unit", "cheshire/northern", *w)
    assert bell.returncode == 0, bell.stderr
    granted = dashboard("users", "grant", "bell", "--role", "npu_inspector", "--unit",
                        "cheshire/northern/widnes", *w)
    assert granted.returncode == 0, granted.stderr
    listed = dashboard("users", "list", *w)
    assert listed.returncode == 0
    assert re.search(r"bell\s+bcu_commander \(cheshire/northern\); "
                     r"npu_inspector \(cheshire/northern/widnes\)", listed.stdout), listed.stdout
    assert re.search(r"ada\s+chief_officer \(every force\)\s+yes", listed.stdout)

    # The token alone on standard output, stored only as its hash, and it names its user.
    made = dashboard("tokens", "create", "bell", *w)
    assert made.returncode == 0, made.stderr
    assert re.fullmatch(r"lg_[A-Za-z0-9_-]{40,}\n", made.stdout), made.stdout
    token = made.stdout.strip()
    assert "shown once" in made.stderr and token not in made.stderr
    assert token.encode() not in (link.parent / "warehouse.store.sqlite").read_bytes()
    store = db.open_store(link)
    assert U.user_for_token(store, token).name == "bell"

    revoked = dashboard("tokens", "revoke", "bell", *w)
    assert revoked.returncode == 0 and "Revoked 1 token of bell." in revoked.stderr
    assert U.user_for_token(store, token) is None
    again = dashboard("tokens", "revoke", "bell", *w)
    assert again.returncode == 1 and "bell has no live token to revoke." in again.stderr

    taken = dashboard("users", "revoke", "bell", "--role", "bcu_commander", *w)
    assert taken.returncode == 0 and "bell: npu_inspector (cheshire/northern/widnes)" in taken.stderr
    disabled = dashboard("users", "disable", "bell", *w)
    assert disabled.returncode == 0 and "[disabled]" in disabled.stderr
    refused = dashboard("tokens", "create", "bell", *w)
    assert refused.returncode == 1 and refused.stdout == "" and "bell is disabled" in refused.stderr
    assert [u.name for u in U.list_users(store)] == ["ada", "bell"]


@pytest.mark.parametrize(("args", "code", "words"), [
    (("users", "add", "dee", "--role", "wizard"), 1,
     "Unknown role 'wizard'; the roles are: chief_officer, analyst, bcu_commander, npu_inspector, "
     "police_authority, officer."),
    (("users", "add", "dee", "--role", "analyst", "--unit", "cheshire/atlantis"), 1,
     "There is no unit 'cheshire/atlantis' in the warehouse."),
    (("users", "add", "dee", "--role", "npu_inspector", "--unit", "cheshire/northern"), 1,
     "The npu_inspector role is granted for an NPU; 'cheshire/northern' is a BCU."),
    (("users", "add", "dee", "--role", "officer"), 1,
     "The officer role needs a unit: name the officer with --unit."),
    (("users", "add", "dee space", "--role", "analyst"), 1, "is not a usable user name"),
    (("users", "grant", "nobody", "--role", "analyst"), 1, "There is no user 'nobody'."),
    (("tokens", "create", "nobody"), 1, "There is no user 'nobody'."),
    (("users", "add", "dee"), 2, "Missing option '--role'"),
])
def test_bad_requests_are_refused_in_words(link: Path, args: tuple[str, ...], code: int, words: str) -> None:
    result = dashboard(*args, "--warehouse", str(link))
    assert result.returncode == code, result.stderr
    assert words in " ".join(result.stderr.split()) and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "dee" not in [u.name for u in U.list_users(db.open_store(link))]  # nothing half-written


def test_a_unit_needs_a_warehouse_and_the_store_url_is_configurable(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    result = dashboard("users", "add", "dee", "--role", "bcu_commander", "--unit", "cheshire/northern",
                       "--warehouse", str(missing))
    assert result.returncode == 1 and f"There is no warehouse at {missing}" in " ".join(result.stderr.split())
    elsewhere = tmp_path / "elsewhere.sqlite"
    made = dashboard("users", "add", "eve", "--role", "analyst", "--warehouse", str(missing),
                     env={db.STORE_URL_ENV: f"sqlite:///{elsewhere}"})
    assert made.returncode == 0, made.stderr
    assert elsewhere.exists() and not missing.parent.exists()
    nowhere = dashboard("users", "list", "--warehouse", str(missing))
    assert nowhere.returncode == 1 and "The folder of the store" in " ".join(nowhere.stderr.split())
    assert [u.name for u in U.list_users(db.open_store(url=f"sqlite:///{elsewhere}"))] == ["eve"]
