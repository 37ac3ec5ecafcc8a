-- mimic_cxr.split: BigQuery's split, the split export table; grain dicom_id; reads release.split.
CREATE SCHEMA IF NOT EXISTS mimic_cxr;

CREATE OR REPLACE VIEW mimic_cxr.split AS
SELECT * FROM release.split;
