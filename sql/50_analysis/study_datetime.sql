-- analysis.study_datetime: one timestamp per study, from its images' StudyDate + StudyTime; grain study_id;
-- reads raw.images.
-- An image's time is StudyDate (YYYYMMDD) + StudyTime (HHMMSS[.ffffff]; a time written as a number that lost
-- its leading zeros, 3725.125, is 00:37:25.125). The study's time is the EARLIEST image time (the study began
-- then); images whose date or time does not parse are left out. When no image has a time but one has a date,
-- the study gets that date at 00:00 and time_known = false. n_datetimes > 1 flags studies whose images disagree;
-- spread_seconds says by how much. Dates are MIMIC's shifted dates (shifted per patient, the same shift as
-- MIMIC-IV), so they compare with MIMIC-IV's times as they are.
CREATE SCHEMA IF NOT EXISTS analysis;

CREATE OR REPLACE VIEW analysis.study_datetime AS
WITH parsed AS (
    SELECT
        subject_id,
        study_id,
        try_strptime(trim(StudyDate), '%Y%m%d') AS study_date,
        regexp_matches(trim(StudyTime), '^[0-9]{1,6}(\.[0-9]*)?$') AS time_ok,
        lpad(split_part(trim(StudyTime), '.', 1), 6, '0') AS hhmmss,
        rpad(left(split_part(trim(StudyTime), '.', 2), 6), 6, '0') AS micros
    FROM raw.images
    WHERE error IS NULL
),
image_times AS (
    SELECT
        subject_id,
        study_id,
        study_date,
        CASE WHEN study_date IS NOT NULL AND time_ok THEN
            try_strptime(strftime(study_date, '%Y%m%d') || hhmmss, '%Y%m%d%H%M%S')
            + to_microseconds(CAST(micros AS BIGINT))
        END AS image_datetime
    FROM parsed
)
SELECT
    subject_id,
    study_id,
    coalesce(min(image_datetime), min(study_date)) AS study_datetime,
    min(image_datetime) IS NOT NULL AS time_known,
    count(*) AS n_images,
    count(image_datetime) AS n_timed_images,
    count(DISTINCT image_datetime) AS n_datetimes,
    date_diff('second', min(image_datetime), max(image_datetime)) AS spread_seconds
FROM image_times
GROUP BY subject_id, study_id;
