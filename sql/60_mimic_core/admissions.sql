-- mimic_core.admissions: MIMIC-IV v1's core.admissions over the attached admissions, with v1's column names
-- (ethnicity, renamed race in 2.0) and without the later admit_provider_id; grain hadm_id;
-- reads mimiciv_hosp.admissions.
CREATE SCHEMA IF NOT EXISTS mimic_core;

CREATE OR REPLACE VIEW mimic_core.admissions AS
SELECT
    subject_id, hadm_id, admittime, dischtime, deathtime, admission_type, admission_location,
    discharge_location, insurance, language, marital_status, race AS ethnicity, edregtime, edouttime,
    hospital_expire_flag
FROM mimiciv_hosp.admissions;
