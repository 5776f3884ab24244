"""The measures: one model (model.py), its kinds (kinds.py), the crime categories and
measures (crime.py), and the registry of every measure (registry.py).

Import from here: `from etl.measures import MEASURES, Measure, get`.
"""

from etl.measures.crime import (
    ALL_CRIME,
    ASB,
    CATEGORY_LABELS,
    CRIME_CATEGORIES,
    SANCTION_OUTCOMES,
    SANCTION_TYPES,
    category_id,
)
from etl.measures.kinds import KINDS, Kind, has_denominator, kind_of
from etl.measures.model import Measure, Polarity
from etl.measures.registry import MEASURES, get

__all__ = [
    "ALL_CRIME", "ASB", "CATEGORY_LABELS", "CRIME_CATEGORIES", "KINDS", "MEASURES", "Kind",
    "Measure", "Polarity", "SANCTION_OUTCOMES", "SANCTION_TYPES", "category_id", "get",
    "has_denominator", "kind_of",
]
