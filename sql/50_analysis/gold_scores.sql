-- analysis.gold_scores: each labeler against work.gold, per observation and class (positive 1, negative 0,
-- uncertain -1; each class against everything else, blank included; a study with no prediction is blank);
-- grain (labeler, observation, class); reads work.gold, work.labels, analysis.labels_long.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.gold_scores AS
WITH labelers AS (
    SELECT DISTINCT labeler FROM work.labels
),
classes AS (
    SELECT * FROM (VALUES ('positive', 1.0), ('negative', 0.0), ('uncertain', -1.0)) AS c(class, value)
),
pairs AS (
    SELECT lb.labeler, g.observation, g.label AS gold, p.label AS pred
    FROM work.gold AS g
    CROSS JOIN labelers AS lb
    LEFT JOIN analysis.labels_long AS p
        ON p.study_id = g.study_id AND p.observation = g.observation AND p.labeler = lb.labeler
),
counts AS (
    SELECT
        p.labeler, p.observation, c.class,
        count(*) FILTER (WHERE p.gold = c.value AND p.pred = c.value) AS tp,
        count(*) FILTER (WHERE p.gold IS DISTINCT FROM c.value AND p.pred = c.value) AS fp,
        count(*) FILTER (WHERE p.gold = c.value AND p.pred IS DISTINCT FROM c.value) AS fn
    FROM pairs AS p
    CROSS JOIN classes AS c
    GROUP BY ALL
),
final AS (
    SELECT
        labeler, observation, class, tp, fp, fn, tp + fn AS support,
        CASE WHEN tp + fp > 0 THEN tp / (tp + fp) ELSE 0 END AS precision,
        CASE WHEN tp + fn > 0 THEN tp / (tp + fn) ELSE 0 END AS recall,
        CASE WHEN tp > 0 THEN 2 * tp / (2 * tp + fp + fn) ELSE 0 END AS f1
    FROM counts
)
SELECT * FROM final
ORDER BY labeler, observation, class;
