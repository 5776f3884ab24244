"""How much work any one input may cause: bounded, configurable, refused in plain words.

A load reads input a user hands it, and a user can hand it anything: a zip of 4 MB that
expands to 1 GiB (a "zip bomb"), a file with no line breaks, a file of a billion rows. Each
limit below is generous for real data (data.police.uk's largest monthly file, the
Metropolitan Police's, is about 100,000 rows and 25 MB; a force's ten-year crime extract a few
million rows) and refuses the rest before it can take the machine's memory or disk.
Each can be raised with an environment variable, for the rare honest input beyond it.
"""

from __future__ import annotations

import os


def _int_env(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip().replace("_", "")
    return int(text) if text.isdigit() and int(text) > 0 else default


def max_expanded_bytes() -> int:
    """The most bytes the .csv members of one zip may expand to (LG_MAX_EXPANDED_BYTES)."""
    return _int_env("LG_MAX_EXPANDED_BYTES", 8 << 30)


def max_zip_ratio() -> int:
    """The most a zip may expand relative to its size on disk (LG_MAX_ZIP_RATIO): CSV
    compresses 5-15 times; a zip bomb thousands of times."""
    return _int_env("LG_MAX_ZIP_RATIO", 100)


def max_rows_per_file() -> int:
    """The most data rows one input file may hold (LG_MAX_ROWS_PER_FILE)."""
    return _int_env("LG_MAX_ROWS_PER_FILE", 20_000_000)


MAX_LINE_BYTES = 1 << 20  # one CSV line longer than 1 MiB is not a line of any input we read


def size(n: int) -> str:
    """'1.0 GiB', '400 MiB', '12 KiB'."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{n:,} bytes"


def load_memory_bytes() -> int:
    """The memory a load's DuckDB connections may use before they spill to disk
    (LG_LOAD_MEMORY_MB, default 1,024 MiB): a fixed bound, whatever the input's size, so
    that ten years of every force load in the same memory as one month of one force."""
    return _int_env("LG_LOAD_MEMORY_MB", 1024) << 20


def batch_rows() -> int:
    """The most CSV rows a load reads, checks and stages at once (LG_LOAD_BATCH_ROWS, default
    1,000,000, about 250 MB of data.police.uk street files): a batch is parsed as one DuckDB
    scan, so its size bounds the load's working set; what is staged spills to disk."""
    return _int_env("LG_LOAD_BATCH_ROWS", 1_000_000)


def staging_config(input_bytes: int, spill: str) -> dict[str, str]:
    """DuckDB settings for the connection a load parses and stages its input in: memory
    capped at twice the input plus 256 MiB, and never above load_memory_bytes(); what is
    beyond spills to `spill`. Insertion order is kept (line numbers come from rowids)."""
    limit = min(2 * max(input_bytes, 0) + (256 << 20), load_memory_bytes())
    return {"memory_limit": f"{limit >> 20}MB", "temp_directory": spill}
