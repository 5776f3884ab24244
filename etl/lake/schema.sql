-- Warehouse schema. Facts stay in the Parquet lake; this file holds what readers need fast:
-- dimensions, the manifest of live lake files, cubes, and the load and data-quality logs.
-- Applied to a brand-new warehouse; every statement is idempotent so it can also upgrade one.

CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);

-- The organisation: force > bcu > npu > team > officer. unit_id is a '/'-joined slug path.
CREATE TABLE IF NOT EXISTS dim_unit (
    unit_id VARCHAR PRIMARY KEY,
    level VARCHAR NOT NULL,          -- force | bcu | npu | team | officer
    parent_id VARCHAR,
    force_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    population BIGINT,
    households BIGINT,
    area_km2 DOUBLE,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from DATE,
    valid_to DATE,
    note VARCHAR
);

-- LSOA geography under the NPU. npu_id NULL = not assigned to an NPU (blank or out of area).
CREATE TABLE IF NOT EXISTS dim_lsoa (
    force_id VARCHAR NOT NULL,
    lsoa_code VARCHAR NOT NULL,
    lsoa_name VARCHAR,
    npu_id VARCHAR,
    mapping VARCHAR NOT NULL,        -- file | default | none
    PRIMARY KEY (force_id, lsoa_code)
);

-- Which lake file is live for each partition. The warehouse swap is the commit point:
-- a lake file not listed here is an orphan of a killed load and is garbage-collected.
CREATE TABLE IF NOT EXISTS lake_manifest (
    dataset VARCHAR NOT NULL,        -- crime | outcome | force_month
    source VARCHAR NOT NULL,         -- police_uk | force | demo | demo_national
    force_id VARCHAR NOT NULL,
    month DATE NOT NULL,
    path VARCHAR NOT NULL,           -- relative to the lake directory
    rows BIGINT NOT NULL,
    load_id VARCHAR NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    origin VARCHAR,                  -- the input file it came from
    duplicates BIGINT NOT NULL DEFAULT 0,  -- rows dropped as repeats of a Crime ID
    PRIMARY KEY (dataset, source, force_id, month)
);

-- Lake files replaced by a later load; deleted after a grace period (old readers).
CREATE TABLE IF NOT EXISTS lake_garbage (path VARCHAR NOT NULL, superseded_at TIMESTAMP NOT NULL);

CREATE TABLE IF NOT EXISTS load_log (
    load_id VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    command VARCHAR,
    file VARCHAR,
    status VARCHAR NOT NULL,         -- loaded | refused
    rows_read BIGINT,
    rows_loaded BIGINT,
    message VARCHAR
);

-- Data-quality items: duplicates, rows not assigned to an NPU, quarantined rows, notes.
CREATE TABLE IF NOT EXISTS dq_log (
    load_id VARCHAR NOT NULL,
    source VARCHAR,
    force_id VARCHAR,
    month DATE,
    file VARCHAR,
    line BIGINT,
    kind VARCHAR NOT NULL,           -- duplicate_crime_id | unassigned_lsoa | suspect_month | note
    detail VARCHAR,
    rows BIGINT
);

CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR NOT NULL,
    source VARCHAR,
    force_id VARCHAR,
    month DATE,
    file VARCHAR,
    line BIGINT,
    reason VARCHAR NOT NULL,
    record VARCHAR
);

-- One row per source x force x month: the completeness picture the Data page shows.
CREATE TABLE IF NOT EXISTS month_status (
    source VARCHAR NOT NULL,
    force_id VARCHAR NOT NULL,
    month DATE NOT NULL,
    crimes BIGINT NOT NULL,
    asb BIGINT NOT NULL,
    unassigned BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    expected DOUBLE,
    suspect BOOLEAN NOT NULL,
    reason VARCHAR,
    PRIMARY KEY (source, force_id, month)
);

-- Crime cube by month, every level the data supports. n counts distinct crimes (or ASB
-- incidents for category 'anti-social-behaviour'); sd counts sanction detections.
CREATE TABLE IF NOT EXISTS cube_crime_month (
    source VARCHAR NOT NULL,
    force_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    month DATE NOT NULL,
    category VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    sd BIGINT NOT NULL,
    -- crime harm (docs/harm-and-maps.md): sum and sum of squares of the crimes' ONS Crime
    -- Severity Score weights, and how many crimes were weighted by their category's
    -- approximate weight because they carried no (known) Home Office offence code
    harm DOUBLE NOT NULL DEFAULT 0,
    harm2 DOUBLE NOT NULL DEFAULT 0,
    harm_approx BIGINT NOT NULL DEFAULT 0
);

-- Same by day, for sources with day-level dates (force crime data, demo). Officer level is
-- left to the month cube and to raw facts: by day it would be as large as the facts.
CREATE TABLE IF NOT EXISTS cube_crime_day (
    source VARCHAR NOT NULL,
    force_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    day DATE NOT NULL,
    category VARCHAR NOT NULL,
    n BIGINT NOT NULL,
    sd BIGINT NOT NULL,
    -- crime harm (docs/harm-and-maps.md): sum and sum of squares of the crimes' ONS Crime
    -- Severity Score weights, and how many crimes were weighted by their category's
    -- approximate weight because they carried no (known) Home Office offence code
    harm DOUBLE NOT NULL DEFAULT 0,
    harm2 DOUBLE NOT NULL DEFAULT 0,
    harm_approx BIGINT NOT NULL DEFAULT 0
);

-- Every measure, of every source, by month, for every level the data supports: crime
-- measures (from cube_crime_month, by the categories and kind each declares), service
-- measures (from their dataset's rows, by the measure's own SQL) and comparators of other
-- forces. num / den as the measure's kind defines them (etl/measures/kinds.py; den NULL for
-- plain counts, the unit's population for rates per population), num2 the sum of squares
-- for a mean or the second group's count for a rate ratio, den2 the second group's
-- denominator. `dataset` is the lake dataset the row was built from. Service rows with an
-- undefined value (den = 0) are left out.
CREATE TABLE IF NOT EXISTS cube_measure_month (
    dataset VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    force_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    month DATE NOT NULL,
    measure_id VARCHAR NOT NULL,
    num DOUBLE NOT NULL,
    den DOUBLE,
    num2 DOUBLE,
    den2 DOUBLE
);

-- Same by day for the datasets with day-level dates and measures that add up over time; no
-- officer level (as cube_crime_day).
CREATE TABLE IF NOT EXISTS cube_measure_day (
    dataset VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    force_id VARCHAR NOT NULL,
    unit_id VARCHAR NOT NULL,
    level VARCHAR NOT NULL,
    day DATE NOT NULL,
    measure_id VARCHAR NOT NULL,
    num DOUBLE NOT NULL,
    den DOUBLE,
    num2 DOUBLE,
    den2 DOUBLE
);

-- Transitional: the service rows under their old names, for dashboard code that has not yet
-- moved to cube_measure_*.
CREATE OR REPLACE VIEW cube_service_month AS
    SELECT dataset, source, force_id, unit_id, level, month, measure_id, num, den, num2
    FROM cube_measure_month WHERE dataset <> 'crime';
CREATE OR REPLACE VIEW cube_service_day AS
    SELECT dataset, source, force_id, unit_id, level, day, measure_id, num, den, num2
    FROM cube_measure_day WHERE dataset <> 'crime';
