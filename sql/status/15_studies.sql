-- status: how images and reports pair up by study (stage, ok, failed, pending, note): studies with both, studies
-- whose images have no readable report (no label row), readable reports with no readable image (never published,
-- unless the catalog has no image at all: a reports-only build);
-- grain stage (one row); reads stg.images, stg.reports, raw.images.
SELECT 'studies: image + report' AS stage,
       count(*) FILTER (WHERE has_image AND has_report) AS ok,
       0 AS failed,
       0 AS pending,
       CASE WHEN count(*) > 0 AND NOT EXISTS (SELECT 1 FROM raw.images)
            THEN 'reports only: no image ingested, every labeled study is published'
            ELSE CAST(count(*) FILTER (WHERE has_image AND NOT has_report) AS VARCHAR) || ' studies without a report, '
                 || CAST(count(*) FILTER (WHERE has_report AND NOT has_image) AS VARCHAR) || ' reports without images'
       END AS note
FROM (
    SELECT study_id, bool_or(kind = 'image') AS has_image, bool_or(kind = 'report') AS has_report
    FROM (SELECT study_id, 'image' AS kind FROM stg.images UNION ALL SELECT study_id, 'report' FROM stg.reports)
    GROUP BY study_id
)
