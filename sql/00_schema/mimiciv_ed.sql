-- mimiciv_ed: the MIMIC-IV-ED module, attached by `cxrdb attach mimic-iv` (BigQuery: physionet-data.mimiciv_ed).
-- The tables the linking views read are created here, empty until attach fills them (so every view over
-- them exists before anything is attached); every other table of the module is a view over its file, made
-- by attach. Columns and types: cxrdb/mimiciv/tables.tsv (tests check that they agree).
CREATE SCHEMA IF NOT EXISTS mimiciv_ed;

-- mimiciv_ed.edstays: one row per emergency department stay (MIMIC-IV-ED); grain stay_id.
CREATE TABLE IF NOT EXISTS mimiciv_ed.edstays (
    subject_id INTEGER,
    hadm_id INTEGER,
    stay_id INTEGER,
    intime TIMESTAMP,
    outtime TIMESTAMP,
    gender VARCHAR,
    race VARCHAR,
    arrival_transport VARCHAR,
    disposition VARCHAR
);
