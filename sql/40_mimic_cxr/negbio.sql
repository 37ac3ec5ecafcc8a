-- mimic_cxr.negbio: BigQuery's negbio, the negbio label file with BigQuery column names (spaces become underscores);
-- grain study_id; reads stg.labels_bq.
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

CREATE OR REPLACE VIEW mimic_cxr.negbio AS
SELECT * EXCLUDE (labeler)
FROM stg.labels_bq
WHERE labeler = 'negbio'
ORDER BY subject_id, study_id;
