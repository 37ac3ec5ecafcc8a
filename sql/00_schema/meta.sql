-- meta: catalog settings and run bookkeeping (source roots, parameters).
CREATE SCHEMA IF NOT EXISTS meta;

-- meta.settings: one row per setting, key -> value; grain key.
CREATE TABLE IF NOT EXISTS meta.settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
