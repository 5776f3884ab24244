"""The dashboard's pages, in the order the PIM asks its questions.

Each built page is a module with `PATH`, `TITLE`, `layout(data, view)`, plot-free
`process_*` functions and figure-building `create_*` functions, and (where it has any)
`register(app, data)` for its callbacks. Pages never run SQL: they call DataAccess.

Adding a page: put its module in NAV in place of None. The router draws it, app.py calls
its `register`, and every browser and render test visits it.
"""

from __future__ import annotations

from types import ModuleType

from dashboard.pages import (
    actions,
    calls,
    compare,
    data_page,
    drilldown,
    early_warning,
    help,
    officer,
    packs,
    satisfaction,
    scorecard,
    vulnerable,
)

# (label, path, page module) -- module None: the page says plainly that it is coming.
NAV: list[tuple[str, str, ModuleType | None]] = [
    ("Scorecard", scorecard.PATH, scorecard),
    ("Drill-down", drilldown.PATH, drilldown),
    ("Compare", compare.PATH, compare),
    ("Early warning", early_warning.PATH, early_warning),
    ("Satisfaction", satisfaction.PATH, satisfaction),
    ("Calls", calls.PATH, calls),
    ("Vulnerable people", vulnerable.PATH, vulnerable),
    ("Officer", officer.PATH, officer),
    ("Actions", actions.PATH, actions),
    ("Packs", packs.PATH, packs),
    ("Data", data_page.PATH, data_page),
    ("Help", help.PATH, help),
]
HOME = scorecard.PATH
# Pages that draw without a resolved view (an empty warehouse still has a Data and Help page).
VIEWLESS = {data_page.PATH, help.PATH}
