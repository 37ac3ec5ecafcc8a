-- analysis.labeler_agreement: per observation, how often the CheXpert and NegBio labels are equal (blank =
-- blank counts as agreement), over studies both labeled; grain observation; reads analysis.labels_long.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.labeler_agreement AS
WITH pairs AS (
    SELECT c.observation, c.label AS chexpert, n.label AS negbio
    FROM analysis.labels_long AS c
    JOIN analysis.labels_long AS n
        ON n.study_id = c.study_id AND n.observation = c.observation AND n.labeler = 'negbio'
    WHERE c.labeler = 'chexpert'
),
final AS (
    SELECT
        observation,
        count(*) AS studies,
        count(*) FILTER (WHERE chexpert IS NOT DISTINCT FROM negbio) AS agree,
        round(count(*) FILTER (WHERE chexpert IS NOT DISTINCT FROM negbio) / count(*), 4) AS agreement
    FROM pairs
    GROUP BY observation
)
SELECT * FROM final
ORDER BY observation;
