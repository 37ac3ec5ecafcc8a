-- stg.reports: one row per readable report; grain study_id; reads raw.reports.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.reports AS
SELECT study_id, subject_id, path, section, labeler_text
FROM raw.reports
WHERE error IS NULL;
