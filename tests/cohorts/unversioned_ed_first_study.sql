-- The first radiograph of each ED stay and how long after ED arrival it was taken (mimiciv_ed, unversioned).
SELECT
  e.subject_id,
  e.stay_id,
  e.hadm_id,
  DATETIME(PARSE_DATE('%Y%m%d', d.StudyDate),
           PARSE_TIME('%H%M%S', SUBSTR(LPAD(SPLIT(d.StudyTime, '.')[SAFE_OFFSET(0)], 6, '0'), 1, 6))) AS first_study,
  TIMESTAMP_DIFF(
    TIMESTAMP(DATETIME(PARSE_DATE('%Y%m%d', d.StudyDate),
              PARSE_TIME('%H%M%S', SUBSTR(LPAD(SPLIT(d.StudyTime, '.')[SAFE_OFFSET(0)], 6, '0'), 1, 6)))),
    TIMESTAMP(e.intime), MINUTE) AS minutes_after_arrival
FROM `physionet-data.mimiciv_ed.edstays` AS e
JOIN `physionet-data.mimic_cxr.dicom_metadata_string` AS d
  ON CAST(d.PatientID AS INT64) = e.subject_id
WHERE d.StudyDate IS NOT NULL AND d.StudyTime IS NOT NULL
  AND DATETIME(PARSE_DATE('%Y%m%d', d.StudyDate),
               PARSE_TIME('%H%M%S', SUBSTR(LPAD(SPLIT(d.StudyTime, '.')[SAFE_OFFSET(0)], 6, '0'), 1, 6)))
      BETWEEN e.intime AND e.outtime
QUALIFY ROW_NUMBER() OVER (PARTITION BY e.stay_id ORDER BY first_study, d.dicom) = 1
ORDER BY e.subject_id, e.stay_id
