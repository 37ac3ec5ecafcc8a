-- status failures: every failed item with its one-line error (stage, item, error), deterministic order;
-- source warnings of rows that did not fail otherwise (kept, but noted) too, as stage 'ingest (warning)'; grain
-- (stage, item); reads raw.images, raw.reports, raw.source_problems, raw.source_warnings, work.jpg,
-- work.derivative.
SELECT * FROM (
    SELECT 'ingest' AS stage, path AS item, error FROM raw.images WHERE error IS NOT NULL
    UNION ALL
    SELECT 'ingest', path, error FROM raw.reports WHERE error IS NOT NULL
    UNION ALL
    SELECT 'ingest', path, error FROM raw.source_problems
    UNION ALL
    SELECT 'ingest (warning)', path, warning FROM raw.source_warnings
    WHERE path NOT IN (SELECT path FROM raw.images WHERE error IS NOT NULL)
    UNION ALL
    SELECT 'convert', dicom_id, error FROM work.jpg WHERE error IS NOT NULL
    UNION ALL
    SELECT 'convert files_' || size, dicom_id, error FROM work.derivative WHERE error IS NOT NULL
)
ORDER BY stage, item
