-- check: every study belongs to one patient, in images and reports alike; grain study_id (one row per offending
-- study); reads raw.images, raw.reports.
SELECT study_id, list(DISTINCT subject_id ORDER BY subject_id) AS subjects
FROM (
    SELECT study_id, subject_id FROM raw.images
    UNION ALL
    SELECT study_id, subject_id FROM raw.reports
)
GROUP BY study_id
HAVING count(DISTINCT subject_id) > 1
ORDER BY study_id
