"""A pack's HTML printed to an A4 PDF by Chromium, through Playwright.

The engine is Debian's /usr/bin/chromium (the one the browser tests and kaleido already use),
launched by Playwright with `executable_path`, so no browser is ever downloaded. Chromium's
`page.pdf` gives A4, a running header (force, period, protective marking) and a footer with
"Page X of Y" from its header/footer templates; the pack's print CSS keeps charts whole
(`break-inside: avoid`) and repeats a split table's header (`thead { display:
table-header-group }`). The page is loaded with JavaScript disabled and every request
refused: the HTML is self-contained, and a pack must not reach the network while it prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import escape
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

if TYPE_CHECKING:
    from dashboard.packs.content import Pack


CHROMIUM = Path("/usr/bin/chromium")
MARGIN = {"top": "20mm", "bottom": "16mm", "left": "14mm", "right": "14mm"}
_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run"]


class PdfError(RuntimeError):
    """The PDF could not be printed (said in plain words)."""


def header_template(pack: Pack) -> str:
    """Force, period and protective marking on every page (Chromium fills nothing in here but
    what we give it; every value escaped)."""
    style = "font-size:8px;width:100%;padding:0 14mm;display:flex;justify-content:space-between;" \
            "font-family:Arial,'Liberation Sans',sans-serif;color:#333;"
    mark = " · SYNTHETIC DATA" if pack.synthetic else ""
    left = pack.title if pack.force in pack.title else f"{pack.force} · {pack.title}"
    return (f'<div style="{style}"><span>{escape(left)}</span>'
            f'<span style="font-weight:700;letter-spacing:.06em">{escape(pack.marking)}</span>'
            f'<span>{escape(pack.period_label)}{mark}</span></div>')


def footer_template(pack: Pack) -> str:
    style = "font-size:8px;width:100%;padding:0 14mm;display:flex;justify-content:space-between;" \
            "font-family:Arial,'Liberation Sans',sans-serif;color:#333;"
    return (f'<div style="{style}"><span>{escape(pack.footer_text)}</span>'
            f'<span style="font-weight:700">{escape(pack.marking)}</span>'
            '<span>Page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>')


def render_pdf(pack: Pack, html: str) -> bytes:
    """The pack's HTML (render.render_html) as A4 PDF bytes."""
    if not CHROMIUM.exists():
        raise PdfError("PDF packs need Chromium: install it with `sudo apt-get install -y chromium` "
                       "(or `make browser-deps`), or ask for the .html pack instead")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=_ARGS, headless=True)
            try:
                context = browser.new_context(java_script_enabled=False, offline=True)
                page = context.new_page()
                page.route("**/*", lambda route: route.abort())   # nothing leaves the machine
                page.set_content(html, wait_until="load")
                page.emulate_media(media="print")
                return page.pdf(
                    format="A4",
                    print_background=True,
                    display_header_footer=True,
                    header_template=header_template(pack),
                    footer_template=footer_template(pack),
                    margin=MARGIN,
                    prefer_css_page_size=False,
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise PdfError("Chromium could not print the pack to PDF") from exc
