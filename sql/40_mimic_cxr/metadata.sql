-- mimic_cxr.metadata: BigQuery's metadata, the metadata export table; grain dicom_id; reads release.metadata.
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

CREATE OR REPLACE VIEW mimic_cxr.metadata AS
SELECT * FROM release.metadata;
