"""Who is making the request: the one function pages, callbacks, exports and the API ask.

Today every request is the anonymous actor. The access-control issue fills this in (a login,
a header from the force's single sign-on, roles); what each actor may see is decided in
`dashboard.data.access`, never here and never in a page.
"""

from __future__ import annotations

from dashboard.data.access import ANONYMOUS, Actor


def current_actor() -> Actor:
    """The actor of the request being served (the anonymous actor until logins exist)."""
    return ANONYMOUS
