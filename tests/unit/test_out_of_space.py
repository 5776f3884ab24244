"""A full disk is the user's to fix, said in plain words, not reported as a bug (etl/cli.py):
recognised from the errors Python and DuckDB really raise for it."""

from __future__ import annotations

import errno

import duckdb

from etl.errors import out_of_space


def test_an_oserror_with_enospc_or_edquot_is_out_of_space() -> None:
    assert out_of_space(OSError(errno.ENOSPC, "No space left on device"))
    assert out_of_space(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not out_of_space(OSError(errno.EACCES, "Permission denied"))


def test_duckdbs_io_error_for_a_full_disk_is_out_of_space() -> None:
    # The words DuckDB raised loading 43 forces x 10 years onto a disk that filled (benchmarks)
    seen = ('IO Error: Failed to create directory "/w/warehouse.lake/.incoming/x/stg_crime/'
            'force_id=norfolk/month=2012-04-01": No space left on device')
    assert out_of_space(duckdb.IOException(seen))
    # and when its temporary files fill the disk (seen loading onto a 3 MB tmpfs)
    assert out_of_space(duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to offload data block of size 64.0 KiB (2.6 MiB/2.6 MiB used).\n"
        "This limit was set by the 'max_temp_directory_size' setting."))
    assert not out_of_space(duckdb.OutOfMemoryException("Out of Memory Error: could not allocate"))
    assert not out_of_space(duckdb.IOException('IO Error: Cannot open file "x.parquet": '
                                               "No such file or directory"))


def test_the_cause_of_a_wrapping_error_counts() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("writing a partition failed") from inner
    except RuntimeError as outer:
        assert out_of_space(outer)
    assert not out_of_space(ValueError("a bug"))
