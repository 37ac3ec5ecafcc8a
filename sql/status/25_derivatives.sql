-- status: smaller copies per size (stage, ok, failed, pending, note) from plan.derivatives, the definition
-- convert uses; $sizes, $params and $out_root are those of the last conversion; grain stage (one row per size);
-- reads plan.derivatives, work.derivative.
SELECT 'convert: files_' || p.size AS stage,
       count(*) FILTER (WHERE state = 'current') AS ok,
       count(*) FILTER (WHERE state = 'failed') AS failed,
       count(*) FILTER (WHERE state NOT IN ('current', 'failed')) AS pending,
       CAST(count(*) FILTER (WHERE d.note IS NOT NULL AND state = 'current') AS VARCHAR) || ' with a note'
           AS note
FROM plan.derivatives($sizes, $params, $out_root) AS p
LEFT JOIN work.derivative AS d ON d.dicom_id = p.dicom_id AND d.size = p.size
GROUP BY p.size
ORDER BY p.size DESC
