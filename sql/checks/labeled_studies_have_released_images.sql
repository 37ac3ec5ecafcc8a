-- check: every study in a label file has at least one image in the release (no label row points at a study
-- whose images are missing or all failed: torchxrayvision would build a path .../nan.jpg); grain (file, study_id)
-- (one row per offender); reads release.chexpert, release.negbio, release.metadata, raw.images. A reports-only
-- catalog (no image ingested) has no images to check against.
SELECT 'chexpert' AS file, c.study_id
FROM release.chexpert AS c
WHERE NOT EXISTS (SELECT 1 FROM release.metadata AS m WHERE m.study_id = c.study_id)
  AND EXISTS (SELECT 1 FROM raw.images)
UNION ALL
SELECT 'negbio', n.study_id
FROM release.negbio AS n
WHERE NOT EXISTS (SELECT 1 FROM release.metadata AS m WHERE m.study_id = n.study_id)
  AND EXISTS (SELECT 1 FROM raw.images)
ORDER BY 1, 2
