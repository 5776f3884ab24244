"""One call from a request to a pack file: content -> HTML -> (PDF), for the CLI and the page.

The HTML and the PDF come from the same `Pack` and the same HTML, so they cannot differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.data.facade import DataAccess
from dashboard.packs import bulletin, content
from dashboard.packs.content import DEFAULT_MARKING, Pack, PackError
from dashboard.packs.pdf import render_pdf
from dashboard.packs.render import render_html
from dashboard.packs.themes import thematic

FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


@dataclass(frozen=True)
class Request:
    unit_id: str
    period: str | None = None          # preset, FY, quarter or FROM:TO (content.parse_period)
    theme: str | None = None           # None: a force/BCU pack; else a thematic pack
    audience: str = "pim"              # 'pim' or 'authority' (the police authority bulletin)
    marking: str = DEFAULT_MARKING


def make_pack(data: DataAccess, req: Request) -> Pack:
    """The pack's content. The caller holds `data.request(actor)`."""
    if req.audience not in content.AUDIENCES:
        raise PackError(f"unknown audience {req.audience!r}; one of {', '.join(content.AUDIENCES)}")
    if req.audience == "authority" and req.theme:
        raise PackError("the police authority bulletin has its own themes; leave out --theme")
    marking = (req.marking or "").strip()
    if not marking or len(marking) > 60:
        raise PackError("the protective marking must be 1 to 60 characters, e.g. OFFICIAL-SENSITIVE")
    if req.theme:   # refused before any figure is computed, not after the verdict and exceptions
        try:
            thematic(req.theme)
        except ValueError as exc:
            raise PackError(str(exc)) from None
    unit = content.check_unit(data, req.unit_id)
    as_of = content.as_of(data, unit)
    with content.drawing():   # every chart drawn by the time the pack is returned
        if req.audience == "authority":
            period = content.parse_period(req.period, as_of, default="quarter")
            return bulletin.build_bulletin(data, unit.unit_id, period, marking)
        period = content.parse_period(req.period, as_of)
        return content.build_pack(data, unit.unit_id, period, req.theme, marking)


def format_of(path: Path | str) -> str:
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise PackError(f"{path}: the file name must end in .html or .pdf (the format follows it)")
    return FORMATS[ext]


def pack_bytes(pack: Pack, fmt: str) -> bytes:
    html = render_html(pack)
    if fmt == "html":
        return html.encode("utf-8")
    return render_pdf(pack, html)


def write_pack(data: DataAccess, req: Request, out: Path) -> Pack:
    """Build and write the pack; the file appears whole or not at all (written beside, then
    renamed), so a failed build never leaves half a pack."""
    fmt = format_of(out)
    if not out.parent.exists():
        raise PackError(f"{out}: the folder {out.parent} does not exist")
    pack = make_pack(data, req)
    body = pack_bytes(pack, fmt)
    tmp = out.with_name(out.name + ".part")
    tmp.write_bytes(body)
    tmp.replace(out)
    return pack
