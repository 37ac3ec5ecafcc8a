-- duplicate_keys: keys a file holds more than once (only the first row of each is compared); grain
-- (side, key); reads ours_all, theirs_all.
SELECT 'ours' AS side, key, count(*) AS rows FROM ours_all GROUP BY key HAVING count(*) > 1
UNION ALL
SELECT 'theirs' AS side, key, count(*) AS rows FROM theirs_all GROUP BY key HAVING count(*) > 1
ORDER BY side, key;
