"""Walk a MIMIC-CXR-style source: files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm and .../sNNNNNNNN.txt.

subject_id, study_id and dicom_id come from the path. Anything that does not fit the layout is reported as a
problem (not silently dropped), except files that are neither .dcm nor .txt.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import CxrdbError

_GROUP = re.compile(r"p\d\d")
_PATIENT = re.compile(r"p(\d+)")
_STUDY = re.compile(r"s(\d+)")


@dataclass(frozen=True)
class SourceFile:
    """One file of the source, with the ids its path gives."""

    rel_path: str  # relative to the root holding files/, with forward slashes
    subject_id: int
    study_id: int
    dicom_id: str | None  # None for reports
    size: int
    mtime_ns: int


@dataclass
class SourceListing:
    """Everything found under a source root."""

    images: list[SourceFile]
    reports: list[SourceFile]
    problems: list[tuple[str, str]]  # (rel_path, one-line reason)


def resolve_root(path: str | Path) -> Path:
    """Accept either the folder holding ``files/`` or the ``files`` folder itself."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise CxrdbError(f"source {path} is not a folder")
    if (root / "files").is_dir():
        return root
    if root.name == "files":
        return root.parent
    raise CxrdbError(f"source {path} has no files/ folder (expected files/pNN/pNNNNNNNN/sNNNNNNNN/...)")


def _sorted_entries(path: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _walk(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Yield (relative path, entry) for every file under root/files, depth-first in name order."""
    stack = [("files", str(root / "files"))]
    while stack:
        rel, abs_path = stack.pop()
        entries = _sorted_entries(abs_path)
        dirs = []
        for entry in entries:
            child = f"{rel}/{entry.name}"
            if entry.is_dir(follow_symlinks=True):
                dirs.append((child, entry.path))
            elif entry.is_file(follow_symlinks=True):
                yield child, entry
        stack.extend(reversed(dirs))


def _ids(rel_path: str) -> tuple[int, int, str | None] | str:
    """Parse ids from a relative path, or return the reason it does not fit the layout."""
    parts = rel_path.split("/")
    name = parts[-1]
    is_report = name.endswith(".txt")
    want = 4 if is_report else 5
    if len(parts) != want:
        return "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/..."
    group, patient = parts[1], parts[2]
    study = name[:-4] if is_report else parts[3]
    pm, sm = _PATIENT.fullmatch(patient), _STUDY.fullmatch(study)
    if not (_GROUP.fullmatch(group) and pm and sm and patient.startswith(group)):
        return "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/..."
    dicom_id = None if is_report else name[: -len(".dcm")]
    if dicom_id is not None and not dicom_id:
        return "empty dicom_id in file name"
    return int(pm.group(1)), int(sm.group(1)), dicom_id


def scan(root: Path, *, images: bool = True, reports: bool = True) -> SourceListing:
    """List the images and/or reports under a resolved root, with size and mtime."""
    listing = SourceListing([], [], [])
    seen_dicom: dict[str, str] = {}
    seen_study: dict[int, str] = {}
    for rel, entry in _walk(root):
        lower = rel.lower()
        is_dcm, is_txt = lower.endswith(".dcm"), lower.endswith(".txt")
        if not ((is_dcm and images) or (is_txt and reports)):
            continue
        if is_dcm and not rel.endswith(".dcm"):
            rel_ids: tuple[int, int, str | None] | str = "extension must be lower-case .dcm"
        else:
            rel_ids = _ids(rel)
        if isinstance(rel_ids, str):
            listing.problems.append((rel, rel_ids))
            continue
        subject_id, study_id, dicom_id = rel_ids
        try:
            st = entry.stat()
        except OSError as exc:
            listing.problems.append((rel, f"cannot stat: {exc.strerror}"))
            continue
        item = SourceFile(rel, subject_id, study_id, dicom_id, st.st_size, st.st_mtime_ns)
        if dicom_id is not None:
            if dicom_id in seen_dicom:
                listing.problems.append((rel, f"duplicate dicom_id {dicom_id} (also {seen_dicom[dicom_id]})"))
                continue
            seen_dicom[dicom_id] = rel
            listing.images.append(item)
        else:
            if study_id in seen_study:
                listing.problems.append((rel, f"duplicate study_id {study_id} (also {seen_study[study_id]})"))
                continue
            seen_study[study_id] = rel
            listing.reports.append(item)
    return listing


def check_source(path: str | Path) -> Path:
    """Resolve a source root and refuse one with nothing to ingest (no .dcm or .txt file under files/); stops at
    the first file found, so it costs nothing on a real source."""
    root = resolve_root(path)
    for rel, _ in _walk(root):
        if rel.lower().endswith((".dcm", ".txt")):
            return root
    raise CxrdbError(f"source {path} has no .dcm or .txt files under files/: nothing to build")
