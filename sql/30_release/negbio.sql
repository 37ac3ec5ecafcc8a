-- release.negbio: mimic-cxr-2.0.0-negbio.csv.gz; one row per study with labeler text; grain study_id;
-- reads work.labels, stg.reports. subject_id, study_id, then the 14 observations alphabetically.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.negbio AS
WITH final AS (
    SELECT
        r.subject_id,
        r.study_id,
        l."Atelectasis",
        l."Cardiomegaly",
        l."Consolidation",
        l."Edema",
        l."Enlarged Cardiomediastinum",
        l."Fracture",
        l."Lung Lesion",
        l."Lung Opacity",
        l."No Finding",
        l."Pleural Effusion",
        l."Pleural Other",
        l."Pneumonia",
        l."Pneumothorax",
        l."Support Devices"
    FROM work.labels AS l
    JOIN stg.reports AS r USING (study_id)
    WHERE l.labeler = 'negbio' AND r.labeler_text <> ''
)
SELECT * FROM final
ORDER BY subject_id, study_id;
