-- mimic_cxr.dicom_metadata_string: BigQuery's dicom_metadata_string, header values as strings keyed by `dicom`;
-- grain dicom (one row per readable DICOM header); reads raw.images. The columns the BigQuery table is known to
-- carry, each NULL when the file lacks it.
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

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
