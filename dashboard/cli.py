"""`python -m dashboard`: the dashboard's own commands (users and tokens, the audit log, packs).

The ETL has its own command line (`python -m etl`); this one holds what belongs to the
dashboard side: who may use it, and the packs it prints. Each command group lives in the
module that owns its concern and is added to `app` here, one line each, so this file stays a
table of contents. Every command takes `--warehouse` as the ETL does: the user and action
database sits beside the warehouse by default.

Exit status: 0 success, 1 when the command could not do what was asked (said in plain words
on standard error), 2 on a usage error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dashboard.packs.cli import pack as pack_command
from dashboard.store import audit_cli, signin_cli
from dashboard.store import cli as store_cli

app = typer.Typer(
    help="Looking Glass dashboard commands: users and API tokens, the audit log, PIM packs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console(stderr=True)

WarehouseOpt = Annotated[
    Path | None,
    typer.Option("--warehouse", help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb)."),
]


@app.callback()
def _root() -> None:
    """Looking Glass dashboard commands."""


# Command groups are added below, one line each (see the module docstring).
app.command("pack")(pack_command)
store_cli.users.command("set-password")(signin_cli.users_set_password)
app.add_typer(store_cli.users, name="users")
app.add_typer(store_cli.tokens, name="tokens")
app.command("audit")(audit_cli.audit)


@app.command("precompute")
def precompute(
    warehouse: WarehouseOpt = None,
    force: Annotated[list[str] | None, typer.Option(
        "--force", help="Only this force (repeatable); every force by default.")] = None,
    months: Annotated[int | None, typer.Option(
        "--months", min=0, help="The exceptions of only the latest N past single months (every month "
        "of the data by default; 0: none).")] = None,
    places: Annotated[bool, typer.Option(
        "--places/--no-places", help="Also store the concentration figures of the default measure's "
        "crimes (without them a drill-down computes its own on first view).")] = True,
    every_category: Annotated[bool, typer.Option(
        "--every-category", help="Store the concentration figures of every measure's crime categories, "
        "not only the default measure's (15 times the cost: ~85 s of CPU and ~100 MB a force at "
        "national scale).")] = False,
) -> None:
    """Compute and store the live version's assessments (every unit above officers, every preset
    period), its concentration figures (every unit with an area, every preset period) and the
    exceptions of every past single month beside it, so no request computes them
    (docs/precompute.md). Run after a load."""
    from dashboard.analysis import assessment, peer_comparison  # lazy: `--help` stays quick
    from dashboard.data.access import ANONYMOUS  # lazy: as above
    from dashboard.data.facade import DataAccess  # lazy: as above
    from dashboard.data.warehouse import WarehouseReader  # lazy: as above
    from etl.config import warehouse_path  # lazy: as above

    link = warehouse_path(warehouse)
    if not link.exists():
        console.print(f"error: no warehouse at {link} (build the demo with: python -m etl demo "
                      f"--warehouse {link})", markup=False)
        sys.exit(1)
    data = DataAccess(WarehouseReader(link))
    known = {str(f) for f in data.units()["force_id"]}
    unknown = sorted(set(force or ()) - known)
    if unknown:
        console.print(f"error: no force {', '.join(unknown)} in {link}", markup=False)
        sys.exit(1)
    began = time.perf_counter()
    # as the anonymous actor: it sees every unit above the individual level, which is what is
    # stored; each request still checks its own actor before it reads a stored result
    with data.request(ANONYMOUS):
        done = assessment.precompute(data, force)
        assessed = time.perf_counter()
        stored_places = data.precompute_places(force, every_category) if places else 0
        compared = peer_comparison.precompute(data, force)
        calls = data.precompute_calls(force)
        placed = time.perf_counter()
        month_files = assessment.precompute_months(data, force, months=months)
    console.print(f"stored the assessments of {done} unit-periods ({assessed - began:.1f} s), the "
                  f"concentration figures of {stored_places} unit-period-categories and "
                  f"{compared} comparisons, the call demand of {calls} unit-periods "
                  f"({placed - assessed:.1f} s) and the exceptions of {month_files} "
                  f"force-month{'' if month_files == 1 else 's'} of {data.reader.version()} "
                  f"in {time.perf_counter() - began:.1f} s "
                  f"under {data.store.root}", markup=False)


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # an unexpected failure: say what in plain words, exit non-zero
        console.print(f"error: {exc}", markup=False)
        sys.exit(1)
