-- release.metadata: mimic-cxr-2.0.0-metadata.csv.gz; one row per image; grain dicom_id; reads stg.release_images.
-- Published column order (12 columns); rows by subject_id, study_id, then dicom_id (deterministic).
-- Differs from the original on purpose: a missing sequence leaves its own column empty (the original's
-- notebook shifted later values left).
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.metadata AS
WITH final AS (
    SELECT
        dicom_id,
        subject_id,
        study_id,
        PerformedProcedureStepDescription,
        ViewPosition,
        "Rows",
        "Columns",
        StudyDate,
        StudyTime,
        ProcedureCodeSequence_CodeMeaning,
        ViewCodeSequence_CodeMeaning,
        PatientOrientationCodeSequence_CodeMeaning
    FROM stg.release_images
)
SELECT * FROM final
ORDER BY subject_id, study_id, dicom_id;
