-- stg.images: one row per readable DICOM header; grain dicom_id; reads raw.images.
-- The only place raw header strings are cast: StudyDate to an integer (YYYYMMDD) and StudyTime to the float
-- the published file holds (pandas re-parsed the string: '084338.000' -> 84338.0).
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.images AS
SELECT
    dicom_id,
    subject_id,
    study_id,
    path,
    PerformedProcedureStepDescription,
    ViewPosition,
    "Rows",
    "Columns",
    TRY_CAST(trim(StudyDate) AS BIGINT) AS StudyDate,
    TRY_CAST(trim(StudyTime) AS DOUBLE) AS StudyTime,
    ProcedureCodeSequence_CodeMeaning,
    ViewCodeSequence_CodeMeaning,
    PatientOrientationCodeSequence_CodeMeaning,
    AcquisitionDeviceProcessingDescription,
    PhotometricInterpretation,
    TransferSyntaxUID
FROM raw.images
WHERE error IS NULL;
