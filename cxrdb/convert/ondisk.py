"""Is a recorded JPG still the file on disk? The one check convert, export and build make before a JPG counts.

A JPG is the one the catalog recorded when the file exists with the recorded size and either the recorded mtime
or, when the mtime changed (a copy, a touch), the recorded sha256. Anything else (missing, truncated, replaced,
edited) is stale and must be converted again; it is never listed in IMAGE_FILENAMES or SHA256SUMS.txt.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
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
    rehashed: list[dict[str, Any]] = field(default_factory=list)  # {dicom_id, jpg_mtime_ns}: same bytes, new mtime


def check_jpgs(out: Path, rows: Iterable[dict[str, Any]], *, verify: bool = False) -> OnDisk:
    """Sort rows (with ``dicom_id``, ``jpg_path``, ``jpg_bytes``, ``jpg_sha256``, ``jpg_mtime_ns``) by whether
    the file under ``out`` is still the one recorded; ``verify`` hashes every file, whatever its mtime."""
    result = OnDisk()
    for row in rows:
        path = out / row["jpg_path"]
        try:
            st = os.stat(path)
        except OSError:
            result.stale.append((row, "missing on disk"))
            continue
        if st.st_size != row["jpg_bytes"]:
            result.stale.append((row, "changed on disk"))
        elif st.st_mtime_ns == row["jpg_mtime_ns"] and not verify:
            result.current.append(row)
        else:
            try:
                same = sha256_file(path) == row["jpg_sha256"]
            except OSError:
                same = False
            if same:
                result.current.append(row)
                if st.st_mtime_ns != row["jpg_mtime_ns"]:
                    result.rehashed.append({"dicom_id": row["dicom_id"], "jpg_mtime_ns": st.st_mtime_ns})
            else:
                result.stale.append((row, "changed on disk"))
    return result
