"""Walk a MIMIC-CXR-style source: files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm and .../sNNNNNNNN.txt.

subject_id, study_id and dicom_id come from the path. Anything named like a source file that cannot become
an image or report row is reported as a problem (not silently dropped): a path outside the layout, an id that
is not a safe file-name token, a duplicate, a dangling symlink, a FIFO/socket/device, a folder named
``<id>.dcm``. Files that are neither .dcm nor .txt are ignored. A dicom_id that is a safe token but not MIMIC's
own form (``MIMIC_DICOM_ID``) is kept, with a warning. Symlinks to real files and folders are followed.

Reports may also come from an archive (:func:`scan_archive`: a zip or tar holding ``files/...``, or one folder
holding it), listed from the archive's directory or headers; its members get the same checks.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from . import fstree
from .archive import SUFFIXES as ARCHIVE_SUFFIXES
from .archive import Archive, looks_like_archive, open_archive
from .errors import CxrdbError

_NAME = attrgetter("name")  # the sort key of a folder's entries
_GROUP = re.compile(r"p[0-9][0-9]")
_PATIENT = re.compile(r"p([0-9]+)")
_STUDY = re.compile(r"s([0-9]+)")


class SourceFile(NamedTuple):
    """One file of the source, with the ids its path gives (a named tuple: a source holds 600k, each made in a
    quarter of the time of a frozen dataclass)."""

    rel_path: str  # relative to the root holding files/, with forward slashes
    subject_id: int
    study_id: int
    dicom_id: str | None  # None for reports
    size: int
    mtime_ns: int | None  # None for a zip member
    crc32: int | None = None  # a zip member's CRC-32 (with size, its identity); None for files and tar members
    member: int | None = None  # an archive member's index in its archive; None for files


@dataclass
class SourceListing:
    """Everything found under a source root."""

    images: list[SourceFile]
    reports: list[SourceFile]
    problems: list[tuple[str, str]]  # (rel_path, one-line reason): files that became no row
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (rel_path, one-line warning): rows kept
    complete: bool = True  # False when an archive's listing stopped early (it is damaged): nothing may be pruned


def resolve_root(path: str | Path) -> Path:
    """Accept either the folder holding ``files/`` or the ``files`` folder itself."""
    root = Path(path).expanduser().resolve()
    if looks_like_archive(root):
        raise CxrdbError(f"source {path} is an archive: DICOMs are read from a folder only (unpack it; --reports "
                         "may be a .zip or .tar.gz)")
    if not root.is_dir():
        raise CxrdbError(f"source {path} is not a folder")
    if (root / "files").is_dir():
        return root
    if root.name == "files":
        return root.parent
    raise CxrdbError(f"source {path} has no files/ folder (expected files/pNN/pNNNNNNNN/sNNNNNNNN/...)")


_LAYOUT = "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/..."
_LAYOUT_FOLDER = re.compile(r"[ps][0-9]+")
#: MIMIC's own dicom_id: five groups of 8 lower-case hex digits joined by '-'
MIMIC_DICOM_ID = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{8}){4}")
#: any other dicom_id must be a safe file-name token: ASCII letters, digits, '.', '_' and '-', first a letter,
#: digit or '_' (no hidden '._x' files, no leading '-'), at most 128 characters. Such ids are kept with a
#: warning; anything else (spaces, commas, quotes, non-ASCII...) is a source problem and gets no image row.
SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
MAX_ID_DIGITS = 18  # subject and study ids are BIGINT
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _printable(rel: str) -> str:
    """A path as storable, one-line text: undecodable bytes and control characters backslash-escaped."""
    if rel.isprintable():
        return rel
    text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _kind(name: str) -> str | None:
    """'dcm' or 'txt' for the names the layout holds (any case), else None."""
    lower = name.lower()
    return "dcm" if lower.endswith(".dcm") else "txt" if lower.endswith(".txt") else None


_FILE, _PROBLEM, _FOLDER = 0, 1, 2  # what one entry of a listed folder is (the first field of its tuple)
#: one folder as listed: its entries in name order, each (_FILE, name, size, mtime_ns), (_PROBLEM, name, reason) or
#: (_FOLDER, name, (st_dev, st_ino)); or the reason it cannot be listed
Listed = "list[tuple[Any, ...]] | str"


def _list_folder(path: str, kinds: set[str]) -> tuple[Listed, list[tuple[tuple[int, int], str]]]:
    """One folder of the source (from a listing process or thread): its entries as :func:`_walk` needs them, and its
    subfolders to list. Never opens a file; what it says of an entry does not depend on the path that reached it."""
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=_NAME)
    except OSError as exc:
        return f"cannot list folder: {exc.strerror or exc}", []
    items: list[tuple[Any, ...]] = []
    subs: list[tuple[tuple[int, int], str]] = []
    for entry in entries:
        name = entry.name
        kind = _kind(name)
        wanted = kind in kinds
        try:
            st = entry.stat()  # follows symlinks; stat never opens (a FIFO would block)
        except OSError as exc:
            if wanted or (entry.is_symlink() and _LAYOUT_FOLDER.fullmatch(name)):
                if isinstance(exc, FileNotFoundError) and entry.is_symlink():
                    target = _printable(os.readlink(entry.path))
                    reason = f"dangling symlink: its target {target} does not exist"
                else:
                    reason = f"cannot stat: {exc.strerror or exc}"
                items.append((_PROBLEM, name, reason))
            continue
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            if kind is not None:
                if wanted:
                    items.append((_PROBLEM, name, f"a folder, not a .{kind} file"))
                continue
            key = (st.st_dev, st.st_ino)
            items.append((_FOLDER, name, key))
            subs.append((key, entry.path))
        elif wanted and stat.S_ISREG(mode):
            items.append((_FILE, name, st.st_size, st.st_mtime_ns))
        elif wanted:
            what = next((label for test, label in _KINDS if test(mode)), "not a regular file")
            items.append((_PROBLEM, name, f"{what}, not a regular file"))
    return items, subs


def _walk(root: Path, problems: list[tuple[str, str]], kinds: set[str], *,
          threads: int = fstree.THREADS) -> Iterator[tuple[str, int, int]]:
    """Yield (relative path, size, mtime_ns) for every regular .dcm/.txt file under root/files, in name order.

    Never opens a file. Entries named like source files (or like layout folders) that cannot be one are
    appended to ``problems``: dangling symlinks, FIFOs, sockets, devices, folders named ``x.dcm``, folders
    that cannot be listed, and symlinked folders already walked (loops). ``threads``: every folder is first listed
    from that many threads (:func:`fstree.list_folders`, one request per entry), then the walk is assembled from
    those listings in name order; 0 lists each folder when the walk reaches it (a walk stopped early lists little).
    """
    top = root / "files"
    st_top = top.stat()
    top_key = (st_top.st_dev, st_top.st_ino)
    listed = fstree.list_folders(top, partial(_list_folder, kinds=kinds), threads=threads) if threads else None
    visited = {top_key: "files"}  # folders walked: a symlinked loop is walked once, in name order
    stack = [("files", top_key, str(top))]
    while stack:
        rel, key, path = stack.pop()
        items = listed.pop(key) if listed is not None else _list_folder(path, kinds)[0]
        if isinstance(items, str):
            problems.append((_printable(rel), items))
            continue
        dirs = []
        for item in items:
            child = f"{rel}/{item[1]}"
            tag = item[0]
            if tag == _FILE:
                yield child, item[2], item[3]
            elif tag == _PROBLEM:
                problems.append((_printable(child), item[2]))
            elif item[2] in visited:
                problems.append((_printable(child), f"symlinked folder repeats {_printable(visited[item[2]])}"))
            else:
                visited[item[2]] = child
                dirs.append((child, item[2], f"{path}/{item[1]}"))
        stack.extend(reversed(dirs))


def _dicom_id_check(dicom_id: str) -> tuple[str | None, str | None]:
    """(problem, warning) for a dicom_id taken from a file name; both None for MIMIC's own form."""
    if MIMIC_DICOM_ID.fullmatch(dicom_id):
        return None, None
    if SAFE_ID.fullmatch(dicom_id):
        return None, f"dicom_id {dicom_id!r} is not MIMIC's form (five groups of 8 lower-case hex digits)"
    shown = _printable(dicom_id)
    if len(shown) > 80:
        shown = shown[:80] + "..."
    return (f"dicom_id {shown!r} is not a safe file-name token (ASCII letters, digits, '.', '_', '-'; "
            "first a letter, digit or '_'; at most 128 characters)"), None


@functools.lru_cache(maxsize=4096)
def _folder_id(label: str, pattern: re.Pattern[str], name: str) -> int | str:
    """The id in a layout folder's name (``p10000032`` -> 10000032), or why it is not one (cached: every file of
    a study folder asks again)."""
    m = pattern.fullmatch(name)
    if not m:
        return _LAYOUT
    digits = m.group(1)
    if len(digits) > MAX_ID_DIGITS:
        return f"{label} id has {len(digits)} digits (at most {MAX_ID_DIGITS})"
    return int(digits)


def _ids(rel_path: str) -> tuple[int, int, str | None] | str:
    """Parse ids from a relative path, or return the reason it does not fit the layout."""
    parts = rel_path.split("/")
    name = parts[-1]
    is_report = name.endswith(".txt")
    if len(parts) != (4 if is_report else 5):
        return _LAYOUT
    group, patient = parts[1], parts[2]
    if not (_GROUP.fullmatch(group) and patient.startswith(group)):
        return _LAYOUT
    subject = _folder_id("subject", _PATIENT, patient)
    study = _folder_id("study", _STUDY, name[:-4] if is_report else parts[3])
    if subject == _LAYOUT or study == _LAYOUT:
        return _LAYOUT
    for problem in (subject, study):
        if isinstance(problem, str):
            return problem
    dicom_id = None if is_report else name[: -len(".dcm")]
    if dicom_id is not None and not dicom_id:
        return "empty dicom_id in file name"
    return subject, study, dicom_id  # type: ignore[return-value]


def scan(root: Path, *, images: bool = True, reports: bool = True) -> SourceListing:
    """List the images and/or reports under a resolved root, with size and mtime (no file is opened)."""
    listing = SourceListing([], [], [], [])
    seen_dicom: dict[str, str] = {}
    seen_study: dict[int, str] = {}
    kinds = {k for k, on in (("dcm", images), ("txt", reports)) if on}
    last_head, last_ids = None, None  # the last image folder and its ids
    for rel, size, mtime_ns in _walk(root, listing.problems, kinds):
        ext = rel[-4:]
        if ext not in (".dcm", ".txt"):
            listing.problems.append((_printable(rel), f"extension must be lower-case {ext.lower()}"))
            continue
        if ext == ".dcm":  # the ids of an image are its folder's (parsed once per folder) and its name
            head, _, name = rel.rpartition("/")
            if head != last_head:
                last_head, last_ids = head, _ids(f"{head}/x.dcm")
            rel_ids = last_ids if isinstance(last_ids, str) or name != ".dcm" else "empty dicom_id in file name"
        else:
            rel_ids = _ids(rel)
        if isinstance(rel_ids, str):
            listing.problems.append((_printable(rel), rel_ids))
            continue
        subject_id, study_id, dicom_id = rel_ids
        if ext == ".dcm":
            dicom_id = name[:-4]
        item = SourceFile(rel, subject_id, study_id, dicom_id, size, mtime_ns)
        if dicom_id is not None:
            problem, warning = _dicom_id_check(dicom_id)
            if problem is not None:
                listing.problems.append((_printable(rel), problem))
                continue
            if dicom_id in seen_dicom:
                listing.problems.append((rel, f"duplicate dicom_id {dicom_id} (also {seen_dicom[dicom_id]})"))
                continue
            if warning is not None:
                listing.warnings.append((rel, warning))
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
    for _ in _walk(root, [], {"dcm", "txt"}, threads=0):
        return root
    raise CxrdbError(f"source {path} has no .dcm or .txt files under files/: nothing to build")


def reports_source(path: str | Path) -> Path | Archive:
    """``--reports``: a folder (resolved as :func:`resolve_root` does) or an opened archive; refuses anything else
    in one line."""
    p = Path(path).expanduser()
    if p.is_dir():
        if p.name.lower().endswith(ARCHIVE_SUFFIXES) and not (p / "files").is_dir() and p.name != "files":
            raise CxrdbError(f"--reports {path} is a folder named like an archive, and has no files/ folder")
        return resolve_root(p)
    if not p.exists():
        raise CxrdbError(f"--reports {path} does not exist")
    if not p.is_file():
        raise CxrdbError(f"--reports {path} is neither a folder nor an archive file")
    return open_archive(p.resolve())


def _member_name(name: str) -> str:
    """A member name as a path: leading './' and trailing '/' dropped."""
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _prefix(names: list[str]) -> str:
    """The folder the archive keeps files/ in: '' (files/ at the top) or one folder ('mimic-cxr-reports/'),
    whichever holds the most .txt members; '' when none does."""
    counts: dict[str, int] = {}
    for name in names:
        parts = name.split("/", 2)
        if parts[0] == "files":
            counts[""] = counts.get("", 0) + 1
        elif len(parts) > 2 and parts[1] == "files":
            counts[parts[0] + "/"] = counts.get(parts[0] + "/", 0) + 1
    return min(counts, key=lambda k: (-counts[k], k)) if counts else ""


_MACOS_FORKS = "__MACOSX/"  # what macOS's Archive Utility adds to a zip it makes: file metadata, not files


def scan_archive(archive: Archive) -> SourceListing:
    """List the reports of an archive (no member is read). Members are checked as files are in a folder: a
    .txt member outside ``[folder/]files/pNN/pNNNNNNNN/sNNNNNNNN.txt``, not a regular file, a repeated name or
    study is a problem (the first in name order is kept, as in a folder); members beside files/ and other kinds of
    files are ignored."""
    listing = SourceListing([], [], [], [])
    members, problem = archive.members()
    if problem is not None:
        listing.problems.append((archive.path.name, problem))
        listing.complete = False
    # in the order a folder walk would meet them (so the same study twice keeps the same copy as unpacked);
    # the same name twice keeps archive order
    txt = sorted(((m, _member_name(m.name)) for m in members if _kind(_member_name(m.name)) == "txt"
                  and not m.name.startswith(_MACOS_FORKS)), key=lambda mn: mn[1].split("/"))
    prefix = _prefix([n for m, n in txt if m.kind == "file"])
    where = f"{prefix}files/"
    seen_name: dict[str, str] = {}
    seen_study: dict[int, str] = {}
    for m, name in txt:
        shown = _printable(m.name)
        if not name.startswith(where):
            beside = "/" not in name or (prefix and name.startswith(prefix) and "/" not in name[len(prefix):])
            if not beside:  # a file beside files/ is ignored, as in a folder
                listing.problems.append((shown, f"member outside {where} (expected {where}pNN/pNNNNNNNN/"
                                                "sNNNNNNNN.txt)"))
            continue
        if m.kind != "file":
            what = "a folder, not a .txt file" if m.kind == "folder" else f"{m.kind}, not a regular file"
            listing.problems.append((shown, what))
            continue
        rel = name[len(prefix):]
        if not rel.endswith(".txt"):
            listing.problems.append((shown, "extension must be lower-case .txt"))
            continue
        rel_ids = _ids(rel)
        if isinstance(rel_ids, str):
            listing.problems.append((shown, rel_ids))
            continue
        subject_id, study_id, _ = rel_ids
        if rel in seen_name:
            listing.problems.append((shown, "duplicate member: the archive holds this name more than once (the "
                                            "first is read)"))
            continue
        if study_id in seen_study:
            listing.problems.append((shown, f"duplicate study_id {study_id} (also {seen_study[study_id]})"))
            continue
        seen_name[rel] = seen_study[study_id] = shown
        listing.reports.append(SourceFile(rel, subject_id, study_id, None, m.size, m.mtime_ns, m.crc32, m.index))
    return listing
