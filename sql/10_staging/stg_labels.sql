-- stg.labels: one row per (labeler, study with labeler text and at least one released image); grain (labeler,
-- study_id); reads work.labels, stg.selected_studies, stg.release_images, raw.images. A report without a released
-- image (none in the source, or every one failed) is labeled in work.labels but never published: a label file names
-- only studies a user can load an image of. A reports-only catalog (no image ingested at all, `build
-- --reports-only`) publishes every labeled study.
-- The published column names; stg.labels_bq has the BigQuery ones.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.labels AS
SELECT
    l.labeler,
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
JOIN stg.selected_studies AS r USING (study_id)
WHERE r.labeler_text <> ''
  AND (EXISTS (SELECT 1 FROM stg.release_images AS i WHERE i.study_id = r.study_id)
       OR NOT EXISTS (SELECT 1 FROM raw.images));
