"""Which files two release folders share, and which of those hold the same bytes.

A file both SHA256SUMS.txt list with the same digest counts as identical without being read, but only when it
can be trusted: the same size on both sides, and neither copy modified after its folder's SHA256SUMS.txt was
written (an edit made after the checksums would otherwise go unseen). Every other file present on both sides is
hashed (in worker processes), so a stale or tampered SHA256SUMS.txt never decides a difference. ``rehash``
hashes everything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import fstree
from ..contract import IMAGE_FILENAMES, SUMS
from ..convert.ondisk import sha256_file
from ..errors import CxrdbError
from ..executor import run_map
from ..progress import Progress, no_progress

HASH_TASK_BYTES = 32 << 20  # about this many bytes per hashing task: few tasks for big JPGs, many files for tiny ones
HASH_BATCH_MAX = 512


@dataclass(frozen=True, slots=True)
class Side:
    """One release folder as listed: every file's (size, mtime_ns) and its SHA256SUMS.txt, if any."""

    root: Path
    entries: dict[str, tuple[int, int] | None]
    sums: dict[str, str]
    sums_mtime_ns: int | None

    def trusted_digest(self, rel: str) -> str | None:
        """The digest SHA256SUMS.txt lists for ``rel`` when the file was not modified after it was written."""
        digest, stat = self.sums.get(rel), self.entries.get(rel)
        if digest is None or stat is None or self.sums_mtime_ns is None or stat[1] > self.sums_mtime_ns:
            return None
        return digest


@dataclass(slots=True)
class FileDiff:
    """Files in one folder only, files whose bytes differ, and how identity was decided."""

    only_ours: list[str] = field(default_factory=list)
    only_theirs: list[str] = field(default_factory=list)
    differ: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    unreadable: list[dict[str, str]] = field(default_factory=list)
    hashed: int = 0
    by_checksums: int = 0


def read_sums(path: Path) -> dict[str, str]:
    """``<sha256> <path>`` lines (one or two spaces, sha256sum's ``*`` binary marker, a ``./`` prefix allowed;
    a name with a newline or backslash escaped as sha256sum does, the line starting with ``\\``) -> {path:
    digest}; lines that are not such a line are ignored (they decide nothing: those files are hashed)."""
    sums: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return sums
    for line in text.split("\n"):
        escaped = line.startswith("\\")
        digest, sep, rel = line.removeprefix("\\").partition(" ")
        rel = rel.lstrip(" *").rstrip("\r")
        if escaped:
            rel = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], rel)
        rel = rel.removeprefix("./")
        if sep and rel and len(digest) == 64 and all(c in "0123456789abcdefABCDEF" for c in digest):
            sums[rel] = digest.lower()
    return sums


def list_side(root: Path) -> Side:
    """Walk one release folder (every file, relative with forward slashes) and read its SHA256SUMS.txt."""
    if not root.is_dir():
        raise CxrdbError(f"{root} is not a folder")
    entries = _follow_folder_links(root, fstree.list_tree(root))
    sums_stat = entries.get(SUMS)
    sums = read_sums(root / SUMS) if sums_stat else {}
    return Side(root, entries, sums, sums_stat[1] if sums_stat else None)


def _follow_folder_links(root: Path, entries: dict[str, tuple[int, int] | None]) -> dict[str, tuple[int, int] | None]:
    """``entries`` with each symlinked folder (``files -> /shared/files``) replaced by the files under it; a link
    back into a folder already walked (a loop) stays an entry."""
    seen = {root.resolve()}
    todo = [rel for rel, stat in entries.items() if stat is None and (root / rel).is_dir()]
    if not todo:
        return entries  # list_tree's order already
    while todo:
        rel = todo.pop()
        target = (root / rel).resolve()
        if target in seen or any(p in seen for p in target.parents) or target in root.resolve().parents:
            continue
        seen.add(target)
        del entries[rel]
        for sub, stat in fstree.list_tree(target).items():
            entries[f"{rel}/{sub}"] = stat
            if stat is None and (target / sub).is_dir():
                todo.append(f"{rel}/{sub}")
    return dict(sorted(entries.items()))


def _hash(item: tuple[str, str, str]) -> tuple[str, str, str | None, str | None]:
    """(rel, side, digest, error) of one file; never raises."""
    rel, side, path = item
    try:
        return rel, side, sha256_file(path), None
    except OSError as exc:
        return rel, side, None, exc.strerror or type(exc).__name__


def compare_files(ours: Side, theirs: Side, *, rehash: bool = False, workers: int | None = None,
                  progress: Progress = no_progress) -> FileDiff:
    """Compare the two listings: present in one only, identical bytes, differing bytes."""
    result = FileDiff()
    result.only_ours = sorted(set(ours.entries) - set(theirs.entries))
    result.only_theirs = sorted(set(theirs.entries) - set(ours.entries))
    to_hash: list[str] = []
    for rel in sorted(set(ours.entries) & set(theirs.entries)):
        a, b = ours.entries[rel], theirs.entries[rel]
        if a is None or b is None:  # a dangling link or a folder link: nothing to compare
            which = "ours" if a is None else "theirs"
            result.unreadable.append({"path": rel, "side": which, "error": "not a readable file"})
            continue
        if a[0] != b[0]:
            result.differ.append(rel)
            continue
        da, db = (None, None) if rehash else (ours.trusted_digest(rel), theirs.trusted_digest(rel))
        if da is not None and da == db:
            result.same.append(rel)
            result.by_checksums += 1
        else:
            to_hash.append(rel)
    digests: dict[tuple[str, str], str] = {}
    items = [(rel, side, str(root / rel)) for rel in to_hash
             for side, root in (("ours", ours.root), ("theirs", theirs.root))]
    progress("hash", 0, len(items))
    size = sum(ours.entries[rel][0] for rel in to_hash) / max(1, len(to_hash))  # type: ignore[index]
    batch = max(1, min(HASH_BATCH_MAX, int(HASH_TASK_BYTES // max(size, 1))))
    for rel, side, digest, error in run_map(_hash, items, workers=workers, batch_size=batch,
                                            on_lost=lambda item, why: (item[0], item[1], None, why)):
        progress("hash", 1, len(items))
        if digest is None:
            result.unreadable.append({"path": rel, "side": side, "error": error or "unreadable"})
        else:
            digests[rel, side] = digest
    unreadable = {u["path"] for u in result.unreadable}
    for rel in to_hash:
        if rel in unreadable:
            continue
        (result.same if digests[rel, "ours"] == digests[rel, "theirs"] else result.differ).append(rel)
    result.hashed = len(to_hash) - len(unreadable & set(to_hash))
    result.differ.sort()
    result.same.sort()
    result.unreadable.sort(key=lambda u: (u["path"], u["side"]))
    return result


def image_lists(sides: tuple[Side, Side]) -> list[str]:
    """The image lists (IMAGE_FILENAMES, IMAGE_FILENAMES_N of the smaller copies) either folder holds."""
    names = {rel for side in sides for rel in side.entries if "/" not in rel and rel.startswith(IMAGE_FILENAMES)}
    return sorted(names)


def _lines(path: Path) -> tuple[list[str] | None, str | None]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines(), None
    except FileNotFoundError:
        return None, "missing"
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__


def compare_lines(ours: Path, theirs: Path, examples: int = 5) -> dict[str, Any]:
    """Two one-path-a-line lists (IMAGE_FILENAMES): the lines only in one, repeated lines, order."""
    (a, err_a), (b, err_b) = _lines(ours), _lines(theirs)
    part: dict[str, Any] = {"lines_ours": len(a or []), "lines_theirs": len(b or [])}
    if err_a or err_b:
        part |= {k: v for k, v in (("error_ours", err_a), ("error_theirs", err_b)) if v}
    sa, sb = set(a or []), set(b or [])
    only_a, only_b = sorted(sa - sb), sorted(sb - sa)
    part |= {"only_ours": len(only_a), "only_theirs": len(only_b),
             "examples_only_ours": only_a[:examples], "examples_only_theirs": only_b[:examples],
             "repeated_ours": len(a or []) - len(sa), "repeated_theirs": len(b or []) - len(sb),
             "same_order": a == b if not (only_a or only_b) else None}
    return part
