-- mimic_cxr.study_list: BigQuery's study_list; one row per report; grain study_id; reads raw.reports.
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

CREATE OR REPLACE VIEW mimic_cxr.study_list AS
SELECT subject_id, study_id, path
FROM raw.reports
ORDER BY subject_id, study_id;
