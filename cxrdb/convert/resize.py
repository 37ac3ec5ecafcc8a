"""Shrink one equalized image to a longer side of N pixels (pure: pixels in, pixels out) and encode it.

The shorter side is ``round(short * N / long)`` computed exactly (half to even), at least 1. An image whose
longer side is N or less is not upscaled: it is kept at its own size. Two methods (``--resize``):

* ``area`` (the default): one OpenCV ``INTER_AREA`` resize, exactly what ``cv2.resize(img, (w, h),
  interpolation=cv2.INTER_AREA)`` gives. For a factor that is not whole (3056 -> 512 is 5.97) OpenCV takes its
  general area path: ~17 ms of CPU for a 3056x2544 image, as much as the full-size JPG's encode.
* ``fast``: the same area average in two steps. First an exact k x k box average, k the largest whole factor that
  keeps both sides at or above the target (OpenCV's whole-factor area path, ~3 ms), on the image padded by
  repeating its edge rows and columns up to a multiple of k (at most k - 1 pixels, split between both edges);
  then ``INTER_AREA`` from that to the target (the padding shifts the edges by under half an output pixel).
  Not the bytes of ``area``: on the real test radiographs pixels differ by 0.3 grey levels on average at 512 px,
  0.6 at 224, 2.6 at 64 (tests/test_derivatives.py), for a third of the resize time. An explicit option, never
  the default.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

#: the resize methods, each as the release README states it
METHODS = {
    "area": "OpenCV INTER_AREA",
    "fast": "an exact k x k box average (k the largest whole factor keeping both sides at or above the target; the "
            "image padded by repeating its edge rows and columns to a multiple of k), then OpenCV INTER_AREA",
}
DEFAULT_METHOD = "area"


def resize_text(method: str = DEFAULT_METHOD) -> str:
    """How a copy is made, as the release README states it."""
    return ("Each copy's longer side is N px, its shorter side round(short * N / long) (half to even, at least 1), "
            f"{METHODS[method]}; an image whose longer side is N or less is not upscaled but kept at its own size")


NOTE_SMALLER = "smaller than {size} px: kept at its own size {rows}x{columns}"


def target_shape(rows: int, columns: int, size: int) -> tuple[int, int]:
    """(rows, columns) of the copy of a rows x columns image whose longer side is ``size`` (never larger than
    the image: no upscaling)."""
    long_side = max(rows, columns)
    if long_side <= size:
        return rows, columns
    def scale(side: int) -> int:
        return size if side == long_side else max(1, round(Fraction(side * size, long_side)))  # exact, half-even

    return scale(rows), scale(columns)


def shrink(img: np.ndarray, size: int, method: str = DEFAULT_METHOD) -> tuple[np.ndarray, str | None]:
    """The copy of ``img`` (2-D uint8) whose longer side is ``size``, and its note (set when kept as it is)."""
    rows, columns = img.shape
    shape = target_shape(rows, columns, size)
    if shape == (rows, columns):
        note = NOTE_SMALLER.format(size=size, rows=rows, columns=columns) if max(rows, columns) < size else None
        return img, note
    if method == "fast":
        img = _box_reduce(img, min(rows // shape[0], columns // shape[1]))
    elif method != "area":
        raise ValueError(f"unknown resize method {method!r}")
    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA), None


def _box_reduce(img: np.ndarray, k: int) -> np.ndarray:
    """Each k x k block's mean (OpenCV's whole-factor INTER_AREA), after padding ``img`` by edge replication to a
    multiple of k in both directions; ``img`` itself when k < 2."""
    if k < 2:
        return img
    rows, columns = img.shape
    pad_r, pad_c = -rows % k, -columns % k
    if pad_r or pad_c:  # split between both edges: the image stays centred (at most k/2 pixels each side)
        img = cv2.copyMakeBorder(img, pad_r // 2, pad_r - pad_r // 2, pad_c // 2, pad_c - pad_c // 2,
                                 cv2.BORDER_REPLICATE)
    return cv2.resize(img, ((columns + pad_c) // k, (rows + pad_r) // k), interpolation=cv2.INTER_AREA)


def encode(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG bytes of ``img`` at ``quality`` (OpenCV's encoder, as the full-size JPG)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("cv2.imencode failed")
    return buf
