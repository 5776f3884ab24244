"""The store's service tests again, on a real PostgreSQL server started for the run (the store
takes any SQLAlchemy URL: `LG_STORE_URL=postgresql+psycopg://...`). Each test gets a new empty
database, migrated by `open_store` as a deployment's would be.

Without a PostgreSQL server this fails on CI (CI=true) and skips elsewhere; `make test` installs
Debian's `postgresql` first (scripts/ensure-postgres)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dashboard.store import audit as AU
from dashboard.store import db, schema
from dashboard.store import users as U
from tests.integration.test_store_processes import run_workers
from tests.support.postgres import Server, server_bin, start_server
from tests.unit import test_store as shared

# The service tests of tests/unit/test_store.py that do not look at an SQLite file, run here
# with the `store` fixture below.
test_an_action_is_created_with_who_and_when_and_survives_a_reopen = \
    shared.test_an_action_is_created_with_who_and_when_and_survives_a_reopen
test_bad_fields_are_refused_in_words_and_nothing_is_written = \
    shared.test_bad_fields_are_refused_in_words_and_nothing_is_written
test_every_wrong_field_is_named_at_once = shared.test_every_wrong_field_is_named_at_once
test_due_on_the_meeting_day_and_dropped_with_a_reason_are_fine = \
    shared.test_due_on_the_meeting_day_and_dropped_with_a_reason_are_fine
test_updates_bump_the_version_and_history_keeps_every_change = \
    shared.test_updates_bump_the_version_and_history_keeps_every_change
test_saving_the_same_values_changes_nothing = shared.test_saving_the_same_values_changes_nothing
test_a_stale_editor_is_told_who_changed_it_and_nothing_is_lost = \
    shared.test_a_stale_editor_is_told_who_changed_it_and_nothing_is_lost
test_two_editors_racing_one_version_one_wins = shared.test_two_editors_racing_one_version_one_wins
test_unknown_action_and_field = shared.test_unknown_action_and_field
test_list_filters_by_unit_and_below_owner_meeting_and_status = \
    shared.test_list_filters_by_unit_and_below_owner_meeting_and_status
test_users_grants_and_disable = shared.test_users_grants_and_disable
test_the_audit_log_is_written_read_back_and_filtered = \
    shared.test_the_audit_log_is_written_read_back_and_filtered
test_the_audit_log_refuses_update_and_delete = shared.test_the_audit_log_refuses_update_and_delete

_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Server]:
    bindir = server_bin()
    if bindir is None:
        reason = ("no PostgreSQL server found (initdb, pg_ctl, postgres); install Debian's postgresql "
                  "(make test does: scripts/ensure-postgres)")
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    server = start_server(bindir)
    try:
        yield server
    finally:
        db.close_all()
        server.stop()


@pytest.fixture
def store(postgres: Server) -> db.Store:
    """A new, empty database on the server, opened (and so migrated) through the store."""
    name = f"store_{os.getpid()}_{next(_NAMES)}"
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return db.open_store(url=postgres.url(name))


@pytest.fixture(autouse=True)
def _forget_stores() -> Iterator[None]:
    yield
    db.close_all()


def test_a_new_database_is_migrated_to_head_and_matches_the_tables(store: db.Store) -> None:
    assert store.url.startswith("postgresql+psycopg://")
    assert db.current_revision(store.engine) == db.head_revision()
    with store.engine.connect() as conn:
        assert sorted(sa.inspect(conn).get_table_names()) == sorted(
            ["alembic_version", "users", "role_grants", "api_tokens", "actions", "action_history",
             "login_failures", "audit_log"])
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    db.close_all()
    assert db.current_revision(db.open_store(url=store.url).engine) == db.head_revision()


def test_workers_opening_a_fresh_database_at_once_all_succeed(postgres: Server, tmp_path: Path) -> None:
    """Six processes migrate one new database at the same moment. (A trial with the advisory lock
    taken out passed too, so this shows the PostgreSQL path works, not that the lock is needed.)"""
    name = f"workers_{os.getpid()}_{next(_NAMES)}"
    admin = sa.create_engine(postgres.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    results = run_workers(postgres.url(name), tmp_path)
    assert [code for code, _ in results] == [0] * 6, results
    store = db.open_store(url=postgres.url(name))
    assert db.current_revision(store.engine) == db.head_revision()
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM actions")).scalar_one() == 6


def test_the_audit_log_cannot_be_truncated_on_postgres(store: db.Store) -> None:
    AU.append(store, shared.audit_event("npu", "cheshire/northern", datetime(2026, 12, 1, tzinfo=UTC)),
              "page", "/")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_log"))
    assert len(AU.read(store)) == 1


def test_tokens_on_postgres(store: db.Store) -> None:
    U.add_user(store, "ada", role="analyst", unit_id=None, unit_levels=shared.LEVELS, actor="cli")
    token, _ = U.create_token(store, "ada", "cli")
    assert U.user_for_token(store, token).name == "ada"
    with store.connect() as conn:
        stored = conn.execute(sa.select(schema.api_tokens.c.token_hash)).scalar_one()
    assert stored == U.token_hash(token) and token not in stored
    U.revoke_tokens(store, "ada")
    assert U.user_for_token(store, token) is None
