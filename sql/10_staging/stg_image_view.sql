-- stg.image_view: the view (projection) of every image whose header was read, inferred where ViewPosition
-- is empty, with the rule and header value that decided it and a portable flag; grain dicom_id; reads
-- stg.images, meta.view_rules. The first source that decides wins (README "Inferred views"): 1 ViewPosition
-- (view_position.tsv; a value not listed is kept, normalised), 2 the ViewCodeSequence meaning
-- (view_code_meaning.tsv), 3 PerformedProcedureStepDescription, then the ProcedureCodeSequence meaning
-- (procedure.tsv: the first line whose words are all words of the text; '-' decides nothing), else UNKNOWN.
-- The rules are the files of cxrdb/rules/views/, loaded into meta.view_rules. Values are compared with runs of
-- whitespace made one space, trimmed and upper-cased; the words of a text are its runs of letters and digits.
-- In staging so that the selection's views (stg.selected_images) can read it; users read analysis.image_view.
CREATE SCHEMA IF NOT EXISTS stg;

CREATE OR REPLACE VIEW stg.image_view AS
WITH images AS (
    SELECT
        dicom_id,
        subject_id,
        study_id,
        ViewPosition,
        ViewCodeSequence_CodeMeaning,
        PerformedProcedureStepDescription,
        ProcedureCodeSequence_CodeMeaning,
        upper(trim(regexp_replace(coalesce(ViewPosition, ''), '\s+', ' ', 'g'))) AS position_key,
        upper(trim(regexp_replace(coalesce(ViewCodeSequence_CodeMeaning, ''), '\s+', ' ', 'g'))) AS code_key,
        trim(regexp_replace(coalesce(PerformedProcedureStepDescription, ''), '\s+', ' ', 'g')) AS step_text,
        trim(regexp_replace(coalesce(ProcedureCodeSequence_CodeMeaning, ''), '\s+', ' ', 'g')) AS code_text
    FROM stg.images
),
exact AS (  -- view_position, view_code_meaning: one view per normalised value (the first line's)
    SELECT file, upper(trim(regexp_replace(pattern, '\s+', ' ', 'g'))) AS key, arg_min(result, line) AS view
    FROM meta.view_rules
    WHERE file IN ('view_position', 'view_code_meaning')
    GROUP BY file, key
),
texts AS (  -- each distinct procedure text once, with its words (texts repeat: a hospital has few of them)
    SELECT text, string_split_regex(upper(text), '[^A-Z0-9]+') AS words
    FROM (
        SELECT step_text AS text FROM images WHERE step_text <> ''
        UNION
        SELECT code_text FROM images WHERE code_text <> ''
    ) AS distinct_texts
),
word_rules AS (  -- procedure, portable: each line's words
    SELECT file, line, string_split(upper(trim(regexp_replace(pattern, '\s+', ' ', 'g'))), ' ') AS words, result
    FROM meta.view_rules
    WHERE file IN ('procedure', 'portable')
),
matched AS (  -- per text, the result of the first line whose words are all words of the text
    SELECT t.text, r.file, arg_min(r.result, r.line) AS result
    FROM texts AS t
    JOIN word_rules AS r ON list_has_all(t.words, r.words)
    GROUP BY t.text, r.file
),
decided AS (
    SELECT
        i.*,
        vp.view AS position_view,
        vc.view AS code_view,
        ps.result AS step_view,
        pc.result AS code_text_view,
        ts.result AS step_portable,
        tc.result AS code_text_portable,
        CASE
            WHEN i.position_key <> '' THEN 1
            WHEN vc.view IS NOT NULL THEN 2
            WHEN ps.result <> '-' THEN 3
            WHEN pc.result <> '-' THEN 4
            ELSE 0
        END AS step
    FROM images AS i
    LEFT JOIN exact AS vp ON vp.file = 'view_position' AND vp.key = i.position_key
    LEFT JOIN exact AS vc ON vc.file = 'view_code_meaning' AND vc.key = i.code_key
    LEFT JOIN matched AS ps ON ps.file = 'procedure' AND ps.text = i.step_text
    LEFT JOIN matched AS pc ON pc.file = 'procedure' AND pc.text = i.code_text
    LEFT JOIN matched AS ts ON ts.file = 'portable' AND ts.text = i.step_text
    LEFT JOIN matched AS tc ON tc.file = 'portable' AND tc.text = i.code_text
)
SELECT
    dicom_id,
    subject_id,
    study_id,
    CASE step
        WHEN 1 THEN coalesce(position_view, position_key)
        WHEN 2 THEN code_view
        WHEN 3 THEN step_view
        WHEN 4 THEN code_text_view
        ELSE 'UNKNOWN'
    END AS view,
    CASE step
        WHEN 1 THEN 'view_position'
        WHEN 2 THEN 'view_code'
        WHEN 3 THEN 'procedure'
        WHEN 4 THEN 'procedure'
        ELSE 'unknown'
    END AS rule,
    CASE step
        WHEN 1 THEN 'ViewPosition'
        WHEN 2 THEN 'ViewCodeSequence_CodeMeaning'
        WHEN 3 THEN 'PerformedProcedureStepDescription'
        WHEN 4 THEN 'ProcedureCodeSequence_CodeMeaning'
    END AS source_column,
    CASE step
        WHEN 1 THEN ViewPosition
        WHEN 2 THEN ViewCodeSequence_CodeMeaning
        WHEN 3 THEN PerformedProcedureStepDescription
        WHEN 4 THEN ProcedureCodeSequence_CodeMeaning
    END AS source_value,
    CASE
        WHEN step_portable IS NOT NULL THEN step_portable = 'yes'
        WHEN code_text_portable IS NOT NULL THEN code_text_portable = 'yes'
        WHEN step_text <> '' OR code_text <> '' THEN false
    END AS portable
FROM decided;
