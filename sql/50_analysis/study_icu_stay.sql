-- analysis.study_icu_stay: the ICU stay each study was taken in, if any; grain study_id;
-- reads analysis.study_datetime, mimiciv_icu.icustays.
-- The ICU stay of the patient with intime <= study time <= outtime (inclusive; a NULL outtime contains
-- nothing); of several, the latest intime, then the lowest stay_id; n_icu_stays counts them. Studies in no
-- ICU stay have NULL stay columns and n_icu_stays = 0.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.study_icu_stay AS
WITH containing AS (
    SELECT
        s.study_id,
        i.stay_id,
        i.hadm_id,
        i.first_careunit,
        i.intime,
        i.outtime,
        count(*) OVER (PARTITION BY s.study_id) AS n_icu_stays
    FROM analysis.study_datetime AS s
    JOIN mimiciv_icu.icustays AS i
        ON i.subject_id = s.subject_id AND s.study_datetime BETWEEN i.intime AND i.outtime
    QUALIFY row_number() OVER (PARTITION BY s.study_id ORDER BY i.intime DESC, i.stay_id) = 1
)
SELECT
    s.subject_id,
    s.study_id,
    s.study_datetime,
    c.stay_id,
    c.hadm_id,
    c.first_careunit,
    c.intime,
    c.outtime,
    coalesce(c.n_icu_stays, 0) AS n_icu_stays
FROM analysis.study_datetime AS s
LEFT JOIN containing AS c ON c.study_id = s.study_id;
