"""The store's tables (SQLAlchemy Core). The Alembic migrations in migrations/versions create
exactly these; tests/unit/test_store.py checks that a migrated database matches them.

Times are stored as naive UTC (SQLite has no time zone type) and handed out as aware UTC by
the modules that read them. Unit and measure ids are the warehouse's text ids: the warehouse
is another database, so they are checked by the service, not by foreign keys.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Constraint names are fixed so that later migrations can name what they alter or drop.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

STATUSES = ("open", "in_progress", "done", "dropped")

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("admin", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    # For local sign-in (argon2 hash, set by the sign-in work); NULL: no local password.
    Column("password_hash", String(255), nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

role_grants = Table(
    "role_grants", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(40), nullable=False),
    # NULL: force-wide, every force loaded (only roles that allow it; see users.ROLES).
    Column("unit_id", String(300), nullable=True),
    Column("granted_by", String(100), nullable=False),
    Column("granted_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "role", "unit_id", name="uq_role_grants_user_role_unit"),
)

api_tokens = Table(
    "api_tokens", metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # sha256 of the token: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # the first characters, to tell tokens apart
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

actions = Table(
    "actions", metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", String(300), nullable=False),
    Column("measure_id", String(100), nullable=True),
    Column("description", Text, nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due", Date, nullable=False),
    Column("meeting", Date, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_reason", Text, nullable=True),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("status IN ('open', 'in_progress', 'done', 'dropped')", name="status"),
    CheckConstraint("due >= meeting", name="due_after_meeting"),
    Index("ix_actions_unit_id", "unit_id"),
    Index("ix_actions_owner", "owner"),
    Index("ix_actions_meeting", "meeting"),
)

action_history = Table(
    "action_history", metadata,
    Column("id", Integer, primary_key=True),
    Column("action_id", Integer, ForeignKey("actions.id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),  # the action's version this change made
    Column("changed_by", String(100), nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("field", String(40), nullable=False),
    Column("old_value", Text, nullable=True),
    Column("new_value", Text, nullable=True),
    Index("ix_action_history_action_id", "action_id"),
)

# Failed sign-ins (dashboard/store/signin.py): one row per failure per key, the key being
# "name:<user name as typed>" or "addr:<client address>"; rows older than the throttling window
# are deleted as new ones arrive. Nothing here says whether the name is a user.
login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(400), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_login_failures_key", "key"),
)

# Who was handed individual-level data (records, map points, an officer's figures), when, of
# which unit and through which route (dashboard/data/audit.py, dashboard/store/audit.py).
# Append-only: the store module only inserts and reads, and the database itself refuses UPDATE
# and DELETE (triggers made by migration 0003, on SQLite and PostgreSQL alike).
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),            # naive UTC, as every time here
    Column("actor", String(100), nullable=False),      # the user's name, or 'anonymous'
    Column("roles", Text, nullable=False),             # 'role (scope); ...' when it happened
    Column("what", String(40), nullable=False),        # records | map points | officer figures | officer list
    Column("via", String(20), nullable=False),         # page | callback | export | api | other
    Column("unit_id", String(300), nullable=True),     # NULL: a list across units
    Column("route", Text, nullable=False),             # HTTP path, Dash output, export id, page URL
    Column("detail", Text, nullable=False),            # measure, period, rows returned
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_actor", "actor"),
    Index("ix_audit_log_unit_id", "unit_id"),
)
