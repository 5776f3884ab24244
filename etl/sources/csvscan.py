"""Reading tabular input safely: the bounded-memory size/UTF-8/header scan of a CSV file,
DuckDB CSV errors mapped back to physical lines, query results as the text a CSV would hold,
and SQLAlchemy queries run with the password kept out of every message.

Shared by the force crime extract (etl/sources/crimes.py) and the schema-driven reader of
every other tabular source (etl/sources/tabular.py).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.errors import InputRefused
from etl.limits import MAX_LINE_BYTES, max_rows_per_file, size

_CHUNK = 1 << 23
_CSV_ERROR_LINE = re.compile(r"CSV Error on Line: (\d+)")


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """First row or None. Fetches the whole (small) result: DuckDB refuses further work on a
    connection whose last result was left half-read by fetchone()."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


@dataclass
class Scan:
    header: list[str]
    lines: int        # physical lines up to the last non-blank one
    blank: bool       # a blank line before the last non-blank one (DuckDB skips those)


def _has_blank_line(data: bytes) -> bool:
    """Whether `data` holds b"\\n\\n" or b"\\n\\r\\n" (an empty line between two others).
    On the newlines' positions: a search for either pattern over the bytes (`in`) cost 3 s of
    CPU per 1.4 GB, two thirds of checking a national year of police.uk files; this 0.6 s."""
    arr = np.frombuffer(data, np.uint8)
    pos = np.flatnonzero(arr == 10)
    gaps = np.diff(pos)
    return bool((gaps == 1).any() or ((gaps == 2) & (arr[pos[:-1] + 1] == 13)).any())


def scan_file(path: Path, origin: str) -> Scan:
    """Size, UTF-8 and header, in bounded memory (extracts can be hundreds of MB).

    Chunks are cut after a newline byte, which never occurs inside a UTF-8 sequence, so a
    decode error's offset gives the exact line and column."""
    newlines = 0
    trailing = 0      # newlines in the run of blank lines at the end so far
    head = b""
    carry = b""
    first = True
    seen_any = False
    blank = False
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below; a with-block would hide the OSError
    except OSError as exc:
        raise InputRefused(origin, f"cannot read the file ({exc.strerror})") from None
    with fh:
        while True:
            block = fh.read(_CHUNK)
            if first:
                first = False
                if not block:
                    raise InputRefused(origin, "empty file (0 bytes)")
                if block.startswith(codecs.BOM_UTF8):
                    block = block[len(codecs.BOM_UTF8):]
            data = carry + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    if len(carry) > MAX_LINE_BYTES:  # no line break in sight: never hold it all
                        raise InputRefused(
                            origin, f"line {newlines + 1} is longer than {size(MAX_LINE_BYTES)} "
                            "without a line break: not a CSV file of ours", newlines + 1)
                    continue
                data, carry = data[:cut], data[cut:]
            else:
                carry = b""
            if not data:
                break
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = newlines + data.count(b"\n", 0, exc.start) + 1
                col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
                raise InputRefused(
                    origin,
                    f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {col} cannot be "
                    "decoded (save the extract as UTF-8)",
                    line,
                ) from None
            if len(head) < 65536:
                head += data[: 65536 - len(head)]
            stripped = data.rstrip(b"\r\n")
            if stripped:
                inner = stripped.lstrip(b"\r\n")
                leading = stripped.count(b"\n", 0, len(stripped) - len(inner))
                # newlines between the previous chunk's last line and this chunk's first:
                # one ends a line, two or more mean a blank line between them
                blank = (blank or (trailing + leading >= 2 if seen_any else leading > 0)
                         or _has_blank_line(inner))
                seen_any = True
                trailing = data.count(b"\n", len(stripped))
            else:
                trailing += data.count(b"\n")
            newlines += data.count(b"\n")
            if not block:
                break
    if not seen_any or not head.strip():
        raise InputRefused(origin, "empty file: no header row")
    try:
        header = next(csv.reader(io.StringIO(head.decode("utf-8", "ignore"), newline="")))
    except (StopIteration, csv.Error):
        header = []
    if not header:
        raise InputRefused(origin, "the first line is blank: the header row must come first", 1)
    lines = newlines - trailing + 1
    _check_rows(origin, lines)
    return Scan(header=header, lines=lines, blank=blank)


def scan_lines(path: Path, origin: str) -> Scan | None:
    """The header and the line count of `scan_file`, without decoding the rest of the file,
    for a reader whose own parse refuses every file scan_file would and then asks scan_file
    for its words: DuckDB's `read_csv` of every column as VARCHAR refuses bytes that are not
    UTF-8 and lines longer than its max_line_size (scan_file refuses a line only when
    a whole 8 MiB chunk holds no line break). About a third of scan_file's CPU (a national
    year of police.uk files: ~0.7 s against 2.1 s). `blank` is always False here (newlines
    are counted, not placed). None when the file does not start with a clean header line
    (unreadable, empty, no line break in the first 8 MiB, not UTF-8, blank): the caller then
    runs scan_file, whose refusal says what is wrong."""
    try:
        fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except OSError:
        return None
    buf = bytearray(_CHUNK)
    arr = np.frombuffer(buf, np.uint8)
    with fh:
        k = fh.readinto(buf)
        start = len(codecs.BOM_UTF8) if buf.startswith(codecs.BOM_UTF8) else 0
        end = buf.find(b"\n", start, k)
        if not k or end < 0 or end - start > MAX_LINE_BYTES:
            return None
        try:
            first = bytes(buf[start:end]).decode("utf-8")
            header = next(csv.reader(io.StringIO(first, newline="")))
        except (UnicodeDecodeError, StopIteration, csv.Error):
            return None
        if not header or not first.strip():
            return None
        newlines = trailing = 0
        while k:
            newlines += int(np.count_nonzero(arr[:k] == 10))
            # newlines in the run of blank lines (\r and \n only) the file ends with so far
            i = k
            while i and buf[i - 1] in (10, 13):
                i -= 1
            tail = buf.count(b"\n", i, k)
            trailing = tail if i else trailing + tail
            k = fh.readinto(buf)
    lines = newlines - trailing + 1
    _check_rows(origin, lines)
    return Scan(header=header, lines=lines, blank=False)


def _check_rows(origin: str, lines: int) -> None:
    if lines - 1 > max_rows_per_file():
        raise InputRefused(origin, f"{lines - 1:,} rows is more than the {max_rows_per_file():,} one file "
                           "may hold (LG_MAX_ROWS_PER_FILE raises the limit; or split the file)")


def record_lines(path: Path) -> list[tuple[int, bool]]:
    """(physical start line, is blank) of every CSV record, header = record 1. DuckDB counts
    records, blank lines included, and skips blank lines in its output; this maps its
    numbering back to physical lines where they differ (multi-line quoted fields, blank
    lines). Error path and unusual files only."""
    out: list[tuple[int, bool]] = []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error:
                out.append((start, False))
                break
            out.append((start, not record))
    return out


def csv_error(message: str, path: Path) -> tuple[int | None, str]:
    """DuckDB's CSV error text -> (physical line, what is wrong in words)."""
    gist = "malformed CSV"
    cols = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", message)
    if cols:
        expected, found = cols.groups()
        gist = (f"row has {found} field(s), the header has {expected} "
                "(a truncated row, or an unquoted comma in a value)")
    elif "unterminated quote" in message:
        gist = "unterminated quoted field (a truncated file?)"
    elif "unicode" in message.lower():
        gist = "not UTF-8 text"
    m = _CSV_ERROR_LINE.search(message)
    if not m:
        return None, gist
    record = int(m.group(1))
    records = record_lines(path)
    return (records[record - 1][0] if 0 < record <= len(records) else record), gist


def mask_url(url: str) -> str:
    """The URL as messages and the load log may show it: any password replaced by ***."""
    from sqlalchemy.engine import make_url  # lazy: 0.3-0.7 s of every `python -m etl` start

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: still never echo what looks like a password
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def scrub(text: str, url: str) -> str:
    """Driver messages can quote the connection string; keep the password out of them."""
    from sqlalchemy.engine import make_url  # lazy: 0.3-0.7 s of every `python -m etl` start

    try:
        password = make_url(url).password
    except Exception:
        password = None
    if password:
        text = text.replace(str(password), "***")
    return text.replace(url, mask_url(url))


def as_text(series: pd.Series) -> list[str | None]:
    """A query result column -> the strings a CSV would have held (dates as YYYY-MM-DD)."""
    out: list[str | None] = []
    for v in series.tolist():
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out.append(None)
        elif isinstance(v, datetime):
            out.append(v.date().isoformat())
        elif isinstance(v, date):
            out.append(v.isoformat())
        elif isinstance(v, bytes):
            out.append(v.decode("utf-8", "replace"))
        elif isinstance(v, float):
            out.append(str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v))
        elif isinstance(v, Decimal):
            out.append(format(v, "f"))
        else:
            out.append(str(v))
    return out


def read_query(url: str, query: str) -> tuple[str, pd.DataFrame]:
    """Run `query` against a SQLAlchemy URL; (origin with the password masked, rows).
    Any failure is an InputRefused that never shows the password."""
    from sqlalchemy import create_engine, text  # lazy: only a query load needs SQLAlchemy

    origin = mask_url(url)
    try:
        engine = create_engine(url)
    except Exception as exc:
        raise InputRefused(origin, "cannot use this SQLAlchemy database URL: "
                           + scrub(str(exc), url)) from None
    try:
        with engine.connect() as connection:
            frame = pd.read_sql(text(query), connection, dtype_backend="numpy_nullable")
    except Exception as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise InputRefused(origin, "the query failed: " + scrub(detail, url)) from None
    finally:
        engine.dispose()
    return origin, frame


def quoted_value(col: str) -> str:
    """A value as a message shows it: quoted, and cut short if long."""
    return f"'''' || replace(left({col}, 60), '''', '''''') || ''''"


def read_strict(con: duckdb.DuckDBPyConnection, table: str, path: Path, origin: str,
                present: list[str], columns: tuple[str, ...] | list[str]) -> int:
    """Read a CSV into `table` with DuckDB in strict mode: every column VARCHAR as named in
    the header (`present`), the expected `columns` that are absent as NULL, a row number
    `_rn` and an empty `_line`. A CSV error becomes an InputRefused naming the physical line;
    any other error is not the file's fault and is raised as it is. Returns the row count."""
    select = ", ".join(f'"{c}"' if c in present else f'NULL::VARCHAR AS "{c}"' for c in columns)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT {select}, row_number() OVER () AS _rn, NULL::BIGINT AS _line FROM read_csv(
                ?, header = true, auto_detect = false, columns = ?, delim = ',', quote = '"',
                escape = '"', strict_mode = true, null_padding = false, parallel = true)""",
            [str(path), {n: "VARCHAR" for n in present}],
        )
    except duckdb.Error as exc:
        message = str(exc)
        if "CSV Error" not in message and not isinstance(exc, duckdb.IOException):
            raise  # not the file's fault: let it surface as the error it is
        line, gist = csv_error(message, path)
        raise InputRefused(origin, gist, line) from None
    return first_row(con, f"SELECT count(*) FROM {table}")[0]
