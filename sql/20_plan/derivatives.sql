-- plan.derivatives(sizes, params, out_root): where every readable image stands for each smaller copy asked for
-- (sizes: a list of longer sides in pixels) under out_root with the derivative fingerprint params; grain
-- (dicom_id, size); reads plan.derivative_paths, stg.selected_images, work.derivative. Only the images the
-- selection in force picks are planned. The one definition of a current copy: convert, build and status read
-- it. state as in plan.convert: current, failed, or why the copy must be (re)made. A current row still needs its file on disk
-- to match (cxrdb/convert/ondisk.py).
CREATE SCHEMA IF NOT EXISTS plan;

CREATE OR REPLACE MACRO plan.derivatives(sizes, params, out_root) AS TABLE
WITH wanted AS (
    SELECT p.*
    FROM plan.derivative_paths(sizes) AS p
    WHERE p.dicom_id IN (SELECT s.dicom_id FROM stg.selected_images AS s)
)
SELECT
    w.dicom_id,
    w.size,
    w.path,
    w.jpg_path,
    w.file_size,
    w.file_mtime_ns,
    d.jpg_bytes,
    d.jpg_sha256,
    d.jpg_mtime_ns,
    CASE
        WHEN d.dicom_id IS NULL THEN 'new'
        WHEN d.source_size IS DISTINCT FROM w.file_size
             OR d.source_mtime_ns IS DISTINCT FROM w.file_mtime_ns THEN 'source changed'
        WHEN d.params IS DISTINCT FROM params THEN 'parameters changed'
        WHEN d.out_root IS DISTINCT FROM out_root THEN 'other output folder'
        WHEN d.error IS NOT NULL THEN 'failed'
        ELSE 'current'
    END AS state
FROM wanted AS w
LEFT JOIN work.derivative AS d ON d.dicom_id = w.dicom_id AND d.size = w.size;
