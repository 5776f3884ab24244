"""Many users at once: the README's serving command under N concurrent users with no think time.

    .venv/bin/python benchmarks/concurrency.py [--warehouse PATH] [--users 16] [--seconds 60]
                                               [--workers 2] [--json PATH]

Issue 11, item 4. What it does, in one run:

1. Takes a copy of the warehouse (default: a 2-year demo built in a temp dir, about a minute)
   and adds one analyst per simulated user to the copy's store, each with a password and an
   API token (signing in is required, loopback included).
2. Starts gunicorn exactly as `make run` does (`-c gunicorn.conf.py -w WORKERS app:server`) on
   a free loopback port. The API's rate limit is raised for the run (LG_API_RATE_LIMIT): a
   user with no think time would otherwise meet the production limit, which is the point of it.
3. Baseline: one user makes every request of the mix in turn, three times after two warm-up
   passes per worker (the warm latency of a quiet server).
4. Load: USERS threads, each signed in as its own user (a session for Dash's callbacks, a
   bearer token for the API), loop over the mix for SECONDS with no pause. The mix is what a
   PIM does: each page's routing callback (scorecard, drill-down, compare, early warning) and
   the API's units, measures, series, assessments and exceptions.
5. Prints p50/p95/max per request kind and overall, errors (any status but 200), requests per
   second, each gunicorn worker's peak resident memory (sampled from /proc every 0.2 s), and
   p95 under load against the baseline's p95 measured in the same run.

At national scale (a 10-year warehouse is ~5 GB): `--warehouse W --in-place --force cheshire`
serves W itself with the benchmark's users in a store of their own, and stores only the
assessments of the force the mix asks for (those of every force take many minutes).

Goals (issue 11): p95 under 500 ms, no errors, each worker under 400 MB. A measurement, not a
test: it exits 0 whether the goals are met or not. Loopback only; nothing else is contacted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dashboard.store import db  # noqa: E402
from dashboard.store import signin as S  # noqa: E402
from dashboard.store import users as U  # noqa: E402
from etl.demo.build import build_demo  # noqa: E402
from tests.support.warehouses import copy_warehouse  # noqa: E402

GOAL_P95_MS = 500.0
GOAL_WORKER_MB = 400.0
PASSWORD = "benchmark passphrase"
PAGES = ("/scorecard", "/drill-down", "/compare", "/early-warning")
API = (
    "/api/v1/units",
    "/api/v1/measures",
    "/api/v1/series?unit=cheshire&measure=crime_burglary",
    "/api/v1/assessments?unit=cheshire",
    "/api/v1/exceptions?unit=cheshire",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Client:
    """One simulated user: signed in with a session (Dash) and a token (API)."""

    def __init__(self, base: str, name: str, token: str, route_output: dict[str, Any]) -> None:
        self.base = base
        self.http = requests.Session()
        self.token = token
        self.route = route_output
        page = self.http.get(f"{base}/login", timeout=60).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page)
        assert csrf, "no sign-in form"
        done = self.http.post(f"{base}/login", data={"csrf": csrf.group(1), "name": name,
                                                     "password": PASSWORD, "next": "/"},
                              allow_redirects=False, timeout=60)
        assert done.status_code == 302, f"sign-in failed for {name}: {done.status_code}"

    def page(self, path: str) -> int:
        body = {"output": self.route["output"], "outputs": self.route["outputs"],
                "inputs": [{"id": "url", "property": "pathname", "value": path},
                           {"id": "url", "property": "search", "value": "?unit=cheshire"}],
                "state": [], "changedPropIds": ["url.pathname"]}
        return self.http.post(f"{self.base}/_dash-update-component", json=body, timeout=120).status_code

    def api(self, path: str) -> int:
        return self.http.get(f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"},
                             timeout=120).status_code

    def mix(self) -> list[tuple[str, Any]]:
        return [(f"page {p}", lambda p=p: self.page(p)) for p in PAGES] + [
            (f"api {a.split('?')[0].rsplit('/', 1)[-1]}", lambda a=a: self.api(a)) for a in API]


def _route_output(base: str, http: requests.Session) -> dict[str, Any]:
    """The router callback's output key, as Dash's renderer would send it."""
    deps = http.get(f"{base}/_dash-dependencies", timeout=60).json()
    for dep in deps:
        ids = [(i["id"], i["property"]) for i in dep["inputs"]]
        if ("url", "pathname") in ids and ("url", "search") in ids and "page.children" in dep["output"]:
            key = dep["output"]
            outs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
                    for part in key.strip(".").split("...")]
            return {"output": key, "outputs": outs}
    raise SystemExit("the router callback was not found in /_dash-dependencies")


def _workers(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--warehouse", type=Path, help="a warehouse link (default: build a 2-year demo)")
    ap.add_argument("--users", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--no-precompute", action="store_true",
                    help="serve without storing the assessments first (docs/precompute.md)")
    ap.add_argument("--force", action="append",
                    help="store the assessments of only this force (repeatable; the mix asks for "
                         "cheshire): every force of a national warehouse takes many minutes")
    ap.add_argument("--in-place", action="store_true",
                    help="serve --warehouse itself, not a copy (a national one is 5 GB): the "
                         "benchmark's users go to a store of their own in a temp folder, and the "
                         "stored assessments beside the warehouse are kept for the next run")
    args = ap.parse_args()
    if args.in_place and args.warehouse is None:
        ap.error("--in-place needs --warehouse")

    tmp = Path(tempfile.mkdtemp(prefix="lg-concurrency-"))
    if args.warehouse is None:
        print("building a 2-year demo warehouse ...", flush=True)
        source = tmp / "demo" / "warehouse.duckdb"
        build_demo(source, seed=2007, years=2)
    else:
        source = args.warehouse
    link = source if args.in_place else copy_warehouse(source, tmp / "served")
    if not args.no_precompute:
        # as `make run` does (in the background there): a copy is a new version file, so its
        # assessments are stored afresh; not timed, the load test starts once they are
        began = time.perf_counter()
        only = [arg for name in args.force or () for arg in ("--force", name)]
        subprocess.run([sys.executable, "-m", "dashboard", "precompute", "--warehouse", str(link), *only],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        print(f"assessments stored in {time.perf_counter() - began:.0f} s (not timed)", file=sys.stderr)
    env = {k: v for k, v in os.environ.items() if k not in (db.STORE_URL_ENV, "LG_AUTH")}
    if args.in_place:
        # the served warehouse's own store (its real users) is left alone
        env[db.STORE_URL_ENV] = f"sqlite:///{tmp / 'benchmark-store.sqlite'}"
    store = db.open_store(link, url=env.get(db.STORE_URL_ENV))
    tokens: dict[str, str] = {}
    for i in range(args.users):
        name = f"bench-{i:02d}"
        U.add_user(store, name, role="analyst", unit_id=None, unit_levels={}, actor="benchmark")
        S.set_password(store, name, PASSWORD)
        tokens[name], _ = U.create_token(store, name, "benchmark")

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py", "-w", str(args.workers),
         "-b", f"127.0.0.1:{port}", "app:server"],
        cwd=REPO, env={**env, "LG_WAREHOUSE": str(link), "LG_API_RATE_LIMIT": "1000000 per minute"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base}/login", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.3)
        names = list(tokens)
        one = Client(base, names[0], tokens[names[0]], {})
        route = _route_output(base, one.http)  # Dash's own routes need a signed-in session too
        one.route = route

        # -- baseline: one user, every request in turn, after one warm-up pass
        base_times: dict[str, list[float]] = defaultdict(list)
        warm = 2 * args.workers
        for rep in range(warm + 3):
            for kind, call in one.mix():
                t0 = time.perf_counter()
                call()
                if rep >= warm:
                    base_times[kind].append((time.perf_counter() - t0) * 1000)

        # -- load: every user at once, no think time
        clients = [Client(base, n, tokens[n], route) for n in names]
        times: dict[str, list[float]] = defaultdict(list)
        errors: dict[str, int] = defaultdict(int)
        peak: dict[int, float] = {}
        stop = threading.Event()
        lock = threading.Lock()

        def run(client: Client, offset: int) -> None:
            mix = client.mix()
            i = offset
            while not stop.is_set():
                kind, call = mix[i % len(mix)]
                i += 1
                t0 = time.perf_counter()
                try:
                    status = call()
                except requests.RequestException:
                    status = -1
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    times[kind].append(ms)
                    if status != 200:
                        errors[kind] += 1

        def sample() -> None:
            while not stop.is_set():
                for pid in _workers(server.pid):
                    peak[pid] = max(peak.get(pid, 0.0), _rss_mb(pid))
                time.sleep(0.2)

        threads = [threading.Thread(target=run, args=(c, k)) for k, c in enumerate(clients)]
        sampler = threading.Thread(target=sample)
        started = time.perf_counter()
        sampler.start()
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join()
        sampler.join()
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)  # the copy, the demo built for the run, the store

    every = [v for vs in times.values() for v in vs]
    base_every = [v for vs in base_times.values() for v in vs]
    total = len(every)
    print(f"\n{args.users} users, no think time, {args.seconds:.0f} s against gunicorn -w {args.workers} "
          f"(the README's command); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'request':<22}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}"
          f"{'1-user p95':>12}{'ratio':>7}")
    for kind in sorted(times):
        vs, b = times[kind], base_times[kind]
        print(f"{kind:<22}{len(vs):>7}{_pct(vs, .5):>9.0f}{_pct(vs, .95):>9.0f}{max(vs):>9.0f}"
              f"{errors[kind]:>8}{_pct(b, .95):>12.0f}{_pct(vs, .95) / max(_pct(b, .95), 1e-9):>7.1f}")
    p95 = _pct(every, .95)
    print(f"{'all':<22}{total:>7}{_pct(every, .5):>9.0f}{p95:>9.0f}{max(every):>9.0f}"
          f"{sum(errors.values()):>8}{_pct(base_every, .95):>12.0f}"
          f"{p95 / max(_pct(base_every, .95), 1e-9):>7.1f}")
    print(f"throughput {total / elapsed:.1f} requests/s")
    worst = max(peak.values(), default=0.0)
    print("worker peak RSS MB: " + ", ".join(f"{v:.0f}" for v in sorted(peak.values())))
    n_err = sum(errors.values())
    print(f"goals: p95 {p95:.0f} ms (< {GOAL_P95_MS:.0f}) {'met' if p95 < GOAL_P95_MS else 'MISSED'}; "
          f"errors {n_err} (0) {'met' if not n_err else 'MISSED'}; worker peak {worst:.0f} MB "
          f"(< {GOAL_WORKER_MB:.0f}) {'met' if worst < GOAL_WORKER_MB else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps({
            "users": args.users, "seconds": args.seconds, "workers": args.workers,
            "p50_ms": _pct(every, .5), "p95_ms": p95, "errors": sum(errors.values()),
            "requests": total, "baseline_p95_ms": _pct(base_every, .95),
            "worker_peak_mb": sorted(peak.values()),
            "by_kind": {k: {"n": len(v), "p50": _pct(v, .5), "p95": _pct(v, .95), "errors": errors[k],
                            "baseline_p95": _pct(base_times[k], .95)} for k, v in times.items()},
        }, indent=2))


if __name__ == "__main__":
    main()
