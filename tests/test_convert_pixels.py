"""The LUT fast path gives exactly the published function's pixels (random, exhaustive and edge inputs)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cxrdb.convert import pixels
from cxrdb.convert.pixels import NOTE_CONSTANT, NOTE_SIGNED_OVERFLOW, convert_pixels, equalize_lut
from cxrdb.convert.published import published_pixels

PIS = ("MONOCHROME1", "MONOCHROME2")


def _eq(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.array_equal(a, b))


@pytest.mark.parametrize("seed", range(40))
def test_equalize_lut_matches_opencv(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 400)), int(rng.integers(1, 400)))
    kind = seed % 4
    if kind == 0:
        img = rng.integers(0, 256, shape)
    elif kind == 1:
        img = rng.normal(rng.uniform(0, 255), rng.uniform(0.5, 60), shape).clip(0, 255)
    elif kind == 2:  # few distinct values
        img = rng.choice(rng.integers(0, 256, int(rng.integers(1, 5))), shape)
    else:  # heavy spike + tail
        img = np.where(rng.random(shape) < 0.9, int(rng.integers(0, 256)), rng.integers(0, 256, shape))
    img = img.astype(np.uint8)
    hist = np.bincount(img.ravel(), minlength=256)
    assert _eq(equalize_lut(hist)[img], cv2.equalizeHist(img))


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("pi", PIS)
def test_random_arrays_match_published(seed: int, pi: str) -> None:
    rng = np.random.default_rng(1000 + seed)
    dtype = (np.uint16, np.uint8, np.int16, np.int8)[seed % 4]
    info = np.iinfo(dtype)
    bits = int(rng.integers(1, info.bits + 1))
    lo = int(rng.integers(info.min, info.max))
    hi = min(info.max, lo + (1 << bits) - 1)
    if info.min < 0:  # keep the published function free of its wrap-around (tested separately)
        hi = min(hi, lo + info.max)
    shape = (int(rng.integers(1, 200)), int(rng.integers(1, 200)))
    arr = rng.integers(lo, hi + 1, shape).astype(dtype)
    out, note = convert_pixels(arr, pi)
    assert _eq(out, published_pixels(arr, pi))
    assert note == (NOTE_CONSTANT if arr.min() == arr.max() else None)


SPANS = [1, 2, 3, 5, 7, 17, 85, 127, 255, 256, 257, 511, 1000, 1023, 1024, 3 * 1365, 4095, 4096, 9999, 16383]
SPANS += [32767, 65535, 65534, 255 * 257, 3 * 5 * 17 * 257]


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("pi", PIS)
def test_every_value_of_a_range(span: int, pi: str) -> None:
    """All values 0..span (and offset by a minimum): every truncation boundary, incl. exactly 255."""
    for offset in (0, 65535 - span):
        arr = (np.arange(span + 1, dtype=np.int64) + offset).astype(np.uint16).reshape(1, -1)
        assert _eq(convert_pixels(arr, pi)[0], published_pixels(arr, pi))
        rev = np.ascontiguousarray(arr[:, ::-1])
        assert _eq(convert_pixels(rev, pi)[0], published_pixels(rev, pi))


def test_float_boundaries_of_the_normalisation() -> None:
    """Values whose 255*v/M lands on or next to an integer: float64 op order must match."""
    vals = []
    for m in (3, 255, 4095, 65535, 2 * 3 * 5 * 7 * 11 * 13):
        for k in range(256):
            v = (k * m) // 255
            vals += [m, max(v - 1, 0), v, min(v + 1, m)]
            m_arr = np.array([0, *vals[-4:], m], dtype=np.uint16).reshape(2, 3)
            for pi in PIS:
                assert _eq(convert_pixels(m_arr, pi)[0], published_pixels(m_arr, pi))


def test_constant_image() -> None:
    arr = np.full((7, 9), 1234, np.uint16)
    for pi, value in (("MONOCHROME2", 0), ("MONOCHROME1", 255)):
        out, note = convert_pixels(arr, pi)
        assert note == NOTE_CONSTANT
        assert (out == value).all()
        assert _eq(out, published_pixels(arr, pi))  # x86: NaN -> 0, as documented


def test_signed_overflow_is_computed_exactly() -> None:
    rng = np.random.default_rng(5)
    arr = rng.integers(-20000, 20001, (50, 60)).astype(np.int16)
    arr[0, 0], arr[0, 1] = -20000, 20000
    for pi in PIS:
        out, note = convert_pixels(arr, pi)
        assert note == NOTE_SIGNED_OVERFLOW
        assert _eq(out, published_pixels(arr.astype(np.int32), pi))  # no wrap-around in int32
        assert not np.array_equal(out, published_pixels(arr, pi))  # the original wraps


def test_signed_without_overflow_matches_published() -> None:
    arr = np.random.default_rng(6).integers(-2048, 2048, (40, 40)).astype(np.int16)
    for pi in PIS:
        out, note = convert_pixels(arr, pi)
        assert note is None
        assert _eq(out, published_pixels(arr, pi))


@pytest.mark.parametrize("dtype", [np.uint32, np.int32, np.float32, np.float64])
def test_generic_dtypes_match_published(dtype: type) -> None:
    arr = np.random.default_rng(7).integers(0, 100000, (30, 41)).astype(dtype)
    for pi in PIS:
        assert _eq(convert_pixels(arr, pi)[0], published_pixels(arr, pi))


def test_unused_bit_correction_folded_into_table() -> None:
    """Garbage above BitsStored is cleared (unsigned) or sign-extended (signed), as pydicom does."""
    rng = np.random.default_rng(8)
    clean = rng.integers(0, 4096, (33, 17)).astype(np.uint16)
    dirty = clean | (rng.integers(0, 16, clean.shape).astype(np.uint16) << 12)
    out, _ = convert_pixels(dirty, "MONOCHROME1", correct_bits=12)
    assert _eq(out, published_pixels(clean, "MONOCHROME1"))
    signed = rng.integers(-2048, 2048, (33, 17)).astype(np.int16)
    dirty_s = (signed.view(np.uint16) & 0x0FFF) | (rng.integers(0, 16, signed.shape).astype(np.uint16) << 12)
    out, _ = convert_pixels(dirty_s.view(np.int16), "MONOCHROME2", correct_bits=12)
    assert _eq(out, published_pixels(signed, "MONOCHROME2"))


def test_reuse_buffer_and_noncontiguous_input() -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(0, 4096, (64, 80)).astype(np.uint16)
    b = rng.integers(0, 1024, (20, 30)).astype(np.uint16)
    ra, _ = convert_pixels(a, "MONOCHROME2", reuse=True)
    assert _eq(ra, published_pixels(a, "MONOCHROME2"))
    rb, _ = convert_pixels(b, "MONOCHROME2", reuse=True)
    assert _eq(rb, published_pixels(b, "MONOCHROME2"))
    view = a[::2, 1::3]
    assert _eq(convert_pixels(view, "MONOCHROME1")[0], published_pixels(view, "MONOCHROME1"))


def test_histograms_exact_and_large_image_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(10)
    flat = rng.integers(0, 65536, 300_000).astype(np.uint16)
    assert np.array_equal(pixels._histogram_u16(flat), np.bincount(flat, minlength=65536))
    arr = flat.reshape(500, 600)
    ref = convert_pixels(arr, "MONOCHROME2")[0]
    monkeypatch.setattr(pixels, "_F32_EXACT", 1000)  # force the >2**24-pixel (bincount) branch
    assert _eq(convert_pixels(arr, "MONOCHROME2")[0], ref)
    a8 = (flat % 256).astype(np.uint8).reshape(500, 600)
    assert _eq(convert_pixels(a8, "MONOCHROME1")[0], published_pixels(a8, "MONOCHROME1"))


def test_rejects_non_2d() -> None:
    with pytest.raises(ValueError):
        convert_pixels(np.zeros((2, 3, 4), np.uint16), "MONOCHROME2")


def test_big_endian_arrays() -> None:
    arr = np.random.default_rng(11).integers(-2000, 2000, (20, 30)).astype(">i2")
    for pi in PIS:
        assert _eq(convert_pixels(arr, pi)[0], published_pixels(arr, pi))
