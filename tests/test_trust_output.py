"""Output a script can read: identifiers never wrapped, every format parseable, bad choices are usage errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_source
from typer.testing import CliRunner

from cxrdb.cli import app
from cxrdb.errors import CxrdbError

runner = CliRunner()
LONG_ID = "1.2.826.0.1.3680043.8.498.12345678901234567890123456789012345678901234567890"  # a safe token, 75 chars


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A catalog of a small real source with one failing image whose id is long (UID-like)."""
    work = tmp_path_factory.mktemp("out")
    build_source(work / "src", broken=False)
    bad = work / "src" / "files" / "p10" / "p10000000" / "s50000000" / f"{LONG_ID}.dcm"
    bad.write_bytes(b"not a dicom" * 30)
    result = runner.invoke(app, ["build", str(work / "src"), "--out", str(work / "release"), "-j", "1"])
    assert result.exit_code == 0, result.output
    return work / "release.duckdb"


def _cxrdb(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a subprocess whose stdout is a pipe (80 columns, not a terminal), as `| grep` sees it."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, env=env)


def test_status_piped_never_wraps_an_identifier(catalog: Path) -> None:
    proc = _cxrdb("status", "--db", str(catalog))
    assert proc.returncode == 0, proc.stderr
    assert any(LONG_ID in line for line in proc.stdout.splitlines())  # `cxrdb status | grep <id>` finds it


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_status_formats_parse_and_name_the_failure(catalog: Path, fmt: str) -> None:
    proc = _cxrdb("status", "--db", str(catalog), "-f", fmt)
    assert proc.returncode == 0, proc.stderr
    if fmt == "json":
        data = json.loads(proc.stdout)
        assert any(f["item"].endswith(f"{LONG_ID}.dcm") for f in data["failures"])
        assert {s["stage"] for s in data["stages"]} >= {"ingest: images", "convert: images", "label: chexpert"}
    else:
        text = proc.stdout
        assert LONG_ID in text
        rows = list(csv.reader(io.StringIO(text.split("\n\n")[0])))
        assert rows[0] == ["stage", "ok", "failed", "pending", "note"]


@pytest.mark.parametrize("command", [["status"], ["sql", "SELECT 1"], ["compare"]])
def test_a_bad_format_is_a_usage_error_listing_the_choices(catalog: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--db", str(catalog), "-f", "xml"])
    assert result.exit_code == 2
    assert "table" in result.output and "json" in result.output


def test_export_parquet_writes_every_table(catalog: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--db", str(catalog), "--out", str(tmp_path / "pq"), "-f", "parquet"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "pq").iterdir())
    assert names == ["SHA256SUMS.txt", "mimic-cxr-2.0.0-chexpert.parquet", "mimic-cxr-2.0.0-metadata.parquet",
                     "mimic-cxr-2.0.0-negbio.parquet", "mimic-cxr-2.0.0-split.parquet", "sections"]
    check = runner.invoke(app, ["check", "--release", str(tmp_path / "pq")])
    assert check.exit_code == 0, check.output


def test_help_documents_the_environment_and_offers_completion() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    for var in ("CXRDB_CATALOG", "CXRDB_DEBUG", "CXRDB_START_METHOD", "CXRDB_MALLOC_TUNE", "CXRDB_MEMORY_LIMIT"):
        assert var in result.output
    assert "--install-completion" in result.output


def test_duckdb_memory_is_bounded_spills_beside_the_catalog_and_a_bad_limit_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog connection keeps at most CXRDB_MEMORY_LIMIT (default 512MB): a query needing more spills into
    CATALOG.tmp/ beside the file (never into the working directory) and still answers; a limit DuckDB cannot read
    is one red line naming the variable."""
    from cxrdb.catalog import Catalog

    monkeypatch.chdir(tmp_path)
    db = tmp_path / "cat" / "c.duckdb"
    with Catalog.open(db) as cat:
        assert cat.scalar("SELECT current_setting('memory_limit')") == "488.2 MiB"  # DuckDB's rendering of 512MB
        cat.set_setting("kept", "1")
    monkeypatch.setenv("CXRDB_MEMORY_LIMIT", "40MB")
    with Catalog.open(db) as cat:
        assert cat.scalar("SELECT current_setting('temp_directory')") == str(db) + ".tmp"
        # ~150 MB of distinct strings in a hash table, under a 40 MB limit
        assert cat.scalar("SELECT count(*) FROM (SELECT DISTINCT md5(i::VARCHAR) || repeat('x', 40) "
                          "FROM range(1500000) t(i))") == 1_500_000
        with pytest.raises(CxrdbError, match=r"^SQL error: Out of Memory Error: .* memory limit is 40MB: set "
                                             r"CXRDB_MEMORY_LIMIT higher"):  # what DuckDB cannot spill: one line
            cat.query("SELECT list(md5(i::VARCHAR) || repeat('x', 40)) FROM range(1500000) t(i)")
    assert not (tmp_path / ".tmp").exists()
    monkeypatch.setenv("CXRDB_MEMORY_LIMIT", "lots")
    result = _cxrdb("status", "--db", str(db))
    assert result.returncode == 1
    assert "CXRDB_MEMORY_LIMIT='lots' is not a DuckDB memory size" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
