-- work: outputs of the per-item workers, written only by the parent process, in batches.
CREATE SCHEMA IF NOT EXISTS work;

-- work.jpg: one row per conversion attempt outcome; grain dicom_id. A row is current when the source
-- identity (size, mtime) and the parameter fingerprint still match raw.images / this build.
CREATE TABLE IF NOT EXISTS work.jpg (
    dicom_id VARCHAR PRIMARY KEY,
    jpg_path VARCHAR,                    -- relative to the output root: files/pNN/.../<dicom_id>.jpg
    jpg_bytes BIGINT,
    jpg_sha256 VARCHAR,
    error VARCHAR,                       -- one line when conversion failed; NULL when fine
    note VARCHAR,                        -- a documented special case (constant image, ...)
    decoder VARCHAR,
    source_size BIGINT,
    source_mtime_ns BIGINT,
    params VARCHAR,                      -- fingerprint of output-affecting parameters and library versions
    out_root VARCHAR                     -- absolute output folder the JPG was written under
);

-- work.split: the train/validate/test assignment of each image; grain dicom_id.
-- origin says why: published (kept from a published split file), patient (a known patient's split),
-- test-set (patient of a labeled test-set study), hash (new patient, from hash(seed, subject_id)).
CREATE TABLE IF NOT EXISTS work.split (
    dicom_id VARCHAR PRIMARY KEY,
    study_id BIGINT NOT NULL,
    subject_id BIGINT NOT NULL,
    split VARCHAR NOT NULL CHECK (split IN ('train', 'validate', 'test')),
    origin VARCHAR NOT NULL
);

-- work.labels: one row per (study, labeler); grain (study_id, labeler); the 14 CheXpert observations as 1.0 / 0.0 / -1.0 / NULL.
-- Current while text_sha256 (of raw.reports.labeler_text) and rules (labeler fingerprint) still match.
CREATE TABLE IF NOT EXISTS work.labels (
    study_id BIGINT NOT NULL,
    labeler VARCHAR NOT NULL,
    text_sha256 VARCHAR NOT NULL,
    rules VARCHAR NOT NULL,
    parse_failures INTEGER NOT NULL,
    "Atelectasis" DOUBLE,
    "Cardiomegaly" DOUBLE,
    "Consolidation" DOUBLE,
    "Edema" DOUBLE,
    "Enlarged Cardiomediastinum" DOUBLE,
    "Fracture" DOUBLE,
    "Lung Lesion" DOUBLE,
    "Lung Opacity" DOUBLE,
    "No Finding" DOUBLE,
    "Pleural Effusion" DOUBLE,
    "Pleural Other" DOUBLE,
    "Pneumonia" DOUBLE,
    "Pneumothorax" DOUBLE,
    "Support Devices" DOUBLE,
    PRIMARY KEY (study_id, labeler)
);

-- work.label_evidence: why each label is what it is; one row per mention found in the labeled text; grain
-- (study_id, labeler, sentence_index, start, observation).
-- span [start, end) is in the cleaned sentence; rule is the pattern that decided it ('mention' = positive).
CREATE TABLE IF NOT EXISTS work.label_evidence (
    study_id BIGINT NOT NULL,
    labeler VARCHAR NOT NULL,
    sentence_index INTEGER,
    sentence VARCHAR,
    start INTEGER,
    "end" INTEGER,
    phrase VARCHAR,
    observation VARCHAR,
    label DOUBLE,
    rule VARCHAR
);

-- work.gold: reference labels loaded from a file (mimic-cxr-2.1.0-test-set-labeled.csv layout); one row per
-- (study, observation) for the observations the file covers; grain (study_id, observation); label 1.0 / 0.0 / -1.0 or NULL (blank).
CREATE TABLE IF NOT EXISTS work.gold (
    study_id BIGINT NOT NULL,
    observation VARCHAR NOT NULL,
    label DOUBLE,
    PRIMARY KEY (study_id, observation)
);

-- Added after the first catalogs were written (kept re-runnable for them): the JPG's mtime when its sha256 was
-- last confirmed, so a touched file is re-hashed before it counts as current.
ALTER TABLE work.jpg ADD COLUMN IF NOT EXISTS jpg_mtime_ns BIGINT;

-- work.derivative: one row per outcome of a smaller copy of an image's JPG (`--size N`); grain (dicom_id, size).
-- Written only by the parent, in the same batches as work.jpg. Current while the source identity, the
-- derivative fingerprint (full-size pipeline + resize method + quality) and the output folder still match.
CREATE TABLE IF NOT EXISTS work.derivative (
    dicom_id VARCHAR NOT NULL,
    size INTEGER NOT NULL,               -- the longer side asked for, in pixels
    jpg_path VARCHAR,                    -- relative to the output root: files_N/pNN/.../<dicom_id>.jpg
    jpg_bytes BIGINT,
    jpg_sha256 VARCHAR,
    jpg_mtime_ns BIGINT,
    rows INTEGER,                        -- the copy's height and width in pixels
    columns INTEGER,
    error VARCHAR,                       -- one line when this copy failed; NULL when fine
    note VARCHAR,                        -- e.g. smaller than N px: kept at its own size
    source_size BIGINT,
    source_mtime_ns BIGINT,
    params VARCHAR,                      -- derivative fingerprint, JPEG quality included
    out_root VARCHAR,                    -- absolute output folder the copy was written under
    PRIMARY KEY (dicom_id, size)
);
