"""The wheel is the product: it holds the SQL, the demo and the licenses, and runs `cxrdb demo` on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True, text=True)
    (path,) = out.glob("cxrdb-*.whl")
    return path


def test_the_wheel_holds_the_sql_the_demo_and_the_licenses(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"cxrdb/sql/{p.relative_to(ROOT / 'sql').as_posix()}" for p in (ROOT / "sql").rglob("*")
                if p.is_file() and (p.suffix == ".sql" or p.name == "_order.txt")}
    expected |= {f"cxrdb/demo_data/{p.relative_to(ROOT / 'demo').as_posix()}" for p in (ROOT / "demo").rglob("*")
                 if p.is_file()}
    expected |= {f"cxrdb/{p.relative_to(ROOT / 'cxrdb').as_posix()}" for p in (ROOT / "cxrdb").rglob("*.py")
                 if "demo_data" not in p.parts and "sql" not in p.relative_to(ROOT / "cxrdb").parts[:1]}
    assert not expected - names, sorted(expected - names)[:10]
    for folder in ("status", "checks"):
        assert any(n.startswith(f"cxrdb/sql/{folder}/") for n in names), folder
    assert {"cxrdb/demo_data/gold.csv", "cxrdb/demo_data/manifest.csv", "cxrdb/demo_data/README.md"} <= names
    assert {"cxrdb/mimiciv/tables.tsv", "cxrdb/mimiciv/datasets.tsv"} <= names  # MIMIC-IV schema data
    assert sum(n.startswith("cxrdb/demo_data/source/files/") and n.endswith(".dcm") for n in names) == 52
    licenses = {n.rsplit("/", 1)[-1] for n in names if "/licenses/" in n and n.startswith("cxrdb-")}
    assert "LICENSE" in licenses
    assert {p.name for p in (ROOT / "demo" / "licenses").iterdir()} <= licenses


def test_cxrdb_from_the_unpacked_wheel_builds_the_demo_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import cxrdb; print(cxrdb.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).is_relative_to(site), where  # the wheel's copy, not the checkout's (editable) one
    run = subprocess.run([sys.executable, "-m", "cxrdb", "demo", "--out", "out"], cwd=work, env=env,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert (work / "out" / "release" / "mimic-cxr-2.0.0-metadata.csv.gz").is_file()
    check = subprocess.run([sys.executable, "-m", "cxrdb", "check", "--db", "out/catalog.duckdb",
                            "--release", "out/release"], cwd=work, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]


def test_copies_from_the_unpacked_wheel_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """`--size` needs nothing from the checkout: plan.derivatives and the release views ship in the wheel."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    assert (site / "cxrdb" / "sql" / "20_plan" / "derivatives.sql").is_file()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    source = site / "cxrdb" / "demo_data" / "source"
    run = subprocess.run([sys.executable, "-m", "cxrdb", "build", str(source), "--out", "out", "-j", "2",
                          "--size", "128", "--no-full-size"], cwd=work, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    listed = (work / "out" / "IMAGE_FILENAMES_128").read_text().splitlines()
    assert listed and all(p.startswith("files_128/") for p in listed) and not (work / "out" / "files").exists()
    check = subprocess.run([sys.executable, "-m", "cxrdb", "check", "--db", "out.duckdb", "--release", "out"],
                           cwd=work, env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
