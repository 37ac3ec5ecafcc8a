-- status: conversion counts (stage, ok, failed, pending, note) from plan.convert, the definition convert uses;
-- $params is this cxrdb's conversion fingerprint, $out_root the folder of the last conversion; grain stage (one
-- row); reads plan.convert, work.jpg.
SELECT 'convert: images' AS stage,
       count(*) FILTER (WHERE state = 'current') AS ok,
       count(*) FILTER (WHERE state = 'failed') AS failed,
       count(*) FILTER (WHERE state NOT IN ('current', 'failed')) AS pending,
       CAST(count(*) FILTER (WHERE j.note IS NOT NULL AND state = 'current') AS VARCHAR) || ' with a note'
           AS note
FROM plan.convert($params, $out_root) AS p
LEFT JOIN work.jpg AS j USING (dicom_id)
