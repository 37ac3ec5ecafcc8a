-- status: labeling counts per labeler (stage, ok, failed, pending, note); pending = texts with no label row.
-- The two release labelers always show; an explicit variant (chexpert+alternatives) shows once it has run.
SELECT 'label: ' || lab.labeler AS stage,
       count(l.study_id) AS ok,
       0 AS failed,
       count(*) - count(l.study_id) AS pending,
       CAST(coalesce(sum(l.parse_failures), 0) AS VARCHAR) || ' sentences the parser could not handle' AS note
FROM stg.reports AS r
CROSS JOIN (SELECT * FROM (VALUES ('chexpert'), ('negbio')) AS v(labeler)
            UNION SELECT DISTINCT labeler FROM work.labels) AS lab
LEFT JOIN work.labels AS l ON l.study_id = r.study_id AND l.labeler = lab.labeler
WHERE r.labeler_text <> ''
GROUP BY lab.labeler
ORDER BY lab.labeler
