-- stg.selected_images: the readable images the selection in force picks (all of them when meta.selection is
-- empty); grain dicom_id; reads stg.images, meta.selection, stg.image_view, work.split. Kinds combine with AND,
-- the values of one kind with OR. The view kind is the inferred view (stg.image_view, README "Inferred views");
-- the split kind reads work.split, assigned over the whole catalog, so a subset's split is the full build's.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.selected_images AS
WITH kinds AS (
    SELECT DISTINCT kind FROM meta.selection
)
SELECT i.*
FROM stg.images AS i
WHERE (NOT EXISTS (SELECT 1 FROM kinds WHERE kind = 'subject')
       OR i.subject_id IN (SELECT s.id FROM meta.selection AS s WHERE s.kind = 'subject'))
  AND (NOT EXISTS (SELECT 1 FROM kinds WHERE kind = 'study')
       OR i.study_id IN (SELECT s.id FROM meta.selection AS s WHERE s.kind = 'study'))
  AND (NOT EXISTS (SELECT 1 FROM kinds WHERE kind = 'view')
       OR i.dicom_id IN (SELECT v.dicom_id FROM stg.image_view AS v
                         JOIN meta.selection AS s ON s.kind = 'view' AND s.value = v.view))
  AND (NOT EXISTS (SELECT 1 FROM kinds WHERE kind = 'split')
       OR i.dicom_id IN (SELECT p.dicom_id FROM work.split AS p
                         JOIN meta.selection AS s ON s.kind = 'split' AND s.value = p.split));
