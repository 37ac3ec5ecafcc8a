-- stg.selected_studies: the readable reports the selection in force picks (all of them when meta.selection is
-- empty); grain study_id; reads stg.reports, stg.images, stg.selected_images, meta.selection. With images in the
-- catalog a report is picked when one of its study's images is; a reports-only catalog is filtered by the
-- subject and study kinds alone.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.selected_studies AS
SELECT r.*
FROM stg.reports AS r
WHERE NOT EXISTS (SELECT 1 FROM meta.selection)
   OR (EXISTS (SELECT 1 FROM stg.images)
       AND r.study_id IN (SELECT i.study_id FROM stg.selected_images AS i))
   OR (NOT EXISTS (SELECT 1 FROM stg.images)
       AND (NOT EXISTS (SELECT 1 FROM meta.selection AS s WHERE s.kind = 'subject')
            OR r.subject_id IN (SELECT s.id FROM meta.selection AS s WHERE s.kind = 'subject'))
       AND (NOT EXISTS (SELECT 1 FROM meta.selection AS s WHERE s.kind = 'study')
            OR r.study_id IN (SELECT s.id FROM meta.selection AS s WHERE s.kind = 'study')));
