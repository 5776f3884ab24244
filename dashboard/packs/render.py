"""A pack as one self-contained HTML file: CSS inline, charts as inline SVG, no script, no font
and no URL outside the file, so it opens offline on a closed police network and can be
e-mailed as it is. Every data string goes through Jinja2's autoescape; the only markup not
escaped is the SVG, which `content.clean_svg` has already stripped of scripts and links.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape

if TYPE_CHECKING:
    from dashboard.packs.content import Pack


TEMPLATES = Path(__file__).resolve().parent / "templates"
_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "j2"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(pack: Pack) -> str:
    authority = pack.kind == "authority"
    return _ENV.get_template("pack.html.j2").render(
        pack=pack,
        css=(TEMPLATES / "pack.css").read_text(encoding="utf-8"),
        noun="bulletin" if authority else "pack",
        exceptions_heading="What needs attention" if authority else "Exceptions: why and where",
        intro=pack_intro(pack),
    )


def pack_intro(pack: Pack) -> tuple[str, ...]:
    if pack.kind == "authority":
        return (
            "This bulletin gives the police authority the quarter's results for the force as a whole "
            "and for each Basic Command Unit: how satisfied victims were with the service, how much "
            "crime was recorded and how much was detected. It shows totals only: no individual "
            "officer, victim or crime record appears in it.",
        )
    return ()
