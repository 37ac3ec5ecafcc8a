-- writes: remove labels (and their evidence) of studies that no longer have labeler text (the report left, became
-- unreadable, or its chosen section is now empty). Run by Catalog.drop_orphan_labels inside one transaction.
DELETE FROM work.labels
WHERE study_id NOT IN (SELECT study_id FROM stg.reports WHERE labeler_text <> '');
DELETE FROM work.label_evidence
WHERE study_id NOT IN (SELECT study_id FROM work.labels);
