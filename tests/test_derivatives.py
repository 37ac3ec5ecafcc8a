"""Smaller copies (`--size N`): shapes and bytes on real DICOMs, release files, determinism, resume, adding and
removing a size, tampering, --no-full-size, and bad input refused before any work."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DICOMS, build_source, dicom_id
from typer.testing import CliRunner

from cxrdb.catalog import Catalog
from cxrdb.check import verify_release
from cxrdb.cli import app
from cxrdb.convert.decode import read_dataset
from cxrdb.convert.derivatives import parse_outputs
from cxrdb.convert.published import published_from_dataset
from cxrdb.convert.resize import shrink, target_shape
from cxrdb.convert.run import convert
from cxrdb.errors import CxrdbError
from cxrdb.export import export
from cxrdb.ingest import ingest

runner = CliRunner()
UNDECODABLE = dicom_id(next(i for i, p in enumerate(DICOMS) if "undecodable" in p.name))


def tree(root: Path, top: str) -> dict[str, str]:
    """Relative path -> sha256 of every file under root/top (debris included)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / top).rglob("*")) if p.is_file()}


def mtimes(root: Path, top: str) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (root / top).rglob("*.jpg")}


def expected_copy(src: Path, size: int, quality: int = 95) -> bytes:
    """An independent reference: the published function's pixels, cv2.resize INTER_AREA, cv2.imencode."""
    img = published_from_dataset(read_dataset(str(src)))
    rows, columns = target_shape(*img.shape, size)
    if (rows, columns) != img.shape:
        img = cv2.resize(img, (columns, rows), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


# -- the rule ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("shape", "size", "expected"), [
    ((3056, 2544), 512, (512, 426)),  # portrait: 2544 * 512 / 3056 = 426.2
    ((2544, 3056), 512, (426, 512)),  # landscape
    ((8, 5), 4, (4, 2)),  # 2.5 -> 2: half to even
    ((8, 7), 4, (4, 4)),  # 3.5 -> 4: half to even
    ((4, 3), 2, (2, 2)),  # 1.5 -> 2
    ((1000, 1), 10, (10, 1)),  # 0.01 -> at least 1
    ((1, 1000), 10, (1, 10)),
    ((1760, 1760), 224, (224, 224)),
    ((169, 211), 224, (169, 211)),  # smaller: kept, never upscaled
    ((224, 100), 224, (224, 100)),  # equal: kept
])
def test_target_shape(shape: tuple[int, int], size: int, expected: tuple[int, int]) -> None:
    assert target_shape(*shape, size) == expected


@pytest.mark.parametrize(("sizes", "quality", "full", "message"), [
    (["0"], None, True, "--size 0: a size is the longer side in pixels, 1 or more"),
    (["-224"], None, True, "--size -224: a size is the longer side in pixels, 1 or more"),
    (["224.5"], None, True, "--size '224.5' is not a whole number"),
    (["512", "big"], None, True, "--size 'big' is not a whole number"),
    ([""], None, True, "--size '' is not a whole number"),
    (["70000"], None, True, "--size 70000: a JPEG side is at most 65500 pixels"),
    ([], None, False, "--no-full-size writes only the --size copies: give at least one --size"),
    ([], "80", True, "--quality sets the quality of the --size copies"),
    (["512"], "0", True, "--quality 0: JPEG quality is 1 to 100"),
    (["512"], "high", True, "--quality 'high' is not a whole number"),
])
def test_bad_options_are_refused(sizes, quality, full, message) -> None:
    with pytest.raises(CxrdbError) as err:
        parse_outputs(sizes, quality, full)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


@pytest.mark.parametrize(("sizes", "resize", "message"), [
    (["512"], "bicubic", "--resize 'bicubic': use area or fast"),
    ([], "fast", "--resize sets how the --size copies are made: give --size too"),
])
def test_bad_resize_methods_are_refused(sizes, resize, message) -> None:
    with pytest.raises(CxrdbError) as err:
        parse_outputs(sizes, resize=resize)
    assert str(err.value) == message


def test_duplicates_are_dropped_quietly() -> None:
    out = parse_outputs(["224", "512", " 224", "+512"], "90")
    assert out.sizes == (512, 224) and out.quality == 90 and out.full_size


# -- a release with copies, from every real test DICOM ------------------------------------------------------

@pytest.fixture(scope="module")
def built(real_source, tmp_path_factory: pytest.TempPathFactory):
    root, made = real_source
    work = tmp_path_factory.mktemp("deriv")
    out = work / "release"
    result = runner.invoke(app, ["build", str(root), "--out", str(out), "-j", "2", "--size", "512", "--size", "224",
                                 "--size", "512"])
    assert result.exit_code == 0, result.output
    return work / "release.duckdb", out, made


def test_copies_are_the_published_pixels_resized(built) -> None:
    _db, out, made = built
    for size in (512, 224):
        copies = {p.stem: p for p in (out / f"files_{size}").rglob("*.jpg")}
        assert set(copies) == set(made) - {UNDECODABLE}
        for did, path in copies.items():
            full = cv2.imread(str(next((out / "files").rglob(f"{did}.jpg"))), cv2.IMREAD_UNCHANGED)
            small = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            assert small.shape == target_shape(*full.shape, size), made[did].name
            assert max(small.shape) == min(size, max(full.shape))
            assert path.read_bytes() == expected_copy(made[did], size), made[did].name


def test_shapes_of_portrait_landscape_tiny_and_16_bit(built) -> None:
    db, _out, made = built
    by_name = {p.name: d for d, p in made.items()}
    with Catalog.open(db, read_only=True) as cat:
        rows = {(d, s): (r, c, n) for d, s, r, c, n in
                cat.query("SELECT dicom_id, size, rows, columns, note FROM work.derivative")[1]}
    assert rows[(by_name["pydicom-data__RG1_J2KI.dcm"], 512)][:2] == (512, 482)  # portrait 1955x1841, MONOCHROME1
    assert rows[(by_name["pylibjpeg-data__DX_J2K_0Padding_u16.dcm"], 512)][:2] == (511, 512)  # landscape 16-bit
    assert rows[(by_name["dicom-test-files__RG2_J2KR.dcm"], 224)][:2] == (224, 184)  # 2140x1760
    tiny = rows[(by_name["highdicom__dx_image.dcm"], 224)]  # 169x211: no upscaling, noted
    assert tiny == (169, 211, "smaller than 224 px: kept at its own size 169x211")
    square = next(d for n, d in by_name.items() if "CR1" in n)
    assert rows[(square, 512)] == (16, 16, "smaller than 512 px: kept at its own size 16x16")


def test_full_size_jpgs_are_unchanged_by_the_copies(built, tmp_path: Path) -> None:
    db, out, _made = built
    with Catalog.open(db, read_only=True) as cat:
        source = cat.get_setting("source_root")
    plain = tmp_path / "plain"
    assert runner.invoke(app, ["build", source, "--out", str(plain), "-j", "2"]).exit_code == 0
    assert tree(out, "files") == tree(plain, "files")
    assert (out / "IMAGE_FILENAMES").read_bytes() == (plain / "IMAGE_FILENAMES").read_bytes()


def test_release_lists_the_copies(built) -> None:
    _db, out, _ = built
    sums = dict(reversed(line.split(" ", 1)) for line in (out / "SHA256SUMS.txt").read_text().splitlines())
    for size in (512, 224):
        listed = (out / f"IMAGE_FILENAMES_{size}").read_text().splitlines()
        assert listed == sorted(str(p.relative_to(out)) for p in (out / f"files_{size}").rglob("*.jpg"))
        assert all(p.startswith(f"files_{size}/p1") for p in listed)
        for rel in listed:
            assert sums[rel] == hashlib.sha256((out / rel).read_bytes()).hexdigest()
        assert f"IMAGE_FILENAMES_{size}" in sums
    readme = (out / "README").read_text()
    assert "files_512/: 16 JPGs, longer side 512 px, listed in IMAGE_FILENAMES_512" in readme
    assert "JPEG quality 95" in readme
    assert all(not v for v in verify_release(out, workers=1).values())


def test_status_shows_each_size_and_its_failures(built) -> None:
    db, _, _ = built
    result = runner.invoke(app, ["status", "--db", str(db), "-f", "json"])
    data = json.loads(result.output)
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["convert: files_512"]["ok"] == 16 and stages["convert: files_512"]["failed"] == 1
    assert stages["convert: files_224"]["pending"] == 0
    failed = {(f["stage"], f["item"]) for f in data["failures"] if f["stage"].startswith("convert")}
    assert failed == {("convert", UNDECODABLE), ("convert files_512", UNDECODABLE),
                      ("convert files_224", UNDECODABLE)}


def test_rebuild_is_a_no_op(built) -> None:
    db, out, _ = built
    before = {**mtimes(out, "files_512"), **mtimes(out, "files_224"), **mtimes(out, "files")}
    sums = (out / "SHA256SUMS.txt").read_bytes()
    with Catalog.open(db) as cat:
        result = convert(cat, out, workers=1, outputs=parse_outputs(["224", "512"]))
    assert result.copies_made == 0 and result.copies_up_to_date == 32 and result.converted == 0
    assert {**mtimes(out, "files_512"), **mtimes(out, "files_224"), **mtimes(out, "files")} == before
    assert (out / "SHA256SUMS.txt").read_bytes() == sums


# -- runs of their own -----------------------------------------------------------------------------------------

def _ingested(tmp_path: Path, name: str = "c") -> Path:
    root = tmp_path / "src"
    if not root.exists():
        build_source(root, broken=False)
    db = tmp_path / f"{name}.duckdb"
    with Catalog.open(db) as cat:
        ingest(cat, root, workers=1)
    return db


def test_inline_and_pool_give_the_same_bytes(tmp_path: Path) -> None:
    for name, workers in (("one", 1), ("pool", 2)):
        with Catalog.open(_ingested(tmp_path, name)) as cat:
            convert(cat, tmp_path / name, workers=workers, outputs=parse_outputs(["300", "64"], "90"))
    for top in ("files", "files_300", "files_64"):
        assert tree(tmp_path / "one", top) == tree(tmp_path / "pool", top), top


def test_adding_a_size_later_makes_only_that(tmp_path: Path) -> None:
    db = _ingested(tmp_path)
    out = tmp_path / "out"
    with Catalog.open(db) as cat:
        first = convert(cat, out, workers=2)
        before = mtimes(out, "files")
        added = convert(cat, out, workers=2, outputs=parse_outputs(["128"]))
        assert added.converted == 0 and added.up_to_date == first.converted
        assert added.copies_made == first.converted and added.copies_failed == 1  # the undecodable one
        assert mtimes(out, "files") == before  # the current full-size JPGs were not rewritten
        export(cat, out)
        again = convert(cat, out, workers=1, outputs=parse_outputs(["128", "32"]))
        assert again.copies_made == first.converted and again.copies_up_to_date == first.converted
        assert verify_release(out, workers=1)["not listed"]  # files_32 is not in SHA256SUMS.txt until export
        export(cat, out)
    assert all(not v for v in verify_release(out, workers=1).values())


def test_removing_a_size_removes_its_files_and_rows(tmp_path: Path) -> None:
    db = _ingested(tmp_path)
    out = tmp_path / "out"
    with Catalog.open(db) as cat:
        convert(cat, out, workers=2, outputs=parse_outputs(["128", "32"]))
        export(cat, out)
        assert (out / "IMAGE_FILENAMES_32").is_file()
        kept = mtimes(out, "files_128")
        result = convert(cat, out, workers=1, outputs=parse_outputs(["128"]))
        assert result.copies_removed == len(kept) + 1  # the copies and IMAGE_FILENAMES_32
        assert not (out / "files_32").exists() and not (out / "IMAGE_FILENAMES_32").exists()
        assert cat.scalar("SELECT count(*) FROM work.derivative WHERE size = 32") == 0
        assert mtimes(out, "files_128") == kept
        export(cat, out)
    assert "files_32" not in (out / "SHA256SUMS.txt").read_text()
    assert all(not v for v in verify_release(out, workers=1).values())


def test_a_new_quality_remakes_only_the_copies(tmp_path: Path) -> None:
    db = _ingested(tmp_path)
    out = tmp_path / "out"
    with Catalog.open(db) as cat:
        convert(cat, out, workers=1, outputs=parse_outputs(["200"]))
        full, small = mtimes(out, "files"), tree(out, "files_200")
        result = convert(cat, out, workers=1, outputs=parse_outputs(["200"], "60"))
    assert result.converted == 0 and result.copies_made == len(small)
    assert mtimes(out, "files") == full
    changed = tree(out, "files_200")
    assert changed.keys() == small.keys() and all(changed[k] != small[k] for k in small if "CR" not in k)


def test_a_tampered_or_torn_copy_is_found_and_made_again(tmp_path: Path) -> None:
    db = _ingested(tmp_path)
    out = tmp_path / "out"
    with Catalog.open(db) as cat:
        convert(cat, out, workers=1, outputs=parse_outputs(["256"]))
        export(cat, out)
        reference = tree(out, "files_256")
        copies = sorted((out / "files_256").rglob("*.jpg"))
        edited, torn = copies[0], copies[1]
        data = bytearray(edited.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, other bytes
        st = edited.stat()
        edited.write_bytes(bytes(data))
        os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000))
        torn.write_bytes(torn.read_bytes()[:100])
        problems = verify_release(out, workers=1)
        assert set(problems["mismatch"]) == {str(edited.relative_to(out)), str(torn.relative_to(out))}
        with pytest.raises(CxrdbError, match="missing or changed since they were converted"):
            export(cat, out)  # never lists a copy that is not the recorded file
        result = convert(cat, out, workers=1, outputs=parse_outputs(["256"]))
        assert result.copies_replaced_on_disk == 2 and result.copies_made == 2 and result.converted == 0
        export(cat, out)
    assert tree(out, "files_256") == reference
    assert all(not v for v in verify_release(out, workers=1).values())


def test_no_full_size_builds_only_copies(tmp_path: Path) -> None:
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    out = tmp_path / "small"
    result = runner.invoke(app, ["build", str(root), "--out", str(out), "-j", "2", "--size", "96",
                                 "--no-full-size"])
    assert result.exit_code == 0, result.output
    assert not (out / "files").exists() and not (out / "IMAGE_FILENAMES").exists()
    listed = (out / "IMAGE_FILENAMES_96").read_text().splitlines()
    assert {Path(p).stem for p in listed} == set(made) - {UNDECODABLE}
    assert all(not v for v in verify_release(out, workers=1).values())  # metadata = the copies' images
    status = json.loads(runner.invoke(app, ["status", "--db", str(tmp_path / "small.duckdb"), "-f", "json"]).output)
    stages = {s["stage"] for s in status["stages"]}
    assert "convert: files_96" in stages and "convert: images" not in stages
    assert "Built with --no-full-size" in (out / "README").read_text()
    # a later build with full size adds files/ from a new decode and leaves the copies alone
    before = mtimes(out, "files_96")
    assert runner.invoke(app, ["build", str(root), "--out", str(out), "-j", "2", "--size", "96"]).exit_code == 0
    assert mtimes(out, "files_96") == before and (out / "IMAGE_FILENAMES").is_file()
    # ... and --no-full-size into a folder that now holds full-size JPGs is refused before any work
    refused = runner.invoke(app, ["build", str(root), "--out", str(out), "--size", "96", "--no-full-size"])
    assert isinstance(refused.exception, CxrdbError) and str(refused.exception).startswith("--no-full-size: ")
    assert all(not v for v in verify_release(out, workers=1).values())


@pytest.mark.parametrize("args", [["--size", "0"], ["--size", "-5"], ["--size", "1.5"], ["--size", "x"],
                                  ["--no-full-size"], ["--quality", "90"], ["--size", "64", "--quality", "101"],
                                  ["--size", "64", "--resize", "cubic"], ["--resize", "fast"]])
def test_cli_refuses_bad_sizes_before_any_work(real_source, tmp_path: Path, args: list[str]) -> None:
    root, _ = real_source
    out = tmp_path / "out"
    for cmd in (["build", str(root), "--out", str(out)], ["convert", "--db", str(tmp_path / "c.duckdb"),
                                                          "--out", str(out)]):
        proc = subprocess.run([sys.executable, "-m", "cxrdb", *cmd, *args], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 1 and not proc.stdout, proc.stdout
        assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert not out.exists() and not list(tmp_path.glob("*.duckdb"))


def test_kill_9_then_resume_gives_identical_copies(tmp_path: Path) -> None:
    root = tmp_path / "src"
    picks = [p for p in DICOMS if p.stat().st_size > 500_000 and "undecodable" not in p.name]
    for k in range(24):
        folder = root / "files" / "p10" / f"p100000{k // 10:02d}" / f"s5000{k:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{dicom_id(1000 + k)}.dcm").write_bytes(picks[k % len(picks)].read_bytes())
    for name in ("ref", "killed"):
        with Catalog.open(tmp_path / f"{name}.duckdb") as cat:
            ingest(cat, root, workers=1)
    with Catalog.open(tmp_path / "ref.duckdb") as cat:
        convert(cat, tmp_path / "ref", workers=2, outputs=parse_outputs(["256"]))
    killed = tmp_path / "killed"
    cmd = [sys.executable, "-m", "cxrdb", "convert", "--db", str(tmp_path / "killed.duckdb"), "--out", str(killed),
           "-j", "2", "--size", "256"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(killed.glob("files_256/**/*.jpg"))) < 4:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(killed.glob("files_256/**/*.jpg"))) < 24, "the run finished before it could be killed"
    with Catalog.open(tmp_path / "killed.duckdb") as cat:
        result = convert(cat, killed, workers=2, outputs=parse_outputs(["256"]))
        assert result.copies_failed == 0 and result.copies_made + result.copies_up_to_date == 24
        export(cat, killed)
    for top in ("files", "files_256"):
        assert tree(killed, top) == tree(tmp_path / "ref", top), top
    assert all(not v for v in verify_release(killed, workers=1).values())


def test_copies_read_the_image_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker makes every output from one decode: the source is read once per image, whatever the sizes."""
    from cxrdb.convert import worker

    reads: list[str] = []
    real = worker.read_dataset
    monkeypatch.setattr(worker, "read_dataset", lambda path: reads.append(path) or real(path))
    src = next(p for p in DICOMS if "RG2_RLE" in p.name)
    task = worker.ConvertTask("x", str(src), str(tmp_path / "full.jpg"),
                              derivatives=((512, str(tmp_path / "a.jpg")), (224, str(tmp_path / "b.jpg"))))
    res = worker.convert_one(task)
    assert res["ok"] and [d["ok"] for d in res["derivatives"]] == [True, True] and reads == [str(src)]
    assert (tmp_path / "a.jpg").read_bytes() == expected_copy(src, 512)
    only = worker.convert_one(worker.ConvertTask("y", str(src), "", full=False,
                                                 derivatives=((224, str(tmp_path / "c.jpg")),)))
    assert only["ok"] and only["jpg_sha256"] is None and (tmp_path / "c.jpg").read_bytes() == expected_copy(src, 224)
    assert np.array_equal(cv2.imread(str(tmp_path / "b.jpg")), cv2.imread(str(tmp_path / "c.jpg")))


# -- --resize fast: the explicit cheaper variant -------------------------------------------------------------


def test_fast_resize_is_close_to_area_on_every_real_image_and_never_the_default() -> None:
    """On every decodable real test DICOM, at 512, 224 and 64 px: the shape of INTER_AREA's copy, pixels close to
    it (measured: 0.3 / 0.6 / 2.6 grey levels apart on average; the padding's shift weighs more the smaller the
    copy), and a size that divides the image exactly gives INTER_AREA's own pixels (the second step has nothing
    left to do). The default stays one INTER_AREA."""
    assert parse_outputs(["512"]).resize == "area" and parse_outputs(["512"], resize=" FAST ").resize == "fast"
    means: dict[int, list[float]] = {512: [], 224: [], 64: []}
    exact = 0
    for src in (p for p in DICOMS if "undecodable" not in p.name):
        img = published_from_dataset(read_dataset(str(src)))
        for size, found in means.items():
            area, _ = shrink(img, size, "area")
            fast, _ = shrink(img, size, "fast")
            assert fast.shape == area.shape == target_shape(*img.shape, size), src.name
            assert fast.dtype == np.uint8
            found.append(float(np.abs(area.astype(np.int16) - fast).mean()))
        rows, cols = img.shape
        whole = img[: rows - rows % 8, : cols - cols % 8]  # a copy of an eighth divides it exactly
        if target_shape(*whole.shape, max(whole.shape) // 8) == (whole.shape[0] // 8, whole.shape[1] // 8):
            exact += 1
            assert np.array_equal(shrink(whole, max(whole.shape) // 8, "area")[0],
                                  shrink(whole, max(whole.shape) // 8, "fast")[0]), src.name
    assert exact >= 5
    assert max(means[512]) < 1.5 and max(means[224]) < 3.0, means
    average = {size: sum(v) / len(v) for size, v in means.items()}
    assert 0 < average[512] < 0.5 and average[224] < 0.8 and average[64] < 3.5, average  # never 0: not area


def test_switching_the_resize_method_remakes_only_the_copies_and_says_so(tmp_path: Path) -> None:
    db = _ingested(tmp_path)
    out = tmp_path / "out"
    with Catalog.open(db) as cat:
        convert(cat, out, workers=2, outputs=parse_outputs(["200"]))
        full, area = mtimes(out, "files"), tree(out, "files_200")
        fast = convert(cat, out, workers=2, outputs=parse_outputs(["200"], resize="fast"))
        assert fast.converted == 0 and fast.copies_made == len(area)
        assert mtimes(out, "files") == full
        made = tree(out, "files_200")
        assert made.keys() == area.keys() and made != area
        again = convert(cat, out, workers=1, outputs=parse_outputs(["200"], resize="fast"))
        assert again.copies_made == 0 and tree(out, "files_200") == made  # current: nothing redone
        _, rows = cat.query("SELECT DISTINCT params FROM work.derivative")
        assert len(rows) == 1 and "box-k-first" in rows[0][0]
        exported = export(cat, out)
        assert exported.listed
        from cxrdb.release import write_readme

        write_readme(cat, out, exported.files)
    readme = (out / "README").read_text()
    assert "box average" in readme and "INTER_AREA" in readme
