-- status: labeling counts for one labeler (stage, ok, failed, pending, note) from plan.labels, the definition
-- label uses; $labeler is the labeler's name, $rules its current fingerprint. status runs it per labeler; grain
-- stage (one row per run); reads plan.labels, work.labels.
SELECT 'label: ' || $labeler AS stage,
       count(*) FILTER (WHERE p.state = 'current') AS ok,
       0 AS failed,
       count(*) FILTER (WHERE p.state <> 'current') AS pending,
       CAST(coalesce(sum(l.parse_failures) FILTER (WHERE p.state = 'current'), 0) AS VARCHAR)
           || ' sentences the parser could not handle' AS note
FROM plan.labels($labeler, $rules) AS p
LEFT JOIN work.labels AS l ON l.study_id = p.study_id AND l.labeler = $labeler
