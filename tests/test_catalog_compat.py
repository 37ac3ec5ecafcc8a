"""A demo catalog opens in plain DuckDB (this one and 1.x) under any file name, and its headers are MIMIC's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cxrdb.catalog import STORAGE_VERSION, Catalog

# every schema name of the design, plus ordinary names
NAMES = ("raw", "stg", "work", "release", "mimic_cxr", "analysis", "meta", "catalog", "demo.build")
# a venv holding duckdb<2 (made by .ci/run); CXRDB_OLD_DUCKDB_PYTHON points at another interpreter
OLD_PYTHON = Path(os.environ.get("CXRDB_OLD_DUCKDB_PYTHON", "/tmp/cxrdb-duckdb1/bin/python"))

PROBE = r'''
import sys, duckdb
path = sys.argv[1]
con = duckdb.connect(path, read_only=True)
db = con.execute("SELECT current_database()").fetchall()[0][0]
views = con.execute("SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal "
                    "AND database_name = current_database() ORDER BY 1, 2").fetchall()
for schema, view in views:
    con.execute(f'SELECT count(*) FROM "{db}"."{schema}"."{view}"').fetchall()
n = con.execute(f'SELECT count(*) FROM "{db}".mimic_cxr.metadata').fetchall()[0][0]
print(duckdb.__version__, len(views), n)
'''


@pytest.fixture(scope="module")
def demo_catalog(demo_run: tuple[Path, dict]) -> Path:
    return demo_run[0] / "catalog.duckdb"


def _probe(python: str, catalog: Path, tmp_path: Path) -> list[str]:
    results = []
    for name in NAMES:
        copy = tmp_path / f"{name}.duckdb"
        shutil.copyfile(catalog, copy)
        run = subprocess.run([python, "-c", PROBE, str(copy)], capture_output=True, text=True, cwd=tmp_path)
        assert run.returncode == 0, f"{name}.duckdb: {run.stderr.strip().splitlines()[-1:]}"
        results.append(run.stdout.split())
        copy.unlink()
    return results


def test_every_view_works_in_plain_duckdb_under_every_name(demo_catalog: Path, tmp_path: Path) -> None:
    for version, views, images in _probe(sys.executable, demo_catalog, tmp_path):
        assert version == duckdb.__version__ and int(views) >= 20 and int(images) == 51


def test_duckdb_1x_opens_the_catalog_under_every_name(demo_catalog: Path, tmp_path: Path) -> None:
    if not OLD_PYTHON.is_file():
        pytest.skip(f"no DuckDB 1.x interpreter at {OLD_PYTHON} (.ci/run makes one)")
    for version, views, images in _probe(str(OLD_PYTHON), demo_catalog, tmp_path):
        assert version.startswith("1.") and int(views) >= 20 and int(images) == 51


def test_new_catalogs_are_written_in_the_declared_storage_version(demo_catalog: Path) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{demo_catalog}' AS c (READ_ONLY)")
    tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'c'").fetchall()[0][0]
    assert tags["storage_version"].startswith(STORAGE_VERSION)


def test_a_catalog_in_duckdbs_newest_format_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    con = duckdb.connect()
    con.execute(f"ATTACH '{path}' AS n (STORAGE_VERSION 'v2.0.0')")
    con.close()
    with Catalog.open(path) as cat:
        assert cat.scalar("SELECT count(*) FROM mimic_cxr.metadata") == 0


def test_demo_headers_carry_the_path_ids_as_mimic_cxr_does(demo_catalog: Path) -> None:
    with Catalog.open(demo_catalog, read_only=True) as cat:
        rows = cat.query("SELECT PatientID, CAST(subject_id AS VARCHAR), StudyID, CAST(study_id AS VARCHAR) "
                         "FROM raw.images")[1]
        joined = cat.scalar("SELECT count(*) FROM mimic_cxr.dicom_metadata_string AS d "
                            "JOIN mimic_cxr.record_list AS r ON r.dicom_id = d.dicom "
                            "WHERE d.PatientID = CAST(r.subject_id AS VARCHAR) "
                            "AND d.StudyID = CAST(r.study_id AS VARCHAR)")
    assert len(rows) == 52
    assert all(patient == subject and study == study_id for patient, subject, study, study_id in rows)
    assert joined == 52  # every header is readable (only one image fails, in conversion)
