"""Crime categories, the sanction detection mapping, and the crime measures.

These are shared by every source of crime records (data.police.uk street files, a force's
own extract, the demo), so they live here rather than in one source's module. A crime
measure names its categories and column (n = crimes, sd = sanction detections); its kind
says what the denominator is. Adding a crime measure is one entry in `crime_measures()`.
"""

from __future__ import annotations

from etl.measures.model import Measure

# data.police.uk crime types -> stable ids (the police.uk API's category slugs).
# Older names are included so that files from before the 2013 category changes still load.
CRIME_CATEGORIES: dict[str, str] = {
    "Anti-social behaviour": "anti-social-behaviour",
    "Bicycle theft": "bicycle-theft",
    "Burglary": "burglary",
    "Criminal damage and arson": "criminal-damage-arson",
    "Drugs": "drugs",
    "Other crime": "other-crime",
    "Other theft": "other-theft",
    "Possession of weapons": "possession-of-weapons",
    "Public order": "public-order",
    "Robbery": "robbery",
    "Shoplifting": "shoplifting",
    "Theft from the person": "theft-from-the-person",
    "Vehicle crime": "vehicle-crime",
    "Violence and sexual offences": "violent-crime",
    # pre-2013 / historic names
    "Violent crime": "violent-crime",
    "Public disorder and weapons": "public-disorder-weapons",
    "Other theft and shoplifting": "other-theft",
}
ASB = "anti-social-behaviour"

# Display labels for the category ids (the current police.uk wording).
CATEGORY_LABELS: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-crime": "Other crime",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "public-disorder-weapons": "Public disorder and weapons",
}

# Sanction detections, 2007 Home Office definition: charge/summons, caution, penalty notice
# for disorder, cannabis (drugs) warning, offence taken into consideration (TIC).
# data.police.uk outcome wording -> 2007 detection type. Outcomes not listed (no suspect
# identified, unable to prosecute, local resolution, not in the public interest, action by
# another organisation, under investigation ...) are not sanction detections. Every court
# outcome implies a charge or summons, including acquittals: the detection is the charge.
SANCTION_OUTCOMES: dict[str, str] = {
    "Awaiting court outcome": "charge_summons",
    "Suspect charged": "charge_summons",
    "Suspect charged as part of another case": "tic",
    "Offender charged as part of another case": "tic",
    "Court result unavailable": "charge_summons",
    "Court case unable to proceed": "charge_summons",
    "Defendant found not guilty": "charge_summons",
    "Defendant sent to Crown Court": "charge_summons",
    "Offender sent to prison": "charge_summons",
    "Offender given suspended prison sentence": "charge_summons",
    "Offender given community sentence": "charge_summons",
    "Offender fined": "charge_summons",
    "Offender given conditional discharge": "charge_summons",
    "Offender given absolute discharge": "charge_summons",
    "Offender ordered to pay compensation": "charge_summons",
    "Offender deprived of property": "charge_summons",
    "Offender otherwise dealt with": "charge_summons",
    "Offender given a caution": "caution",
    "Offender given conditional caution": "caution",
    "Offender given penalty notice": "penalty_notice",
    "Offender given a drugs possession warning": "cannabis_warning",
}
# Detection types a force's own extract may carry (docs/input-formats.md).
SANCTION_TYPES: dict[str, str] = {
    "charge_summons": "Charge or summons",
    "caution": "Caution",
    "penalty_notice": "Penalty notice for disorder",
    "cannabis_warning": "Cannabis / drugs warning",
    "tic": "Offence taken into consideration (TIC)",
}

ALL_CRIME = tuple(c for c in CATEGORY_LABELS if c != ASB)
_POLICE_UK = "data.police.uk street-level crime, or the force's own crime extract"


def crime_measures() -> list[Measure]:
    measures = [
        Measure(
            id="total_crime",
            label="Total recorded crime",
            domain="Crime",
            description="All recorded crimes, excluding anti-social behaviour incidents.",
            numerator="recorded crimes (distinct crime references), ASB excluded",
            denominator=None,
            unit="crimes",
            polarity="down",
            kind="count",
            source=_POLICE_UK,
            categories=ALL_CRIME,
            headline=True,
        ),
        Measure(
            id="crime_per_1000",
            label="Crime per 1,000 population",
            domain="Crime",
            description="Total recorded crime per 1,000 resident population of the unit.",
            numerator="recorded crimes, ASB excluded",
            denominator="resident population / 1,000",
            unit="per 1,000 population",
            polarity="down",
            kind="rate_per_population",
            source=_POLICE_UK + "; population from the unit dimension",
            categories=ALL_CRIME,
            scale=1000.0,
            headline=True,
            # the same crimes as total_crime over a fixed population: its signals are
            # total_crime's, so the exceptions list would say the same thing twice
            scan=False,
        ),
        *harm_measures(),   # harm beside volume on the scorecard
        Measure(
            id="asb_incidents",
            label="Anti-social behaviour incidents",
            domain="Crime",
            description="ASB incidents. They are incidents, never counted as crime.",
            numerator="ASB incidents",
            denominator=None,
            unit="incidents",
            polarity="down",
            kind="count",
            source=_POLICE_UK,
            categories=(ASB,),
            headline=True,
        ),
        Measure(
            id="sanction_detections",
            label="Sanction detections",
            domain="Detections",
            description=(
                "Crimes with a sanction detection (2007 definition: charge/summons, caution, "
                "penalty notice, cannabis/drugs warning, TIC)."
            ),
            numerator="crimes with a sanction detection outcome",
            denominator=None,
            unit="detections",
            polarity="up",
            kind="count",
            source=_POLICE_UK + "; outcome mapping in etl/measures/crime.py",
            categories=ALL_CRIME,
            column="sd",
        ),
        Measure(
            id="sanction_detection_rate",
            label="Sanction detection rate",
            domain="Detections",
            description="Sanction detections as a percentage of recorded crimes.",
            numerator="crimes with a sanction detection outcome",
            denominator="recorded crimes, ASB excluded",
            unit="%",
            polarity="up",
            kind="share_of_crimes",
            source=_POLICE_UK + "; outcome mapping in etl/measures/crime.py",
            categories=ALL_CRIME,
            column="sd",
            scale=100.0,
            headline=True,
        ),
    ]
    for cat, label in CATEGORY_LABELS.items():
        if cat == ASB or cat == "public-disorder-weapons":
            continue
        measures.append(
            Measure(
                id=f"crime_{cat.replace('-', '_')}",
                label=label,
                domain="Crime by category",
                description=f"Recorded crimes in the data.police.uk category '{label}'.",
                numerator=f"recorded crimes: {label}",
                denominator=None,
                unit="crimes",
                polarity="down",
                kind="count",
                source=_POLICE_UK,
                categories=(cat,),
                headline=cat in {"burglary", "vehicle-crime", "violent-crime", "robbery"},
            )
        )
    return measures


HARM_SOURCE = (_POLICE_UK + "; ONS Crime Severity Score weights (data/reference/, OGL v3): exact "
               "for a crime with a Home Office offence code, approximate (its category's weight) "
               "for one without, as every data.police.uk row is")


def harm_measures() -> list[Measure]:
    """Crime harm: every crime weighted by the ONS Crime Severity Score of its offence (the
    average sentence it attracts, in days of custody), so a robbery counts as about 450
    possessions of cannabis. docs/harm-and-maps.md."""
    return [
        Measure(
            id="crime_harm",
            label="Crime harm (Crime Severity Score)",
            domain="Crime",
            description=("Recorded crimes each weighted by the ONS Crime Severity Score of its "
                         "offence, added up. Approximate where crimes carry only a category."),
            numerator="sum of the recorded crimes' ONS Crime Severity Score weights, ASB excluded",
            denominator=None,
            unit="harm (CSS)",
            polarity="down",
            kind="weighted_count",
            source=HARM_SOURCE,
            categories=ALL_CRIME,
            column="harm",
            headline=True,
            tags=("harm",),
        ),
        Measure(
            id="crime_harm_per_1000",
            label="Crime harm per 1,000 population",
            domain="Crime",
            description="Crime harm (Crime Severity Score) per 1,000 resident population of the unit.",
            numerator="sum of the recorded crimes' ONS Crime Severity Score weights, ASB excluded",
            denominator="resident population / 1,000",
            unit="harm per 1,000 population",
            polarity="down",
            kind="weighted_rate_per_population",
            source=HARM_SOURCE + "; population from the unit dimension",
            categories=ALL_CRIME,
            column="harm",
            scale=1000.0,
            headline=True,
            scan=False,   # crime_harm's signals over a fixed population: said once
            tags=("harm",),
        ),
    ]


def category_id(name: str) -> str | None:
    """A police.uk crime type (any case, or already an id) -> category id, or None."""
    if name in CRIME_CATEGORIES:
        return CRIME_CATEGORIES[name]
    if name in CATEGORY_LABELS:
        return name
    lowered = {k.lower(): v for k, v in CRIME_CATEGORIES.items()}
    return lowered.get(name.strip().lower())
