"""Shrink one equalized image to a longer side of N pixels (pure: pixels in, pixels out) and encode it.

The shorter side is ``round(short * N / long)`` computed exactly (half to even), at least 1; OpenCV
``INTER_AREA``. An image whose longer side is N or less is not upscaled: it is kept at its own size.
"""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np

#: how a copy is made, as the release README states it
RESIZE_TEXT = ("Each copy's longer side is N px, its shorter side round(short * N / long) (half to even, at least 1), "
               "OpenCV INTER_AREA; an image whose longer side is N or less is not upscaled but kept at its own size")
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


def shrink(img: np.ndarray, size: int) -> tuple[np.ndarray, str | None]:
    """The copy of ``img`` (2-D uint8) whose longer side is ``size``, and its note (set when kept as it is)."""
    rows, columns = img.shape
    shape = target_shape(rows, columns, size)
    if shape == (rows, columns):
        note = NOTE_SMALLER.format(size=size, rows=rows, columns=columns) if max(rows, columns) < size else None
        return img, note
    return cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_AREA), None


def encode(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG bytes of ``img`` at ``quality`` (OpenCV's encoder, as the full-size JPG)."""
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("cv2.imencode failed")
    return buf
