"""`cxrdb convert` end to end: published bytes, IMAGE_FILENAMES, re-runs, kill -9 resume, Dask."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest
from conftest import DICOMS, build_source, dicom_id
from typer.testing import CliRunner

from cxrdb.catalog import Catalog
from cxrdb.cli import app
from cxrdb.convert.decode import read_dataset
from cxrdb.convert.published import published_from_dataset
from cxrdb.convert.run import convert
from cxrdb.export import export
from cxrdb.ingest import ingest

runner = CliRunner()
UNDECODABLE = next(i for i, p in enumerate(DICOMS) if "undecodable" in p.name)


def published_jpg(src: Path) -> bytes:
    """The published function's JPG bytes (pydicom + pylibjpeg, cv2 defaults)."""
    ok, buf = cv2.imencode(".jpg", published_from_dataset(read_dataset(str(src))))
    assert ok
    return buf.tobytes()


def tree(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root/files (debris included)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "files").rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def converted(real_source, tmp_path_factory: pytest.TempPathFactory):
    root, made = real_source
    work = tmp_path_factory.mktemp("conv")
    db, out = work / "c.duckdb", work / "release"
    assert runner.invoke(app, ["ingest", str(root), "--db", str(db), "-j", "2"]).exit_code == 0
    result = runner.invoke(app, ["convert", "--db", str(db), "--out", str(out), "-j", "2"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["export", "--db", str(db), "--out", str(out)]).exit_code == 0
    return db, out, made


def test_every_jpg_is_byte_identical_to_the_published_function(converted) -> None:
    _db, out, made = converted
    jpgs = {p.stem: p for p in (out / "files").rglob("*.jpg")}
    assert set(jpgs) == set(made) - {dicom_id(UNDECODABLE)}
    for did, jpg in jpgs.items():
        assert jpg.read_bytes() == published_jpg(made[did]), made[did].name


def test_undecodable_is_named_by_status_and_has_no_jpg(converted) -> None:
    db, out, _ = converted
    result = runner.invoke(app, ["status", "--db", str(db), "-f", "json"])
    import json

    failures = [f for f in json.loads(result.output)["failures"] if f["stage"] == "convert"]
    assert [f["item"] for f in failures] == [dicom_id(UNDECODABLE)]
    assert failures[0]["error"].startswith("undecodable pixel data") and "\n" not in failures[0]["error"]
    assert not list(out.rglob(f"{dicom_id(UNDECODABLE)}*"))


def test_image_filenames_lists_exactly_the_jpgs(converted) -> None:
    _db, out, _ = converted
    listed = (out / "IMAGE_FILENAMES").read_text().splitlines()
    on_disk = sorted(str(p.relative_to(out)) for p in (out / "files").rglob("*.jpg"))
    assert listed == on_disk
    assert (out / "IMAGE_FILENAMES").read_bytes().endswith(b".jpg\n")


def test_second_run_is_harmless(converted) -> None:
    db, out, _ = converted
    before = {p: p.stat().st_mtime_ns for p in (out / "files").rglob("*.jpg")}
    with Catalog.open(db) as cat:
        summary = convert(cat, out, workers=1)
    assert summary["converted"] == 0 and summary["up_to_date"] == len(before)
    assert {p: p.stat().st_mtime_ns for p in (out / "files").rglob("*.jpg")} == before


def test_strict_exit_status(converted) -> None:
    db, out, _ = converted
    assert runner.invoke(app, ["convert", "--db", str(db), "--out", str(out), "--strict"]).exit_code == 2


def test_changed_source_reconverts_and_failure_removes_stale_jpg(tmp_path: Path) -> None:
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    good = next(d for d, p in made.items() if "CR1" in p.name)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, root, workers=1)
        convert(cat, tmp_path / "out", workers=1)
        target = next(root.rglob(f"{good}.dcm"))
        jpg = next((tmp_path / "out").rglob(f"{good}.jpg"))
        shutil.copyfile(DICOMS[UNDECODABLE], target)
        ingest(cat, root, workers=1)
        summary = convert(cat, tmp_path / "out", workers=1)
        assert summary["converted"] == 0 and summary["failed"] == 2
        assert not jpg.exists()


def _big_source(root: Path, n: int) -> None:
    """n images copied from the mid-size real files, for a run long enough to kill."""
    picks = [p for p in DICOMS if p.stat().st_size > 500_000 and "undecodable" not in p.name]
    for k in range(n):
        folder = root / "files" / "p10" / f"p100000{k // 10:02d}" / f"s5000{k:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(picks[k % len(picks)], folder / f"{dicom_id(1000 + k)}.dcm")


def test_kill_9_then_resume_gives_identical_files(tmp_path: Path) -> None:
    root = tmp_path / "src"
    _big_source(root, 24)
    reference, killed = tmp_path / "ref", tmp_path / "killed"
    for name in ("ref", "killed"):
        with Catalog.open(tmp_path / f"{name}.duckdb") as cat:
            ingest(cat, root, workers=1)
    with Catalog.open(tmp_path / "ref.duckdb") as cat:
        convert(cat, reference, workers=2)
    cmd = [sys.executable, "-m", "cxrdb", "convert", "--db", str(tmp_path / "killed.duckdb"),
           "--out", str(killed), "-j", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(killed.rglob("*.jpg"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(killed.rglob("*.jpg"))) < 24, "the run finished before it could be killed"
    with Catalog.open(tmp_path / "killed.duckdb") as cat:
        summary = convert(cat, killed, workers=2)
    assert summary["failed"] == 0
    assert tree(killed) == tree(reference)


def test_dask_local_cluster_gives_the_same_files(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    with Catalog.open(tmp_path / "local.duckdb") as cat:
        ingest(cat, root, workers=1)
        convert(cat, tmp_path / "local", workers=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, Catalog.open(tmp_path / "dask.duckdb") as cat:
        ingest(cat, root, workers=1)
        summary = convert(cat, tmp_path / "dask", scheduler=cluster.scheduler_address)
        export(cat, tmp_path / "dask")
    assert summary["converted"] == len(made) - 1
    assert tree(tmp_path / "dask") == tree(tmp_path / "local")


def test_workers_read_the_source_from_a_url(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    root = tmp_path / "src"
    build_source(root, broken=False)
    with Catalog.open(tmp_path / "local.duckdb") as cat:
        ingest(cat, root, workers=1)
        convert(cat, tmp_path / "local", workers=1)
    moved = tmp_path / "elsewhere"
    root.rename(moved)  # the workers see the data at another place than where it was ingested
    with Catalog.open(tmp_path / "url.duckdb") as cat:
        cat.query("ATTACH ? AS old (READ_ONLY)", [str(tmp_path / "local.duckdb")])
        cat.query("INSERT INTO raw.images SELECT * FROM old.raw.images")
        cat.query("DETACH old")
        cat.set_setting("source_root", str(root))
        summary = convert(cat, tmp_path / "url", workers=2, source_url=f"file://{moved}")
    assert summary["failed"] == 1  # only the undecodable file
    assert tree(tmp_path / "url") == tree(tmp_path / "local")


def test_prune_removes_what_left_the_source(tmp_path: Path) -> None:
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    gone = next(d for d, p in made.items() if "CR2" in p.name)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, root, workers=1)
        convert(cat, tmp_path / "out", workers=1)
        jpg = next((tmp_path / "out").rglob(f"{gone}.jpg"))
        dcm = next(root.rglob(f"{gone}.dcm"))
        dcm.unlink()
        kept = ingest(cat, root, workers=1)
        assert kept["images_missing"] == 1 and jpg.exists()
        pruned = ingest(cat, root, workers=1, prune=True)
        assert pruned["images_pruned"] == 1 and not jpg.exists()
        assert cat.scalar("SELECT count(*) FROM raw.images WHERE dicom_id = ?", [gone]) == 0
        assert cat.scalar("SELECT count(*) FROM work.jpg WHERE dicom_id = ?", [gone]) == 0


def test_status_reports_a_run_in_progress(tmp_path: Path) -> None:
    root = tmp_path / "src"
    _big_source(root, 48)  # a run of a few seconds, so that status can catch it under load
    db = tmp_path / "c.duckdb"
    with Catalog.open(db) as cat:
        ingest(cat, root, workers=1)
    proc = subprocess.Popen([sys.executable, "-m", "cxrdb", "convert", "--db", str(db), "--out", str(tmp_path / "out"),
                             "-j", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = None
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and seen is None:
        result = runner.invoke(app, ["status", "--db", str(db), "-f", "json"])
        if result.exit_code == 0 and '"convert": {' in result.output:
            seen = result.output
        time.sleep(0.1)
    proc.wait(timeout=120)
    assert seen is not None, "status never showed the run in progress"
    assert '"convert"' in seen and '"total": 48' in seen
    assert not (tmp_path / "c.duckdb.run.json").exists()  # removed when the run ends
    final = runner.invoke(app, ["status", "--db", str(db), "-f", "json"])
    assert '"stage": "convert: images"' in final.output
