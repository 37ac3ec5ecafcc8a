-- analysis.labels_long: one row per (study, labeler, observation); grain (study_id, labeler, observation); reads
-- work.labels. NULL = blank.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.labels_long AS
SELECT study_id, labeler, observation, label
FROM work.labels
UNPIVOT INCLUDE NULLS (
    label FOR observation IN (
        "Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
        "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
        "Pneumothorax", "Support Devices"
    )
);
