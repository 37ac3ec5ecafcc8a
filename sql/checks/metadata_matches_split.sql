-- check: once split, the metadata and split exports list the same images; grain dicom_id (one row per image in
-- one only); reads release.metadata, release.split, work.split.
SELECT coalesce(m.dicom_id, s.dicom_id) AS dicom_id,
       CASE WHEN m.dicom_id IS NULL THEN 'split only' ELSE 'metadata only' END AS problem
FROM release.metadata AS m
FULL JOIN release.split AS s USING (dicom_id)
WHERE (m.dicom_id IS NULL OR s.dicom_id IS NULL) AND (SELECT count(*) FROM work.split) > 0
ORDER BY 1
