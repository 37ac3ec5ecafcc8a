-- release.image_filenames: IMAGE_FILENAMES; one row per converted image; grain dicom_id; reads work.jpg,
-- stg.release_images. Export keeps the rows whose out_root is the release folder and whose JPG on disk is still
-- the recorded file (cxrdb/manifest.py).
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.image_filenames AS
SELECT j.dicom_id, j.jpg_path, j.out_root
FROM work.jpg AS j
JOIN stg.release_images AS i USING (dicom_id)
WHERE j.error IS NULL AND j.jpg_path IS NOT NULL
ORDER BY j.jpg_path;
