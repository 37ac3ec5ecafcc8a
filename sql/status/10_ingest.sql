-- status: ingest counts (stage, ok, failed, pending, note); grain stage (one row per item kind); reads raw.images,
-- raw.reports, raw.source_problems, raw.source_warnings.
SELECT 'ingest: images' AS stage,
       count(*) FILTER (WHERE error IS NULL) AS ok,
       count(*) FILTER (WHERE error IS NOT NULL) AS failed,
       0 AS pending,
       NULL AS note
FROM raw.images
UNION ALL
SELECT 'ingest: reports',
       count(*) FILTER (WHERE error IS NULL),
       count(*) FILTER (WHERE error IS NOT NULL),
       0,
       CAST(count(*) FILTER (WHERE error IS NULL AND labeler_text = '') AS VARCHAR)
           || ' with no impression/findings/last_paragraph/comparison'
FROM raw.reports
UNION ALL
SELECT 'ingest: other files', 0, count(*), 0,
       'files that became no row: outside the layout, unsafe ids, duplicates, not regular files'
FROM raw.source_problems
UNION ALL
SELECT 'ingest: source warnings', count(*), 0, 0, 'kept with a warning: dicom_id outside MIMIC''s form'
FROM raw.source_warnings
