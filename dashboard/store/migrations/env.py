"""Alembic's environment for the store: run by dashboard.store.db.migrate on a connection it
passes in (`config.attributes["connection"]`), never from an alembic.ini, so the app, the CLI
and the tests migrate the same way and Alembic never touches the app's logging."""

from __future__ import annotations

from alembic import context

from dashboard.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the store migrates through dashboard.store.db.migrate, which passes a connection")

# render_as_batch: SQLite alters a table by copying it; Alembic's batch mode does that for us.
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
