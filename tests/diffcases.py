"""Perturbed copies of a built release, and what `cxrdb diff` must find in each (for tests/test_diff*.py).

Every perturbation edits the copy the way a user's rebuild, a download or a careless script would, and records
the exact difference it made, computed here from the files themselves (never from cxrdb's own report).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

METADATA = "mimic-cxr-2.0.0-metadata.csv.gz"
SPLIT = "mimic-cxr-2.0.0-split.csv.gz"
VALUES = ("1.0", "0.0", "-1.0", "blank")


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a release .csv.gz."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def write_table(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), mtime=0))


def jpgs(root: Path) -> list[str]:
    """Every JPG under files/, relative, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in (root / "files").rglob("*.jpg"))


def pixel_stats(a_path: Path, b_path: Path) -> tuple[int, float, float, np.ndarray]:
    """(max |a-b|, mean |a-b|, share of pixels that differ, histogram) of two same-shape JPGs."""
    a = cv2.imread(str(a_path), cv2.IMREAD_GRAYSCALE).astype(np.int32)
    b = cv2.imread(str(b_path), cv2.IMREAD_GRAYSCALE).astype(np.int32)
    d = np.abs(a - b)
    return int(d.max()), float(d.mean()), float((d > 0).mean()), np.bincount(d.ravel(), minlength=256)


def rewrite_sums(root: Path) -> None:
    """SHA256SUMS.txt recomputed over every other file (as a careful editor would)."""
    lines = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel != "SHA256SUMS.txt":
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()} {rel}\n")
    (root / "SHA256SUMS.txt").write_text("".join(lines), encoding="utf-8")


@dataclass
class Perturbed:
    """What was changed in THEIRS, relative to OURS."""

    root: Path
    changed_jpg: str = ""
    reencoded_jpg: str = ""
    dropped_dicom_id: str = ""
    moved: tuple[str, str, str, str] = ("", "", "", "")  # dicom_id, subject_id, split in ours, split in theirs
    flips: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # labeler, study, obs, ours, theirs
    removed: str = "README"
    added: str = "LICENSE.txt"
    sums_updated: bool = False

    @property
    def differing_files(self) -> set[str]:
        flipped = {f"mimic-cxr-2.0.0-{labeler}.csv.gz" for labeler, *_ in self.flips}
        sums = {"SHA256SUMS.txt"} if self.sums_updated else set()
        return {self.changed_jpg, self.reencoded_jpg, METADATA, SPLIT, *sums, *flipped}


def _value(cell: str) -> str:
    return cell if cell else "blank"


def _flip_labels(theirs: Path, labeler: str, wanted: list[tuple[str, str]]) -> list[tuple[str, str, str, str, str]]:
    """Change the first cell holding each (from, to) value pair, each in a different study; return the flips."""
    path = theirs / f"mimic-cxr-2.0.0-{labeler}.csv.gz"
    header, rows = read_table(path)
    flips, used = [], set()
    for old, new in wanted:
        for row in rows:
            cells = [(i, c) for i, c in enumerate(row[2:], start=2) if _value(c) == old]
            if row[1] in used or not cells:
                continue
            i = cells[0][0]
            row[i] = "" if new == "blank" else new
            flips.append((labeler, row[1], header[i], old, new))
            used.add(row[1])
            break
        else:
            raise AssertionError(f"no {old} cell in {path}")
    write_table(path, header, rows)
    return flips


def perturb(ours: Path, theirs: Path, *, update_sums: bool = False) -> Perturbed:
    """A copy of release ``ours`` at ``theirs`` with one of each kind of difference."""
    shutil.copytree(ours, theirs)
    p = Perturbed(theirs)
    images = jpgs(theirs)
    # a changed JPG: a bright square painted in, saved at the published quality
    p.changed_jpg = images[0]
    img = cv2.imread(str(theirs / p.changed_jpg), cv2.IMREAD_GRAYSCALE)
    img[10:60, 10:60] = 255
    (theirs / p.changed_jpg).write_bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    # the same pixels re-encoded at another quality
    p.reencoded_jpg = images[1]
    img = cv2.imread(str(theirs / p.reencoded_jpg), cv2.IMREAD_GRAYSCALE)
    (theirs / p.reencoded_jpg).write_bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 75])[1].tobytes())
    # a metadata row dropped
    header, rows = read_table(theirs / METADATA)
    p.dropped_dicom_id = rows[3][0]
    write_table(theirs / METADATA, header, rows[:3] + rows[4:])
    # one image moved to another split: its patient, who has other images, is then in two splits
    header, rows = read_table(theirs / SPLIT)
    subjects = [r[2] for r in rows]
    row = next(r for r in rows if subjects.count(r[2]) > 1)
    new = "test" if row[3] != "test" else "train"
    p.moved = (row[0], row[2], row[3], new)
    row[3] = new
    write_table(theirs / SPLIT, header, rows)
    # labels flipped: three in chexpert, one in negbio
    p.flips = (_flip_labels(theirs, "chexpert", [("1.0", "0.0"), ("blank", "1.0"), ("-1.0", "blank")])
               + _flip_labels(theirs, "negbio", [("0.0", "-1.0")]))
    # a file only in ours, a file only in theirs
    (theirs / p.removed).unlink()
    (theirs / p.added).write_text("a license\n", encoding="utf-8")
    if update_sums:
        rewrite_sums(theirs)
        p.sums_updated = True
    return p


def expected_table(ours: Path, labeler: str, observation: str,
                   flips: list[tuple[str, str, str, str, str]]) -> list[list[int]]:
    """The 4x4 table (ours x theirs) of one observation after ``flips``, counted from OURS' file."""
    header, rows = read_table(ours / f"mimic-cxr-2.0.0-{labeler}.csv.gz")
    col = header.index(observation)
    grid = [[0] * 4 for _ in VALUES]
    for row in rows:
        v = VALUES.index(_value(row[col]))
        grid[v][v] += 1
    for name, _, obs, old, new in flips:
        if name == labeler and obs == observation:
            grid[VALUES.index(old)][VALUES.index(old)] -= 1
            grid[VALUES.index(old)][VALUES.index(new)] += 1
    return grid
