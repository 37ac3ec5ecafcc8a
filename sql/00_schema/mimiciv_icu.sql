-- mimiciv_icu: MIMIC-IV's icu module, attached by `cxrdb attach mimic-iv` (BigQuery: physionet-data.mimiciv_icu).
-- The tables the linking views read are created here, empty until attach fills them (so every view over
-- them exists before anything is attached); every other table of the module is a view over its file, made
-- by attach. Columns and types: cxrdb/mimiciv/tables.tsv (tests check that they agree).
CREATE SCHEMA IF NOT EXISTS mimiciv_icu;

-- mimiciv_icu.icustays: one row per ICU stay; grain stay_id.
CREATE TABLE IF NOT EXISTS mimiciv_icu.icustays (
    subject_id INTEGER,
    hadm_id INTEGER,
    stay_id INTEGER,
    first_careunit VARCHAR,
    last_careunit VARCHAR,
    intime TIMESTAMP,
    outtime TIMESTAMP,
    los DOUBLE
);
