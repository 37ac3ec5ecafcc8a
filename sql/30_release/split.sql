-- release.split: mimic-cxr-2.0.0-split.csv.gz; one row per image; grain dicom_id; reads work.split, stg.release_images.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.split AS
WITH final AS (
    SELECT s.dicom_id, s.study_id, s.subject_id, s.split
    FROM work.split AS s
    JOIN stg.release_images AS i USING (dicom_id)
)
SELECT * FROM final
ORDER BY subject_id, study_id, dicom_id;
