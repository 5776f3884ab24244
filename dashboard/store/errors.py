"""Errors the store raises for things a user did: each message is written for the user.

Pages show `str(error)` (or `error.fields`, next to the form field it is about) as it is; no
exception name, SQL or traceback reaches the screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class StoreError(Exception):
    """Something the user asked for could not be done; the message says why in plain words."""


class ValidationError(StoreError):
    """One or more fields are wrong. `fields` maps a field name to what is wrong with it."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__(" ".join(self.fields.values()))


class NotFoundError(StoreError):
    """The thing named (an action, a user, a token) does not exist."""


class ConflictError(StoreError):
    """Someone else saved the record after this editor read it: nothing was written, and the
    message says who changed it and when so the editor can reload and decide again."""

    def __init__(self, what: str, changed_by: str, changed_at: datetime, version: int) -> None:
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.version = version
        when = changed_at.strftime("%d %b %Y %H:%M UTC")
        super().__init__(f"{what} was changed by {changed_by} at {when}; reload to see it. "
                         "Your changes were not saved.")
