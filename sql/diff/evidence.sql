-- evidence: each disagreeing label of OURS with the evidence that decided it in the catalog (the mentions whose
-- label is the file's value; a blank has none: "no mention"); grain (labeler, study_id, observation, evidence
-- row); reads disagreements, cat.work.label_evidence, cat.work.labels.
WITH decided AS (
    SELECT d.labeler, d.study_id, d.observation, e.sentence_index, e."start", e.sentence, e.phrase, e.rule
    FROM disagreements d
    JOIN cat.work.label_evidence e
      ON e.labeler = d.labeler AND e.study_id = TRY_CAST(d.study_id AS BIGINT) AND e.observation = d.observation
     AND label_value(CAST(e.label AS VARCHAR)) = d.ours
)
SELECT d.labeler, d.subject_id, d.study_id, d.observation, d.ours, d.theirs,
       coalesce(x.rule, CASE WHEN d.ours = 'blank' THEN '(no mention)'
                             WHEN d.observation = 'No Finding' THEN '(no other finding)'
                             ELSE '(no evidence row)' END) AS rule,
       x.phrase, x.sentence, x.sentence_index,
       l.study_id IS NOT NULL AS in_catalog,
       label_value(CAST(l.label AS VARCHAR)) AS catalog_value
FROM disagreements d
LEFT JOIN decided x USING (labeler, study_id, observation)
LEFT JOIN (SELECT * FROM cat.work.labels UNPIVOT INCLUDE NULLS (label FOR observation IN (COLUMNS(* EXCLUDE (
           study_id, labeler, text_sha256, rules, parse_failures))))) l
  ON l.labeler = d.labeler AND l.study_id = TRY_CAST(d.study_id AS BIGINT) AND l.observation = d.observation
ORDER BY d.labeler, d.observation, d.study_id, x.sentence_index NULLS FIRST, x."start" NULLS FIRST;
