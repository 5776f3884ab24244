"""The 43 territorial police forces of England and Wales, keyed the way data.police.uk keys them.

`slug` is the force's part of data.police.uk file names (`2019-01-cheshire-street.csv`) and is
the force's unit_id everywhere in the warehouse. `name` is the "Falls within" wording of the
street-level CSVs, so a row can be tied to its force without trusting the file name.
British Transport Police ('btp') and the PSNI also appear in data.police.uk but are not
territorial forces of England and Wales, so they are deliberately absent.

`population` is the 2011 Census usual resident population of the police force area
(Cheshire 1,027,709). Only Cheshire's figure is checked against a published table; treat the
others as approximate (they were summed from local-authority Census counts, and differ from
mid-year estimates by a few per cent). They are used only for the synthetic demo and for
per-1,000 rates where no better population figure is supplied; a force's own unit file
always wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Force:
    slug: str
    name: str
    population: int


FORCES: tuple[Force, ...] = (
    Force("avon-and-somerset", "Avon and Somerset Constabulary", 1_599_555),
    Force("bedfordshire", "Bedfordshire Police", 615_061),
    Force("cambridgeshire", "Cambridgeshire Constabulary", 804_841),
    Force("cheshire", "Cheshire Constabulary", 1_027_709),
    Force("city-of-london", "City of London Police", 7_375),
    Force("cleveland", "Cleveland Police", 557_227),
    Force("cumbria", "Cumbria Constabulary", 499_858),
    Force("derbyshire", "Derbyshire Constabulary", 1_018_438),
    Force("devon-and-cornwall", "Devon & Cornwall Police", 1_668_218),
    Force("dorset", "Dorset Police", 744_041),
    Force("durham", "Durham Constabulary", 618_806),
    Force("dyfed-powys", "Dyfed-Powys Police", 515_114),
    Force("essex", "Essex Police", 1_724_950),
    Force("gloucestershire", "Gloucestershire Constabulary", 596_984),
    Force("greater-manchester", "Greater Manchester Police", 2_682_528),
    Force("gwent", "Gwent Police", 576_754),
    Force("hampshire", "Hampshire Constabulary", 1_897_991),
    Force("hertfordshire", "Hertfordshire Constabulary", 1_116_062),
    Force("humberside", "Humberside Police", 917_647),
    Force("kent", "Kent Police", 1_727_665),
    Force("lancashire", "Lancashire Constabulary", 1_460_893),
    Force("leicestershire", "Leicestershire Police", 1_017_697),
    Force("lincolnshire", "Lincolnshire Police", 713_653),
    Force("merseyside", "Merseyside Police", 1_381_189),
    Force("metropolitan", "Metropolitan Police Service", 8_166_566),
    Force("norfolk", "Norfolk Constabulary", 857_888),
    Force("north-wales", "North Wales Police", 687_937),
    Force("north-yorkshire", "North Yorkshire Police", 796_427),
    Force("northamptonshire", "Northamptonshire Police", 691_952),
    Force("northumbria", "Northumbria Police", 1_420_853),
    Force("nottinghamshire", "Nottinghamshire Police", 1_091_482),
    Force("south-wales", "South Wales Police", 1_283_651),
    Force("south-yorkshire", "South Yorkshire Police", 1_343_601),
    Force("staffordshire", "Staffordshire Police", 1_097_497),
    Force("suffolk", "Suffolk Constabulary", 728_163),
    Force("surrey", "Surrey Police", 1_132_390),
    Force("sussex", "Sussex Police", 1_606_932),
    Force("thames-valley", "Thames Valley Police", 2_269_772),
    Force("warwickshire", "Warwickshire Police", 545_474),
    Force("west-mercia", "West Mercia Police", 1_222_416),
    Force("west-midlands", "West Midlands Police", 2_736_460),
    Force("west-yorkshire", "West Yorkshire Police", 2_226_058),
    Force("wiltshire", "Wiltshire Police", 680_137),
)

FORCE_BY_SLUG: dict[str, Force] = {f.slug: f for f in FORCES}
FORCE_BY_NAME: dict[str, Force] = {f.name: f for f in FORCES}

# Wordings seen in older files and other publications that the normalised match below
# would not catch on its own.
_ALIASES: dict[str, str] = {
    "humberside constabulary": "humberside",
    "metropolitan police": "metropolitan",
    "the metropolitan police service": "metropolitan",
    "devon and cornwall constabulary": "devon-and-cornwall",
}


def _normalise(text: str) -> str:
    # '&' vs 'and', 'Dyfed-Powys' vs 'Dyfed Powys', stray case and spaces all occur in
    # real files; none of them should stop a row from finding its force.
    text = text.lower().replace("&", " and ")
    return " ".join(re.split(r"[^a-z0-9]+", text)).strip()


_BY_NORMALISED: dict[str, str] = {
    **{_normalise(f.name): f.slug for f in FORCES},
    **{_normalise(f.slug): f.slug for f in FORCES},
    **_ALIASES,
}


def force_slug(falls_within: str) -> str | None:
    """A 'Falls within' value (or a slug) -> the force slug; None for BTP, PSNI or unknowns.

    None rather than an error so that a parser can quarantine the row with its own message.
    """
    if not falls_within:
        return None
    exact = FORCE_BY_NAME.get(falls_within)
    if exact is not None:
        return exact.slug
    return _BY_NORMALISED.get(_normalise(falls_within))
