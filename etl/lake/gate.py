"""The last check before anything is written: every staged row of every source names a known
force and a month in the loadable window (etl.sources.identity).

The readers check the same things earlier, with the words of their own formats; this gate
holds for every source, present and future, so a reader that forgets cannot create a force
called 'nowhere' or a month of 2099. A file with a bad row is refused whole, naming its first
such line, and its rows leave every staged table; the other files of the load go on.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from etl.errors import InputRefused
from etl.reference.forces import FORCE_BY_SLUG
from etl.sources.identity import EARLIEST_MONTH, force_problem, latest_month, month_problem

if TYPE_CHECKING:
    from etl.lake.commit import LoadReport, Staged


def _columns(staged: Staged, table: str) -> set[str]:
    return {r[0] for r in staged.con.execute(f"DESCRIBE {table}").fetchall()}


def passes_gate(force_id: str | None, month: date | None) -> bool:
    """Whether a staged row of this force and month passes the gate."""
    return (force_id is not None and force_id in FORCE_BY_SLUG and month is not None
            and EARLIEST_MONTH <= month <= latest_month())


def screen(staged: Staged, report: LoadReport) -> bool:
    """Refuse the files holding rows of unknown forces or implausible months. False when
    nothing is left to write (the caller then writes nothing at all)."""
    con = staged.con
    refused: dict[str | None, InputRefused] = {}
    forces = sorted(FORCE_BY_SLUG)
    for table in [t for t in staged.tables.values() if t]:
        cols = _columns(staged, table)
        if not {"force_id", "month"} <= cols:
            continue
        # The staged table's (force, month) pairs first (Staged.parts, kept for the writers):
        # only a table holding a bad one is scanned for the files and lines to name.
        if all(passes_gate(force_id, month) for force_id, month, *_ in staged.parts(table)):
            continue
        file = "_file" if "_file" in cols else "NULL"
        line = "line" if "line" in cols else "NULL"
        rows = con.execute(
            f"""SELECT {file} AS f, force_id, month, {line} AS l FROM {table}
            WHERE force_id IS NULL OR force_id NOT IN (SELECT unnest(?::VARCHAR[]))
               OR month IS NULL OR month < ? OR month > ?
            QUALIFY row_number() OVER (PARTITION BY {file} ORDER BY {line}) = 1""",
            [forces, EARLIEST_MONTH, latest_month()],
        ).fetchall()
        for f, force_id, month, ln in rows:
            if f in refused:
                continue
            if force_id is None or force_id not in FORCE_BY_SLUG:
                problem = force_problem(force_id or "", "the row")
            else:
                problem = month_problem(month) if month else "the row has no month"
            origin = staged.origins.get(f, f) if f else "the input"
            refused[f] = InputRefused(origin, problem or "unknown force or month", int(ln) if ln else None)
    if not refused:
        return True
    report.refused.extend(refused.values())
    staged.forget()  # rows leave the staged tables below
    whole = None in refused  # a bad row without a file to blame refuses the load
    files = [f for f in refused if f is not None]
    for table in [t for t in staged.tables.values() if t]:
        if whole or "_file" not in _columns(staged, table):
            con.execute(f"DELETE FROM {table}")
        else:
            con.execute(f"DELETE FROM {table} WHERE _file IN (SELECT unnest(?::VARCHAR[]))", [files])
    gone = {r.file for r in refused.values()}
    report.loaded = [] if whole else [(o, n) for o, n in report.loaded if o not in gone]
    if whole:
        staged.discard_prewritten()  # (a source that writes while staging names its files)
    left = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in staged.tables.values() if t)
    return left > 0 or bool(staged.assignments) or any(w.files for w in staged.prewritten.values())
