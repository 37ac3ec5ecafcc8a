-- mimiciv_hosp: MIMIC-IV's hosp module, attached by `cxrdb attach mimic-iv` (BigQuery: physionet-data.mimiciv_hosp).
-- The tables the linking views read are created here, empty until attach fills them (so every view over
-- them exists before anything is attached); every other table of the module is a view over its file, made
-- by attach. Columns and types: cxrdb/mimiciv/tables.tsv (tests check that they agree).
CREATE SCHEMA IF NOT EXISTS mimiciv_hosp;

-- mimiciv_hosp.admissions: one row per hospital admission; grain hadm_id.
CREATE TABLE IF NOT EXISTS mimiciv_hosp.admissions (
    subject_id INTEGER,
    hadm_id INTEGER,
    admittime TIMESTAMP,
    dischtime TIMESTAMP,
    deathtime TIMESTAMP,
    admission_type VARCHAR,
    admit_provider_id VARCHAR,
    admission_location VARCHAR,
    discharge_location VARCHAR,
    insurance VARCHAR,
    language VARCHAR,
    marital_status VARCHAR,
    race VARCHAR,
    edregtime TIMESTAMP,
    edouttime TIMESTAMP,
    hospital_expire_flag SMALLINT
);

-- mimiciv_hosp.d_icd_diagnoses: the ICD-9/ICD-10 diagnosis dictionary; grain (icd_code, icd_version).
CREATE TABLE IF NOT EXISTS mimiciv_hosp.d_icd_diagnoses (
    icd_code VARCHAR,
    icd_version SMALLINT,
    long_title VARCHAR
);

-- mimiciv_hosp.diagnoses_icd: one row per billed diagnosis of an admission; grain (hadm_id, seq_num).
CREATE TABLE IF NOT EXISTS mimiciv_hosp.diagnoses_icd (
    subject_id INTEGER,
    hadm_id INTEGER,
    seq_num INTEGER,
    icd_code VARCHAR,
    icd_version SMALLINT
);

-- mimiciv_hosp.patients: one row per patient: sex, anchor age and (shifted) anchor year, date of death; grain subject_id.
CREATE TABLE IF NOT EXISTS mimiciv_hosp.patients (
    subject_id INTEGER,
    gender VARCHAR,
    anchor_age SMALLINT,
    anchor_year SMALLINT,
    anchor_year_group VARCHAR,
    dod DATE
);

-- mimiciv_hosp.transfers: one row per ward transfer event; grain transfer_id.
CREATE TABLE IF NOT EXISTS mimiciv_hosp.transfers (
    subject_id INTEGER,
    hadm_id INTEGER,
    transfer_id INTEGER,
    eventtype VARCHAR,
    careunit VARCHAR,
    intime TIMESTAMP,
    outtime TIMESTAMP
);
