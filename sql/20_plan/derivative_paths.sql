-- plan.derivative_paths(sizes): the smaller copy every readable image has in each size asked for (sizes: a list
-- of longer sides in pixels), at its path (files_N/ in the published layout); grain (dicom_id, size); reads
-- raw.images. The one definition of a copy's path: plan.derivatives and the stray check read it (the stray check
-- for every image, selected or not: a copy an earlier, wider run made is this catalog's own).
CREATE SCHEMA IF NOT EXISTS plan;

CREATE OR REPLACE MACRO plan.derivative_paths(sizes) AS TABLE
SELECT
    i.dicom_id,
    s.size,
    i.path,
    regexp_replace(i.path, '^files/(.*)\.dcm$', 'files_' || s.size || '/\1.jpg') AS jpg_path,
    i.file_size,
    i.file_mtime_ns
FROM raw.images AS i
CROSS JOIN (SELECT CAST(unnest(sizes) AS INTEGER) AS size) AS s
WHERE i.error IS NULL;
