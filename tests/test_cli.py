"""The CLI end to end: ingest, export, sql, status and the one-red-line error path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxrdb.cli import app

runner = CliRunner()


def cxrdb(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real entry point in a subprocess (the path users take)."""
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.fixture(scope="module")
def catalog(real_source, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, _ = real_source
    db = tmp_path_factory.mktemp("cli") / "c.duckdb"
    result = runner.invoke(app, ["ingest", str(root), "--db", str(db), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return db


def test_export_twice_is_byte_identical(catalog: Path, tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(app, ["export", "--db", str(catalog), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == ["SHA256SUMS.txt", "mimic-cxr-2.0.0-metadata.csv.gz", "sections/mimic_cxr_00.csv",
                     "sections/mimic_cxr_sectioned.csv", "sections/mimic_cxr_sections.csv"]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()


def test_sql_formats_and_bigquery_names(catalog: Path) -> None:
    query = "SELECT count(*) AS n FROM `physionet-data.mimic_cxr.record_list`"
    result = runner.invoke(app, ["sql", query, "--db", str(catalog), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"n": 20}]
    result = runner.invoke(app, ["sql", "SELECT subject_id, count(*) AS studies FROM mimic_cxr.study_list "
                                 "GROUP BY 1 ORDER BY 1 LIMIT 2", "--db", str(catalog), "-f", "csv"])
    assert result.output == "subject_id,studies\n10000000,3\n10000001,3\n"
    result = runner.invoke(app, ["sql", "SELECT dicom, Modality FROM mimic_cxr.dicom_metadata_string LIMIT 1",
                                 "--db", str(catalog)])
    assert result.exit_code == 0 and "dicom" in result.output


def test_sql_is_read_only(catalog: Path) -> None:
    proc = cxrdb("sql", "DELETE FROM raw.images", "--db", str(catalog))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error:") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_status_lists_failures_by_item(catalog: Path) -> None:
    result = runner.invoke(app, ["status", "--db", str(catalog), "-f", "json"])
    data = json.loads(result.output)
    stages = {s["stage"]: s for s in data["stages"]}
    assert (stages["ingest: images"]["ok"], stages["ingest: images"]["failed"]) == (17, 3)
    items = {f["item"] for f in data["failures"]}
    assert "files/p19/p19999999/s59999999/not-a-dicom.dcm" in items
    assert "files/p19/p19999999/s59999998.txt" in items


def test_errors_are_one_red_line(tmp_path: Path) -> None:
    for args in (["ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "c.duckdb")],
                 ["sql", "SELECT 1", "--db", str(tmp_path / "missing.duckdb")],
                 ["sql", "SELEC nonsense", "--db", str(tmp_path / "c.duckdb")]):
        proc = cxrdb(*args)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr + proc.stdout
        assert proc.stderr.strip().count("\n") == 0, proc.stderr

