"""Decoded-pixel differences of JPGs whose bytes differ: one pure function per pair, run in worker processes.

Both files are decoded as 8-bit grayscale (the published JPGs are single-channel); for equal shapes the result
holds the largest and mean absolute difference, the share of pixels that differ and the full histogram of
|ours - theirs| (256 bins), which the report sums over every compared pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 256
MAX_PIXELS = 100_000_000  # a frame header claiming more is refused before decoding (a decompression bomb)


@dataclass(frozen=True, slots=True)
class PixelDiff:
    """How two decodings of one path differ (``error`` set when either side could not be decoded)."""

    path: str
    shape_ours: tuple[int, ...] | None = None
    shape_theirs: tuple[int, ...] | None = None
    max_abs: int | None = None
    mean_abs: float | None = None
    share_differ: float | None = None
    histogram: tuple[int, ...] | None = None
    error: str | None = None
    error_side: str | None = None

    @property
    def same_shape(self) -> bool:
        return self.error is None and self.shape_ours == self.shape_theirs


def frame_size(data: bytes) -> tuple[int, int] | None:
    """(rows, columns) a JPEG's frame header (SOFn) declares, None when there is none before the scan."""
    i = 2
    while i + 9 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header came first
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return int.from_bytes(data[i + 5:i + 7], "big"), int.from_bytes(data[i + 7:i + 9], "big")
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    return None


def _decode(path: str) -> np.ndarray:
    import cv2

    data = np.fromfile(path, dtype=np.uint8)
    if data.size and data[:2].tobytes() != b"\xff\xd8":
        raise ValueError(f"not a JPEG file (starts with {data[:8].tobytes()!r})")
    size = frame_size(data[:65536].tobytes())
    if size and size[0] * size[1] > MAX_PIXELS:  # refused before cv2 allocates it
        raise ValueError(f"frame header claims {size[0]} x {size[1]} pixels (more than {MAX_PIXELS})")
    image = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE) if data.size else None
    if image is None:
        raise ValueError("not a decodable JPEG" if data.size else "empty file")
    return image


def compare_pair(item: tuple[str, str, str]) -> PixelDiff:
    """(rel, our path, their path) -> their pixel difference; never raises."""
    rel, ours_path, theirs_path = item
    images = []
    for side, path in (("ours", ours_path), ("theirs", theirs_path)):
        try:
            images.append(_decode(path))
        except (OSError, ValueError) as exc:
            return PixelDiff(rel, error=" ".join(str(exc).split())[:200], error_side=side)
        except Exception as exc:  # a decoder failure of any kind is this pair's error, never the run's
            return PixelDiff(rel, error=f"{type(exc).__name__}: {exc}"[:200], error_side=side)
    a, b = images
    if a.shape != b.shape:
        return PixelDiff(rel, shape_ours=a.shape, shape_theirs=b.shape)
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.uint8)
    hist = np.bincount(diff.ravel(), minlength=BINS)
    n = int(diff.size)
    return PixelDiff(rel, a.shape, b.shape, int(diff.max()) if n else 0,
                     float(diff.mean()) if n else 0.0, float(n - hist[0]) / n if n else 0.0,
                     tuple(int(v) for v in hist))


def lost(item: tuple[str, str, str], why: str) -> PixelDiff:
    """The result of a pair whose worker died (a crashing decoder, the OOM killer)."""
    return PixelDiff(item[0], error=f"worker lost: {why}", error_side="both")
