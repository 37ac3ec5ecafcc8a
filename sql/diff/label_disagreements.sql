-- label_disagreements: every (study, observation) whose values differ; grain (study_id, observation); reads
-- label_pairs.
SELECT subject_id, study_id, observation, ours, theirs, ours_raw, theirs_raw
FROM label_pairs
WHERE ours <> theirs
ORDER BY observation, study_id;
