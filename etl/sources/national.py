"""National comparators: the other forces as force x month aggregates, for MSF and national
context. Two datasets: crime by category (`force_month`: crimes and sanction detections per
category) and service measures (`service_force_month`: a measure's numerator and
denominator per force and month).

No command loads them yet (a supplied comparator table would be a tabular source here); the
demo generates them for the 42 forces beside the demo force.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.demo.common import FORCE_ID, DemoContext
from etl.reference.forces import FORCES
from etl.sources.base import Dataset, Source
from etl.sources.dv import MSF_DV_ARREST
from etl.sources.satisfaction import (
    MSF_WHOLE_EXPERIENCE,
    NATIONAL_WHOLE_EXPERIENCE,
    NOT_ASKED,
    QUESTIONS,
    SATISFIED_SHARE,
)
from etl.sources.shapes import FORCE_MONTH

# Force x month x measure aggregates: national comparators for the service measures (other
# forces in the demo, or supplied tables). measure_id is a key of etl.measures.registry.MEASURES.
COMPARATOR_COLUMNS: dict[str, str] = {
    "force_id": "VARCHAR",
    "month": "DATE",
    "measure_id": "VARCHAR",
    "num": "DOUBLE",
    "den": "DOUBLE",
}

# A synthetic most-similar-force group for the demo (the report names no members).
DEMO_MSF: tuple[str, ...] = (
    "derbyshire", "essex", "hertfordshire", "leicestershire", "nottinghamshire",
    "staffordshire", "west-mercia",
)

# Comparators: measures supplied for the other forces.
COMPARATOR_MEASURES = (*(f"satisfaction_{q}" for q in QUESTIONS), "calls_999_answered_10s",
                       "dv_arrest_rate")


def _comparators(seed: int, start: date, end: date) -> pd.DataFrame:
    """The other forces, force x month x measure (num, den), for the comparator measures."""
    from scipy.special import ndtr, ndtri  # lazy: only the demo's generators use it; a police.uk
    # load imports this module and scipy.special alone costs ~0.2-0.35 s to import
    rng = np.random.default_rng([seed, 26])
    months = np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)
    others = [f for f in FORCES if f.slug != FORCE_ID]
    rows = []
    for f in others:
        msf = f.slug in DEMO_MSF
        whole = rng.normal(MSF_WHOLE_EXPERIENCE, 0.012) if msf else rng.normal(
            NATIONAL_WHOLE_EXPERIENCE, 0.025)
        answer10 = rng.uniform(0.86, 0.93) if msf else rng.uniform(0.82, 0.95)
        arrest = rng.normal(MSF_DV_ARREST, 0.025) if msf else rng.uniform(0.25, 0.50)
        size = f.population / 1_000_000
        sample = rng.poisson(60 + 170 * size, months.size)
        for q in QUESTIONS:
            p = ndtr(ndtri(SATISFIED_SHARE[q]) + ndtri(min(whole, 0.99))
                     - ndtri(SATISFIED_SHARE["whole_experience"]))
            den = rng.binomial(sample, 1 - NOT_ASKED[q])
            num = rng.binomial(den, p)
            rows += [(f.slug, m, f"satisfaction_{q}", a, b) for m, a, b in zip(months, num, den,
                                                                                strict=True)]
        calls = rng.poisson(f.population * 0.14 / 12, months.size)
        rows += [(f.slug, m, "calls_999_answered_10s", a, b) for m, a, b in
                 zip(months, rng.binomial(calls, answer10), calls, strict=True)]
        dv = rng.poisson(f.population * 0.012 / 12, months.size)
        rows += [(f.slug, m, "dv_arrest_rate", a, b) for m, a, b in
                 zip(months, rng.binomial(dv, float(np.clip(arrest, 0.05, 0.95))), dv, strict=True)]
    frame = pd.DataFrame(rows, columns=["force_id", "month", "measure_id", "num", "den"])
    frame["month"] = frame["month"].to_numpy().astype("datetime64[M]").astype("datetime64[ns]")
    frame["num"] = frame["num"].astype(float)
    frame["den"] = frame["den"].astype(float)
    return frame[list(COMPARATOR_COLUMNS)]


def demo(ctx: DemoContext) -> dict[str, pd.DataFrame]:
    return {"force_month": ctx.force_month,
            "service_force_month": _comparators(ctx.seed, ctx.start, ctx.end)}


SOURCE = Source(
    name="national",
    summary="Other forces as force x month aggregates (crime by category; service measures).",
    datasets=(
        FORCE_MONTH,
        Dataset("service_force_month", COMPARATOR_COLUMNS, "force months", cube="comparators"),
    ),
    demo=demo,
)
