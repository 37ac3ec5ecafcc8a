-- label_value(v): a label cell as one of the four values of the label files: '1.0', '0.0', '-1.0', 'blank'
-- (empty, NULL, or NaN as pandas may write a missing value); anything else is 'invalid' (counted apart, never
-- folded into the four).
CREATE OR REPLACE TEMP MACRO label_value(v) AS CASE
    WHEN v IS NULL OR trim(v) = '' OR isnan(TRY_CAST(v AS DOUBLE)) THEN 'blank'
    WHEN TRY_CAST(v AS DOUBLE) = 1 THEN '1.0'
    WHEN TRY_CAST(v AS DOUBLE) = 0 THEN '0.0'
    WHEN TRY_CAST(v AS DOUBLE) = -1 THEN '-1.0'
    ELSE 'invalid'
END;
