-- release.derivative_filenames: IMAGE_FILENAMES_N, one list per size; one row per smaller copy made; grain
-- (dicom_id, size); reads work.derivative, stg.release_images. Export keeps the rows whose out_root is the
-- release folder and whose file on disk is still the recorded one (cxrdb/manifest.py).
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.derivative_filenames AS
SELECT d.dicom_id, d.size, d.jpg_path, d.out_root
FROM work.derivative AS d
JOIN stg.release_images AS i USING (dicom_id)
WHERE d.error IS NULL AND d.jpg_path IS NOT NULL
ORDER BY d.size DESC, d.jpg_path;
