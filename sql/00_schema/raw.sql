-- raw: what ingest read from the source, one row per file. Re-runs replace changed rows.
CREATE SCHEMA IF NOT EXISTS raw;

-- raw.images: one row per DICOM file; grain dicom_id. Header columns are named by DICOM keyword;
-- sequences are flattened to the first item's CodeMeaning (<Keyword>_CodeMeaning). Header values are kept
-- as the strings the file holds; casts happen in stg. Ingest fills every column whose name it knows.
CREATE TABLE IF NOT EXISTS raw.images (
    dicom_id VARCHAR PRIMARY KEY,
    subject_id BIGINT NOT NULL,
    study_id BIGINT NOT NULL,
    path VARCHAR NOT NULL,               -- relative to the source root: files/pNN/pNNNNNNNN/sNNNNNNNN/<id>.dcm
    file_size BIGINT,
    file_mtime_ns BIGINT,
    error VARCHAR,                       -- one line when the header could not be read; NULL when fine
    PerformedProcedureStepDescription VARCHAR,
    ViewPosition VARCHAR,
    "Rows" INTEGER,
    "Columns" INTEGER,
    StudyDate VARCHAR,
    StudyTime VARCHAR,
    ProcedureCodeSequence_CodeMeaning VARCHAR,
    ViewCodeSequence_CodeMeaning VARCHAR,
    PatientOrientationCodeSequence_CodeMeaning VARCHAR,
    AcquisitionDeviceProcessingDescription VARCHAR,
    Modality VARCHAR,
    PatientID VARCHAR,
    StudyID VARCHAR,
    StudyInstanceUID VARCHAR,
    SeriesInstanceUID VARCHAR,
    SOPInstanceUID VARCHAR,
    SOPClassUID VARCHAR,
    PhotometricInterpretation VARCHAR,
    BitsAllocated INTEGER,
    BitsStored INTEGER,
    HighBit INTEGER,
    PixelRepresentation INTEGER,
    SamplesPerPixel INTEGER,
    NumberOfFrames INTEGER,
    TransferSyntaxUID VARCHAR,
    has_file_meta BOOLEAN,
    has_pixel_data BOOLEAN,
    header JSON                           -- every other top-level element (keyword -> string), for ad-hoc SQL
);

-- raw.reports: one row per report text file; grain study_id.
CREATE TABLE IF NOT EXISTS raw.reports (
    study_id BIGINT PRIMARY KEY,
    subject_id BIGINT NOT NULL,
    path VARCHAR NOT NULL,               -- relative to the reports root: files/pNN/pNNNNNNNN/sNNNNNNNN.txt
    file_size BIGINT,
    file_mtime_ns BIGINT,
    error VARCHAR,                       -- one line: unreadable, empty, not UTF-8 ...
    text VARCHAR,                        -- the report as the original read it (text mode: newlines normalised)
    section VARCHAR,                     -- which section the labelers read: impression, findings, ... or ''
    labeler_text VARCHAR                 -- that section's text, stripped ('' when none qualifies)
);

-- raw.report_sections: every section of every report, in report order; grain (study_id, idx).
CREATE TABLE IF NOT EXISTS raw.report_sections (
    study_id BIGINT NOT NULL,
    idx INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    start INTEGER NOT NULL,
    text VARCHAR NOT NULL,
    PRIMARY KEY (study_id, idx)
);

-- raw.section_overrides: per-study choice overrides loaded from a user file (MIMIC's custom rules); grain
-- study_id.
CREATE TABLE IF NOT EXISTS raw.section_overrides (
    study_id BIGINT PRIMARY KEY,
    section VARCHAR,
    start_char INTEGER,
    end_char INTEGER
);

-- raw.source_problems: files that could not become an image or report row (bad path layout, duplicates);
-- grain path.
CREATE TABLE IF NOT EXISTS raw.source_problems (
    path VARCHAR PRIMARY KEY,
    error VARCHAR NOT NULL
);

-- raw.source_warnings: files that did become a row but are noted (a dicom_id outside MIMIC's own form);
-- grain path.
CREATE TABLE IF NOT EXISTS raw.source_warnings (
    path VARCHAR PRIMARY KEY,
    warning VARCHAR NOT NULL
);

-- Added columns (catalogs made before them gain them here, empty).
-- raw.images.note: what the header reader warned about (pydicom warnings, one line), NULL when nothing.
ALTER TABLE raw.images ADD COLUMN IF NOT EXISTS note VARCHAR;
-- raw.reports.file_crc32: a report read from a zip archive: its member's CRC-32, which with file_size is its
-- identity (file_mtime_ns is NULL); NULL for a report file or a tar member (size and mtime).
ALTER TABLE raw.reports ADD COLUMN IF NOT EXISTS file_crc32 BIGINT;
