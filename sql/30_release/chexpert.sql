-- release.chexpert: mimic-cxr-2.0.0-chexpert.csv.gz; one row per study with labeler text; grain study_id; reads
-- stg.labels. subject_id, study_id, then the 14 observations alphabetically.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.chexpert AS
SELECT * EXCLUDE (labeler)
FROM stg.labels
WHERE labeler = 'chexpert'
ORDER BY subject_id, study_id;
