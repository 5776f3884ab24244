"""Over-long requests against the real server (issue 13): gunicorn started as `make run` starts it
(`-c gunicorn.conf.py app:server`, one worker, a free port), and requests sent over a socket.

A 10,000- or 100,000-character API value gets the API's JSON 400 naming the parameter, never the
server's HTML 414 (once, anything over 8,190 bytes did) nor a 500; a page's over-long address a
plain "this address is too long" page; a request line over gunicorn.conf.py's 1 MiB is refused
at once, and a header over 8,190 bytes too, with the server still answering afterwards.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support import REPO
from tests.support.browser import free_port


class Server(NamedTuple):
    port: int
    log: Path


class Answer(NamedTuple):
    status: int
    content_type: str
    body: str


def get(port: int, target: str, headers: dict[str, str] | None = None) -> Answer:
    con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        con.request("GET", target, headers=headers or {})
        resp = con.getresponse()
        return Answer(resp.status, resp.getheader("Content-Type", ""), resp.read().decode("utf-8", "replace"))
    finally:
        con.close()


@pytest.fixture(scope="module")
def server(demo_link: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}", "app:server"],
            cwd=REPO, env={**os.environ, "LG_WAREHOUSE": str(demo_link)}, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if get(port, "/api/v1/measures").status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "gunicorn did not answer in 90 s:\n" + log.read_text()[-2000:]
            time.sleep(0.3)
        yield Server(port, log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("length", [10_000, 100_000])
def test_an_over_long_api_value_is_the_apis_json_400_naming_it(server: Server, length: int) -> None:
    answer = get(server.port, f"/api/v1/series?measure=total_crime&unit={'x' * length}&grain=month")
    assert answer.status == 400, answer.body[:300]
    assert answer.content_type.startswith("application/json")
    body = json.loads(answer.body)
    assert body["parameter"] == "unit"
    assert f"{length:,} characters" in body["error"]


def test_an_over_long_page_address_is_a_plain_page_saying_so(server: Server) -> None:
    answer = get(server.port, f"/scorecard?unit={'x' * 100_000}")
    assert answer.status == 414 and answer.content_type.startswith("text/html")
    assert "This address is too long" in answer.body and "100,0" in answer.body
    # the app's page, not gunicorn's: gunicorn's says "URI Too Long" and has no link back
    assert 'href="/"' in answer.body


def test_a_request_line_over_the_servers_bound_is_refused_at_once(server: Server) -> None:
    """Over 1 MiB (gunicorn.conf.py) the server stops reading: with no bound, a 10 MB line held a
    worker for its whole 30 s timeout and ended in a 500."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        try:
            sock.sendall(b"GET /api/v1/units?format=" + b"x" * (8 * 1024 * 1024) + b" HTTP/1.1\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection while we were still sending: refused
        try:
            head = sock.recv(200)
        except ConnectionResetError:
            head = b""
    assert time.monotonic() - started < 10
    assert head == b"" or head.startswith(b"HTTP/1.1 414"), head
    assert get(server.port, "/api/v1/units").status == 200  # the worker is still serving


def test_headers_stay_bounded(server: Server) -> None:
    answer = get(server.port, "/api/v1/units", headers={"X-Long": "y" * 9000})
    assert answer.status == 431  # gunicorn's own refusal: Request Header Fields Too Large
    assert get(server.port, "/api/v1/units").status == 200


def test_an_ordinary_request_is_served(server: Server) -> None:
    answer = get(server.port, "/api/v1/series?measure=total_crime&unit=cheshire&grain=month")
    assert answer.status == 200, answer.body[:300]
    assert json.loads(answer.body)["rows"]  # months of Cheshire's total crime
