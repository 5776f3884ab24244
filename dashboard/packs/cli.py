"""`python -m dashboard pack`: a PIM pack or the police authority bulletin to a file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dashboard.packs.themes import choices

DEFAULT_MARKING = "OFFICIAL-SENSITIVE"   # content.DEFAULT_MARKING, without importing the pages here

console = Console(stderr=True)


def pack(
    unit: Annotated[str, typer.Option("--unit", help="Unit id: the force (e.g. cheshire), a BCU or an NPU.")],
    out: Annotated[Path, typer.Option("--out", help="Output file; .html or .pdf (the format follows it).")],
    period: Annotated[str | None, typer.Option(
        "--period", help="month, qtd, fytd (default), 12m, quarter, a financial year 2007/08, "
                         "'Q4 2007/08', or FROM:TO as YYYY-MM-DD:YYYY-MM-DD.")] = None,
    theme: Annotated[str | None, typer.Option(
        "--theme", help=f"A thematic pack: a measure family ({', '.join(choices())}) or a measure "
                        "(burglary, dv_arrest_rate...).")] = None,
    audience: Annotated[str, typer.Option(
        "--audience", help="pim (default) or authority: the police authority bulletin "
                           "(force and BCUs only, the last complete quarter by default).")] = "pim",
    marking: Annotated[str, typer.Option("--marking", help="Protective marking in every page's header.")]
    = DEFAULT_MARKING,
    warehouse: Annotated[Path | None, typer.Option(
        "--warehouse", help="Warehouse path (else $LG_WAREHOUSE, else data/warehouse.duckdb).")] = None,
) -> None:
    """Build a PIM pack (force, BCU or thematic) or the police authority bulletin."""
    from dashboard.auth import current_actor  # lazy: `python -m dashboard --help` stays quick
    from dashboard.data.facade import DataAccess  # lazy: as above
    from dashboard.data.warehouse import WarehouseReader  # lazy: as above
    from dashboard.images import ImageError  # lazy: as above
    from dashboard.packs.build import Request, write_pack  # lazy: as above
    from dashboard.packs.content import PackError  # lazy: as above
    from dashboard.packs.pdf import PdfError  # lazy: as above
    from etl.config import warehouse_path  # lazy: as above

    link = warehouse_path(warehouse)
    if not link.exists():
        console.print(f"error: no warehouse at {link} (build the demo with: python -m etl demo "
                      f"--warehouse {link})", markup=False)
        sys.exit(1)
    data = DataAccess(WarehouseReader(link))
    req = Request(unit_id=unit, period=period, theme=theme, audience=audience.lower(), marking=marking)
    try:
        with data.request(current_actor()):
            built = write_pack(data, req, out)
    except (PackError, PdfError, ImageError) as exc:
        console.print(f"error: {exc}", markup=False)
        sys.exit(1)
    sections, exceptions = len(built.sections), len(built.exceptions)
    console.print(f"wrote {out}: {built.title}, {built.period_label}, {sections} "
                  f"section{'' if sections == 1 else 's'}, {exceptions} "
                  f"exception{'' if exceptions == 1 else 's'}", markup=False)
