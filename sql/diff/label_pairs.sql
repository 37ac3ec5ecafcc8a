-- label_pairs: each observation of each study both label files have, as the pair of values (ours, theirs);
-- grain (key, observation); reads ours, theirs. Every column but key and subject_id is an observation. A table,
-- not a view: the confusion counts and the disagreements both read it.
CREATE OR REPLACE TEMP TABLE label_pairs AS
WITH o AS (SELECT * FROM ours UNPIVOT INCLUDE NULLS (val FOR observation IN (COLUMNS(* EXCLUDE (key, subject_id))))),
     t AS (SELECT * FROM theirs UNPIVOT INCLUDE NULLS (val FOR observation IN (COLUMNS(* EXCLUDE (key, subject_id)))))
SELECT ours.subject_id, key AS study_id, observation, label_value(o.val) AS ours, label_value(t.val) AS theirs,
       o.val AS ours_raw, t.val AS theirs_raw
FROM o JOIN t USING (key, observation) JOIN ours USING (key);
