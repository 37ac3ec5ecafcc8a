"""convert_one: byte-identical JPGs, atomic writes, one-line errors, documented edge behaviours."""

from __future__ import annotations

import errno
import hashlib
import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from cxrdb import atomic
from cxrdb.convert import PARAMS_FINGERPRINT, ConvertTask, convert_one
from cxrdb.convert.decode import read_dataset
from cxrdb.convert.pixels import NOTE_CONSTANT, NOTE_SIGNED_OVERFLOW
from cxrdb.convert.published import published_convert, published_from_dataset
from cxrdb.convert.synth import make_dicom
from cxrdb.executor import run_map

DATA = Path(__file__).parent / "data" / "dicom"
REAL = sorted(DATA.glob("*.dcm"))
DECODABLE = [p for p in REAL if "undecodable" not in p.name]
KEYS = {
    "dicom_id", "ok", "error", "jpg_bytes", "jpg_sha256", "jpg_mtime_ns", "rows", "columns", "decoder", "note",
    "t_read", "t_pixels", "t_encode", "t_write", "t_derive", "derivatives",
}  # fmt: skip


def _run(src: Path | str, dest: Path) -> dict:
    res = convert_one(ConvertTask("x", str(src), str(dest)))
    assert set(res) == KEYS
    if not res["ok"]:
        assert isinstance(res["error"], str) and res["error"] and "\n" not in res["error"]
    else:  # the parent records these figures without a stat of its own: they must be the file's
        st = dest.stat()
        assert (res["jpg_bytes"], res["jpg_mtime_ns"]) == (st.st_size, st.st_mtime_ns)
    return res


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("path", DECODABLE, ids=lambda p: p.name)
def test_jpg_bytes_identical_to_published(path: Path, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "p10" / f"{path.stem}.jpg"
    res = _run(path, dest)
    assert res["ok"], res["error"]
    _, ref = cv2.imencode(".jpg", published_from_dataset(read_dataset(str(path)), "pylibjpeg"))
    data = dest.read_bytes()
    assert data == ref.tobytes()
    assert res["jpg_bytes"] == len(data) and res["jpg_sha256"] == hashlib.sha256(data).hexdigest()
    assert res["jpg_mtime_ns"] == dest.stat().st_mtime_ns
    assert (res["rows"], res["columns"]) == cv2.imdecode(ref, cv2.IMREAD_UNCHANGED).shape
    assert all(isinstance(res[k], float) and res[k] >= 0 for k in ("t_read", "t_pixels", "t_encode", "t_write"))
    assert _listing(tmp_path / "out") == ["p10", f"p10/{path.stem}.jpg"]


def test_published_convert_imwrite_equals_ours(tmp_path: Path) -> None:
    """The published function end to end (dcmread + cv2.imwrite) == convert_one (imencode + write)."""
    src = DATA / "dicom-test-files__RG3_RLE.dcm"
    published_convert(str(src), str(tmp_path / "pub.jpg"))
    assert _run(src, tmp_path / "ours.jpg")["ok"]
    assert (tmp_path / "pub.jpg").read_bytes() == (tmp_path / "ours.jpg").read_bytes()


def test_undecodable_gives_one_line_error_and_no_debris(tmp_path: Path) -> None:
    res = _run(DATA / "dicom-test-files__RG3_JPLY_undecodable.dcm", tmp_path / "o" / "x.jpg")
    assert not res["ok"] and res["error"].startswith("undecodable pixel data (JPEG Extended")
    assert res["jpg_sha256"] is None and res["jpg_bytes"] is None
    assert not (tmp_path / "o").exists() or _listing(tmp_path / "o") == []


def test_vanished_and_junk_sources(tmp_path: Path) -> None:
    res = _run(tmp_path / "gone.dcm", tmp_path / "x.jpg")
    assert not res["ok"] and res["error"].startswith("source not found")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00garbage\n" * 50)
    assert not _run(junk, tmp_path / "y.jpg")["ok"]
    assert _listing(tmp_path) == ["junk.dcm"]


def test_unwritable_destination(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    res = _run(DATA / "pydicom__dicomdirtests_CR1_6154.dcm", tmp_path / "afile" / "sub" / "x.jpg")
    assert not res["ok"] and res["error"].startswith("write error")


def test_disk_full_removes_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview) -> None:
        os.write(fd, data[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "_write_all", full)
    res = _run(DATA / "pydicom__dicomdirtests_CR1_6154.dcm", tmp_path / "d" / "x.jpg")
    assert not res["ok"] and res["error"].startswith("disk full")
    assert _listing(tmp_path / "d") == []


def test_overwrite_is_atomic_replace(tmp_path: Path) -> None:
    dest = tmp_path / "x.jpg"
    dest.write_bytes(b"old")
    assert _run(DATA / "pydicom__dicomdirtests_CR2_6247.dcm", dest)["ok"]
    assert dest.read_bytes()[:2] == b"\xff\xd8" and _listing(tmp_path) == ["x.jpg"]
    assert not atomic.is_temp_name("x.jpg") and atomic.is_temp_name(".x.jpg.1.ab" + atomic.TEMP_SUFFIX)


@pytest.mark.parametrize("pi,value", [("MONOCHROME2", 0), ("MONOCHROME1", 255)])
def test_constant_image(tmp_path: Path, pi: str, value: int) -> None:
    src = make_dicom(str(tmp_path / "c.dcm"), np.full((32, 48), 700, np.uint16), photometric=pi)
    res = _run(src, tmp_path / "c.jpg")
    assert res["ok"] and res["note"] == NOTE_CONSTANT
    assert (tmp_path / "c.jpg").read_bytes() == cv2.imencode(".jpg", np.full((32, 48), value, np.uint8))[1].tobytes()


def test_signed_data(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ok_arr = rng.integers(-2048, 2048, (40, 50)).astype(np.int16)
    src = make_dicom(str(tmp_path / "s.dcm"), ok_arr, bits_stored=12)
    res = _run(src, tmp_path / "s.jpg")
    ref = cv2.imencode(".jpg", published_from_dataset(read_dataset(src)))[1].tobytes()
    assert res["ok"] and res["note"] is None and (tmp_path / "s.jpg").read_bytes() == ref
    wide = rng.integers(-30000, 30000, (40, 50)).astype(np.int16)
    res = _run(make_dicom(str(tmp_path / "w.dcm"), wide), tmp_path / "w.jpg")
    assert res["ok"] and res["note"] == NOTE_SIGNED_OVERFLOW


def test_multiframe_and_rgb_refused(tmp_path: Path) -> None:
    mf = make_dicom(str(tmp_path / "mf.dcm"), np.ones((2, 8, 8), np.uint16))
    res = _run(mf, tmp_path / "o" / "mf.jpg")
    assert not res["ok"] and res["error"] == "unsupported multi-frame pixel data (2 frames)"
    rgb = make_dicom(str(tmp_path / "rgb.dcm"), np.ones((8, 8, 3), np.uint8), photometric="RGB")
    res = _run(rgb, tmp_path / "o" / "rgb.jpg")
    assert not res["ok"] and res["error"].startswith("unsupported colour pixel data (RGB")
    assert not (tmp_path / "o").exists()


def test_imencode_equals_imwrite(tmp_path: Path) -> None:
    img = np.random.default_rng(2).integers(0, 256, (123, 77)).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "a.jpg"), img)
    assert (tmp_path / "a.jpg").read_bytes() == cv2.imencode(".jpg", img)[1].tobytes()


def test_fingerprint_and_pickling() -> None:
    assert cv2.__version__ in PARAMS_FINGERPRINT and "q95" in PARAMS_FINGERPRINT
    task = ConvertTask("a", "/x.dcm", "/y.jpg")
    assert pickle.loads(pickle.dumps(task)) == task
    assert pickle.loads(pickle.dumps(convert_one)) is convert_one


def test_process_pool(tmp_path: Path) -> None:
    srcs = [p for p in DECODABLE if "dicomdirtests" in p.name or "highdicom" in p.name]
    tasks = [ConvertTask(p.stem, str(p), str(tmp_path / f"{p.stem}.jpg")) for p in srcs]
    results = list(run_map(convert_one, tasks, workers=2))
    assert sorted(r["dicom_id"] for r in results) == sorted(t.dicom_id for t in tasks)
    assert all(r["ok"] for r in results)


def test_threads_share_nothing(tmp_path: Path) -> None:
    """Dask runs several threads per worker: per-thread buffers keep concurrent conversions exact."""
    from concurrent.futures import ThreadPoolExecutor

    srcs = [DATA / n for n in ("dicom-test-files__RG3_RLE.dcm", "dicom-test-files__RG2_RLE.dcm")] * 3
    tasks = [ConvertTask(str(i), str(s), str(tmp_path / f"{i}.jpg")) for i, s in enumerate(srcs)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(convert_one, tasks))
    assert all(r["ok"] for r in results)
    by_src: dict[str, set[str]] = {}
    for t, r in zip(tasks, results, strict=True):
        by_src.setdefault(t.source, set()).add(r["jpg_sha256"])
    assert all(len(v) == 1 for v in by_src.values())
