-- mimic_core.patients: MIMIC-IV v1's core.patients (BigQuery physionet-data.mimic_core.patients) over the
-- attached patients; grain subject_id; reads mimiciv_hosp.patients.
CREATE SCHEMA IF NOT EXISTS mimic_core;

CREATE OR REPLACE VIEW mimic_core.patients AS
SELECT subject_id, gender, anchor_age, anchor_year, anchor_year_group, dod
FROM mimiciv_hosp.patients;
