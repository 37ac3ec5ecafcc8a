-- Radiographs taken during a hospital admission (or up to 6 hours before it), with the ICU stay they fall in
-- and whether the admission was coded pneumonia; MIMIC-IV 3.1 on BigQuery, joined by PatientID and time.
WITH cxr AS (
  SELECT
    dicom,
    SAFE_CAST(PatientID AS INT64) AS subject_id,
    SAFE_CAST(StudyID AS INT64) AS study_id,
    PARSE_DATETIME('%Y%m%d %H%M%S',
      CONCAT(StudyDate, ' ', LPAD(SPLIT(StudyTime, '.')[OFFSET(0)], 6, '0'))) AS study_datetime
  FROM `physionet-data.mimic_cxr.dicom_metadata_string`
  WHERE StudyDate IS NOT NULL AND StudyTime IS NOT NULL
),
pneumonia AS (
  SELECT DISTINCT hadm_id
  FROM `physionet-data.mimiciv_3_1_hosp.diagnoses_icd`
  WHERE (icd_version = 9 AND icd_code IN ('486', '4829'))
     OR (icd_version = 10 AND STARTS_WITH(icd_code, 'J18'))
)
SELECT
  cxr.subject_id,
  cxr.study_id,
  MIN(cxr.study_datetime) AS study_datetime,
  a.hadm_id,
  p.gender,
  p.anchor_age + EXTRACT(YEAR FROM MIN(cxr.study_datetime)) - p.anchor_year AS age,
  DATETIME_DIFF(MIN(cxr.study_datetime), a.admittime, MINUTE) AS minutes_from_admit,
  ANY_VALUE(icu.stay_id) AS icu_stay_id,
  LOGICAL_OR(pn.hadm_id IS NOT NULL) AS pneumonia
FROM cxr
INNER JOIN `physionet-data.mimiciv_3_1_hosp.admissions` AS a
  ON a.subject_id = cxr.subject_id
  AND cxr.study_datetime BETWEEN DATETIME_SUB(a.admittime, INTERVAL 6 HOUR) AND a.dischtime
INNER JOIN `physionet-data.mimiciv_3_1_hosp.patients` AS p
  ON p.subject_id = cxr.subject_id
LEFT JOIN `physionet-data.mimiciv_3_1_icu.icustays` AS icu
  ON icu.hadm_id = a.hadm_id AND cxr.study_datetime BETWEEN icu.intime AND icu.outtime
LEFT JOIN pneumonia AS pn
  ON pn.hadm_id = a.hadm_id
GROUP BY cxr.subject_id, cxr.study_id, a.hadm_id, a.admittime, p.gender, p.anchor_age, p.anchor_year
ORDER BY cxr.subject_id, cxr.study_id, a.hadm_id
