-- check: every conversion result belongs to an ingested image (no orphans after a source changed); grain
-- dicom_id (one row per orphan); reads work.jpg, raw.images.
SELECT j.dicom_id, j.jpg_path
FROM work.jpg AS j
LEFT JOIN raw.images AS i USING (dicom_id)
WHERE i.dicom_id IS NULL
ORDER BY j.dicom_id
