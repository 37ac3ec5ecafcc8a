-- status: conversion counts (stage, ok, failed, pending, note); pending = readable images with no current row.
SELECT 'convert: images' AS stage,
       count(*) FILTER (WHERE j.error IS NULL AND j.dicom_id IS NOT NULL) AS ok,
       count(*) FILTER (WHERE j.error IS NOT NULL) AS failed,
       count(*) FILTER (WHERE j.dicom_id IS NULL) AS pending,
       CAST(count(*) FILTER (WHERE j.note IS NOT NULL) AS VARCHAR) || ' with a note' AS note
FROM raw.images AS i
LEFT JOIN work.jpg AS j USING (dicom_id)
WHERE i.error IS NULL
