"""The store on a real SQLite file: migrations, the action tracker's validation, optimistic
locking and history, users, roles and API tokens (dashboard/store/)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dashboard.data import access
from dashboard.data.audit import AuditEvent
from dashboard.store import actions as A
from dashboard.store import audit as AU
from dashboard.store import db, schema
from dashboard.store import users as U
from dashboard.store.errors import ConflictError, NotFoundError, StoreError, ValidationError

MEETING = date(2008, 4, 14)
DUE = date(2008, 5, 12)


@pytest.fixture
def store(tmp_path: Path) -> db.Store:
    return db.open_store(url=f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.fixture(autouse=True)
def _forget_stores() -> None:
    yield
    db.close_all()


def raise_action(store: db.Store, **over: object) -> A.Action:
    fields: dict[str, object] = dict(unit_id="cheshire/western/widnes", description="Burglary patrol plan",
                                     owner="Insp Hale", due=DUE, meeting=MEETING, actor="chair")
    fields.update(over)
    return A.create_action(store, **fields)  # type: ignore[arg-type]


def count(store: db.Store, table: sa.Table) -> int:
    with store.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


# -- where the store is, migrations ----------------------------------------------------------


def test_the_store_sits_beside_the_warehouse_unless_configured(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.STORE_URL_ENV, raising=False)
    link = tmp_path / "data" / "warehouse.duckdb"
    assert db.store_url(link) == f"sqlite:///{tmp_path / 'data' / 'warehouse.store.sqlite'}"
    monkeypatch.setenv(db.STORE_URL_ENV, "postgresql+psycopg://lg@db/looking_glass")
    assert db.store_url(link) == "postgresql+psycopg://lg@db/looking_glass"
    assert db.store_url(link, "sqlite:////x/y.sqlite") == "sqlite:////x/y.sqlite"


def test_a_fresh_file_is_migrated_to_head_and_matches_the_tables(tmp_path: Path) -> None:
    store = db.open_store(url=f"sqlite:///{tmp_path / 's.sqlite'}")
    assert (tmp_path / "s.sqlite").exists()
    assert db.current_revision(store.engine) == db.head_revision() == "0003"
    with store.engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == sorted(
            ["alembic_version", "users", "role_grants", "api_tokens", "actions", "action_history",
             "login_failures", "audit_log"])
        # The migration creates exactly what schema.py declares (no column or index missing).
        assert compare_metadata(MigrationContext.configure(conn), schema.metadata) == []
    assert db.open_store(url=store.url) is store  # one engine per URL per process
    db.close_all()
    again = db.open_store(url=store.url)  # opening a migrated file again migrates nothing
    assert again is not store and db.current_revision(again.engine) == "0003"


def test_an_in_memory_database_is_refused() -> None:
    with pytest.raises(ValueError, match="database file"):
        db.open_store(url="sqlite://")


# -- actions: create and validate ------------------------------------------------------------


def test_an_action_is_created_with_who_and_when_and_survives_a_reopen(store: db.Store) -> None:
    made = raise_action(store, measure_id="crime_burglary")
    assert (made.id, made.version, made.status) == (1, 1, "open")
    assert (made.created_by, made.updated_by) == ("chair", "chair")
    assert made.created_at.tzinfo is not None and made.measure_id == "crime_burglary"
    url = store.url
    db.close_all()
    found = A.list_actions(db.open_store(url=url))
    assert [(a.id, a.description, a.owner, a.due, a.meeting) for a in found] == [
        (1, "Burglary patrol plan", "Insp Hale", DUE, MEETING)]


@pytest.mark.parametrize(("over", "field", "words"), [
    ({"owner": "   "}, "owner", "Name the owner"),
    ({"description": ""}, "description", "description is empty"),
    ({"due": date(2008, 4, 1)}, "due", "The due date (1 Apr 2008) is before the meeting (14 Apr 2008)"),
    ({"status": "finished"}, "status", "Unknown status 'finished'"),
    ({"status": "dropped"}, "status_reason", "Say why the action is dropped"),
    ({"measure_id": "crime_nonsense"}, "measure_id", "There is no measure 'crime_nonsense'"),
    ({"unit_id": "cheshire/atlantis"}, "unit_id", "There is no unit 'cheshire/atlantis'"),
    ({"due": "30/04/2008"}, "due", "must be a date written like 2008-04-30"),
    ({"meeting": None}, "meeting", "Give the date of the meeting"),
])
def test_bad_fields_are_refused_in_words_and_nothing_is_written(store: db.Store, over: dict[str, object],
                                                                 field: str, words: str) -> None:
    units = {"cheshire", "cheshire/western", "cheshire/western/widnes"}
    with pytest.raises(ValidationError) as caught:
        raise_action(store, units=units, **over)
    assert list(caught.value.fields) == [field]
    assert words in caught.value.fields[field] and words in str(caught.value)
    assert count(store, schema.actions) == 0 and count(store, schema.action_history) == 0


def test_every_wrong_field_is_named_at_once(store: db.Store) -> None:
    with pytest.raises(ValidationError) as caught:
        raise_action(store, owner="", description=" ", due=date(2008, 1, 1))
    assert set(caught.value.fields) == {"owner", "description", "due"}


def test_due_on_the_meeting_day_and_dropped_with_a_reason_are_fine(store: db.Store) -> None:
    made = raise_action(store, due=MEETING, status="dropped", status_reason="Superseded by force plan")
    assert (made.due, made.status, made.status_reason) == (MEETING, "dropped", "Superseded by force plan")


# -- actions: update, history, locking -------------------------------------------------------


def test_updates_bump_the_version_and_history_keeps_every_change(store: db.Store) -> None:
    made = raise_action(store)
    v2 = A.update_action(store, made.id, 1, {"status": "in_progress", "owner": "Ch Insp Bell"}, "alice")
    assert (v2.version, v2.status, v2.owner) == (2, "in_progress", "Ch Insp Bell")
    assert (v2.updated_by, v2.created_by) == ("alice", "chair")
    v3 = A.update_action(store, made.id, 2, {"status": "dropped", "status_reason": "Moved to the BCU"}, "bob")
    assert (v3.version, v3.status_reason) == (3, "Moved to the BCU")
    v4 = A.update_action(store, made.id, 3, {"status": "open"}, "carol")
    assert v4.status_reason is None  # a reason belongs to the status it was given for
    changes = A.history(store, made.id)
    created = [c for c in changes if c.version == 1]
    assert {c.field for c in created} == {"unit_id", "description", "owner", "due", "meeting", "status"}
    assert all(c.old_value is None and c.changed_by == "chair" for c in created)
    later = [(c.version, c.changed_by, c.field, c.old_value, c.new_value) for c in changes if c.version > 1]
    assert later == [
        (2, "alice", "owner", "Insp Hale", "Ch Insp Bell"),
        (2, "alice", "status", "open", "in_progress"),
        (3, "bob", "status", "in_progress", "dropped"),
        (3, "bob", "status_reason", None, "Moved to the BCU"),
        (4, "carol", "status", "dropped", "open"),
        (4, "carol", "status_reason", "Moved to the BCU", None),
    ]


def test_saving_the_same_values_changes_nothing(store: db.Store) -> None:
    made = raise_action(store)
    same = A.update_action(store, made.id, 1, {"owner": " Insp Hale ", "due": DUE.isoformat()}, "alice")
    assert same.version == 1 and {c.version for c in A.history(store, made.id)} == {1}


def test_a_stale_editor_is_told_who_changed_it_and_nothing_is_lost(store: db.Store) -> None:
    made = raise_action(store)
    A.update_action(store, made.id, 1, {"owner": "Supt Marsh"}, "alice")
    with pytest.raises(ConflictError) as caught:
        A.update_action(store, made.id, 1, {"owner": "PC Lowe", "status": "done"}, "bob")
    message = str(caught.value)
    assert message.startswith(f"Action {made.id} was changed by alice at ") and "reload to see it" in message
    assert caught.value.changed_by == "alice" and caught.value.version == 2
    now = A.get_action(store, made.id)
    assert (now.owner, now.status, now.version) == ("Supt Marsh", "open", 2)
    assert "bob" not in {c.changed_by for c in A.history(store, made.id)}


def test_two_editors_racing_one_version_one_wins(store: db.Store) -> None:
    made = raise_action(store)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def edit(who: str) -> None:
        barrier.wait()
        try:
            A.update_action(store, made.id, 1, {"owner": who}, who)
            results.append("saved")
        except ConflictError:
            results.append("conflict")

    threads = [threading.Thread(target=edit, args=(f"editor{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict"] * 5 + ["saved"]
    final = A.get_action(store, made.id)
    assert final.version == 2 and final.owner == final.updated_by
    assert [c.new_value for c in A.history(store, made.id) if c.version == 2] == [final.owner]


def test_unknown_action_and_field(store: db.Store) -> None:
    with pytest.raises(NotFoundError, match="There is no action 99"):
        A.update_action(store, 99, 1, {"owner": "x"}, "alice")
    made = raise_action(store)
    with pytest.raises(ValidationError, match="'version' cannot be changed"):
        A.update_action(store, made.id, 1, {"version": 7}, "alice")


def test_overdue_means_open_and_past_due() -> None:
    base = dict(id=1, unit_id="u", measure_id=None, description="d", owner="o", due=DUE, meeting=MEETING,
                status_reason=None, created_by="a", created_at=None, updated_by="a", updated_at=None,
                version=1)
    for status, as_of, expected in [("open", date(2008, 5, 13), True),
                                    ("in_progress", date(2008, 5, 13), True),
                                    ("open", DUE, False), ("done", date(2009, 1, 1), False),
                                    ("dropped", date(2009, 1, 1), False)]:
        assert A.Action(status=status, **base).overdue(as_of) is expected, (status, as_of)  # type: ignore[arg-type]


def test_list_filters_by_unit_and_below_owner_meeting_and_status(store: db.Store) -> None:
    a = raise_action(store, unit_id="cheshire/western")
    b = raise_action(store, unit_id="cheshire/western/widnes", owner="insp hale ")
    c = raise_action(store, unit_id="cheshire/western-rural", owner="Sgt Price", meeting=date(2008, 3, 10),
                     due=date(2008, 4, 1))
    d = raise_action(store, unit_id="cheshire", status="done")
    ids = lambda found: [x.id for x in found]  # noqa: E731
    assert ids(A.list_actions(store, unit_id="cheshire/western")) == [a.id, b.id]   # not western-rural
    assert ids(A.list_actions(store, unit_id="cheshire/western", include_below=False)) == [a.id]
    assert set(ids(A.list_actions(store, unit_id="cheshire"))) == {a.id, b.id, c.id, d.id}
    assert ids(A.list_actions(store, owner="INSP HALE")) == [a.id, b.id, d.id]
    assert ids(A.list_actions(store, meeting=date(2008, 3, 10))) == [c.id]
    assert ids(A.list_actions(store, statuses=A.OPEN_STATUSES, unit_id="cheshire")) == [c.id, a.id, b.id]
    assert ids(A.list_actions(store, unit_id="cheshire/western%")) == []  # LIKE characters are literal
    assert A.meetings(store) == [MEETING, date(2008, 3, 10)]
    assert A.owners(store) == ["Insp Hale", "Sgt Price"]  # one spelling per owner, for the filter


# -- users, roles, tokens --------------------------------------------------------------------

LEVELS = {"cheshire": "force", "cheshire/western": "bcu", "cheshire/western/widnes": "npu",
          "cheshire/western/widnes/response-a": "team",
          "cheshire/western/widnes/response-a/pc-1234": "officer"}


@pytest.mark.parametrize(("role", "unit", "words"), [
    ("superuser", None, "Unknown role 'superuser'; the roles are: chief_officer, analyst"),
    ("bcu_commander", None, "The bcu_commander role needs a unit: name the BCU with --unit."),
    ("npu_inspector", "cheshire/western", "granted for an NPU; 'cheshire/western' is a BCU"),
    ("officer", "cheshire/western/widnes", "granted for an officer; 'cheshire/western/widnes' is an NPU"),
    ("analyst", "cheshire/atlantis", "There is no unit 'cheshire/atlantis' in the warehouse."),
])
def test_a_role_needs_the_unit_its_scope_says(role: str, unit: str | None, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        U.check_grant(role, unit, LEVELS)
    assert words in str(caught.value)


def test_every_role_is_defined_once_with_its_scope() -> None:
    assert U.ROLES is access.ROLES  # the store records grants of the seam's roles, no second list
    assert {r: (v.scope_level, v.force_wide) for r, v in U.ROLES.items()} == {
        "chief_officer": ("force", True), "analyst": ("force", True), "bcu_commander": ("bcu", False),
        "npu_inspector": ("npu", False), "police_authority": ("force", True), "officer": ("officer", False)}


def test_users_grants_and_disable(store: db.Store) -> None:
    admin = U.add_user(store, "ada", role="chief_officer", unit_id=None, unit_levels=LEVELS, actor="cli",
                       admin=True)
    assert admin.admin and admin.grants == (U.Grant("chief_officer", None),)
    # the actor the access seam asks about carries the flag (the audit log is an administrator's)
    assert U.actor_for(admin).admin and access.may_read_audit(U.actor_for(admin))
    U.add_user(store, "bell", role="bcu_commander", unit_id="cheshire/western", unit_levels=LEVELS,
               actor="ada")
    bell = U.grant(store, "bell", role="npu_inspector", unit_id="cheshire/western/widnes", unit_levels=LEVELS,
                   actor="ada")
    assert bell.grants == (U.Grant("bcu_commander", "cheshire/western"),
                           U.Grant("npu_inspector", "cheshire/western/widnes"))
    with pytest.raises(StoreError, match="already a user 'bell'"):
        U.add_user(store, "bell", role="analyst", unit_id=None, unit_levels=LEVELS, actor="ada")
    with pytest.raises(StoreError, match="already holds bcu_commander for cheshire/western"):
        U.grant(store, "bell", role="bcu_commander", unit_id="cheshire/western", unit_levels=LEVELS,
                actor="ada")
    assert U.revoke(store, "bell", role="bcu_commander").grants == (U.Grant("npu_inspector",
                                                                            "cheshire/western/widnes"),)
    with pytest.raises(NotFoundError, match="bell does not hold the analyst role"):
        U.revoke(store, "bell", role="analyst")
    assert not U.actor_for(bell).admin
    assert U.set_disabled(store, "bell").disabled
    assert [u.name for u in U.list_users(store)] == ["ada", "bell"]
    with pytest.raises(ValidationError, match="not a usable user name"):
        U.add_user(store, "a b", role="analyst", unit_id=None, unit_levels=LEVELS, actor="ada")


def test_tokens_are_stored_only_as_a_hash_and_stop_on_revoke_or_disable(store: db.Store,
                                                                         tmp_path: Path) -> None:
    U.add_user(store, "ada", role="analyst", unit_id=None, unit_levels=LEVELS, actor="cli")
    token, record = U.create_token(store, "ada", "cli")
    assert token.startswith("lg_") and len(token) > 40 and record.prefix == token[:10]
    assert U.user_for_token(store, token).name == "ada"
    assert U.user_for_token(store, token + "x") is None and U.user_for_token(store, "") is None
    assert token.encode() not in (tmp_path / "store.sqlite").read_bytes()  # only its hash is kept
    second, _ = U.create_token(store, "ada", "cli")
    assert U.revoke_tokens(store, "ada", record.id) == 1
    assert U.user_for_token(store, token) is None and U.user_for_token(store, second).name == "ada"
    U.set_disabled(store, "ada")
    assert U.user_for_token(store, second) is None
    U.set_disabled(store, "ada", False)
    assert U.revoke_tokens(store, "ada") == 1
    with pytest.raises(NotFoundError, match="ada has no live token to revoke"):
        U.revoke_tokens(store, "ada")


# -- the audit log -----------------------------------------------------------------------------


def audit_event(actor: str, unit_id: str | None, at: datetime, what: str = "records") -> AuditEvent:
    return AuditEvent(at, actor, "npu_inspector (cheshire/northern/widnes)", what, unit_id,
                      "measure=burglary rows=3")


def test_the_audit_log_is_written_read_back_and_filtered(store: db.Store) -> None:
    t0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    first = AU.append(store, audit_event("npu", "cheshire/northern/widnes/cid/pc-1", t0), "page",
                      "/_dash-update-component page.children page=/officer?unit=x")
    AU.append(store, audit_event("chief", "cheshire/eastern", t0 + timedelta(days=2)), "export", "/x")
    AU.append(store, audit_event("npu", None, t0 + timedelta(days=3), "officer list"), "api", "/api/v1/units")
    everything = AU.read(store)
    assert [e.actor for e in everything] == ["npu", "chief", "npu"]  # newest first
    assert everything[-1].id == first and everything[-1].at == t0
    assert everything[-1].route.endswith("page=/officer?unit=x") and everything[-1].via == "page"
    assert [e.unit_id for e in AU.read(store, since=t0 + timedelta(days=1))] == [None, "cheshire/eastern"]
    assert [e.via for e in AU.read(store, user="npu")] == ["api", "page"]
    # a unit covers the units below it, and only those ('cheshire/north' is not a prefix match)
    assert [e.actor for e in AU.read(store, unit="cheshire/northern")] == ["npu"]
    assert AU.read(store, unit="cheshire/north") == []
    assert len(AU.read(store, limit=2)) == 2


def test_the_audit_log_refuses_update_and_delete(store: db.Store) -> None:
    """Append-only in the database itself: whatever code runs, a stored entry cannot be changed
    or removed (triggers of migration 0003)."""
    AU.append(store, audit_event("npu", "cheshire/northern", datetime(2026, 12, 1, tzinfo=UTC)), "page", "/")
    t = schema.audit_log
    for statement in (sa.update(t).values(actor="someone else"), sa.delete(t)):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.begin() as conn:
            conn.execute(statement)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log WHERE id = 1"))
    assert [(e.actor, e.unit_id) for e in AU.read(store)] == [("npu", "cheshire/northern")]
    assert not hasattr(AU, "update") and not hasattr(AU, "delete")
