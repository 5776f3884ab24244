"""The data.police.uk source: `python -m etl load police-uk PATH...` takes street and outcomes
CSVs (files, folders or zips) for any force and month; an optional hierarchy file maps
LSOAs to NPUs and BCUs (etl/reference/lsoa_mapping.py)."""

from __future__ import annotations

from etl.sources.base import Dataset, Source
from etl.sources.shapes import CRIME, OUTCOME_COLUMNS

OUTCOME = Dataset("outcome", OUTCOME_COLUMNS, "outcome events", cube="outcome")

SOURCE = Source(
    name="police-uk",
    summary="Load data.police.uk street and outcomes CSVs (files, folders or zips).",
    datasets=(CRIME, OUTCOME),
    cli="files",
)
