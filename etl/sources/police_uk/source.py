"""The data.police.uk source: `python -m etl load police-uk PATH...` takes street, outcomes
and stop-and-search CSVs (files, folders or zips) for any force and month; an optional
hierarchy file maps LSOAs to NPUs and BCUs (etl/reference/lsoa_mapping.py)."""

from __future__ import annotations

from etl.sources.base import Dataset, Source
from etl.sources.police_uk import stop_search
from etl.sources.shapes import CRIME, OUTCOME_COLUMNS

OUTCOME = Dataset("outcome", OUTCOME_COLUMNS, "outcome events", cube="outcome")
# Searches carry no LSOA (only a point, often blank), so they count at force level.
STOP_SEARCH = Dataset(stop_search.DATASET, stop_search.COLUMNS, "searches", day_sql="date")

SOURCE = Source(
    name="police-uk",
    summary="Load data.police.uk street, outcomes and stop-and-search CSVs (files, folders or zips).",
    datasets=(CRIME, OUTCOME, STOP_SEARCH),
    measures=stop_search.measures,
    cli="files",
    demo=stop_search.demo,
)
