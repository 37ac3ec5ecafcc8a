-- meta: catalog settings and run bookkeeping (source roots, parameters).
CREATE SCHEMA IF NOT EXISTS meta;

-- meta.settings: one row per setting, key -> value; grain key.
CREATE TABLE IF NOT EXISTS meta.settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
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
