-- patients_in_two_splits: patients whose images a split file puts in more than one split; grain (side,
-- subject_id); reads ours_all, theirs_all (every row, duplicates included: a patient in two splits is a leak).
SELECT 'ours' AS side, subject_id, string_agg(DISTINCT split, ',' ORDER BY split) AS splits, count(*) AS images
FROM ours_all GROUP BY subject_id HAVING count(DISTINCT split) > 1
UNION ALL
SELECT 'theirs' AS side, subject_id, string_agg(DISTINCT split, ',' ORDER BY split) AS splits, count(*) AS images
FROM theirs_all GROUP BY subject_id HAVING count(DISTINCT split) > 1
ORDER BY side, subject_id;
