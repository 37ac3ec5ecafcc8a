-- status mimic_iv: one row per attached MIMIC-IV table; grain table; reads meta.mimic_iv_files.
-- rows: the imported tables' count, a Parquet view's count from its footer, NULL for a CSV view (not read).
SELECT
    schema_name || '.' || table_name AS "table",
    kind,
    row_count AS "rows",
    path AS file,
    error
FROM meta.mimic_iv_files
ORDER BY schema_name, table_name;
