-- analysis.image_view: the inferred view of every image whose header was read (README "Inferred views"): view,
-- rule, source_column, source_value, portable; grain dicom_id; reads stg.image_view (where the rules are applied).
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.image_view AS
SELECT dicom_id, subject_id, study_id, view, rule, source_column, source_value, portable
FROM stg.image_view;
