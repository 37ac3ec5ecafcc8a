-- keys_only: the rows one release has and the other lacks; grain (side, key); reads ours, theirs.
SELECT 'ours' AS side, key FROM ours ANTI JOIN theirs USING (key)
UNION ALL
SELECT 'theirs' AS side, key FROM theirs ANTI JOIN ours USING (key)
ORDER BY side, key;
