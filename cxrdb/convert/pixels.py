"""Fast, byte-identical pixel path: one lookup table from raw values to final uint8 pixels.

The published transform is a pure function of each pixel's raw value and of the image's value histogram:
``floor(255 * (v - min) / (max - min))`` in float64, optional inversion, then OpenCV's equalisation LUT, which
depends only on the 8-bit histogram. So: one histogram pass over the raw values (``cv2.calcHist``), a table
over the distinct values (the same float64 operations numpy does on the whole image, in the same order),
OpenCV's float32 equalisation arithmetic on 256 bins, and one cache-friendly table-lookup pass.

Choices where the published function is undefined (see docs/conversion.md):

* constant image: every pixel normalises to 0 (the original divides 0 by 0 and casts NaN, which gives 0 on
  x86); after inversion and equalisation the image is all 0 (MONOCHROME2) or all 255 (MONOCHROME1).
  Note ``"constant image"``.
* signed data whose range does not fit the dtype (``max - min`` overflows): the original wraps around; we
  compute ``v - min`` exactly. Note ``"signed range overflow: computed without wrap-around"``. Identical to
  the original whenever the original does not overflow.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

NOTE_CONSTANT = "constant image"
NOTE_SIGNED_OVERFLOW = "signed range overflow: computed without wrap-around"

_CHUNK = 1 << 16  # pixels per table-lookup chunk: index cast + output stay in L2
_F32_EXACT = 1 << 24  # calcHist counts are float32: exact below this many pixels
_local = threading.local()  # per-thread reusable output buffer (no page faults per image; Dask runs threads)


def equalize_lut(hist8: np.ndarray) -> np.ndarray:
    """OpenCV ``equalizeHist``'s 256-entry LUT for an 8-bit histogram, in its float32 arithmetic."""
    hist8 = np.asarray(hist8, dtype=np.int64)
    total = int(hist8.sum())
    lut = np.zeros(256, np.uint8)
    nz = np.flatnonzero(hist8)
    if total == 0:
        return lut
    i = int(nz[0])
    if hist8[i] == total:  # OpenCV: dst.setTo(i)
        lut[i] = i
        return lut
    scale = np.float32(255.0) / np.float32(total - int(hist8[i]))
    cums = np.cumsum(hist8[i + 1 :]).astype(np.float32) * scale
    lut[i + 1 :] = np.clip(np.rint(cums), 0, 255).astype(np.uint8)
    return lut


def _histogram_u16(flat: np.ndarray) -> np.ndarray:
    """Counts of each of the 65536 bit patterns of a uint16 image (int64)."""
    if flat.size < _F32_EXACT:
        h = cv2.calcHist([flat.reshape(1, -1)], [0], None, [65536], [0, 65536])
        return h.ravel().astype(np.int64)
    hist = np.zeros(65536, np.int64)
    for i in range(0, flat.size, _CHUNK * 16):
        hist += np.bincount(flat[i : i + _CHUNK * 16], minlength=65536)
    return hist


def _histogram_u8(flat: np.ndarray) -> np.ndarray:
    if flat.size < _F32_EXACT:
        return cv2.calcHist([flat.reshape(1, -1)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(flat, minlength=256).astype(np.int64)


def _values_of_patterns(nbits: int, signed: bool, correct_bits: int | None) -> np.ndarray:
    """Value (int64) of every bit pattern, with pydicom's unused-bit correction if asked."""
    utype, stype = (np.uint8, np.int8) if nbits == 8 else (np.uint16, np.int16)
    pat = np.arange(1 << nbits, dtype=np.int64).astype(utype)
    vals = pat.view(stype) if signed else pat
    if correct_bits is not None and correct_bits < nbits:
        shift = nbits - correct_bits  # pydicom: left shift then (arithmetic if signed) right shift
        vals = np.right_shift(np.left_shift(vals, shift), shift)
    return vals.astype(np.int64)


def _normalise(shifted: np.ndarray, span: int) -> np.ndarray:
    """``((v - min) / max * 255).astype(uint8)`` exactly as numpy does it on the whole image.

    numpy's true division of integer arrays converts both operands to float64 (exact below 2**53), divides,
    then multiplies by 255: the same IEEE operations, in the same order, on each distinct value.
    """
    if span == 0:
        return np.zeros(shifted.shape, np.uint8)
    norm = shifted.astype(np.float64) / np.float64(span)
    return (norm * 255).astype(np.uint8)


def _out(n: int, shape: tuple[int, ...]) -> np.ndarray:
    buf = getattr(_local, "buf", None)
    if buf is None or buf.size < n:
        buf = _local.buf = np.empty(n, np.uint8)
    return buf[:n].reshape(shape)


def convert_pixels(
    arr: np.ndarray, photometric: str, *, correct_bits: int | None = None, reuse: bool = False
) -> tuple[np.ndarray, str | None]:
    """Final uint8 pixels for a 2-D ``pixel_array`` (or raw native view), and a note or None.

    ``arr`` may be uint8/int8/uint16/int16 (fast path) or any other integer/float dtype (exact float64
    fallback). ``correct_bits`` applies pydicom's unused-bit correction to a raw native view (BitsStored),
    folded into the table. With ``reuse`` the result is a view of a per-thread buffer, valid until the
    thread's next call.
    """
    if arr.ndim != 2:
        raise ValueError(f"expected a single 2-D plane, got shape {arr.shape}")
    invert = photometric == "MONOCHROME1"
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2:
        return _convert_generic(arr, invert)
    if not arr.dtype.isnative:  # e.g. '>u2' from Explicit VR Big Endian
        arr = arr.astype(arr.dtype.newbyteorder("="))
    arr = np.ascontiguousarray(arr)
    nbits = 8 * arr.dtype.itemsize
    signed = arr.dtype.kind == "i"
    flat = arr.reshape(-1).view(np.uint8 if nbits == 8 else np.uint16)
    hist = _histogram_u8(flat) if nbits == 8 else _histogram_u16(flat)
    present = np.flatnonzero(hist)
    vals = _values_of_patterns(nbits, signed, correct_bits)[present]
    vmin, vmax = int(vals.min()), int(vals.max())
    span = vmax - vmin
    note = None
    dtype_lim = (1 << (nbits - 1)) - 1 if signed else (1 << nbits) - 1
    if span == 0:
        note = NOTE_CONSTANT
    elif signed and span > dtype_lim:
        note = NOTE_SIGNED_OVERFLOW
    norm8 = _normalise(vals - vmin, span)
    if invert:
        norm8 = 255 - norm8
    hist8 = np.bincount(norm8, weights=hist[present], minlength=256).astype(np.int64)
    final = equalize_lut(hist8)[norm8]
    table = np.zeros(1 << nbits, np.uint8)
    table[present] = final
    out = _out(flat.size, arr.shape) if reuse else np.empty(arr.shape, np.uint8)
    if nbits == 8:
        cv2.LUT(flat.reshape(arr.shape), table, dst=out)
    else:
        oflat = out.reshape(-1)
        for i in range(0, flat.size, _CHUNK):
            np.take(table, flat[i : i + _CHUNK], out=oflat[i : i + _CHUNK], mode="wrap")
    return out, note


def _convert_generic(arr: np.ndarray, invert: bool) -> tuple[np.ndarray, str | None]:
    """Whole-image float64 path for dtypes without a small table (32-bit ints, floats)."""
    note = None
    if arr.dtype.kind in "iu":
        wide = arr.astype(np.int64)
        vmin, vmax = int(wide.min()), int(wide.max())
        span = vmax - vmin
        if arr.dtype.kind == "i" and span > np.iinfo(arr.dtype).max:
            note = NOTE_SIGNED_OVERFLOW
        img = _normalise(wide - vmin, span)
    else:
        if not np.isfinite(arr).all():
            raise ValueError("non-finite floating point pixel values")
        shifted = arr - arr.min()  # the original's arithmetic, in the array's own float dtype
        span = float(shifted.max())
        img = ((shifted / shifted.max()) * 255).astype(np.uint8) if span else np.zeros(arr.shape, np.uint8)
    if span == 0:
        note = NOTE_CONSTANT
    if invert:
        img = cv2.bitwise_not(img)
    return cv2.equalizeHist(img), note
