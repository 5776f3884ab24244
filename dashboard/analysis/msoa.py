"""Per-MSOA figures of an NPU, added up from its LSOAs (the NPU's map, docs/harm-and-maps.md).

An NPU's records name 2011 LSOAs (data.police.uk); each LSOA lies in one 2011 MSOA (the ONS
lookup shipped in data/reference). Counts and harm add up, and so do resident populations,
so an MSOA's count, harm and rates per 1,000 come from its LSOAs exactly. A measure whose
numerator is not a count of crimes per LSOA (sanction detections, a proportion, a rate from
another source, ASB) has no per-MSOA figure here: the map then colours each MSOA by its NPU.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from etl.measures.model import Measure

# measure kinds whose value is a crime count (or harm) over nothing, or over residents
KINDS = ("count", "rate_per_population", "weighted_count", "weighted_rate_per_population")
ASB = "anti-social-behaviour"
COLUMNS = ["msoa_code", "lsoas", "num", "population"]


def numerator_column(measure: Measure) -> str | None:
    """The column of the per-LSOA figures (DataAccess.concentration) that is the measure's
    numerator ('crimes' or 'harm'), or None when the measure has no per-MSOA figure."""
    if (measure.dataset != "crime" or not measure.categories or ASB in measure.categories
            or measure.kind not in KINDS):
        return None
    return {"n": "crimes", "harm": "harm"}.get(measure.column)


def by_msoa(lsoas: pd.DataFrame, column: str, lsoa_msoa: Mapping[str, str],
            lsoa_population: Mapping[str, int]) -> pd.DataFrame:
    """Sum `column` and the resident population of the LSOAs per MSOA. LSOAs the 2011 lookup
    does not know (or a blank code) are left out: they have no MSOA to be drawn in. [COLUMNS]"""
    known = [isinstance(c, str) and c in lsoa_msoa for c in lsoas["lsoa_code"]]
    if not any(known):
        return pd.DataFrame(columns=COLUMNS)
    rows = lsoas[known]
    frame = pd.DataFrame({
        "msoa_code": [lsoa_msoa[c] for c in rows["lsoa_code"]],
        "lsoas": 1,
        "num": rows[column].astype(float).to_numpy(),
        "population": [int(lsoa_population.get(c, 0)) for c in rows["lsoa_code"]],
    })
    out = frame.groupby("msoa_code", as_index=False).sum()
    return out.sort_values("msoa_code").reset_index(drop=True)[COLUMNS]
