-- check: every image has exactly one study and patient; returns dicom_ids seen twice. No rows = pass.
SELECT dicom_id, count(*) AS n
FROM raw.images
GROUP BY dicom_id
HAVING count(*) > 1
ORDER BY dicom_id
