"""Shared fixtures, the test tiers, and the browser set-up for dash[testing]'s `dash_duo`.

Every test lives in one tier folder, and gets that tier's marker from the folder:

    tests/unit         pure: no warehouse build, no CLI process, no browser, no ../shared/data
    tests/integration  builds warehouses, runs the CLI, the API, loaders on synthetic/bad input
    tests/browser      real Chromium through dash_duo
    tests/realdata     reads ../shared/data (some of these drive the browser too)

so `pytest tests/unit` or `pytest -m "not browser"` pick tiers. A test outside a tier folder, or a
unit test asking for a warehouse, a browser or the real data, is a collection error.

Browser tests drive Debian's chromium through chromium-driver, always headless, with the
flags a container needs. They FAIL when chromium is missing rather than skip: a skipped
browser test on CI reads as green while the page was never opened. Real-data tests skip
locally without ../shared/data and fail when CI=true.

The demo warehouses are session fixtures, built once per run for each (seed, years) and only
read by tests; a test that writes to a warehouse builds its own or copies one first.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import pytest

from tests.support.browser import free_port
from tests.support.warehouses import DEMO_SEED, DEMO_YEARS

if TYPE_CHECKING:
    from selenium.webdriver.chrome.options import Options

    from dashboard.data.facade import DataAccess
    from etl.demo.force import DemoData
    from etl.lake.commit import LoadReport

# Pages, callbacks and the API are tested as the anonymous actor of an open dashboard
# (LG_AUTH=open: no sign-in while the store holds no user), so that a test of the scorecard
# is not also a test of signing in. The sign-in tests unset it to test the default, where
# nothing is served without signing in (tests/integration/test_signin.py); the access matrix
# sets each role's actor itself. Set here, before any app is made, for every xdist worker.
os.environ["LG_AUTH"] = "open"
# The API's rate limit (dashboard/ratelimit.py) counts per client: every test shares one
# address, so the suite would meet the production limit; tests/integration/test_ratelimit.py
# sets a low one to test it.
os.environ["LG_API_RATE_LIMIT"] = "100000 per minute"

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
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


# How `make test` (--dist loadfile) hands test files to its two xdist workers. xdist hands out
# the files with the most tests first, so the unit tier's many small files (hundreds of tests,
# seconds each file) went first and a slow file with few tests (a browser walk, a Spark build)
# could start last, with the other worker idle while it ran. Here the unit files are handed out
# last, in the same order among themselves, where they fill the gaps; the rest go first, in
# xdist's order (most tests first). With the per-test times of a run of the whole suite, the
# simulated finish of the two workers went from 1,251 and 1,315 s to 1,280 and 1,286 s
# (docs/testing-speed.md).
#
# Test files that share a fixture too dear to make twice go to the same worker, one after the
# other, as one unit of work: the `spark` session fixture starts a JVM per test process
# (seconds of CPU, and several hundred MB beside the other worker's), so the files that ask
# for it share one: the two Spark comparison files and the month files' Spark test (which,
# landing on the other worker, started a second JVM in every run measured).
SAME_WORKER = {
    "tests/integration/test_spark_cubes_demo.py": "spark",
    "tests/realdata/test_spark_cubes.py": "spark",
    "tests/integration/test_lake_month_files.py": "spark",
}
FILLER = "tests/unit/"


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: no error when it is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:  # noqa: ANN401 - xdist's types
    """pytest-xdist's hook: `--dist loadfile` as xdist does it (each file's tests on one worker),
    with the SAME_WORKER groups as one unit of work and the unit tier's files handed out last.
    Other --dist modes are xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SuiteScheduling(LoadFileScheduling):
        _ordered = False

        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return SAME_WORKER.get(scope, scope)

        def _assign_work_unit(self, node: Any) -> None:  # noqa: ANN401 - xdist's WorkerController
            if not self._ordered:  # the first hand-out: xdist has just filled its queue
                self._ordered = True
                units = list(self.workqueue.items())
                self.workqueue.clear()
                for scope, tests in sorted(units, key=lambda unit: unit[0].startswith(FILLER)):
                    self.workqueue[scope] = tests
            super()._assign_work_unit(node)

    return SuiteScheduling(config, log)


TIERS = ("unit", "integration", "browser", "realdata")
# Fixtures that each tier may not use (a unit test must stay pure and fast).
_SLOW = {"demo_warehouse", "demo_link", "demo_rebuilt", "real_load", "real_link", "shared_data", "dash_duo",
         "serve_dashboard", "demo_duo", "chromium_required", "_chromium", "_demo_server"}
FORBIDDEN = {
    "unit": _SLOW,
    "integration": {"shared_data", "real_load", "real_link", "dash_duo", "serve_dashboard", "demo_duo",
                    "chromium_required", "_chromium", "_demo_server"},
    "browser": {"shared_data", "real_load", "real_link"},
    "realdata": set(),
}


def tier_of(path: Path) -> str | None:
    try:
        parts = path.resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier (the folder it is in), and refuse tests that break the tiers."""
    errors = []
    for item in items:
        tier = tier_of(Path(str(item.path)))
        if tier is None:
            errors.append(f"{item.nodeid}: not in a tier folder (tests/{{{','.join(TIERS)}}}/)")
            continue
        item.add_marker(getattr(pytest.mark, tier))
        wrong = FORBIDDEN[tier] & set(getattr(item, "fixturenames", ()))
        if wrong:
            errors.append(f"{item.nodeid}: a {tier} test uses {', '.join(sorted(wrong))}; move it to "
                          "the tier it belongs to")
        if "dash_duo" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            errors.append(f"{item.nodeid}: drives the browser but is not marked browser")
        if item.get_closest_marker("realdata") and tier != "realdata":
            errors.append(f"{item.nodeid}: marked realdata but not in tests/realdata")
    if errors:
        raise pytest.UsageError("tests out of their tier:\n  " + "\n  ".join(errors))


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


def _check_shared_data() -> None:
    if not SHARED_DATA.is_dir():
        reason = f"real data not found at {SHARED_DATA} (expected ../shared/data beside the repo)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Every browser test (tests/browser, or marked `browser`) fails up front, clearly, without
    chromium; every real-data test skips without ../shared/data, or fails on CI."""
    if item.get_closest_marker("browser") is not None:
        _check_chromium()
    if item.get_closest_marker("realdata") is not None:
        _check_shared_data()


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
    _check_shared_data()
    return SHARED_DATA


# -- warehouses built once per session ------------------------------------------------------------

T = TypeVar("T")


def build_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], T]) -> T:
    """`build(folder)` run once per test session, even with pytest-xdist: the folder is shared
    by every worker of the run, the first to take its lock builds, the others wait and get the
    same (pickled) result. A build that failed half-way is started again from an empty folder."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / name
    done = base / f"{name}.pickle"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            return pickle.loads(done.read_bytes())
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        result = build(folder)
        done.write_bytes(pickle.dumps(result))
        return result



class DemoBuild(NamedTuple):
    link: Path
    report: LoadReport


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, int], DemoBuild]:
    """`demo_warehouse(seed, years)`: the demo warehouse `python -m etl demo --seed --years` builds,
    built once per session for each (seed, years) and shared by every test that asks for the same.
    Read only: a test that writes copies it first (tests.support.warehouses.copy_warehouse)."""
    from etl.demo.build import build_demo

    built: dict[tuple[int, int], DemoBuild] = {}

    def build(folder: Path, seed: int, years: int) -> DemoBuild:
        link = folder / "warehouse.duckdb"
        return DemoBuild(link, build_demo(link, seed=seed, years=years))

    def get(seed: int, years: int) -> DemoBuild:
        if (seed, years) not in built:
            built[(seed, years)] = build_once(tmp_path_factory, f"demo-seed{seed}-{years}y",
                                              lambda folder: build(folder, seed, years))
        return built[(seed, years)]

    return get


class DemoRebuilt(NamedTuple):
    link: Path                       # a copy of demo_warehouse(5, 1), built again by build_demo
    crime_threads: frozenset[int]    # the threads that ran the crime chain's rebuild_crime
    service_threads: frozenset[int]  # and the service chain's rebuild_dataset


@pytest.fixture(scope="session")
def demo_rebuilt(demo_warehouse: Callable[[int, int], DemoBuild],
                 tmp_path_factory: pytest.TempPathFactory) -> DemoRebuilt:
    """`python -m etl demo --seed 5 --years 1` (build_demo) run again over a private copy of the
    session's one-year demo, once per run: test_demo_warehouse checks that the rebuild gives the
    same cubes as a second version, test_demo_cube_chains that its two cube chains ran in two
    threads and wrote the same cubes. Each file made its own such build before (the same build
    twice). The threads are recorded by spies on the chains' functions while it runs."""
    from etl.cubes import crime, measures
    from etl.demo.build import build_demo
    from tests.support.warehouses import copy_warehouse

    def build(folder: Path) -> DemoRebuilt:
        link = copy_warehouse(demo_warehouse(5, 1).link, folder)
        threads: dict[str, set[int]] = {"crime": set(), "service": set()}

        def spy(fn: Callable, chain: str) -> Callable:
            def wrapped(*args: object, **kwargs: object) -> object:
                threads[chain].add(threading.get_ident())
                return fn(*args, **kwargs)
            return wrapped

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(crime, "rebuild_crime", spy(crime.rebuild_crime, "crime"))
            mp.setattr(measures, "rebuild_dataset", spy(measures.rebuild_dataset, "service"))
            build_demo(link, seed=5, years=1)
        return DemoRebuilt(link, frozenset(threads["crime"]), frozenset(threads["service"]))

    return build_once(tmp_path_factory, "demo-seed5-1y-rebuilt", build)


@pytest.fixture(scope="session")
def demo_link(demo_warehouse: Callable[[int, int], DemoBuild]) -> Path:
    """The dashboard tests' demo warehouse (seed 2007, April 2006 to March 2008)."""
    return demo_warehouse(DEMO_SEED, DEMO_YEARS).link


@pytest.fixture
def demo_data(demo_link: Path) -> Iterator[DataAccess]:
    """The demo's data access as the anonymous actor (every unit above officers), its result
    store off: the session's shared warehouse is never written beside."""
    from dashboard.data.access import ANONYMOUS  # lazy: collection stays free of the dashboard
    from dashboard.data.facade import DataAccess  # lazy: as above
    from dashboard.data.warehouse import WarehouseReader  # lazy: as above

    d = DataAccess(WarehouseReader(demo_link))
    d.store.enabled = False
    with d.request(ANONYMOUS):
        yield d
    d.reader.close()


@pytest.fixture(scope="session")
def demo_facts() -> DemoData:
    """The same demo's generated facts, for counting independently with pandas."""
    from etl.demo.force import generate

    return generate(seed=DEMO_SEED, years=DEMO_YEARS)


# -- Spark ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def spark():  # noqa: ANN201 - a pyspark SparkSession; pyspark is imported only when asked for
    """One local SparkSession per test process (it takes seconds to start a JVM): two cores, two
    shuffle partitions, no web UI, driver on loopback (etl.cubes.spark.session)."""
    from tests.support.spark import require_spark

    require_spark()
    from etl.cubes.spark import session

    spark = session("local[2]", shuffle_partitions=2)
    yield spark
    spark.stop()


# -- the dashboard in Chromium ---------------------------------------------------------------------
#
# dash[testing]'s own `dash_duo` starts a Chromium for every test and stops it after (1-2 s each,
# more on a busy machine), and every test that served the demo made its own app, whose first
# view of each page computed its assessments cold. Here each test process starts one Chromium
# (`_chromium`) and serves the demo once (`_demo_server`); every test still gets its own
# `dash_duo` (its own server unless it serves the shared demo, its own download folder), on a
# browser reset to what a fresh one would show: a blank page, no cookies or site data, the
# window size it started with, no emulated media or device metrics, and no log entries left
# over from an earlier test. A test that installs a script on every new document
# (Page.addScriptToEvaluateOnNewDocument) removes it itself (tests/browser/test_officer_browser.py).


def _duo_class():  # noqa: ANN202 - a DashComposite subclass, made on first use
    from dash.testing.composite import DashComposite

    class SharedDuo(DashComposite):
        """dash[testing]'s DashComposite on the test process's one Chromium: the same API
        (`start_server`, `server_url`, `wait_for_*`, `get_logs`, `download_path`), but leaving
        the `with` block does not quit the shared driver."""

        def __init__(self, server, browser, download_path: str) -> None:  # noqa: ANN001
            self.__dict__.update(browser.__dict__)  # the driver, its waits and options
            self.server = server
            self._download_path = download_path
            self._last_ts = 0
            self._url = ""
            self._window_idx = 0

        def __exit__(self, exc_type, exc_val, traceback) -> None:  # noqa: ANN001
            return None

        def _wait_for(self, method, timeout, msg):  # noqa: ANN001, ANN202
            """DashComposite's explicit wait (wait_for_element, wait_for_text_to_equal, ...),
            checking every 0.1 s instead of selenium's default 0.5 s: the same condition and
            timeout, met sooner (dash's own `until` polls at 0.1 s too)."""
            from selenium.common.exceptions import TimeoutException
            from selenium.webdriver.support.wait import WebDriverWait

            wait = WebDriverWait(self.driver, self._wait_timeout if timeout is None else timeout,
                                 poll_frequency=WAIT_POLL_S)
            try:
                return wait.until(method)
            except Exception as err:
                raise TimeoutException(str(msg(self.driver) if callable(msg) else msg)) from err

    return SharedDuo


WAIT_POLL_S = 0.1


class _Chromium:
    """The test process's Chromium (a dash.testing Browser), started again when a test has left
    it unusable (an alert open, a crashed tab), so that one failure does not fail the tests after it."""

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self.browser = start()
        self.window: dict[str, int] = self.browser.driver.get_window_size()
        self.origins: set[str] = set()  # every origin served so far, for clearing site data

    def restart(self) -> None:
        with suppress(Exception):
            self.browser.driver.quit()
        self.browser = self._start()

    def quit(self) -> None:
        self.browser.__exit__(None, None, None)


@pytest.fixture(scope="session")
def _chromium(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    """One headless Chromium per test process (pytest_setup_options' flags), quit at the end."""
    _check_chromium()
    from dash.testing.browser import Browser

    config = request.config

    def start() -> Browser:
        return Browser(
            browser=config.getoption("webdriver"),
            remote=config.getoption("remote"),
            remote_url=config.getoption("remote_url"),
            headless=config.getoption("headless"),
            options=config.hook.pytest_setup_options(),
            download_path=str(tmp_path_factory.mktemp("download")),
            percy_assets_root=config.getoption("percy_assets"),
            percy_finalize=config.getoption("nopercyfinalize"),
            pause=config.getoption("pause"),
        )

    chromium = _Chromium(start)
    yield chromium
    chromium.quit()


def _clear(chromium: _Chromium) -> None:
    driver = chromium.browser.driver
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    for origin in chromium.origins:
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "all"})
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    if driver.get_window_size() != chromium.window:
        driver.set_window_size(chromium.window["width"], chromium.window["height"])
    driver.get_log("browser")  # read, so emptied: get_logs() sees this test's entries only


def _reset(chromium: _Chromium) -> None:
    """The shared Chromium as a newly started one would be (see the comment above); a new one
    if it cannot be reset."""
    from selenium.common.exceptions import WebDriverException

    try:
        _clear(chromium)
    except WebDriverException:
        chromium.restart()
        _clear(chromium)


@contextmanager
def _duo(chromium: _Chromium, server, folder: Path):  # noqa: ANN001, ANN202
    """A DashComposite on the shared Chromium, reset first, with downloads going to `folder`;
    the page is left (about:blank) before the caller stops its server."""
    _reset(chromium)
    folder.mkdir(parents=True, exist_ok=True)
    chromium.browser.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                            {"behavior": "allow", "downloadPath": str(folder)})
    duo = _duo_class()(server, chromium.browser, str(folder))
    try:
        yield duo
    finally:
        if getattr(server, "started", False):
            chromium.origins.add(server.url.rstrip("/"))
        with suppress(Exception):  # if it cannot leave the page, the next test's reset restarts it
            chromium.browser.driver.get("about:blank")


@pytest.fixture
def dash_duo(_chromium: _Chromium, tmp_path: Path):  # noqa: ANN201
    """dash[testing]'s `dash_duo` (same API; this one overrides the plugin's), on the process's
    shared Chromium, with its own threaded server for the app the test starts."""
    from dash.testing.application_runners import ThreadedRunner

    with ThreadedRunner() as server, _duo(_chromium, server, tmp_path / "download") as duo:
        yield duo


@pytest.fixture
def serve_dashboard(dash_duo):  # noqa: ANN001, ANN201 - dash[testing]'s fixture
    """`serve_dashboard(link)`: dash_duo with the dashboard of `link` started on a free port."""
    from dashboard.app import create_app

    def serve(link: Path):  # noqa: ANN202
        dash_duo.start_server(create_app(link), port=free_port())
        return dash_duo

    return serve


@pytest.fixture(scope="session")
def _demo_server(demo_link: Path):  # noqa: ANN202
    """The dashboard of the session's demo warehouse, served once per test process: the demo is
    read only, so every test that only views it can share one app (and its warm caches)."""
    from dash.testing.application_runners import ThreadedRunner

    from dashboard.app import create_app

    with ThreadedRunner() as server:
        server.start(create_app(demo_link), port=free_port())
        yield server


@pytest.fixture
def demo_duo(_chromium: _Chromium, _demo_server, tmp_path: Path):  # noqa: ANN001, ANN201
    """dash_duo on the dashboard of the session's demo warehouse, on a blank page: unlike
    `start_server` it does not open the home page first (most tests go straight to their own
    page, and the home page's scorecard was drawn for nothing). A test that starts on the home
    page opens it with `demo_duo.wait_for_page()`."""
    with _duo(_chromium, _demo_server, tmp_path / "download") as duo:
        duo._url = _demo_server.url  # noqa: SLF001 - the `server_url` setter would open it
        yield duo
