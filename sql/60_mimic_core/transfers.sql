-- mimic_core.transfers: MIMIC-IV v1's core.transfers over the attached transfers; grain transfer_id;
-- reads mimiciv_hosp.transfers.
CREATE SCHEMA IF NOT EXISTS mimic_core;

CREATE OR REPLACE VIEW mimic_core.transfers AS
SELECT subject_id, hadm_id, transfer_id, eventtype, careunit, intime, outtime
FROM mimiciv_hosp.transfers;
