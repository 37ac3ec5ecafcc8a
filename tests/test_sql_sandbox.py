"""`cxrdb sql` is read-only and contained: it reads the catalog (and what --allow names), and nothing else."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cxrdb._console import unique_names
from cxrdb.cli import app
from cxrdb.errors import CxrdbError
from cxrdb.query import QueryConnection, open_query, run_query

runner = CliRunner()
TABLES = ("raw.images", "raw.reports", "work.jpg", "work.labels", "work.split", "meta.settings")


@pytest.fixture(scope="session")
def demo_dir(demo_run: tuple[Path, dict]) -> Path:
    return demo_run[0]


@pytest.fixture(scope="module")
def victim(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo (catalog + release) that the escapes below try to damage."""
    out = tmp_path_factory.mktemp("victim")
    shutil.copyfile(demo_dir / "catalog.duckdb", out / "catalog.duckdb")
    shutil.copytree(demo_dir / "release", out / "release")
    return out


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file under ``folder``: sha256 and mtime."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def counts(db: Path) -> dict[str, int]:
    with open_query(db) as conn:
        return {t: conn.query(f"SELECT count(*) FROM {t}")[1][0][0] for t in TABLES}


REFUSED = [
    # (statement, what the error names)
    ("USE memory; DETACH cxrdb; ATTACH '{db}' AS w; DROP TABLE w.raw.images", "USE"),
    ("DETACH cxrdb", "DETACH"),
    ("ATTACH '{tmp}/new.duckdb' AS w", "ATTACH"),
    ("ATTACH '{db}' AS w (READ_ONLY)", "ATTACH"),
    ("COPY (SELECT 1) TO '{tmp}/out.csv'", "COPY"),
    ("COPY mimic_cxr.record_list TO '{release}/SHA256SUMS.txt'", "COPY"),
    ("COPY raw.images FROM '{tmp}/in.csv'", "COPY"),
    ("COPY FROM DATABASE cxrdb TO memory", "COPY"),
    ("EXPORT DATABASE '{tmp}/export'", "EXPORT"),
    ("IMPORT DATABASE '{tmp}/export'", "IMPORT"),
    ("INSTALL httpfs", "INSTALL"),
    ("FORCE INSTALL httpfs", "FORCE INSTALL"),
    ("LOAD httpfs", "LOAD"),
    ("SET enable_external_access = true", "SET"),
    ("SET allowed_directories = ['/']", "SET"),
    ("RESET lock_configuration", "RESET"),
    ("SET VARIABLE x = 1", "SET"),
    ("USE memory", "USE"),
    ("CREATE TABLE t AS SELECT 1", "CREATE"),
    ("CREATE TEMP TABLE t AS SELECT 1", "CREATE"),
    ("CREATE OR REPLACE VIEW mimic_cxr.metadata AS SELECT 1", "CREATE"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "CREATE"),
    ("CREATE MACRO m(x) AS x", "CREATE"),
    ("INSERT INTO meta.settings VALUES ('a', 'b')", "INSERT"),
    ("WITH a AS (SELECT * FROM meta.settings) INSERT INTO meta.settings SELECT * FROM a", "INSERT"),
    ("UPDATE raw.reports SET section = 'x'", "UPDATE"),
    ("DELETE FROM raw.images", "DELETE"),
    ("DROP TABLE raw.images", "DROP"),
    ("ALTER TABLE raw.images ADD COLUMN x INTEGER", "ALTER"),
    ("COMMENT ON TABLE raw.images IS 'x'", "COMMENT"),
    ("MERGE INTO meta.settings USING meta.settings AS s ON true WHEN MATCHED THEN DELETE", "MERGE"),
    ("CALL checkpoint()", "CALL"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("VACUUM", "VACUUM"),
    ("ANALYZE", "ANALYZE"),
    ("PREPARE p AS SELECT 1", "PREPARE"),
    ("EXECUTE p", "EXECUTE"),
    ("DEALLOCATE p", "DEALLOCATE"),
    ("BEGIN TRANSACTION", "BEGIN"),
    ("PRAGMA enable_profiling", "PRAGMA enable_profiling"),
    ("PRAGMA profiling_output = '{tmp}/profile.json'", "PRAGMA profiling_output"),
    ("SELECT 1; DROP TABLE raw.images", "DROP"),
    ("SELECT 1; COPY (SELECT 1) TO '{tmp}/two.csv'", "COPY"),
    ("EXPLAIN ANALYZE COPY (SELECT 1) TO '{tmp}/explained.csv'", "COPY"),
    ("EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1", "CREATE"),
    ("PIVOT mimic_cxr.metadata ON ViewPosition", "PIVOT without an IN (...) list"),
    ("SELECT * FROM checkpoint()", "checkpoint()"),
    ("SELECT * FROM force_checkpoint()", "force_checkpoint()"),
    ("SELECT * FROM query('SELECT 1')", "query()"),
    ("SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", "json_execute_serialized_sql()"),
    ("SELECT * FROM enable_logging(storage = 'file', storage_path = '{tmp}/logs')", "enable_logging()"),
    ("SELECT * FROM enable_profiling()", "enable_profiling()"),
    ("SELECT * FROM truncate_duckdb_logs()", "truncate_duckdb_logs()"),
    ("SELECT * FROM duckdb_secrets()", "duckdb_secrets()"),
    ("WITH s AS (SELECT * FROM which_secret('s3://x', 's3')) SELECT * FROM s", "which_secret()"),
    ("SELECT (SELECT count(*) FROM checkpoint())", "checkpoint()"),
]

# Queries the statement check lets through but DuckDB's own protections stop: reading the machine.
READS = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_json('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM glob('{tmp}/*')",
    "SELECT * FROM parquet_scan('/etc/passwd')",
    "SELECT * FROM read_parquet('{release}/*.parquet')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM read_csv('{release}/mimic-cxr-2.0.0-split.csv.gz')",
    "WITH p AS (SELECT * FROM read_csv('/etc/passwd')) SELECT count(*) FROM p",
    "SELECT count(*) FROM mimic_cxr.metadata WHERE dicom_id IN (SELECT column0 FROM read_csv('/etc/passwd'))",
    "SELECT * FROM read_duckdb('{tmp}/new.duckdb')",
]


def fill(sql: str, base: Path, tmp: Path) -> str:
    return sql.format(db=base / "catalog.duckdb", tmp=tmp, release=base / "release")


@pytest.fixture(scope="module")
def before(victim: Path) -> tuple[dict, dict]:
    return fingerprint(victim), counts(victim / "catalog.duckdb")


@pytest.mark.parametrize(("sql", "named"), REFUSED, ids=[s for s, _ in REFUSED])
def test_statements_other_than_queries_are_refused(victim: Path, tmp_path: Path, before, sql: str,
                                                   named: str) -> None:
    with pytest.raises(CxrdbError) as info, open_query(victim / "catalog.duckdb") as conn:
        conn.query(fill(sql, victim, tmp_path))
    assert str(info.value) == f"cxrdb sql runs read-only queries only: {named} is not allowed"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sql", READS)
def test_a_query_reads_nothing_but_the_catalog(victim: Path, tmp_path: Path, before, sql: str) -> None:
    (tmp_path / "new.duckdb").touch()
    # a permission error (with the --allow hint), or for a bare 'path' no replacement scan at all
    with pytest.raises(CxrdbError, match=r"^SQL error: .*(Permission.*--allow PATH|/etc/passwd does not exist)"), \
            open_query(victim / "catalog.duckdb") as conn:
        conn.query(fill(sql, victim, tmp_path))


def test_nothing_of_the_machine_leaks_through_functions(victim: Path) -> None:
    with open_query(victim / "catalog.duckdb") as conn:
        with pytest.raises(CxrdbError, match="getenv"):
            conn.query("SELECT getenv('HOME')")
        assert conn.query("SELECT current_setting('home_directory')")[1] == [("",)]
        assert conn.query("SELECT current_setting('enable_external_access')")[1] == [(False,)]
        assert conn.query("SELECT current_setting('lock_configuration')")[1] == [(True,)]


def test_duckdb_alone_holds_when_the_statement_check_is_bypassed(victim: Path, tmp_path: Path) -> None:
    """The second layer: the raw connection, without cxrdb's check, still cannot write or read the machine."""
    db = victim / "catalog.duckdb"
    conn = QueryConnection(db)
    try:
        con = conn.con
        con.execute("USE cxrdb_sql")
        con.execute("DETACH cxrdb")  # allowed by DuckDB, but every database of the instance is read-only
        con.execute(f"ATTACH '{db}' AS w")
        for sql in ("DROP TABLE w.raw.images", "DELETE FROM w.raw.images", "CREATE TABLE w.main.t AS SELECT 1",
                    f"COPY (SELECT 1) TO '{tmp_path}/x.csv'", "SET enable_external_access = true",
                    f"ATTACH '{tmp_path}/new.duckdb' AS n", "INSTALL httpfs", "LOAD httpfs",
                    "SELECT * FROM read_text('/etc/passwd')"):
            with pytest.raises(duckdb.Error):
                con.execute(sql)
        assert con.execute("SELECT count(*) FROM w.raw.images").fetchone()[0] > 0
    finally:
        conn.close()
    assert list(tmp_path.iterdir()) == []


def test_the_catalog_and_release_are_unchanged_by_all_of_it(victim: Path, before) -> None:
    # runs after the escape tests above (file order); a failed escape would have changed these
    files, tables = before
    assert fingerprint(victim) == files
    assert counts(victim / "catalog.duckdb") == tables


def test_read_only_queries_still_work(victim: Path) -> None:
    with open_query(victim / "catalog.duckdb") as conn:
        for sql in ("DESCRIBE mimic_cxr.metadata", "SHOW TABLES", "SHOW ALL TABLES", "SUMMARIZE mimic_cxr.split",
                    "EXPLAIN SELECT * FROM mimic_cxr.metadata", "PRAGMA table_info('mimic_cxr.metadata')",
                    "PRAGMA show_tables", "VALUES (1), (2)", "FROM mimic_cxr.metadata LIMIT 1",
                    "SELECT * FROM query_table('mimic_cxr.split') LIMIT 1",
                    "PIVOT mimic_cxr.metadata ON ViewPosition IN ('PA', 'AP') USING count(*) GROUP BY subject_id",
                    "SELECT 1;"):
            columns, _ = conn.query(sql)
            assert columns, sql
        with pytest.raises(CxrdbError, match="one query at a time"):
            conn.query("SELECT 1; SELECT 2")
        with pytest.raises(CxrdbError, match=r"^SQL error: Parser Error"):
            conn.query("SELEC nonsense")


def test_allow_makes_exactly_those_paths_readable(victim: Path, tmp_path: Path) -> None:
    mine, sibling = tmp_path / "mine", tmp_path / "mine2"
    for folder in (mine, sibling):
        folder.mkdir()
        (folder / "cohort.csv").write_text("dicom_id\n" + "\n".join(
            r[0] for r in run_query(victim / "catalog.duckdb", "SELECT dicom_id FROM mimic_cxr.split LIMIT 5")[1]))
    (tmp_path / "single.csv").write_text("a\n1\n")
    db = victim / "catalog.duckdb"
    join = f"SELECT count(*) FROM read_csv('{mine}/cohort.csv') JOIN mimic_cxr.metadata USING (dicom_id)"
    assert run_query(db, join, allow=[mine])[1] == [(5,)]
    assert run_query(db, f"SELECT count(*) FROM read_csv('{mine}/*.csv')", allow=[mine])[1] == [(5,)]
    assert run_query(db, f"SELECT * FROM read_csv('{tmp_path}/single.csv')", allow=[tmp_path / "single.csv"])[1] \
        == [(1,)]
    for sql, allow in ((f"SELECT * FROM read_csv('{sibling}/cohort.csv')", [mine]),  # a folder is not a prefix
                       (f"SELECT * FROM read_csv('{mine}/../single.csv')", [mine]),
                       (f"SELECT * FROM read_csv('{mine}/cohort.csv')", [tmp_path / "single.csv"]),
                       (join, [])):
        with pytest.raises(CxrdbError, match="Permission"):
            run_query(db, sql, allow=allow)
    with pytest.raises(CxrdbError, match="COPY is not allowed"):
        run_query(db, f"COPY (SELECT 1) TO '{mine}/written.csv'", allow=[mine])
    assert sorted(p.name for p in mine.iterdir()) == ["cohort.csv"]
    with pytest.raises(CxrdbError, match=r"--allow .*nope: no such file or folder"):
        run_query(db, "SELECT 1", allow=[tmp_path / "nope"])


def cxrdb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, timeout=120)


def test_cli_refusal_is_one_line_and_the_catalog_file_is_untouched(victim: Path, tmp_path: Path) -> None:
    db = victim / "catalog.duckdb"
    stamp = (db.read_bytes(), db.stat().st_mtime_ns)
    proc = cxrdb("sql", f"COPY (SELECT 1) TO '{tmp_path}/x.csv'", "--db", str(db))
    assert (proc.returncode, proc.stdout) == (1, "")
    assert proc.stderr == "error: cxrdb sql runs read-only queries only: COPY is not allowed\n"
    proc = cxrdb("sql", "SELECT count(*) AS n FROM mimic_cxr.metadata", "--db", str(db), "-f", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout) == [{"n": 51}], proc.stderr
    proc = cxrdb("sql", "SELECT * FROM read_text('/etc/passwd')", "--db", str(db))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "--allow" in proc.stderr
    assert (db.read_bytes(), db.stat().st_mtime_ns) == stamp
    assert not (victim / "catalog.duckdb.wal").exists() and list(tmp_path.iterdir()) == []


def test_help_documents_allow_and_dialect() -> None:
    result = runner.invoke(app, ["sql", "--help"], terminal_width=200)
    for word in ("--allow", "--dialect", "bigquery", "read-only", "_2"):
        assert word in result.output, word


def test_json_keeps_every_column_of_a_join(victim: Path) -> None:
    assert unique_names(["a", "b", "a", "a", "a_2"]) == ["a", "b", "a_3", "a_4", "a_2"]
    db = str(victim / "catalog.duckdb")
    sql = "SELECT * FROM mimic_cxr.metadata AS m JOIN mimic_cxr.split AS s USING (dicom_id) ORDER BY dicom_id"
    csv = runner.invoke(app, ["sql", sql, "--db", db, "-f", "csv"]).output.splitlines()
    data = json.loads(runner.invoke(app, ["sql", sql, "--db", db, "-f", "json"]).output)
    header = csv[0].split(",")
    assert len(header) == 15 and header.count("study_id") == 2
    assert list(data[0]) == unique_names(header) and "study_id_2" in data[0] and "subject_id_2" in data[0]
    assert len(data) == len(csv) - 1
