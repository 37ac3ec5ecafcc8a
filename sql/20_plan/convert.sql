-- plan.convert(params, out_root): where every readable image stands for conversion into out_root with the
-- parameter fingerprint params; grain dicom_id; reads raw.images, stg.selected_images, work.jpg.
-- Only the images the selection in force picks (meta.selection) are planned. The one definition of "current":
-- convert, build and status all read it. state is current, failed (same inputs, failed before), or why the
-- image must be (re)converted: new, source changed, parameters changed, other output folder. A current row
-- still needs its JPG on disk to match (cxrdb/convert/ondisk.py checks size, mtime and sha256).
CREATE SCHEMA IF NOT EXISTS plan;

CREATE OR REPLACE MACRO plan.convert(params, out_root) AS TABLE
SELECT
    i.dicom_id,
    i.path,
    regexp_replace(i.path, '\.dcm$', '.jpg') AS jpg_path,
    i.file_size,
    i.file_mtime_ns,
    j.jpg_bytes,
    j.jpg_sha256,
    j.jpg_mtime_ns,
    CASE
        WHEN j.dicom_id IS NULL THEN 'new'
        WHEN j.source_size IS DISTINCT FROM i.file_size
             OR j.source_mtime_ns IS DISTINCT FROM i.file_mtime_ns THEN 'source changed'
        WHEN j.params IS DISTINCT FROM params THEN 'parameters changed'
        WHEN j.out_root IS DISTINCT FROM out_root THEN 'other output folder'
        WHEN j.error IS NOT NULL THEN 'failed'
        ELSE 'current'
    END AS state
FROM raw.images AS i
LEFT JOIN work.jpg AS j USING (dicom_id)
WHERE i.error IS NULL
  AND i.dicom_id IN (SELECT s.dicom_id FROM stg.selected_images AS s);
