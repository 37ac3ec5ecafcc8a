-- mimic_cxr: the BigQuery physionet-data.mimic_cxr tables as local views, same names and columns, so that
-- users' BigQuery SQL runs here with few changes (`physionet-data.mimic_cxr.x` -> mimic_cxr.x).
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

-- mimic_cxr.record_list: one row per DICOM; grain dicom_id.
CREATE OR REPLACE VIEW mimic_cxr.record_list AS
SELECT subject_id, study_id, dicom_id, path
FROM raw.images
ORDER BY subject_id, study_id, dicom_id;

-- mimic_cxr.study_list: one row per report; grain study_id.
CREATE OR REPLACE VIEW mimic_cxr.study_list AS
SELECT subject_id, study_id, path
FROM raw.reports
ORDER BY subject_id, study_id;

-- mimic_cxr.metadata: the metadata export table.
CREATE OR REPLACE VIEW mimic_cxr.metadata AS
SELECT * FROM release.metadata;

-- mimic_cxr.dicom_metadata_string: header values as strings, keyed by `dicom`; the columns the BigQuery
-- table is known to carry, each NULL when the file lacks it.
CREATE OR REPLACE VIEW mimic_cxr.dicom_metadata_string AS
SELECT
    dicom_id AS dicom,
    PatientID,
    StudyID,
    StudyDate,
    StudyTime,
    header ->> 'ImageType' AS ImageType,
    header ->> 'TableType' AS TableType,
    header ->> 'DistanceSourceToDetector' AS DistanceSourceToDetector,
    header ->> 'DistanceSourceToPatient' AS DistanceSourceToPatient,
    header ->> 'Exposure' AS Exposure,
    header ->> 'ExposureTime' AS ExposureTime,
    header ->> 'XRayTubeCurrent' AS XRayTubeCurrent,
    header ->> 'FieldOfViewRotation' AS FieldOfViewRotation,
    header ->> 'FieldOfViewOrigin' AS FieldOfViewOrigin,
    header ->> 'FieldOfViewHorizontalFlip' AS FieldOfViewHorizontalFlip,
    ViewPosition,
    header ->> 'PatientOrientation' AS PatientOrientation,
    header ->> 'BurnedInAnnotation' AS BurnedInAnnotation,
    header ->> 'RequestingService' AS RequestingService,
    header ->> 'DetectorPrimaryAngle' AS DetectorPrimaryAngle,
    header ->> 'DetectorElementPhysicalSize' AS DetectorElementPhysicalSize,
    Modality,
    PerformedProcedureStepDescription,
    PhotometricInterpretation,
    CAST("Rows" AS VARCHAR) AS "Rows",
    CAST("Columns" AS VARCHAR) AS "Columns"
FROM raw.images
WHERE error IS NULL;

-- mimic_cxr.split: the split export table.
CREATE OR REPLACE VIEW mimic_cxr.split AS
SELECT * FROM release.split;

-- mimic_cxr.chexpert: BigQuery column names (spaces become underscores).
CREATE OR REPLACE VIEW mimic_cxr.chexpert AS
SELECT * EXCLUDE (labeler)
FROM stg.labels_bq
WHERE labeler = 'chexpert'
ORDER BY subject_id, study_id;

-- mimic_cxr.negbio: BigQuery column names (spaces become underscores).
CREATE OR REPLACE VIEW mimic_cxr.negbio AS
SELECT * EXCLUDE (labeler)
FROM stg.labels_bq
WHERE labeler = 'negbio'
ORDER BY subject_id, study_id;
