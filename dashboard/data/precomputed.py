"""Results that depend only on the warehouse version, kept on disk beside that version
(issue 11 item 3; docs/precompute.md).

The result cache (dashboard/data/cache.py) is per process and starts empty: every gunicorn
worker, and every worker again after a restart, paid ~0.1-0.3 s of Python per unit for the
same assessments. This store keeps such a result in a file under the version it was computed
from, so that a cold result cache in any worker reads it (about a millisecond) instead of
recomputing it:

    <dir>/<stem>.precomputed/<version file name>/<name>/<sha256 of the arguments>.pkl

A file is used only when its header names the same version (file name, device, inode: a
version rebuilt under a reused name is another version), the same code (a fingerprint of the
modules that compute what is stored), the same result name and arguments, and its payload's
SHA-256 matches. Anything else (missing, stale, damaged, another version's) is ignored and the
result recomputed and written again. Writes are atomic (a temporary file in the same folder,
fsynced, then renamed): a reader sees a whole file or none. A version's folder is never read
for another version; the folders of versions that no longer exist are removed when a new one
is written.

What is stored is a pickled pandas object: it round-trips the frames exactly (dtypes, None
and NaN, dates, lists), which Parquet and Arrow do not for the assessments' mixed columns.
Unpickling runs code named in the file, so a file is read only if it is owned by this process's
user and no one else may write it (nor its folders): whoever could plant one could already
change this program. A store that cannot be written (a read-only data directory) is not an
error: the result is computed as before and the reason logged once.

The store knows nothing of what it holds or who may see it: the callers check access before
they ask it (dashboard/data/access.py decides), exactly as for the result cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
import shutil
import stat
import tempfile
from collections.abc import Hashable
from pathlib import Path
from typing import Any

from etl.lake.warehouse import WarehousePaths

log = logging.getLogger(__name__)

MAGIC = b"LGPRECOMPUTED1\n"
# The modules whose code decides what is stored: a change to any of them makes every stored
# result stale (the fingerprint in the header no longer matches).
CODE_ROOTS = ("dashboard/analysis", "dashboard/data", "dashboard/periods.py", "etl/measures",
              "etl/hierarchy.py")
_REPO = Path(__file__).resolve().parent.parent.parent


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 over the source of CODE_ROOTS (read once per process)."""
    h = hashlib.sha256()
    for root in CODE_ROOTS:
        path = _REPO / root
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(_REPO)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _safe(path: Path) -> bool:
    """Owned by us and writable by no one else: only then may its pickle be loaded."""
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class ResultStore:
    """The on-disk results of the warehouse at `link`, one folder per version."""

    def __init__(self, link: Path) -> None:
        paths = WarehousePaths(Path(link))
        self.root = paths.directory / f"{paths.stem}.precomputed"
        self._paths = paths
        self._warned = False
        # off: every read misses and nothing is written (benchmarks/dashboard.py --no-store
        # measures the cold path without it)
        self.enabled = True

    # -- public -------------------------------------------------------------------------

    def read(self, version: tuple[Hashable, ...], name: str, args: tuple[Hashable, ...]) -> Any | None:
        """The stored result, or None when there is none that may be used (see the module doc)."""
        if not self.enabled:
            return None
        path = self._file(version, name, args)
        try:
            if not (_safe(self.root) and _safe(path.parent.parent) and _safe(path.parent) and _safe(path)):
                log.warning("precomputed result %s ignored: not ours, or writable by others", path)
                return None
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            log.warning("precomputed result %s could not be read", path, exc_info=True)
            return None
        header, payload = self._split(blob)
        if header is None or header != self._header(version, name, args, payload):
            log.info("precomputed result %s ignored: stale or damaged", path)
            return None
        try:
            return pickle.loads(payload)  # noqa: S301 - our own file, checked above (module doc)
        except Exception:  # a damaged payload whose digest still matched: recompute instead
            log.warning("precomputed result %s could not be loaded", path, exc_info=True)
            return None

    def write(self, version: tuple[Hashable, ...], name: str, args: tuple[Hashable, ...], value: Any) -> bool:
        """Store `value` atomically; False (logged) when the store cannot be written."""
        if not self.enabled:
            return False
        path = self._file(version, name, args)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        blob = MAGIC + json.dumps(self._header(version, name, args, payload)).encode() + b"\n" + payload
        try:
            folder = self.version_folder(version)
            if not folder.exists():   # a new version: drop the folders of versions gone since
                self._collect_garbage()
            path.parent.mkdir(parents=True, exist_ok=True)
            for d in (self.root, folder, path.parent):   # whatever the umask: ours alone to write
                if d.stat().st_uid == os.getuid():
                    os.chmod(d, 0o755)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(blob)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            if not self._warned:
                log.warning("precomputed results cannot be written under %s; computing them on demand",
                            self.root, exc_info=True)
                self._warned = True
            return False
        return True

    def version_folder(self, version: tuple[Hashable, ...]) -> Path:
        return self.root / str(version[0])

    def collect_garbage(self) -> None:
        """Remove the folders of versions that no longer exist (the ETL removes old versions)."""
        self._collect_garbage()

    # -- internals ----------------------------------------------------------------------

    def _file(self, version: tuple[Hashable, ...], name: str, args: tuple[Hashable, ...]) -> Path:
        digest = hashlib.sha256(repr(args).encode()).hexdigest()
        return self.version_folder(version) / name / f"{digest}.pkl"

    @staticmethod
    def _header(version: tuple[Hashable, ...], name: str, args: tuple[Hashable, ...],
                payload: bytes) -> dict[str, Any]:
        return {"version": [str(v) for v in version], "code": code_fingerprint(), "name": name,
                "args": repr(args), "sha256": hashlib.sha256(payload).hexdigest()}

    @staticmethod
    def _split(blob: bytes) -> tuple[dict[str, Any] | None, bytes]:
        if not blob.startswith(MAGIC):
            return None, b""
        end = blob.find(b"\n", len(MAGIC))
        if end < 0:
            return None, b""
        try:
            header = json.loads(blob[len(MAGIC):end])
        except ValueError:
            return None, b""
        return (header if isinstance(header, dict) else None), blob[end + 1:]

    def _collect_garbage(self) -> None:
        if not self.root.is_dir():
            return
        live = {p.name for p in self._paths.versions().values()}
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.name not in live:
                shutil.rmtree(folder, ignore_errors=True)
