"""Errors that name the file, the line and the problem, so a user can fix the input."""

from __future__ import annotations

import errno
from dataclasses import dataclass


@dataclass
class InputRefused(Exception):
    """A whole input file refused. Nothing of it reaches the warehouse."""

    file: str
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.problem}"


class UsageError(Exception):
    """The command was asked for something it cannot do (exit status 2)."""


def out_of_space(exc: BaseException) -> bool:
    """The disk filled during the command: the user's problem to fix (free space, or load a
    year at a time), not a bug to report. An OSError carries ENOSPC; DuckDB's IOException
    carries only the system's words, e.g. 'IO Error: Failed to create directory "...": No space
    left on device' (seen loading 43 forces x 10 years onto a disk with 36 GB free), or, when
    its temporary files fill the disk, an OutOfMemoryException naming max_temp_directory_size."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:   # the cause chain, once each
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        # DuckDB's temp files are capped by the disk's free space: a spill past it is an
        # "Out of Memory Error ... set by the 'max_temp_directory_size' setting"
        if ("no space left on device" in text or "disk quota exceeded" in text
                or "max_temp_directory_size" in text):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
