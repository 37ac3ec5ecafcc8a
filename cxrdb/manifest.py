"""What a release folder lists: the JPGs the catalog recorded and still finds intact, the files export and build
wrote, and nothing else. SHA256SUMS.txt is written from that list, never from whatever is in the folder; files
the list does not name are strays (reported, and refused by build without --force)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from . import atomic
from .catalog import Catalog
from .contract import EXTRAS, IMAGE_LIST, SUMS, TEST_SET
from .convert.ondisk import OnDisk, check_jpgs, sha256_file
from .errors import CxrdbError

__all__ = ["EXTRAS", "SUMS", "TEST_SET", "claim", "listed_jpgs", "owns", "strays", "walk_release", "write_checksums"]


def is_temp(name: str) -> bool:
    """A temp file left by an interrupted write: ours (``.x.<pid>.<hex>.cxrdb-tmp``) or any hidden ``.x.tmp``."""
    return atomic.is_temp_name(name) or (name.startswith(".") and name.endswith(".tmp"))


def walk_release(out: Path) -> tuple[list[str], list[str]]:
    """(files, temp files) under ``out``, relative with forward slashes, sorted; SHA256SUMS.txt left out."""
    files: list[str] = []
    temps: list[str] = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), out).replace(os.sep, "/")
            if is_temp(name):
                temps.append(rel)
            elif rel != SUMS:
                files.append(rel)
    return sorted(files), sorted(temps)


def claim(cat: Catalog, out: Path) -> None:
    """Record that this catalog writes into the release folder ``out`` (convert, export and build call it)."""
    cat.set_setting(f"release_folder:{out}", "1")


def owns(cat: Catalog, out: Path) -> bool:
    """Whether this catalog has written into ``out`` before."""
    return cat.get_setting(f"release_folder:{out}") is not None or cat.get_setting("release_root") == str(out)


def own_jpgs(cat: Catalog) -> set[str]:
    """Every JPG path this catalog writes or may have written (one per ingested image, as the published layout
    names it): a JPG there is this catalog's, even one a killed run wrote but did not get to record."""
    _, rows = cat.query("SELECT regexp_replace(path, '\\.dcm$', '.jpg') FROM raw.images")
    return {r[0] for r in rows}


def strays(cat: Catalog, out: Path, names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(files under ``out`` that neither this catalog's JPGs nor ``names`` account for, temp files)."""
    if not out.is_dir():
        return [], []
    files, temps = walk_release(out)
    known = own_jpgs(cat) | set(names) | set(EXTRAS)
    return [f for f in files if f not in known], temps


def listed_jpgs(cat: Catalog, out: Path) -> OnDisk:
    """The JPGs the release views name under ``out``, sorted into intact (listed) and stale (not listed)."""
    columns, rows = cat.query(
        f"SELECT f.dicom_id, f.jpg_path, j.jpg_bytes, j.jpg_sha256, j.jpg_mtime_ns FROM {IMAGE_LIST.view} "
        "AS f JOIN work.jpg AS j USING (dicom_id) WHERE f.out_root = ? ORDER BY f.jpg_path", [str(out)])
    disk = check_jpgs(out, [dict(zip(columns, r, strict=True)) for r in rows])
    if disk.rehashed and not cat.read_only:
        with cat.transaction():
            cat.update_columns("work.jpg", disk.rehashed, on=("dicom_id",))
    return disk


def write_checksums(out: Path, jpgs: OnDisk, files: Iterable[str]) -> int:
    """Write SHA256SUMS.txt (``<sha256> <path>``, one space, as the published file) over the intact JPGs (their
    recorded, just verified hashes) and ``files`` (hashed now), sorted by path; return the number of lines."""
    digests = {r["jpg_path"]: r["jpg_sha256"] for r in jpgs.current}
    for rel in files:
        try:
            digests[rel] = sha256_file(out / rel)
        except OSError as exc:
            raise CxrdbError(f"cannot read {out / rel}: {exc.strerror}") from None
    lines = "".join(f"{digests[rel]} {rel}\n" for rel in sorted(digests))
    try:
        atomic.write_atomic(str(out / SUMS), lines.encode("utf-8"))
    except atomic.WriteError as exc:
        raise CxrdbError(f"cannot write {out / SUMS}: {exc}") from None
    return len(digests)
