"""Crime harm read for a commander: which categories the harm comes from, against how many
crimes they are, and how much of the figure is approximate.

Pure functions over the frame DataAccess.harm_by_category returns (one row per category: n,
harm, harm2, harm_approx, and the category weight with its range). Why the share of harm and
the share of crimes side by side: robbery is about 1% of crime and about 2% of harm; violence
is a third of crime and most of the harm; shoplifting is the reverse. Intervals of each
category's harm come from the same compound Poisson interval as the measure's
(stats.weighted_count_interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dashboard.analysis import stats
from etl.measures.crime import CATEGORY_LABELS

ATTRIBUTION = ("Crime Severity Score weights: ONS. Contains ONS data © Crown copyright and "
               "database right, Open Government Licence v3.0.")

SHARE_COLUMNS = ["category", "label", "crimes", "harm", "lower", "upper", "harm_share",
                 "crime_share", "weighted_by", "weight_range"]


@dataclass(frozen=True)
class Basis:
    """How the harm figure of a unit and period was weighted."""

    crimes: int
    approximate_crimes: int    # weighted by their category's weight (no known offence code)

    @property
    def approximate(self) -> bool:
        return self.approximate_crimes > 0

    @property
    def exact_crimes(self) -> int:
        return self.crimes - self.approximate_crimes

    @property
    def label(self) -> str:
        """'Exact', 'Approximate' or 'Partly approximate' (or 'No crimes')."""
        if self.crimes == 0:
            return "No crimes"
        if not self.approximate:
            return "Exact"
        return "Approximate" if self.exact_crimes == 0 else "Partly approximate"

    def detail(self) -> str:
        """How the figure was weighted, in a sentence."""
        if self.crimes == 0:
            return "no recorded crimes in the period: no harm."
        if not self.approximate:
            return (f"all {self.crimes:,} crimes weighted by the Crime Severity Score of their Home "
                    "Office offence code.")
        if self.exact_crimes == 0:
            return (f"all {self.crimes:,} crimes carry a category only (as data.police.uk gives "
                    "them), so each is weighted by its category's weight, the median of the "
                    "category's offence weights; a category's offences range widely (Violence and "
                    "sexual offences 7.5 to 7,973).")
        return (f"{self.approximate_crimes:,} of {self.crimes:,} crimes carry no known offence code "
                "and are weighted by their category's weight; the rest exactly.")

    def text(self) -> str:
        """The sentence the API shows beside a harm figure: '<label>: <detail>'."""
        return f"{self.label}: {self.detail()}"

    def as_dict(self) -> dict[str, object]:
        return {"approximate": self.approximate, "crimes": self.crimes,
                "crimes_weighted_by_category": self.approximate_crimes,
                "basis": self.text(), "attribution": ATTRIBUTION}


def basis(frame: pd.DataFrame) -> Basis:
    if frame.empty:
        return Basis(0, 0)
    return Basis(int(frame["n"].sum()), int(frame["harm_approx"].sum()))


def _range(row: pd.Series) -> str:
    lo, hi, codes = row.get("min_weight"), row.get("max_weight"), row.get("codes")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return ""
    if float(lo) == float(hi):
        return f"{float(lo):,.1f} (one offence weight)" if codes == 1 else f"{float(lo):,.1f}"
    return f"{float(lo):,.1f} to {float(hi):,.0f} over {int(codes)} offences"


def shares(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per category, most harm first: its crimes, harm with a 95% interval, its share of
    the unit's harm and of its crimes (%), whether it was weighted by offence or by category,
    and the range of the category's offence weights."""
    if frame.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    total_harm = float(frame["harm"].sum())
    total_n = float(frame["n"].sum())
    rows = []
    for _, r in frame.iterrows():
        harm, harm2, n, approx = float(r["harm"]), float(r["harm2"]), int(r["n"]), int(r["harm_approx"])
        lo, hi = stats.weighted_count_interval(harm, harm2) if harm > 0 else (0.0, math.nan)
        by = ("offence" if approx == 0 else "category" if approx == n
              else f"offence ({n - approx:,}), category ({approx:,})")
        rows.append({
            "category": r["category"], "label": CATEGORY_LABELS.get(r["category"], r["category"]),
            "crimes": n, "harm": harm, "lower": lo, "upper": hi,
            "harm_share": harm / total_harm * 100 if total_harm else math.nan,
            "crime_share": n / total_n * 100 if total_n else math.nan,
            "weighted_by": by, "weight_range": _range(r),
        })
    return pd.DataFrame(rows, columns=SHARE_COLUMNS).sort_values("harm", ascending=False,
                                                                 kind="stable").reset_index(drop=True)
