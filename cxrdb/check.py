"""Consistency checks: of the catalog (the SQL files in sql/checks/) and of a release folder on disk."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable
from operator import itemgetter
from pathlib import Path
from typing import Any

from . import contract, fstree, sqlfiles
from .catalog import Catalog
from .convert.derivatives import folder_name, size_of_list
from .convert.ondisk import sha256_file
from .errors import CxrdbError
from .executor import run_map
from .manifest import SUMS, walk_release

HASH_TASK = 64  # files hashed per worker task
READ_AHEAD = 512  # files the kernel is asked to fetch ahead of those handed to the workers

# published file -> its exact header line (the release contract)
HEADERS = contract.csv_headers()


def check_catalog(cat: Catalog) -> list[dict[str, Any]]:
    """Run every sql/checks file; one result per check with its offending rows (none = pass)."""
    results = []
    for path in sqlfiles.folder("checks"):
        columns, rows = cat.query(path.read_text(encoding="utf-8"))
        results.append({"check": path.stem, "problems": len(rows),
                        "examples": [dict(zip(columns, r, strict=True)) for r in rows[:5]]})
    return results


def _sha256(item: tuple[str, str]) -> tuple[str, str | None]:
    rel, path = item
    try:
        return rel, sha256_file(path)
    except OSError:
        return rel, None


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError):  # pyarrow's ArrowInvalid is a ValueError
        return []


def verify_release(
    out: str | Path, *, workers: int | None = None, progress: Callable[[str, int, int | None], None] | None = None,
) -> dict[str, list[str]]:
    """Check a release folder: every file against SHA256SUMS.txt (in parallel), files not listed, and the
    header line of each published CSV (the column names of each Parquet file). Returns {problem kind: [paths]};
    all lists empty = a sound release."""
    out = Path(out)
    sums_path = out / SUMS
    if not sums_path.is_file():
        raise CxrdbError(f"{out} has no {SUMS}")
    expected: dict[str, str] = {}
    expected_sums = expected
    for n, line in enumerate(sums_path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, rel = line.partition(" ")
        rel = rel.lstrip(" *")
        if not sep or len(digest) != 64 or not rel:
            raise CxrdbError(f"{sums_path}:{n}: not a '<sha256> <path>' line")
        expected[rel] = digest.lower()
    problems: dict[str, list[str]] = {"missing": [], "mismatch": [], "not listed": [], "temp file": [],
                                      "bad header": [], "inconsistent": []}
    files, temps = walk_release(out)
    problems["not listed"] = sorted(set(files) - set(expected))
    problems["temp file"] = temps
    items = [(rel, str(out / rel)) for rel in sorted(expected)]
    if progress:
        progress("verify", 0, len(items))
    ahead = fstree.read_ahead(items, itemgetter(1), lead=READ_AHEAD)
    for rel, digest in run_map(_sha256, ahead, workers=workers, batch_size=HASH_TASK,
                               on_lost=lambda item, _why: _sha256(item)):  # hash it here instead
        if digest is None:
            problems["missing"].append(rel)
        elif digest != expected[rel]:
            problems["mismatch"].append(rel)
        if progress:
            progress("verify", 1, len(items))
    for name, header in HEADERS.items():
        path = out / name
        if path.is_file():
            try:
                with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
                    first = next(csv.reader(fh), [])
            except (OSError, EOFError, UnicodeDecodeError):
                first = []
            if ",".join(first) != header:
                problems["bad header"].append(name)
    for table in contract.TABLES:  # Parquet: the same columns, BigQuery-named
        name = table.file_name("parquet")
        expected = [contract.bigquery_name(c) for c in table.columns]
        if "parquet" in table.formats and (out / name).is_file() and _parquet_columns(out / name) != expected:
            problems["bad header"].append(name)
    sectioned = contract.SECTION_FILES[0]
    if (out / sectioned.name).is_file() and _plain_rows(out / sectioned.name)[:1] != [list(sectioned.columns)]:
        problems["bad header"].append(sectioned.name)
    problems["inconsistent"] = (_cross_check(out) + _check_sections(out, files)
                                  + _check_copies(out, files, expected_sums))
    return {k: sorted(v) for k, v in problems.items()}


def _plain_rows(path: Path) -> list[list[str]]:
    """The rows of a plain release CSV (a sections file); [] when unreadable."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _check_sections(out: Path, files: list[str]) -> list[str]:
    """The labeler-input files agree with each other: batches numbered 00, 01, ... with exactly the batch size but
    the last, rows of two fields starting ``s<digits>`` (no header), their bytes together are the whole file; and
    every study of a label file has a text there."""
    batched, whole = contract.SECTION_FILES[1], contract.SECTION_FILES[2]
    numbers = sorted(n for f in files if (n := batched.batch_number(f)) is not None)
    found: list[str] = []
    if numbers != list(range(len(numbers))):
        found.append(f"{batched.name}: numbered {', '.join(f'{n:02d}' for n in numbers)}, not 00 on without gaps")
    joined = b""
    texts: dict[int, str] = {}
    for k in numbers:
        name = batched.batch_name(k)
        rows = _plain_rows(out / name)
        if k != numbers[-1] and len(rows) != batched.batch_rows:  # the last may hold fewer
            found.append(f"{name}: {len(rows)} rows, not {batched.batch_rows:,}")
        bad = next((i for i, r in enumerate(rows, 1) if len(r) != 2 or not re.fullmatch(r"s[0-9]+", r[0])), None)
        if bad is not None:
            found.append(f"{name}: row {bad} is not 's<study_id>,<text>'")
        texts.update((int(r[0][1:]), r[1]) for r in rows if len(r) == 2 and re.fullmatch(r"s[0-9]+", r[0]))
        joined += (out / name).read_bytes() if (out / name).is_file() else b""
    if (out / whole.name).is_file() and numbers and (out / whole.name).read_bytes() != joined:
        found.append(f"{whole.name}: not the rows of the {batched.name} files, in order")
    names = {t.view: t.file_name("csv.gz") for t in contract.TABLES}
    for view in ("release.chexpert", "release.negbio"):
        labeled = _csv_column(out / names[view], "study_id")
        if numbers and labeled is not None:
            found += [f"{names[view]}: study {s} has no labeler text in {batched.name}"
                      for s in sorted(labeled, key=int) if not texts.get(int(s))]
    return found


def _check_copies(out: Path, files: list[str], sums: dict[str, str]) -> list[str]:
    """Each IMAGE_FILENAMES_N (smaller copies, ``--size N``) names files under files_N/ that SHA256SUMS.txt lists
    (so their bytes were just verified), the same images as the metadata; and every file under files_N/ is in it."""
    found: list[str] = []
    names = {t.view: t.file_name("csv.gz") for t in contract.TABLES}
    metadata = _csv_column(out / names["release.metadata"], "dicom_id")
    lists = {n: size_of_list(n) for n in files if "/" not in n and size_of_list(n) is not None}
    for name, size in sorted(lists.items()):
        try:
            listed = [line for line in (out / name).read_text(encoding="utf-8").splitlines() if line]
        except (OSError, UnicodeDecodeError):
            found.append(f"{name}: unreadable")
            continue
        prefix = folder_name(size) + "/"
        found += [f"{name}: {p} is not under {prefix}" for p in listed if not p.startswith(prefix)]
        found += [f"{name}: {p} is not in {SUMS}" for p in listed if p.startswith(prefix) and p not in sums]
        on_disk = {f for f in files if f.startswith(prefix)}
        found += [f"{name}: {f} is not listed" for f in sorted(on_disk - set(listed))]
        if metadata is not None:
            stems = {Path(p).stem for p in listed}
            found += [f"{name}: {d} of the metadata has no copy" for d in sorted(metadata - stems)]
            found += [f"{name}: {d} is not in the metadata" for d in sorted(stems - metadata)]
    return found


def _csv_column(path: Path, column: str) -> set[str] | None:
    """The values of one column of a release .csv.gz, or None when the file is absent or unreadable."""
    if not path.is_file():
        return None
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            return {row[column] for row in csv.DictReader(fh)}
    except (OSError, EOFError, UnicodeDecodeError, KeyError, csv.Error):
        return None


def _cross_check(out: Path) -> list[str]:
    """The release files agree with each other: every image of the metadata has its JPG in IMAGE_FILENAMES and
    back, the split names the same images, and every labeled study has an image in the metadata."""
    found: list[str] = []
    names = {t.view: t.file_name("csv.gz") for t in contract.TABLES}
    metadata = _csv_column(out / names["release.metadata"], "dicom_id")
    listing = out / contract.IMAGE_LIST.name
    if metadata is not None and listing.is_file():
        jpgs = {Path(line).stem for line in listing.read_text(encoding="utf-8").splitlines() if line}
        found += [f"{names['release.metadata']}: {d} has no JPG in {listing.name}" for d in sorted(metadata - jpgs)]
        found += [f"{listing.name}: {d} is not in {names['release.metadata']}" for d in sorted(jpgs - metadata)]
    split = _csv_column(out / names["release.split"], "dicom_id")
    if metadata is not None and split is not None and split != metadata:
        found += [f"{names['release.split']}: {d} disagrees with the metadata" for d in sorted(split ^ metadata)]
    studies = _csv_column(out / names["release.metadata"], "study_id")
    for view in ("release.chexpert", "release.negbio"):
        labeled = _csv_column(out / names[view], "study_id")
        if studies is not None and labeled is not None:
            found += [f"{names[view]}: study {s} has no image in the metadata" for s in sorted(labeled - studies)]
    return found
