"""Shared fixtures, and the browser set-up for dash[testing]'s `dash_duo`.

Browser tests drive Debian's chromium through chromium-driver, always headless, with the
flags a container needs. They FAIL when chromium is missing rather than skip: a skipped
browser test on CI reads as green while the page was never opened.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.options import Options

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = "chromedriver"  # selenium 4.2 (pinned by dash[testing]) looks it up on PATH

CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",  # we run as root in containers
    "--disable-gpu",
    "--disable-dev-shm-usage",  # /dev/shm is tiny in docker
    # Chromium's own background traffic (updates, sync, safe browsing) must not leave the
    # machine either: CI runs on closed networks and the page test checks for localhost only.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1366,768",
)


def pytest_configure(config: pytest.Config) -> None:
    # dash[testing] adds `--headless`; make it the default so a bare `pytest` never tries to
    # open a window (there is no display on CI). The Options below are headless anyway.
    if hasattr(config.option, "headless"):
        config.option.headless = True
    # Noise from selenium 4.2 (pinned by dash[testing]) running on urllib3 2: not ours to fix.
    for message in (
        r"ignore:HTTPResponse.getheader\(\) is deprecated:DeprecationWarning",
        r"ignore:'urllib3\[secure\]' extra is deprecated:DeprecationWarning",
    ):
        config.addinivalue_line("filterwarnings", message)


def pytest_setup_options() -> Options:
    """dash[testing]'s hook: the webdriver Options `dash_duo` starts chromium with."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    return options


def _check_chromium() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if shutil.which(CHROMEDRIVER) is None:
        missing.append(f"{CHROMEDRIVER} on PATH")
    if missing:
        pytest.fail(
            "Browser tests need Debian's chromium and chromium-driver; missing: "
            + ", ".join(missing)
            + ". Install them with `apt-get install -y chromium chromium-driver` "
            "(.ci/run does this).",
            pytrace=False,
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every `@pytest.mark.browser` test fails up front, clearly, without chromium."""
    if item.get_closest_marker("browser") is not None:
        _check_chromium()


@pytest.fixture
def chromium_required() -> None:
    """Request this from a browser test that is not marked `browser` (same check)."""
    _check_chromium()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data.police.uk extracts in ../shared/data (outside the repository).

    Skipped locally when absent; on CI (CI=true) a missing directory is a failure, because
    silently skipping every real-data test would hide exactly what CI is for.
    """
    if not SHARED_DATA.is_dir():
        reason = f"real data not found at {SHARED_DATA} (expected ../shared/data beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return SHARED_DATA
