-- stg.labels_bq: stg.labels with the BigQuery column names (spaces -> underscores); grain (labeler, study_id);
-- reads stg.labels.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.labels_bq AS
SELECT
    labeler, subject_id, study_id, "Atelectasis" AS Atelectasis, "Cardiomegaly" AS Cardiomegaly,
    "Consolidation" AS Consolidation, "Edema" AS Edema, "Enlarged Cardiomediastinum" AS Enlarged_Cardiomediastinum,
    "Fracture" AS Fracture, "Lung Lesion" AS Lung_Lesion, "Lung Opacity" AS Lung_Opacity,
    "No Finding" AS No_Finding, "Pleural Effusion" AS Pleural_Effusion, "Pleural Other" AS Pleural_Other,
    "Pneumonia" AS Pneumonia, "Pneumothorax" AS Pneumothorax, "Support Devices" AS Support_Devices
FROM stg.labels;
