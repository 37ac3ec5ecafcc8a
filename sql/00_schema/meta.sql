-- meta: catalog settings and run bookkeeping (source roots, parameters), key -> value.
CREATE SCHEMA IF NOT EXISTS meta;

CREATE TABLE IF NOT EXISTS meta.settings (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);
