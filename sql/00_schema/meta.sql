-- meta: catalog settings and run bookkeeping (source roots, parameters).
CREATE SCHEMA IF NOT EXISTS meta;

-- meta.settings: one row per setting, key -> value; grain key.
CREATE TABLE IF NOT EXISTS meta.settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- meta.selection: the subset the last build / convert / label / export ran on (empty: everything); grain
-- (kind, id, value). kind subject or study: one row per id (id); kind view or split: one row per value (value).
-- Kinds combine with AND, rows of one kind with OR. Written whole by each command (cxrdb/selection.py).
CREATE TABLE IF NOT EXISTS meta.selection (
    kind VARCHAR NOT NULL CHECK (kind IN ('subject', 'study', 'view', 'split')),
    id BIGINT,
    value VARCHAR
);

-- meta.view_rules: the lines of the data files in cxrdb/rules/views/ (the mappings stg.image_view applies),
-- loaded on a writable open whenever their sha256 (setting view_rules_sha256) changed; grain (file, line).
CREATE TABLE IF NOT EXISTS meta.view_rules (
    file VARCHAR NOT NULL,               -- the file stem: view_position, view_code_meaning, procedure, portable
    line INTEGER NOT NULL,               -- line number in the file (procedure, portable: the first match decides)
    pattern VARCHAR NOT NULL,            -- the value (exact files) or the words (procedure, portable) as written
    result VARCHAR NOT NULL,             -- the view ('-': decides nothing), or yes/no in portable
    PRIMARY KEY (file, line)
);

-- meta.mimic_iv_files: the MIMIC-IV files `cxrdb attach mimic-iv` attached, one row per table; grain
-- (schema_name, table_name). kind is 'table' (imported) or 'view' (a view over path); size and mtime say whether
-- the file changed since; error is one line when the file could not be attached (the table is then empty or
-- absent). `cxrdb sql` may read exactly the paths of the 'view' rows.
CREATE TABLE IF NOT EXISTS meta.mimic_iv_files (
    schema_name VARCHAR NOT NULL,
    table_name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    path VARCHAR NOT NULL,
    file_format VARCHAR NOT NULL,
    file_size BIGINT,
    file_mtime_ns BIGINT,
    row_count BIGINT,
    error VARCHAR,
    PRIMARY KEY (schema_name, table_name)
);
