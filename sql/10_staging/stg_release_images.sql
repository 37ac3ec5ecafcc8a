-- stg.release_images: the images a release lists; grain dicom_id; reads stg.selected_images, work.jpg,
-- work.derivative. Every readable header the selection in force picks, less images whose conversion (or a
-- smaller copy of it, `--size`) failed (a release never names a JPG it lacks; `cxrdb status` and the build README
-- list them). Images not converted yet are kept.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.release_images AS
SELECT i.*
FROM stg.selected_images AS i
WHERE NOT EXISTS (SELECT 1 FROM work.jpg AS j WHERE j.dicom_id = i.dicom_id AND j.error IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM work.derivative AS d WHERE d.dicom_id = i.dicom_id AND d.error IS NOT NULL);
