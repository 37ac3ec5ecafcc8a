-- mimic_cxr.record_list: BigQuery's physionet-data.mimic_cxr.record_list; one row per DICOM; grain dicom_id;
-- reads raw.images. The mimic_cxr schema holds the BigQuery tables as local views, same names and columns, so
-- users' BigQuery SQL runs here with few changes (`physionet-data.mimic_cxr.x` -> mimic_cxr.x).
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

CREATE OR REPLACE VIEW mimic_cxr.record_list AS
SELECT subject_id, study_id, dicom_id, path
FROM raw.images
ORDER BY subject_id, study_id, dicom_id;
