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
