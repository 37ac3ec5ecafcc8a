"""BigQuery SQL runs locally with BigQuery's meaning: names, functions, and results on the demo catalog."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from cxrdb.bigquery import DATASETS, detect_dialect, to_duckdb, translate_bigquery
from cxrdb.errors import CxrdbError
from cxrdb.query import run_query


@pytest.fixture(scope="session")
def db(demo_run: tuple[Path, dict]) -> Path:
    return demo_run[0] / "catalog.duckdb"


def bq(sql: str) -> list[tuple]:
    """Run BigQuery SQL (translated) on plain DuckDB: the value BigQuery documents."""
    return duckdb.connect().execute(translate_bigquery(sql)).fetchall()


# -- names -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["`physionet-data.mimic_cxr.chexpert`", "`physionet-data`.mimic_cxr.chexpert",
                                  "physionet-data.mimic_cxr.chexpert", "`physionet-data`.`mimic_cxr`.`chexpert`",
                                  "`physionet-data.mimic_cxr`.chexpert", "mimic_cxr.chexpert"])
def test_every_spelling_of_a_table_maps_to_the_local_schema(name: str) -> None:
    assert translate_bigquery(f"SELECT * FROM {name} AS c") == "SELECT * FROM mimic_cxr.chexpert AS c"


def test_strings_and_comments_are_left_alone() -> None:
    sql = ("SELECT '`physionet-data.mimic_cxr.x`' AS s, `my col` /* `physionet-data.mimic_cxr.y` */ "
           "FROM `physionet-data.mimic_cxr.metadata`")
    out = translate_bigquery(sql)
    assert "'`physionet-data.mimic_cxr.x`'" in out and '"my col"' in out and "FROM mimic_cxr.metadata" in out
    assert "`physionet-data.mimic_cxr.y`" in out  # the comment is kept as written
    assert detect_dialect("SELECT 'physionet-data.mimic_cxr.x', \"No Finding\" FROM release.chexpert") == "duckdb"
    assert detect_dialect("SELECT 1 -- `not a name`") == "duckdb"
    assert detect_dialect("SELECT * FROM physionet-data.mimic_cxr.split") == "bigquery"
    assert detect_dialect("SELECT `No_Finding` FROM t") == "bigquery"


def test_duckdb_sql_passes_through_unchanged() -> None:
    sql = 'SELECT * EXCLUDE (labeler), "No Finding" FROM release.chexpert WHERE x IS DISTINCT FROM 1 LIMIT 3'
    assert to_duckdb(sql) == sql and to_duckdb(sql, "duckdb") == sql
    assert to_duckdb("SELECT 1", "bigquery") == "SELECT 1"


def test_an_unknown_dataset_bad_sql_and_a_bad_dialect_are_one_line() -> None:
    assert set(DATASETS) >= {"mimic_cxr"}
    with pytest.raises(CxrdbError, match=r"^physionet-data\.mimiciv_note is not in this catalog"):
        translate_bigquery("SELECT * FROM `physionet-data.mimiciv_note.discharge`")
    with pytest.raises(CxrdbError, match=r"^mimiciv_hosp: no MIMIC-IV is attached"):  # MIMIC-IV: see test_mimiciv
        translate_bigquery("SELECT * FROM `physionet-data.mimiciv_hosp.patients`", mimic_iv=None)
    for sql in ("SELECT * FROM `physionet-data.mimic_cxr.metadata` WHERE (", "SELECT FORMAT(fmt, a) FROM `t`"):
        with pytest.raises(CxrdbError) as info:
            translate_bigquery(sql)
        assert "\n" not in str(info.value)
    with pytest.raises(CxrdbError, match="unknown dialect"):
        to_duckdb("SELECT 1", "postgres")


# -- functions: the value BigQuery documents, one test per transform -------------------------------
def test_format_is_printf_like() -> None:  # sqlglot keeps FORMAT, which in DuckDB is {}-style
    assert bq("SELECT FORMAT('%s%s', 'a', 'b'), FORMAT('%d-%s', 3, 1.5), FORMAT('%t|%5.1f%%', NULL, 2.5)") == \
        [("ab", "3-1.5", "NULL|  2.5%")]
    assert bq("SELECT FORMAT('p%s', SUBSTR('10000032', 0, 2))") == [("p10",)]  # nested rewrites both apply


def test_substr_position_zero_and_before_the_start_mean_one() -> None:  # sqlglot keeps DuckDB's meaning
    assert bq("SELECT SUBSTR('abcdefgh', 0, 6), SUBSTR('abc', -5, 2), SUBSTR('abc', -2), SUBSTR('abc', 2, 1)") == \
        [("abcdef", "ab", "bc", "b")]
    assert bq("SELECT SUBSTR('abcdef', p, 3) FROM UNNEST([0, -9, -2, 2]) AS p WITH OFFSET o ORDER BY o") == \
        [("abc",), ("abc",), ("ef",), ("bcd",)]


def test_array_agg_with_limit() -> None:  # sqlglot emits LIMIT inside ARRAY_AGG, a DuckDB syntax error
    assert bq("SELECT ARRAY_AGG(x ORDER BY x DESC LIMIT 2) FROM UNNEST([1, 3, 2]) AS x") == [([3, 2],)]


def test_dayofweek_counts_from_sunday_as_one() -> None:  # DuckDB counts from 0
    assert bq("SELECT EXTRACT(DAYOFWEEK FROM DATE '2024-01-07'), EXTRACT(DAYOFWEEK FROM DATE '2024-01-13')") == \
        [(1, 7)]


def test_numeric_keeps_nine_decimals() -> None:  # DuckDB's bare DECIMAL is (18, 3)
    assert bq("SELECT CAST('1.123456789' AS NUMERIC)") == [(Decimal("1.123456789"),)]


def test_safe_prefix_gives_null() -> None:  # sqlglot emits SAFE.CAST(…), a syntax error
    assert bq("SELECT SAFE.PARSE_DATE('%Y%m%d', 'nope'), SAFE.PARSE_DATE('%Y%m%d', '20200131')") == \
        [(None, dt.date(2020, 1, 31))]


def test_unnest_with_offset_counts_from_zero() -> None:  # sqlglot emits WITH ORDINALITY, 1-based
    assert bq("SELECT x, o FROM UNNEST(['a', 'b']) AS x WITH OFFSET AS o ORDER BY o") == [("a", 0), ("b", 1)]
    assert bq("SELECT t.k, x, o FROM (SELECT 1 AS k, [7, 8] AS arr) AS t, UNNEST(t.arr) AS x WITH OFFSET AS o "
              "ORDER BY o") == [(1, 7, 0), (1, 8, 1)]


def test_what_sqlglot_already_gets_right() -> None:
    assert bq("SELECT SAFE_CAST('x' AS INT64), CAST('7' AS INT64), COUNTIF(x > 1) FROM UNNEST([1, 2, 3]) AS x") == \
        [(None, 7, 2)]
    assert bq("SELECT DATETIME_DIFF(DATETIME '2017-10-15 00:00:00', DATETIME '2017-10-14 23:59:59', DAY), "
              "DATETIME_DIFF(DATETIME '2017-10-15 00:00:00', DATETIME '2017-10-14 23:59:59', SECOND)") == [(1, 1)]
    stamp = dt.datetime(2018, 1, 1, 21, 30, 14)
    assert bq("SELECT PARSE_DATETIME('%Y%m%d%H%M%S', '20180101213014'), "
              "CAST('20180101213014' AS DATETIME FORMAT 'YYYYMMDDHH24MISS')") == [(stamp, stamp)]
    assert bq("SELECT * EXCEPT (b) REPLACE (a + 1 AS a) FROM (SELECT 1 AS a, 2 AS b, 3 AS c)") == [(2, 3)]
    assert bq("SELECT x FROM UNNEST([3, 1, 2]) AS x WHERE TRUE QUALIFY ROW_NUMBER() OVER (ORDER BY x) = 1") == [(1,)]
    assert bq("SELECT CONCAT('a', NULL), IFNULL(NULL, 'b')") == [(None, "b")]
    # BigQuery sorts NULLs first ascending, DuckDB last: sqlglot makes it explicit
    assert bq("SELECT ARRAY_AGG(x IGNORE NULLS ORDER BY x) FROM UNNEST([2, NULL, 1]) AS x") == [([1, 2],)]
    assert bq("SELECT x FROM UNNEST([2, NULL, 1]) AS x ORDER BY x") == [(None,), (1,), (2,)]


# -- the same question in BigQuery and in hand-written DuckDB, on the demo catalog ------------------
def same(db: Path, bigquery: str, duck: str) -> list[tuple]:
    assert detect_dialect(bigquery) == "bigquery" and detect_dialect(duck) == "duckdb"
    got, want = run_query(db, bigquery)[1], run_query(db, duck)[1]
    assert got == want and got, (got, want)
    return got


STAMP_BQ = ("PARSE_DATETIME('%Y%m%d%H%M%S', CONCAT(CAST(StudyDate AS STRING), "
            "LPAD(CAST(CAST(FLOOR(StudyTime) AS INT64) AS STRING), 6, '0')))")
STAMP_DUCK = ("make_timestamp(StudyDate // 10000, StudyDate // 100 % 100, StudyDate % 100, "
              "floor(StudyTime)::BIGINT // 10000, floor(StudyTime)::BIGINT // 100 % 100, "
              "floor(StudyTime)::BIGINT % 100)")


def test_cohort_by_view_position(db: Path) -> None:
    rows = same(db, """
        SELECT ViewPosition, COUNT(*) AS images, COUNTIF(ViewPosition IN ('PA', 'AP')) AS frontal,
               COUNT(DISTINCT subject_id) AS patients
        FROM `physionet-data.mimic_cxr.metadata`
        WHERE ViewPosition IS NOT NULL
        GROUP BY ViewPosition ORDER BY images DESC, ViewPosition""", """
        SELECT ViewPosition, count(*), count(*) FILTER (WHERE ViewPosition IN ('PA', 'AP')), count(DISTINCT subject_id)
        FROM release.metadata WHERE ViewPosition IS NOT NULL GROUP BY ALL ORDER BY 2 DESC, 1""")
    assert {r[0] for r in rows} == {"PA", "AP", "LL"}


def test_study_timestamp_two_ways(db: Path) -> None:
    same(db, f"""
        SELECT dicom_id, {STAMP_BQ} AS parsed,
               CAST(CONCAT(CAST(StudyDate AS STRING), LPAD(CAST(CAST(FLOOR(StudyTime) AS INT64) AS STRING), 6, '0'))
                    AS DATETIME FORMAT 'YYYYMMDDHH24MISS') AS cast_format
        FROM physionet-data.mimic_cxr.metadata WHERE StudyDate IS NOT NULL ORDER BY dicom_id""", f"""
        SELECT dicom_id, {STAMP_DUCK}, {STAMP_DUCK} FROM release.metadata
        WHERE StudyDate IS NOT NULL ORDER BY dicom_id""")


def test_days_between_a_patients_studies(db: Path) -> None:
    rows = same(db, f"""
        WITH s AS (
          SELECT subject_id, study_id, MIN({STAMP_BQ}) AS t
          FROM `physionet-data`.mimic_cxr.metadata WHERE StudyDate IS NOT NULL GROUP BY subject_id, study_id)
        SELECT subject_id, study_id,
               DATETIME_DIFF(t, LAG(t) OVER (PARTITION BY subject_id ORDER BY t, study_id), DAY) AS days
        FROM s ORDER BY subject_id, t, study_id""", f"""
        WITH s AS (SELECT subject_id, study_id, min({STAMP_DUCK}) AS t FROM release.metadata
                   WHERE StudyDate IS NOT NULL GROUP BY ALL)
        SELECT subject_id, study_id,
               CAST(t AS DATE) - CAST(lag(t) OVER (PARTITION BY subject_id ORDER BY t, study_id) AS DATE)
        FROM s ORDER BY subject_id, t, study_id""")
    assert any(r[2] for r in rows)


def test_labels_joined_to_images(db: Path) -> None:
    same(db, """
        SELECT m.ViewPosition, COUNT(*) AS images, COUNTIF(c.Pleural_Effusion = 1) AS effusion,
               COUNTIF(c.No_Finding = 1) AS no_finding, SAFE_CAST(AVG(c.Cardiomegaly) AS STRING) AS cardio
        FROM `physionet-data.mimic_cxr.chexpert` AS c
        JOIN `physionet-data.mimic_cxr.metadata` AS m ON c.study_id = m.study_id AND c.subject_id = m.subject_id
        GROUP BY m.ViewPosition ORDER BY m.ViewPosition""", """
        SELECT m.ViewPosition, count(*), count(*) FILTER (l."Pleural Effusion" = 1),
               count(*) FILTER (l."No Finding" = 1), CAST(avg(l."Cardiomegaly") AS VARCHAR)
        FROM release.chexpert AS l JOIN release.metadata AS m USING (subject_id, study_id)
        GROUP BY ALL ORDER BY m.ViewPosition NULLS FIRST""")


def test_file_paths_built_with_format_and_substr(db: Path) -> None:
    rows = same(db, """
        SELECT FORMAT('files/p%s/p%d/s%d/%s.jpg', SUBSTR(CAST(subject_id AS STRING), 0, 2), subject_id, study_id,
                      dicom_id) AS path
        FROM `physionet-data.mimic_cxr.record_list` ORDER BY path""", """
        SELECT 'files/p' || left(subject_id::VARCHAR, 2) || '/p' || subject_id || '/s' || study_id || '/'
               || dicom_id || '.jpg' AS path
        FROM raw.images ORDER BY path""")
    jpgs = {r[0] for r in run_query(db, "SELECT jpg_path FROM release.image_filenames")[1]}
    assert jpgs and jpgs <= {r[0] for r in rows}


def test_select_except_safe_cast_and_array_agg_limit(db: Path) -> None:
    bq_cols = run_query(db, "SELECT * EXCEPT (subject_id, study_id) FROM `physionet-data.mimic_cxr.chexpert`")[0]
    duck_cols = run_query(db, "SELECT * EXCLUDE (subject_id, study_id) FROM mimic_cxr.chexpert")[0]
    assert bq_cols == duck_cols and "subject_id" not in bq_cols and len(bq_cols) == 14
    same(db, """
        SELECT study_id, SAFE_CAST(ViewPosition AS INT64) AS v, SAFE_CAST(CAST(study_id AS STRING) AS INT64) AS s,
               ARRAY_AGG(dicom_id ORDER BY dicom_id LIMIT 2) AS first_two
        FROM `physionet-data.mimic_cxr.metadata` GROUP BY study_id, v ORDER BY study_id""", """
        SELECT study_id, NULL::BIGINT, study_id, list(dicom_id ORDER BY dicom_id)[1:2]
        FROM release.metadata GROUP BY study_id ORDER BY study_id""")


def test_first_study_per_patient_with_qualify(db: Path) -> None:
    same(db, f"""
        SELECT subject_id, study_id, dicom_id
        FROM `physionet-data.mimic_cxr.metadata`
        WHERE StudyDate IS NOT NULL
        QUALIFY ROW_NUMBER() OVER (PARTITION BY subject_id ORDER BY {STAMP_BQ}, dicom_id) = 1
        ORDER BY subject_id""", f"""
        SELECT subject_id, arg_min(study_id, ({STAMP_DUCK}, dicom_id)), arg_min(dicom_id, ({STAMP_DUCK}, dicom_id))
        FROM release.metadata WHERE StudyDate IS NOT NULL GROUP BY subject_id ORDER BY subject_id""")


def test_sql_command_dialect_option(db: Path) -> None:
    # a backtick-free BigQuery query needs --dialect bigquery; a DuckDB query with `…` in a string stays DuckDB
    bigquery = "SELECT SUBSTR(dicom_id, 0, 8) AS p FROM mimic_cxr.record_list ORDER BY p LIMIT 1"
    assert run_query(db, bigquery, dialect="bigquery")[1][0][0] != run_query(db, bigquery, dialect="duckdb")[1][0][0]
    assert len(run_query(db, bigquery, dialect="bigquery")[1][0][0]) == 8
    assert run_query(db, "SELECT '`x`' AS s")[1] == [("`x`",)]
    unnest = "SELECT x, o FROM UNNEST(GENERATE_ARRAY(5, 6)) AS x WITH OFFSET AS o ORDER BY o"
    with pytest.raises(CxrdbError, match=r"for BigQuery SQL pass --dialect bigquery\)$"):
        run_query(db, unnest)
    assert run_query(db, unnest, dialect="bigquery")[1] == [(5, 0), (6, 1)]
