-- label_confusion: how many studies have each pair of values (ours, theirs), per observation; grain
-- (observation, ours, theirs); reads label_pairs.
SELECT observation, ours, theirs, count(*) AS studies
FROM label_pairs
GROUP BY ALL
ORDER BY ALL;
