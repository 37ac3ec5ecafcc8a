"""Smaller copies of each JPG ("derivatives"), made in the same worker call from the same equalized image.

A derivative of size N has its longer side N pixels: the shorter side is ``round(short * N / long)`` (Python's
round, half to even), at least 1; OpenCV ``INTER_AREA``; JPEG quality 95 unless the run says otherwise. An
image whose longer side is N or less is never upscaled: it is written at its own size (note ``NOTE_SMALLER``).
Files go to ``files_N/`` in the published layout; the release lists them in ``IMAGE_FILENAMES_N``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..contract import SIZED_FILES, SIZED_IMAGE_LIST
from ..errors import CxrdbError
from .resize import DEFAULT_METHOD, METHODS, NOTE_SMALLER
from .worker import PARAMS_FINGERPRINT

__all__ = ["DEFAULT_QUALITY", "FULL_SIZE", "NOTE_SMALLER", "Outputs", "derivative_params", "folder_name",
           "list_name", "parse_outputs", "size_of_list"]

DEFAULT_QUALITY = 95
MAX_SIZE = 65500  # the largest side a baseline JPEG can hold (65535), rounded down
#: what makes a derivative's bytes besides the full-size pixels (whose fingerprint it includes), per resize method
#: (``--resize``); + quality. ``area``'s is the one every copy before ``--resize`` existed was recorded with.
RESIZE_METHOD = "long-side,short=round-half-even,min1,no-upscale,inter-area"
RESIZE_FINGERPRINTS = {"area": RESIZE_METHOD, "fast": RESIZE_METHOD + ",box-k-first:edge-pad-centred"}
_INT = re.compile(r"[+-]?\d+")


def folder_name(size: int) -> str:
    """The top folder of one size's JPGs: ``files_512``."""
    return SIZED_FILES.format(size=size)


def list_name(size: int) -> str:
    """The release's list of one size's JPGs: ``IMAGE_FILENAMES_512``."""
    return SIZED_IMAGE_LIST.format(size=size)


def size_of_list(name: str) -> int | None:
    """``IMAGE_FILENAMES_512`` -> 512; None for any other name."""
    m = re.fullmatch(re.escape(SIZED_IMAGE_LIST).replace(re.escape("{size}"), r"([1-9]\d*)"), name)
    return int(m.group(1)) if m else None


def derivative_params(quality: int, resize: str = DEFAULT_METHOD) -> str:
    """The fingerprint recorded with every derivative: the full-size pipeline's, the resize method, quality."""
    return f"{PARAMS_FINGERPRINT};resize1:{RESIZE_FINGERPRINTS[resize]};q{quality}"


@dataclass(frozen=True)
class Outputs:
    """What a conversion run writes: the full-size JPG (unless ``full_size`` is off) and one copy per size."""

    sizes: tuple[int, ...] = ()
    quality: int = DEFAULT_QUALITY
    full_size: bool = True
    resize: str = DEFAULT_METHOD  # cxrdb/convert/resize.py: area (one INTER_AREA) or fast

    @property
    def params(self) -> str:
        """The derivative fingerprint of this run."""
        return derivative_params(self.quality, self.resize)


FULL_SIZE = Outputs()


def _integer(text: str, what: str) -> int:
    text = str(text).strip()
    if not _INT.fullmatch(text):
        raise CxrdbError(f"{what} {text!r} is not a whole number")
    return int(text)


def parse_outputs(sizes: Sequence[str | int] | None, quality: str | int | None = None,
                  full_size: bool = True, resize: str | None = None) -> Outputs:
    """Check ``--size`` (repeatable; duplicates are dropped quietly), ``--quality``, ``--no-full-size`` and
    ``--resize`` before any work; one-line CxrdbError on bad input."""
    found: list[int] = []
    for raw in sizes or ():
        n = _integer(str(raw), "--size")
        if n < 1:
            raise CxrdbError(f"--size {n}: a size is the longer side in pixels, 1 or more")
        if n > MAX_SIZE:
            raise CxrdbError(f"--size {n}: a JPEG side is at most {MAX_SIZE} pixels")
        found.append(n)
    q = DEFAULT_QUALITY
    if quality is not None:
        if not found:
            raise CxrdbError("--quality sets the quality of the --size copies (the full-size JPG is always "
                             "quality 95, as published): give --size too")
        q = _integer(str(quality), "--quality")
        if not 1 <= q <= 100:
            raise CxrdbError(f"--quality {q}: JPEG quality is 1 to 100")
    if not full_size and not found:
        raise CxrdbError("--no-full-size writes only the --size copies: give at least one --size")
    method = DEFAULT_METHOD
    if resize is not None:
        method = str(resize).strip().lower()
        if method not in METHODS:
            raise CxrdbError(f"--resize {resize!r}: use {' or '.join(METHODS)}")
        if not found:
            raise CxrdbError("--resize sets how the --size copies are made: give --size too")
    return Outputs(tuple(sorted(set(found), reverse=True)), q, full_size, method)
