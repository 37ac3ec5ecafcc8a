-- value_differences: every cell whose value differs between the releases, for the rows both have; grain
-- (column, key); reads ours, theirs. Blank and NULL are one value; otherwise values compare as written.
WITH o AS (SELECT * FROM ours UNPIVOT INCLUDE NULLS (val FOR col IN (COLUMNS(* EXCLUDE (key))))),
     t AS (SELECT * FROM theirs UNPIVOT INCLUDE NULLS (val FOR col IN (COLUMNS(* EXCLUDE (key)))))
SELECT col AS "column", key, o.val AS ours, t.val AS theirs
FROM o JOIN t USING (key, col)
WHERE nullif(o.val, '') IS DISTINCT FROM nullif(t.val, '')
ORDER BY "column", key;
