-- plan.labels(labeler, rules): where every study with labeler text stands for one labeler whose fingerprint is
-- rules; grain study_id; reads stg.selected_studies, work.labels. Only the studies the selection in force
-- picks are planned. The one definition of "current" for labeling: label and
-- status both read it. state is current, or why the study must be (re)labeled: new, text changed, rules changed.
CREATE SCHEMA IF NOT EXISTS plan;

CREATE OR REPLACE MACRO plan.labels(p_labeler, p_rules) AS TABLE
SELECT
    r.study_id,
    r.labeler_text AS text,
    sha256(r.labeler_text) AS text_sha256,
    CASE
        WHEN l.study_id IS NULL THEN 'new'
        WHEN l.text_sha256 <> sha256(r.labeler_text) THEN 'text changed'
        WHEN l.rules <> p_rules THEN 'rules changed'
        ELSE 'current'
    END AS state
FROM stg.selected_studies AS r
LEFT JOIN work.labels AS l ON l.study_id = r.study_id AND l.labeler = p_labeler
WHERE r.labeler_text <> '';
