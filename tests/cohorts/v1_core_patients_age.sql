-- Age and sex of every frontal radiograph's patient, MIMIC-IV v1 style (mimic_core), as written for BigQuery.
SELECT
  d.dicom,
  SAFE_CAST(d.PatientID AS INT64) AS subject_id,
  d.StudyID,
  d.ViewPosition,
  p.gender,
  p.anchor_age + EXTRACT(YEAR FROM PARSE_DATE('%Y%m%d', d.StudyDate)) - p.anchor_year AS age_at_study,
  CASE WHEN p.dod IS NOT NULL AND p.dod < PARSE_DATE('%Y%m%d', d.StudyDate) THEN 1 ELSE 0 END AS after_death
FROM `physionet-data.mimic_cxr.dicom_metadata_string` AS d
INNER JOIN `physionet-data.mimic_core.patients` AS p
  ON SAFE_CAST(d.PatientID AS INT64) = p.subject_id
WHERE d.ViewPosition IN ('PA', 'AP')
  AND d.StudyDate IS NOT NULL
ORDER BY subject_id, d.StudyID, d.dicom
