"""Decoder choice per transfer syntax is pixel-identical to pydicom + pylibjpeg on the real files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom.uid as uid
import pytest

from cxrdb.convert.decode import (
    PLUGIN_ORDER,
    SourceError,
    UndecodableError,
    UnsupportedImage,
    decode,
    plugins_for,
    read_dataset,
)
from cxrdb.convert.pixels import convert_pixels
from cxrdb.convert.published import published_from_dataset, published_pixel_array, published_pixels
from cxrdb.convert.synth import make_dicom

DATA = Path(__file__).parent / "data" / "dicom"
REAL = sorted(DATA.glob("*.dcm"))
DECODABLE = [p for p in REAL if "undecodable" not in p.name]


def _corrected(arr: np.ndarray, bits: int | None) -> np.ndarray:
    if bits is None:
        return arr
    shift = arr.dtype.itemsize * 8 - bits
    return np.right_shift(np.left_shift(arr, shift), shift)


@pytest.mark.parametrize("path", DECODABLE, ids=lambda p: p.name)
def test_every_available_plugin_is_pixel_identical(path: Path) -> None:
    ds = read_dataset(str(path))
    ts = ds.file_meta.TransferSyntaxUID
    ref = published_pixel_array(read_dataset(str(path)), "pylibjpeg")
    chosen = decode(ds)
    got = _corrected(np.asarray(chosen.array), chosen.correct_bits)
    assert got.dtype == ref.dtype and np.array_equal(got, ref), chosen.decoder
    for plugin in plugins_for(ts):
        if plugin == "gdcm" and ts == uid.JPEGExtended12Bit:
            continue  # GDCM cannot decode this 12-bit JPEG (it is never first for the syntax)
        arr = decode(read_dataset(str(path)), plugin).array
        assert arr.dtype == ref.dtype and np.array_equal(arr, ref), plugin


@pytest.mark.parametrize("path", DECODABLE, ids=lambda p: p.name)
def test_fast_pixels_equal_published_on_real_files(path: Path) -> None:
    dec = decode(read_dataset(str(path)))
    ours, _ = convert_pixels(dec.array, dec.photometric, correct_bits=dec.correct_bits)
    assert np.array_equal(ours, published_from_dataset(read_dataset(str(path)), "pylibjpeg"))


def test_preferred_order_per_syntax() -> None:
    assert plugins_for(uid.JPEG2000Lossless)[0] == "pylibjpeg"
    assert plugins_for(uid.JPEG2000)[0] == "pylibjpeg"
    assert plugins_for(uid.RLELossless)[0] == "pylibjpeg"
    assert plugins_for(uid.JPEGExtended12Bit)[0] == "pylibjpeg"
    assert plugins_for(uid.JPEGLosslessSV1)[0] == "gdcm"
    assert plugins_for(uid.JPEGLSLossless)[0] == "gdcm"
    assert set(PLUGIN_ORDER) >= {uid.JPEGBaseline8Bit, uid.JPEGLossless}


def test_undecodable_raises() -> None:
    ds = read_dataset(str(DATA / "dicom-test-files__RG3_JPLY_undecodable.dcm"))
    with pytest.raises(UndecodableError) as err:
        decode(ds)
    assert "\n" not in str(err.value) and "pylibjpeg" in str(err.value)


def test_file_without_meta_gets_implicit_le() -> None:
    ds = read_dataset(str(DATA / "fo-dicom__CR-MONO1-10-chest_nometa.dcm"))
    assert ds.file_meta.TransferSyntaxUID == uid.ImplicitVRLittleEndian
    assert decode(ds).array.shape == (440, 440)


def test_missing_and_non_dicom_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="source not found"):
        read_dataset(str(tmp_path / "gone.dcm"))
    with pytest.raises(SourceError):
        read_dataset(str(tmp_path))
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom at all" * 10)
    with pytest.raises((SourceError, UnsupportedImage)):
        decode(read_dataset(str(junk)))


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("ts", [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian])
def test_native_garbage_high_bits(tmp_path: Path, signed: bool, ts: str) -> None:
    """Unused high bits hold garbage: our zero-copy view + folded correction == pydicom's pixel_array."""
    rng = np.random.default_rng(3)
    low = rng.integers(0, 4096, (31, 23)).astype(np.uint16)
    dirty = low | (rng.integers(0, 16, low.shape).astype(np.uint16) << 12)
    arr = dirty.view(np.int16) if signed else dirty
    path = make_dicom(str(tmp_path / "g.dcm"), arr, bits_stored=12, transfer_syntax=ts)
    dec = decode(read_dataset(path))
    assert dec.decoder == ("pydicom" if ts == uid.ExplicitVRBigEndian else "native")
    ref_arr = read_dataset(path).pixel_array
    assert np.array_equal(_corrected(np.asarray(dec.array), dec.correct_bits), ref_arr)
    for pi in ("MONOCHROME1", "MONOCHROME2"):
        ours, _ = convert_pixels(dec.array, pi, correct_bits=dec.correct_bits)
        assert np.array_equal(ours, published_pixels(ref_arr, pi))


def test_multiframe_and_rgb_are_refused(tmp_path: Path) -> None:
    mf = make_dicom(str(tmp_path / "mf.dcm"), np.zeros((3, 8, 8), np.uint16))
    with pytest.raises(UnsupportedImage, match="multi-frame"):
        decode(read_dataset(mf))
    rgb = make_dicom(str(tmp_path / "rgb.dcm"), np.zeros((8, 8, 3), np.uint8), photometric="RGB")
    with pytest.raises(UnsupportedImage, match="colour"):
        decode(read_dataset(rgb))


def test_short_pixel_data(tmp_path: Path) -> None:
    arr = np.zeros((8, 8), np.uint16)
    path = make_dicom(str(tmp_path / "short.dcm"), arr, raw_bytes=b"\0" * 64)
    with pytest.raises(UndecodableError, match="too short"):
        decode(read_dataset(path))
