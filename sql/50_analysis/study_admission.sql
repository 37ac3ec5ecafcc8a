-- analysis.study_admission: the hospital admission (and ED stay) each study was taken in; grain study_id;
-- reads analysis.study_datetime, mimiciv_hosp.admissions, mimiciv_ed.edstays, meta.settings.
-- Rules, first match wins (link_rule says which):
--   'admission'       an admission of the patient with admittime <= study time <= dischtime;
--   'ed_stay'         else an ED stay with intime <= study time <= outtime: its stay_id and its hadm_id (NULL
--                     when the ED visit did not lead to an admission);
--   'admission_early' else an admission starting within the tolerance AFTER the study (radiographs taken in
--                     the ED before admittime, when no ED stay covers them): meta.settings
--                     'link_admit_tolerance_minutes', default 360 (6 hours; `cxrdb attach mimic-iv
--                     --tolerance-minutes N` sets it);
--   'none'            no admission or ED stay qualifies; 'no_time' the study has no time at all.
-- Ties: among admissions containing the study, the latest admittime, then the lowest hadm_id; among ED stays
-- the latest intime, then the lowest stay_id; for 'admission_early' the earliest admittime, then the lowest
-- hadm_id. n_admissions counts the admissions containing the study (> 1: overlapping admissions).
-- ed_stay_id is the ED stay containing the study whatever the rule. Bounds are inclusive; a NULL dischtime or
-- outtime never contains anything.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.study_admission AS
WITH tolerance AS (
    SELECT coalesce(
        (SELECT try_cast(value AS INTEGER) FROM meta.settings WHERE key = 'link_admit_tolerance_minutes'), 360
    ) AS minutes
),
containing AS (
    SELECT
        s.study_id,
        a.hadm_id,
        count(*) OVER (PARTITION BY s.study_id) AS n_admissions
    FROM analysis.study_datetime AS s
    JOIN mimiciv_hosp.admissions AS a
        ON a.subject_id = s.subject_id AND s.study_datetime BETWEEN a.admittime AND a.dischtime
    QUALIFY row_number() OVER (PARTITION BY s.study_id ORDER BY a.admittime DESC, a.hadm_id) = 1
),
ed AS (
    SELECT
        s.study_id,
        e.stay_id,
        e.hadm_id
    FROM analysis.study_datetime AS s
    JOIN mimiciv_ed.edstays AS e
        ON e.subject_id = s.subject_id AND s.study_datetime BETWEEN e.intime AND e.outtime
    QUALIFY row_number() OVER (PARTITION BY s.study_id ORDER BY e.intime DESC, e.stay_id) = 1
),
early AS (
    SELECT
        s.study_id,
        a.hadm_id
    FROM analysis.study_datetime AS s
    CROSS JOIN tolerance AS t
    JOIN mimiciv_hosp.admissions AS a
        ON a.subject_id = s.subject_id
        AND s.study_datetime < a.admittime
        AND s.study_datetime >= a.admittime - to_minutes(t.minutes)
    QUALIFY row_number() OVER (PARTITION BY s.study_id ORDER BY a.admittime, a.hadm_id) = 1
),
linked AS (
    SELECT
        s.subject_id,
        s.study_id,
        s.study_datetime,
        CASE
            WHEN c.hadm_id IS NOT NULL THEN c.hadm_id
            WHEN ed.stay_id IS NOT NULL THEN ed.hadm_id
            ELSE early.hadm_id
        END AS hadm_id,
        ed.stay_id AS ed_stay_id,
        CASE
            WHEN s.study_datetime IS NULL THEN 'no_time'
            WHEN c.hadm_id IS NOT NULL THEN 'admission'
            WHEN ed.stay_id IS NOT NULL THEN 'ed_stay'
            WHEN early.hadm_id IS NOT NULL THEN 'admission_early'
            ELSE 'none'
        END AS link_rule,
        coalesce(c.n_admissions, 0) AS n_admissions
    FROM analysis.study_datetime AS s
    LEFT JOIN containing AS c ON c.study_id = s.study_id
    LEFT JOIN ed ON ed.study_id = s.study_id
    LEFT JOIN early ON early.study_id = s.study_id
)
SELECT
    l.subject_id,
    l.study_id,
    l.study_datetime,
    l.hadm_id,
    l.ed_stay_id,
    l.link_rule,
    l.n_admissions,
    a.admittime,
    a.dischtime,
    a.admission_type,
    date_diff('minute', l.study_datetime, a.admittime) AS minutes_before_admittime
FROM linked AS l
LEFT JOIN mimiciv_hosp.admissions AS a ON a.hadm_id = l.hadm_id;
