-- check: no patient in two splits. Returns the offending patients; no rows = pass.
SELECT subject_id, list(DISTINCT split ORDER BY split) AS splits
FROM work.split
GROUP BY subject_id
HAVING count(DISTINCT split) > 1
ORDER BY subject_id
