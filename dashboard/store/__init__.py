"""The store: the real database for what users write (actions, users, roles, API tokens).

    db.py          where the store lives (beside the warehouse, or LG_STORE_URL), opening it,
                   migrating it to the newest schema on first use
    schema.py      the tables, as SQLAlchemy Core (the migrations create exactly these)
    errors.py      the errors whose messages are shown to users
    actions.py     the PIM action tracker: create, update with optimistic locking, history
    users.py       users, roles scoped to units, API tokens
    cli.py         `python -m dashboard users ...` and `tokens ...`
    migrations/    Alembic scripts, applied by db.open_store (upgrade to head)

The warehouse is read-only and versioned (a load builds a new file and switches a link), so
nothing a user writes can live in it: it would be lost at the next load. This file imports
nothing (see dashboard/data/__init__.py).
"""
