"""Truncated pixel data is named as such; pydicom's warnings go to the item's note, never to stderr."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest
from conftest import DICOMS, REPORT, dicom_id

from cxrdb.catalog import Catalog
from cxrdb.convert.decode import pixel_data_problem
from cxrdb.convert.worker import ConvertTask, convert_one
from cxrdb.ingest.headers import read_header

PIXEL_TAG = b"\xe0\x7f\x10\x00"


def _compressed() -> list[Path]:
    out = []
    for path in DICOMS:
        meta = pydicom.dcmread(path, stop_before_pixels=True, force=True).file_meta
        if "TransferSyntaxUID" in meta and meta.TransferSyntaxUID.is_compressed:
            out.append(path)
    return out


COMPRESSED = _compressed()


def _find_pixel(data: bytes) -> int:
    """Byte offset of the Pixel Data element (where pydicom stops before pixels)."""
    buf = io.BytesIO(data)
    pydicom.dcmread(buf, stop_before_pixels=True, force=True)
    return buf.tell()


def _fragments_end(data: bytes, start: int) -> int:
    """Byte offset of the sequence delimiter that ends an encapsulated Pixel Data element."""
    pos = start + 12
    while data[pos:pos + 4] == b"\xfe\xff\x00\xe0":
        pos += 8 + int.from_bytes(data[pos + 4:pos + 8], "little")
    assert data[pos:pos + 4] == b"\xfe\xff\xdd\xe0"
    return pos


def test_every_compressed_syntax_is_covered() -> None:
    names = {pydicom.dcmread(p, stop_before_pixels=True).file_meta.TransferSyntaxUID.name for p in COMPRESSED}
    for part in ("JPEG 2000", "RLE", "JPEG-LS", "JPEG Lossless", "JPEG Extended"):
        assert any(part in n for n in names), part


@pytest.mark.parametrize("src", COMPRESSED, ids=lambda p: p.stem.split("__")[-1])
def test_truncated_compressed_pixel_data_says_where(src: Path, tmp_path: Path) -> None:
    data = src.read_bytes()
    start = _find_pixel(data)
    cuts = {"in the element header": start + 7, "after the header": start + 12, "in the offset table": start + 14,
            "after the offset table": None, "in a fragment": start + (len(data) - start) // 2,
            "in the last fragment": _fragments_end(data, start) - 3}
    # just after the basic offset table (item header 8 bytes + its length)
    bot_len = int.from_bytes(data[start + 16:start + 20], "little")
    cuts["after the offset table"] = start + 20 + bot_len
    for where, cut in cuts.items():
        path = tmp_path / f"{where}.dcm"
        path.write_bytes(data[:cut])
        res = convert_one(ConvertTask("x", str(path), str(tmp_path / "x.jpg")))
        error = res["error"]
        assert error and "\n" not in error, (where, error)
        assert error != "no pixel data", where
        assert re.match(r"pixel data truncated: .*(cut off|runs past the end|ends after)", error), (where, error)
        assert not (tmp_path / "x.jpg").exists()


def test_the_message_names_the_fragment_and_bytes() -> None:
    items = b"".join(b"\xfe\xff\x00\xe0" + len(v).to_bytes(4, "little") + v for v in (b"", b"abcd", b"efghijkl"))
    element = PIXEL_TAG + b"OB\x00\x00" + b"\xff\xff\xff\xff" + items + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    data = b"\x00" * 100 + element
    assert pixel_data_problem(data, 100) is None
    assert pixel_data_problem(data[:-3], 100) == (
        "pixel data truncated: the header of fragment 3 at byte 148 is cut off by the end of the file")
    assert pixel_data_problem(data[:-10], 100) == (
        "pixel data truncated: fragment 2 at byte 132 runs past the end of the file (declares 8 bytes, 6 left)")
    assert pixel_data_problem(data[:-8], 100) == (
        "pixel data truncated: the file ends after fragment 2, without the sequence delimiter")
    native = PIXEL_TAG + b"OW\x00\x00" + (64).to_bytes(4, "little") + b"\x00" * 10
    assert pixel_data_problem(native, 0) == (
        "pixel data truncated: the value at byte 12 runs past the end of the file (declares 64 bytes, 10 left)")


def test_a_file_without_pixel_data_still_says_so(tmp_path: Path) -> None:
    ds = pydicom.dcmread(DICOMS[0])
    del ds.PixelData
    path = tmp_path / "nopix.dcm"
    ds.save_as(path)
    assert convert_one(ConvertTask("x", str(path), str(tmp_path / "x.jpg")))["error"] == "no pixel data"


def _warning_file(path: Path) -> Path:
    """A real explicit-VR file whose File Meta claims implicit VR: pydicom warns and reads it anyway."""
    src = next(p for p in DICOMS if "CR1_6154" in p.name)
    data = src.read_bytes()
    i = data.index(b"1.2.840.10008.1.2.1\x00")
    path.write_bytes(data[:i] + b"1.2.840.10008.1.2\x00\x00\x00" + data[i + 20:])
    return path


def test_warnings_go_to_the_note(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = _warning_file(tmp_path / "w.dcm")
    row = read_header(str(path))
    assert row["error"] is None and "Expected implicit VR, but found explicit VR" in row["note"]
    res = convert_one(ConvertTask("x", str(path), str(tmp_path / "w.jpg")))
    assert res["ok"] and "Expected implicit VR, but found explicit VR" in res["note"]
    truncated = tmp_path / "t.dcm"
    data = COMPRESSED[0].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    res = convert_one(ConvertTask("x", str(truncated), str(tmp_path / "t.jpg")))
    assert res["error"].startswith("pixel data truncated") and "End of file reached" in res["note"]
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert read_header(str(DICOMS[0]))["note"] is None


def test_a_run_over_a_warning_file_prints_nothing_to_stderr(tmp_path: Path) -> None:
    study = tmp_path / "src/files/p10/p10000001/s50000001"
    study.mkdir(parents=True)
    _warning_file(study / f"{dicom_id(1)}.dcm")
    (study.parent / "s50000001.txt").write_text(REPORT)
    db = tmp_path / "c.duckdb"
    for args in (["ingest", str(tmp_path / "src")], ["convert", "--out", str(tmp_path / "out")]):
        proc = subprocess.run([sys.executable, "-m", "cxrdb", *args, "--db", str(db), "-j", "2"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "", proc.stderr
    with Catalog.open(db, read_only=True) as cat:
        [(ingest_note,)] = cat.query("SELECT note FROM raw.images")[1]
        [(jpg_note, error)] = cat.query("SELECT note, error FROM work.jpg")[1]
    assert error is None
    for note in (ingest_note, jpg_note):
        assert "Expected implicit VR, but found explicit VR" in note and "\n" not in note
