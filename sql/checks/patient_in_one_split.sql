-- check: no patient in two splits; grain subject_id (one row per offending patient; no rows = pass); reads
-- work.split.
SELECT subject_id, list(DISTINCT split ORDER BY split) AS splits
FROM work.split
GROUP BY subject_id
HAVING count(DISTINCT split) > 1
ORDER BY subject_id
