-- release.negbio: mimic-cxr-2.0.0-negbio.csv.gz; one row per study with labeler text; grain study_id; reads
-- stg.labels. subject_id, study_id, then the 14 observations alphabetically.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.negbio AS
SELECT * EXCLUDE (labeler)
FROM stg.labels
WHERE labeler = 'negbio'
ORDER BY subject_id, study_id;
