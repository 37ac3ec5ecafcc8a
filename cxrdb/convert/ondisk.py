"""Is a recorded JPG still the file on disk? The one check convert, export and build make before a JPG counts.

A JPG is the one the catalog recorded when the file exists with the recorded size and either the recorded mtime
or, when the mtime changed (a copy, a touch), the recorded sha256. Anything else (missing, truncated, replaced,
edited) is stale and must be converted again; it is never listed in IMAGE_FILENAMES or SHA256SUMS.txt.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class OnDisk:
    """The outcome of checking recorded JPGs against the files under one output root."""

    current: list[dict[str, Any]] = field(default_factory=list)
    stale: list[tuple[dict[str, Any], str]] = field(default_factory=list)  # (row, 'missing' / 'changed on disk')
    rehashed: list[dict[str, Any]] = field(default_factory=list)  # {key..., jpg_mtime_ns}: same bytes, new mtime


def stat_file(out: Path) -> Callable[[str], tuple[int, int] | None]:
    """(size, mtime_ns) of ``out/rel`` from the disk now, None when it is not a file."""

    def figures(rel: str) -> tuple[int, int] | None:
        try:
            st = os.stat(os.path.join(out, rel))
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None

    return figures


def check_jpgs(out: Path, rows: Iterable[dict[str, Any]],
               figures: Callable[[str], tuple[int, int] | None] | None = None, *, verify: bool = False,
               key: tuple[str, ...] = ("dicom_id",)) -> OnDisk:
    """Sort rows (with the ``key`` columns, ``jpg_path``, ``jpg_bytes``, ``jpg_sha256``, ``jpg_mtime_ns``) by
    whether the file under ``out`` is still the one recorded; ``verify`` hashes every file, whatever its mtime.
    ``figures``: a file's (size, mtime_ns) as the caller has read them (a build's one walk of the folder);
    stat'ed now when not given. ``key``: the row's grain (``dicom_id``; ``dicom_id, size`` for a smaller copy)."""
    result = OnDisk()
    figures = figures or stat_file(out)
    for row in rows:
        rel = row["jpg_path"]
        found = figures(rel)
        if found is None:
            result.stale.append((row, "missing on disk"))
            continue
        size, mtime_ns = found
        if size != row["jpg_bytes"]:
            result.stale.append((row, "changed on disk"))
        elif mtime_ns == row["jpg_mtime_ns"] and not verify:
            result.current.append(row)
        else:
            try:
                same = sha256_file(os.path.join(out, rel)) == row["jpg_sha256"]
            except OSError:
                same = False
            if same:
                result.current.append(row)
                if mtime_ns != row["jpg_mtime_ns"]:
                    result.rehashed.append({**{k: row[k] for k in key}, "jpg_mtime_ns": mtime_ns})
            else:
                result.stale.append((row, "changed on disk"))
    return result
