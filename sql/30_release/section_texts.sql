-- release.section_texts: what the labelers read, as MIT-LCP/mimic-cxr's create_section_files.py writes it (the
-- headerless sections/mimic_cxr_NN.csv batches of 10,000 rows, and all rows as sections/mimic_cxr_sections.csv, its
-- --no_split file); one row per readable report; grain study; reads stg.selected_studies. study is 's' + the report
-- file's stem, text the chosen section (per-study overrides applied), '' when no section qualifies. Rows in report
-- path order (pNN, then pNNNNNNNN, then sNNNNNNNN.txt, sorted), where the original followed os.listdir.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.section_texts AS
SELECT regexp_extract(path, '([^/]+)\.txt$', 1) AS study, labeler_text AS text
FROM stg.selected_studies
ORDER BY path;
