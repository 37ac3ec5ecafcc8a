-- writes: remove what the catalog holds of images and reports that left the source; reads the registered key
-- tables _gone_images(dicom_id) and _gone_reports(study_id). An image takes its conversion (and smaller copies) and split row with it;
-- a report its sections, labels and label evidence. Run by Catalog.prune inside one transaction.
DELETE FROM raw.images WHERE dicom_id IN (SELECT dicom_id FROM _gone_images);
DELETE FROM work.jpg WHERE dicom_id IN (SELECT dicom_id FROM _gone_images);
DELETE FROM work.derivative WHERE dicom_id IN (SELECT dicom_id FROM _gone_images);
DELETE FROM work.split WHERE dicom_id IN (SELECT dicom_id FROM _gone_images);
DELETE FROM raw.reports WHERE study_id IN (SELECT study_id FROM _gone_reports);
DELETE FROM raw.report_sections WHERE study_id IN (SELECT study_id FROM _gone_reports);
DELETE FROM work.labels WHERE study_id IN (SELECT study_id FROM _gone_reports);
DELETE FROM work.label_evidence WHERE study_id IN (SELECT study_id FROM _gone_reports);
