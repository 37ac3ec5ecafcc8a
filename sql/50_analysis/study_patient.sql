-- analysis.study_patient: each study with its patient's sex and age from MIMIC-IV patients; grain study_id;
-- reads analysis.study_datetime, mimiciv_hosp.patients.
-- age_at_study = anchor_age + (year of the study - anchor_year): anchor_year is the patient's shifted year in
-- which they were anchor_age (MIMIC-IV caps anchor_age at 91 for patients over 89). in_mimic_iv is false (and
-- the patient columns NULL) when the patient is not in the attached patients table, or nothing is attached.
-- died_before_study: dod is before the study's date (false when no dod; NULL when the patient is unknown).
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.study_patient AS
SELECT
    s.subject_id,
    s.study_id,
    s.study_datetime,
    p.subject_id IS NOT NULL AS in_mimic_iv,
    p.gender,
    p.anchor_age,
    p.anchor_year,
    p.anchor_year_group,
    p.anchor_age + (year(s.study_datetime) - p.anchor_year) AS age_at_study,
    p.dod,
    CASE WHEN p.subject_id IS NOT NULL THEN coalesce(p.dod < CAST(s.study_datetime AS DATE), false) END
        AS died_before_study
FROM analysis.study_datetime AS s
LEFT JOIN mimiciv_hosp.patients AS p ON p.subject_id = s.subject_id;
