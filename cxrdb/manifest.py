"""What a release folder lists: the JPGs the catalog recorded and still finds intact, the files export and build
wrote, and nothing else. SHA256SUMS.txt is written from that list, never from whatever is in the folder; files
the list does not name are strays (reported, and refused by build without --force)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from . import atomic
from .catalog import Catalog
from .contract import EXTRAS, IMAGE_LIST, SUMS, TEST_SET, table_files
from .convert.ondisk import OnDisk, check_jpgs, sha256_file
from .errors import CxrdbError

__all__ = ["EXTRAS", "SUMS", "TEST_SET", "check_folder", "claim", "listed_jpgs", "own_extras", "owns", "record_extra",
           "strays", "walk_release", "write_checksums"]


def is_temp(name: str) -> bool:
    """A temp file left by an interrupted write: ours (``.x.<pid>.<hex>.cxrdb-tmp``) or any hidden ``.x.tmp``."""
    return atomic.is_temp_name(name) or (name.startswith(".") and name.endswith(".tmp"))


def walk_release(out: Path) -> tuple[list[str], list[str]]:
    """(files, temp files) under ``out``, relative with forward slashes, sorted; SHA256SUMS.txt left out."""
    files: list[str] = []
    temps: list[str] = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        # a symlink to a folder is never walked into (os.walk's default) but is an entry of the folder all the same
        linked = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        dirnames[:] = [d for d in dirnames if d not in linked]
        for name in [*filenames, *linked]:
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
    """Every JPG path this catalog writes or may have written (one per readable image, as the published layout
    names it): a JPG there is this catalog's, even one a killed run wrote but did not get to record."""
    _, rows = cat.query("SELECT regexp_replace(path, '\\.dcm$', '.jpg') FROM raw.images WHERE error IS NULL")
    return {r[0] for r in rows}


def record_extra(cat: Catalog, out: Path, name: str) -> None:
    """Record the sha256 of a file build just wrote beside the tables (README, LICENSE.txt, the test set)."""
    cat.set_setting(f"release_file:{out / name}", sha256_file(out / name))


def own_extras(cat: Catalog, out: Path) -> list[str]:
    """The README / LICENSE.txt / test-set files under ``out`` that this catalog wrote and nobody changed since."""
    found = []
    for name in EXTRAS:
        recorded = cat.get_setting(f"release_file:{out / name}")
        try:
            if recorded is not None and sha256_file(out / name) == recorded:
                found.append(name)
        except OSError:
            continue
    return found


def strays(cat: Catalog, out: Path) -> tuple[list[str], list[str]]:
    """(files under ``out`` that neither this catalog's JPGs, its own README / licence / test-set files, nor the
    release's table files account for; temp files)."""
    if not out.is_dir():
        return [], []
    files, temps = walk_release(out)
    known = own_jpgs(cat) | set(table_files()) | {SUMS} | set(own_extras(cat, out))
    return [f for f in files if f not in known], temps


def check_folder(cat: Catalog, out: Path, force: bool) -> list[str]:
    """Refuse to write into a release folder that another catalog wrote, or that holds files this catalog did
    not write, unless ``force``; return those strays (never listed in SHA256SUMS.txt). Temp files of killed runs
    of ours are swept. Build, convert and export all call it before writing."""
    files, temps = walk_release(out) if out.is_dir() else ([], [])
    for rel in temps:
        if atomic.is_temp_name(Path(rel).name):
            (out / rel).unlink(missing_ok=True)
    if files and not owns(cat, out) and not force:
        raise CxrdbError(f"{out} holds files of another build or other files ({files[0]}): use a new folder, the "
                         "catalog that built it (--db), or --force to write into it")
    found, _ = strays(cat, out)
    found += [t for t in temps if not atomic.is_temp_name(Path(t).name)]
    if found and not force:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise CxrdbError(f"{out} holds files this catalog did not write ({found[0]}{more}): remove them, or use "
                         "--force to write beside them (they are never listed)")
    return found


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
