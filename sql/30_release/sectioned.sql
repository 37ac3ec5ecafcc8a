-- release.sectioned: sections/mimic_cxr_sectioned.csv, as MIT-LCP/mimic-cxr's create_section_files.py writes it; one
-- row per readable report without a per-study override; grain study; reads stg.selected_studies,
-- raw.report_sections, raw.section_overrides. study is 's' + the report file's stem; each cell is the text of the
-- last section of that name, stripped as Python's str.strip() strips (every Unicode whitespace character, not only
-- spaces), NULL (an empty field) when the report has none. Studies with a row in raw.section_overrides are left out,
-- as the original left out the studies of its custom rules. Rows in report path order (pNN, then pNNNNNNNN, then
-- sNNNNNNNN.txt, sorted), where the original followed os.listdir within a patient.
CREATE SCHEMA IF NOT EXISTS release;

CREATE OR REPLACE VIEW release.sectioned AS
WITH whitespace AS (  -- the characters Python's str.isspace() accepts
    SELECT chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(28) || chr(29) || chr(30) || chr(31)
        || chr(32) || chr(133) || chr(160) || chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195)
        || chr(8196) || chr(8197) || chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) || chr(8232)
        || chr(8233) || chr(8239) || chr(8287) || chr(12288) AS chars
),
last_of_name AS (
    SELECT s.study_id, s.name, trim(arg_max(s.text, s.idx), any_value(w.chars)) AS text
    FROM raw.report_sections AS s
    CROSS JOIN whitespace AS w
    WHERE s.name IN ('impression', 'findings', 'last_paragraph', 'comparison')
    GROUP BY s.study_id, s.name
)
SELECT
    regexp_extract(r.path, '([^/]+)\.txt$', 1) AS study,
    any_value(l.text) FILTER (WHERE l.name = 'impression') AS impression,
    any_value(l.text) FILTER (WHERE l.name = 'findings') AS findings,
    any_value(l.text) FILTER (WHERE l.name = 'last_paragraph') AS last_paragraph,
    any_value(l.text) FILTER (WHERE l.name = 'comparison') AS comparison
FROM stg.selected_studies AS r
LEFT JOIN last_of_name AS l ON l.study_id = r.study_id
WHERE NOT EXISTS (SELECT 1 FROM raw.section_overrides AS o WHERE o.study_id = r.study_id)
GROUP BY r.study_id, r.path
ORDER BY r.path;
