-- check: once a labeler has run, every study with labeler text has its labels (none left behind by an
-- interrupted run); grain (study_id, labeler) (one row per pair still missing); reads stg.reports, work.labels.
SELECT r.study_id, lab.labeler
FROM stg.reports AS r
CROSS JOIN (SELECT DISTINCT labeler FROM work.labels) AS lab
LEFT JOIN work.labels AS l ON l.study_id = r.study_id AND l.labeler = lab.labeler
WHERE r.labeler_text <> '' AND l.study_id IS NULL
ORDER BY r.study_id, lab.labeler
