"""A real PostgreSQL server for a test run: initdb into a temporary folder, started with pg_ctl on
a free port, stopped and removed afterwards.

Debian's `postgresql` package puts the server in /usr/lib/postgresql/<version>/bin
(`scripts/ensure-postgres`, run by `make test`, installs it when missing). PostgreSQL refuses to
run as root, so as root the server runs as `nobody` (through `runuser`), in a folder it owns.
Authentication is `trust` on 127.0.0.1 only: the server lives as long as the test session.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.browser import free_port

SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/bin", "/usr/bin")


def server_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, newest version first."""
    for pattern in SEARCH:
        for folder in sorted(glob.glob(pattern), reverse=True):
            if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
                return Path(folder)
    return None


@dataclass
class Server:
    folder: Path
    bindir: Path
    port: int
    user: str = "lg"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        prefix = ["runuser", "-u", "nobody", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, check=True)

    def start(self) -> None:
        data = self.folder / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", self.user, "--auth=trust",
                  "--no-sync", "-E", "UTF8")
        options = f"-k {self.folder} -p {self.port} -h 127.0.0.1 -F"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "-w",
                      "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def start_server(bindir: Path) -> Server:
    folder = Path(tempfile.mkdtemp(prefix="lg-postgres-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    server = Server(folder, bindir, free_port())
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = (folder / "server.log").read_text() if (folder / "server.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log}") from exc
    return server
