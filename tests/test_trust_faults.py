"""Faults of the machine, not of the input: a full disk or a read-only file system under the catalog or the release
gives one red line, keeps nothing half-written, and the same command resumes once there is room; Ctrl-C says that
finished work is saved. Uses a small tmpfs (skipped where mounting is not allowed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_source

from cxrdb.check import verify_release


def _mount(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def _remount(path: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(path)], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    if os.geteuid() != 0 or not _mount(disk, "2m"):
        pytest.skip("needs permission to mount a tmpfs")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _cxrdb(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200"})


def _one_red_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert any(n in errors[0] for n in needles), errors[0]


def _tree(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes]]:
    """A clean build of the source the fault tests use, to compare their resumed builds with."""
    work = tmp_path_factory.mktemp("ref")
    build_source(work / "src", broken=False)
    proc = _cxrdb("build", str(work / "src"), "--out", str(work / "release"), "-j", "1")
    assert proc.returncode == 0, proc.stderr
    return work / "src", _tree(work / "release")


def test_full_disk_under_the_release_resumes_to_the_same_release(reference, small_disk: Path,
                                                                  tmp_path: Path) -> None:
    src, files = reference
    out = small_disk / "release"
    db = tmp_path / "c.duckdb"
    proc = _cxrdb("build", str(src), "--out", str(out), "--db", str(db), "-j", "1")
    _one_red_line(proc, "disk full")
    assert not [p for p in out.rglob("*") if p.name.endswith(".cxrdb-tmp")]  # no temp file left
    _remount(small_disk, "size=64m")
    again = _cxrdb("build", str(src), "--out", str(out), "--db", str(db), "-j", "1")
    assert again.returncode == 0, again.stderr
    assert _tree(out) == files
    assert not any(verify_release(out, workers=1).values())


def test_full_disk_under_the_catalog_resumes(reference, small_disk: Path, tmp_path: Path) -> None:
    src, files = reference
    _remount(small_disk, "size=100k")
    db = small_disk / "c.duckdb"
    out = tmp_path / "release"
    proc = _cxrdb("build", str(src), "--out", str(out), "--db", str(db), "-j", "1")
    _one_red_line(proc, "disk full", "No space left")
    _remount(small_disk, "size=64m")
    again = _cxrdb("build", str(src), "--out", str(out), "--db", str(db), "-j", "1")
    assert again.returncode == 0, again.stderr
    assert _tree(out) == files


@pytest.mark.parametrize("where", ["release", "catalog"])
def test_read_only_file_system_is_one_line_and_leaves_nothing(reference, small_disk: Path, tmp_path: Path,
                                                              where: str) -> None:
    src, _ = reference
    _remount(small_disk, "ro")
    out = small_disk / "release" if where == "release" else tmp_path / "release"
    db = small_disk / "c.duckdb" if where == "catalog" else tmp_path / "c.duckdb"
    proc = _cxrdb("build", str(src), "--out", str(out), "--db", str(db), "-j", "1")
    _one_red_line(proc, "not writable", "read-only")
    assert not out.exists() and not db.exists()


def test_ctrl_c_says_finished_work_is_saved_and_resumes(reference, tmp_path: Path) -> None:
    src, files = reference
    out = tmp_path / "release"
    proc = subprocess.Popen([sys.executable, "-m", "cxrdb", "build", str(src), "--out", str(out), "-j", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(out.glob("files/**/*.jpg")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the build finished before Ctrl-C arrived")
    assert proc.returncode == 130, err
    assert "interrupted: finished work is saved" in err and "Traceback" not in err
    again = _cxrdb("build", str(src), "--out", str(out), "-j", "1")
    assert again.returncode == 0, again.stderr
    assert _tree(out) == files
