"""What a release folder lists: the JPGs the catalog recorded and still finds intact, the files export and build
wrote, and nothing else. SHA256SUMS.txt is written from that list, never from whatever is in the folder; files
the list does not name are strays (reported, and refused by build without --force)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from . import atomic, fstree
from .catalog import Catalog
from .contract import EXTRAS, IMAGE_LIST, SUMS, TEST_SET, is_release_file, table_files
from .convert.derivatives import list_name
from .convert.ondisk import OnDisk, check_jpgs, sha256_file
from .errors import CxrdbError

__all__ = ["EXTRAS", "SUMS", "TEST_SET", "ReleaseFolder", "check_folder", "claim", "folder_sizes", "listed_derivatives",
           "listed_jpgs", "own_extras", "owns", "record_extra", "set_folder_sizes", "strays", "walk_release",
           "write_checksums"]


def is_temp(name: str) -> bool:
    """A temp file left by an interrupted write: ours (``.x.<pid>.<hex>.cxrdb-tmp``) or any hidden ``.x.tmp``."""
    return atomic.is_temp_name(name) or (name.startswith(".") and name.endswith(".tmp"))


class ReleaseFolder:
    """What a release folder holds, read in one walk (:func:`fstree.list_tree`): every file's size and mtime,
    the temp files of interrupted writes. A build reads it once and keeps it current as it writes, so each JPG is
    stat'ed once per run, not once per stage; a JPG is judged by these figures (:func:`ondisk.check_jpgs`)."""

    def __init__(self, out: Path, entries: dict[str, tuple[int, int] | None]) -> None:
        self.out = out
        self._entries = entries
        self._temps = {r for r in entries if is_temp(r.rpartition("/")[2])}

    @classmethod
    def read(cls, out: Path) -> ReleaseFolder:
        """Walk ``out`` (an absent folder is empty)."""
        return cls(out, fstree.list_tree(out) if out.is_dir() else {})

    def stat(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of the file at ``rel``, None when there is none."""
        return self._entries.get(rel)

    def wrote(self, rel: str, size: int | None = None, mtime_ns: int | None = None) -> None:
        """Record a file this run wrote (size and mtime as stat'ed after the write), or removed (no figures)."""
        if size is None or mtime_ns is None:
            self._entries.pop(rel, None)
            self._temps.discard(rel)
        else:
            self._entries[rel] = (size, mtime_ns)

    def files(self) -> list[str]:
        """Every entry but SHA256SUMS.txt and temp files, sorted."""
        return sorted(r for r in self._entries if r not in self._temps and r != SUMS)

    def temps(self) -> list[str]:
        """Temp files of interrupted writes, sorted."""
        return sorted(self._temps)


def walk_release(out: Path) -> tuple[list[str], list[str]]:
    """(files, temp files) under ``out``, relative with forward slashes, sorted; SHA256SUMS.txt left out."""
    folder = ReleaseFolder.read(out)
    return folder.files(), folder.temps()


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


def folder_sizes(cat: Catalog, out: Path) -> tuple[int, ...]:
    """The sizes of smaller copies (``--size``) this catalog writes into ``out``, largest first."""
    recorded = cat.get_setting(f"derivative_sizes:{out}")
    return tuple(json.loads(recorded)) if recorded else ()


def set_folder_sizes(cat: Catalog, out: Path, sizes: Iterable[int]) -> None:
    """Record the sizes written into ``out`` (before any is written: a killed run's files are then ours)."""
    cat.set_setting(f"derivative_sizes:{out}", json.dumps(sorted(set(sizes), reverse=True)))


def own_derivatives(cat: Catalog, out: Path) -> set[str]:
    """Every smaller-copy path (``files_N/...``) and list (``IMAGE_FILENAMES_N``) this catalog writes or may have
    written into ``out``, for the sizes recorded for it, selected or not; paths as ``plan.derivative_paths`` names
    them."""
    sizes = list(folder_sizes(cat, out))
    if not sizes:
        return set()
    _, rows = cat.query("SELECT jpg_path FROM plan.derivative_paths(?)", [sizes])
    return {r[0] for r in rows} | {list_name(n) for n in sizes}


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


def strays(cat: Catalog, out: Path, folder: ReleaseFolder | None = None) -> tuple[list[str], list[str]]:
    """(files under ``out`` that neither this catalog's JPGs, its own README / licence / test-set files, nor the
    release's table files account for; temp files). ``folder``: the folder as this run has seen it."""
    folder = folder or ReleaseFolder.read(out)
    files = folder.files()
    if not files:
        return [], folder.temps()
    known = own_jpgs(cat) | own_derivatives(cat, out) | set(table_files()) | {SUMS} | set(own_extras(cat, out))
    return [f for f in files if f not in known and not is_release_file(f)], folder.temps()


def check_folder(cat: Catalog, out: Path, force: bool) -> tuple[list[str], ReleaseFolder]:
    """Refuse to write into a release folder that another catalog wrote, or that holds files this catalog did
    not write, unless ``force``; return those strays (never listed in SHA256SUMS.txt) and the folder as read.
    Temp files of killed runs of ours are swept. Build, convert and export all call it before writing."""
    folder = ReleaseFolder.read(out)
    for rel in folder.temps():
        if atomic.is_temp_name(Path(rel).name):
            (out / rel).unlink(missing_ok=True)
            folder.wrote(rel)
    files, temps = folder.files(), folder.temps()
    if files and not owns(cat, out) and not force:
        raise CxrdbError(f"{out} holds files of another build or other files ({files[0]}): use a new folder, the "
                         "catalog that built it (--db), or --force to write into it")
    found, _ = strays(cat, out, folder)
    found += temps
    if found and not force:
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        raise CxrdbError(f"{out} holds files this catalog did not write ({found[0]}{more}): remove them, or use "
                         "--force to write beside them (they are never listed)")
    return found, folder


def listed_jpgs(cat: Catalog, out: Path, folder: ReleaseFolder | None = None) -> OnDisk:
    """The JPGs the release views name under ``out``, sorted into intact (listed) and stale (not listed), judged
    by ``folder`` (the folder as this run has seen it; read now when not given)."""
    columns, rows = cat.query(
        f"SELECT f.dicom_id, f.jpg_path, j.jpg_bytes, j.jpg_sha256, j.jpg_mtime_ns FROM {IMAGE_LIST.view} "
        "AS f JOIN work.jpg AS j USING (dicom_id) WHERE f.out_root = ? ORDER BY f.jpg_path", [str(out)])
    folder = folder or ReleaseFolder.read(out)
    disk = check_jpgs(out, [dict(zip(columns, r, strict=True)) for r in rows], folder.stat)
    if disk.rehashed and not cat.read_only:
        with cat.transaction():
            cat.update_columns("work.jpg", disk.rehashed, on=("dicom_id",))
    return disk


def listed_derivatives(cat: Catalog, out: Path, folder: ReleaseFolder | None = None) -> dict[int, OnDisk]:
    """Per size, the smaller copies the release views name under ``out``, sorted into intact (listed) and stale
    (not listed), as :func:`listed_jpgs` does for the full-size JPGs; sizes largest first."""
    columns, rows = cat.query(
        "SELECT f.dicom_id, f.size, f.jpg_path, d.jpg_bytes, d.jpg_sha256, d.jpg_mtime_ns "
        "FROM release.derivative_filenames AS f JOIN work.derivative AS d USING (dicom_id, size) "
        "WHERE f.out_root = ? ORDER BY f.size DESC, f.jpg_path", [str(out)])
    folder = folder or ReleaseFolder.read(out)
    by_size: dict[int, list[dict]] = {}
    for r in rows:
        row = dict(zip(columns, r, strict=True))
        by_size.setdefault(row["size"], []).append(row)
    found = {n: check_jpgs(out, items, folder.stat, key=("dicom_id", "size")) for n, items in by_size.items()}
    rehashed = [r for disk in found.values() for r in disk.rehashed]
    if rehashed and not cat.read_only:
        with cat.transaction():
            cat.update_columns("work.derivative", rehashed, on=("dicom_id", "size"))
    return found


def write_checksums(out: Path, jpgs: OnDisk, files: Iterable[str], derived: Iterable[OnDisk] = ()) -> int:
    """Write SHA256SUMS.txt (``<sha256> <path>``, one space, as the published file) over the intact JPGs and
    smaller copies (``derived``; their recorded, just verified hashes) and ``files`` (hashed now), sorted by path;
    return the number of lines."""
    digests = {r["jpg_path"]: r["jpg_sha256"] for disk in (jpgs, *derived) for r in disk.current}
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
