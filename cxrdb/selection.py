"""Subset selection: which images (and so studies) a build, convert, label or export works on.

A selection is given as id files (``--subjects``, ``--studies``), inferred views (``--views``) and splits
(``--split``). It is stored whole in ``meta.selection`` by every command that takes one (a command without
selection options selects everything) and applied in SQL: ``stg.selected_images`` / ``stg.selected_studies`` feed
the plans (only selected images are converted, only their studies labeled) and the release views (only they are
exported). The whole source is still ingested and the split still assigned over the whole catalog, so a subset's
bytes and split equal the full build's for the same images.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .errors import CxrdbError
from .manifest import ReleaseFolder

SPLITS = ("train", "validate", "test")
#: how many ids the catalog lacks are named in messages and in the release README
MAX_LISTED_MISSING = 20
_ID = re.compile(r"^(?P<prefix>[ps]?)(?P<digits>\d+)(?:\.0+)?$", re.IGNORECASE)
_KIND_COLUMN = {"subject": "subject_id", "study": "study_id"}
_KIND_PREFIX = {"subject": "p", "study": "s"}


@dataclass(frozen=True)
class IdList:
    """The ids one selection file names, with where they came from (name and sha256 of the file)."""

    kind: str  # subject or study
    ids: frozenset[int]
    source: str
    sha256: str


@dataclass(frozen=True)
class Selection:
    """A subset: id lists, views and splits; every part None when not given (all of it)."""

    subjects: IdList | None = None
    studies: IdList | None = None
    views: tuple[str, ...] | None = None
    splits: tuple[str, ...] | None = None

    @property
    def empty(self) -> bool:
        """True when nothing restricts the selection (everything is selected)."""
        return self.subjects is None and self.studies is None and self.views is None and self.splits is None

    def describe(self) -> list[str]:
        """One line per part, for the summary and the release README (file names, never machine paths)."""
        lines = []
        for ids in (self.subjects, self.studies):
            if ids is not None:
                lines.append(f"{ids.kind} ids: {len(ids.ids)} from {ids.source} (sha256 {ids.sha256[:16]})")
        if self.views is not None:
            lines.append(f"views: {', '.join(self.views)}")
        if self.splits is not None:
            lines.append(f"splits: {', '.join(self.splits)}")
        return lines


@dataclass(frozen=True)
class Applied:
    """What a selection picked in the catalog: counts, and the listed ids the catalog does not hold."""

    selection: Selection
    images: int
    studies: int
    subjects: int
    missing: dict[str, list[int]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        if self.selection.empty:
            return {}
        values: dict[str, Any] = {"selection": "; ".join(self.selection.describe()),
                                  "selected": f"{self.images} images, {self.studies} studies, "
                                              f"{self.subjects} patients"}
        for kind, ids in self.missing.items():
            values[f"{kind} ids not in the catalog"] = _name_missing(kind, ids)
        return values


def _name_missing(kind: str, ids: list[int]) -> str:
    shown = ", ".join(f"{_KIND_PREFIX[kind]}{i}" for i in ids[:MAX_LISTED_MISSING])
    more = f" and {len(ids) - MAX_LISTED_MISSING} more" if len(ids) > MAX_LISTED_MISSING else ""
    return f"{len(ids)} ({shown}{more})"


def _read_text(path: Path) -> tuple[str, str]:
    """(text, sha256) of a selection file; gzip (a published .csv.gz) is read through."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise CxrdbError(f"selection file {path} is a folder, not a file") from None
    except OSError as exc:
        raise CxrdbError(f"cannot read selection file {path}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise CxrdbError(f"selection file {path} is a damaged gzip file: {exc}") from None
    try:
        return data.decode("utf-8-sig"), digest
    except UnicodeDecodeError:
        raise CxrdbError(f"selection file {path} is not UTF-8 text") from None


def _parse_id(value: str, kind: str) -> int | None:
    """An id as a selection file may spell it: 10000032, p10000032 (subject), s50414267 (study), 10000032.0."""
    m = _ID.match(value.strip())
    if m is None or (m["prefix"] and m["prefix"].lower() != _KIND_PREFIX[kind]):
        return None
    return int(m["digits"])


def read_ids(path: str | Path, kind: str) -> IdList:
    """Read a selection file: one id a line (a header line, blank lines and ``#`` comments allowed), or a CSV
    (comma or tab) with a ``subject_id`` / ``study_id`` column, e.g. a published split file filtered by a user.

    A line that is not an id refuses the file with its line number (nothing is guessed); an empty list too.
    """
    path = Path(path).expanduser()
    text, digest = _read_text(path)
    column = _KIND_COLUMN[kind]
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    lines = [(n, line) for n, line in lines if line and not line.startswith("#")]
    ids: set[int] = set()
    if lines and ("," in lines[0][1] or "\t" in lines[0][1]):
        delimiter = "\t" if "\t" in lines[0][1] and "," not in lines[0][1] else ","
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        rows = [(n, row) for n, row in enumerate(reader, 1) if row and any(c.strip() for c in row)]
        header = [c.strip().lower() for c in rows[0][1]]
        if column not in header:
            raise CxrdbError(f"selection file {path} has no {column} column (its header: {', '.join(header)})")
        at = header.index(column)
        for n, row in rows[1:]:
            value = row[at] if at < len(row) else ""
            parsed = _parse_id(value, kind)
            if parsed is None:
                raise CxrdbError(f"{path}:{n}: {value.strip()!r} is not a {kind} id")
            ids.add(parsed)
    else:
        for i, (n, line) in enumerate(lines):
            parsed = _parse_id(line, kind)
            if parsed is None:
                if i == 0 and not any(ch.isdigit() for ch in line):
                    continue  # a header line such as "subject_id"
                raise CxrdbError(f"{path}:{n}: {line!r} is not a {kind} id")
            ids.add(parsed)
    if not ids:
        raise CxrdbError(f"selection file {path} names no {kind} id")
    return IdList(kind, frozenset(ids), path.name, digest)


def parse_values(values: Iterable[str] | None, what: str,
                 allowed: Iterable[str] | None = None) -> tuple[str, ...] | None:
    """Comma-separated (and repeatable) option values, upper- or lower-cased as stored, deduplicated in order."""
    if not values:
        return None
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            part = part.lower() if what == "split" else part.upper()
            if allowed is not None and part not in allowed:
                raise CxrdbError(f"unknown {what} {part!r}: use {', '.join(allowed)}")
            if part not in out:
                out.append(part)
    if not out:
        raise CxrdbError(f"--{what}s names nothing" if what == "view" else f"--{what} names nothing")
    return tuple(out)


def selection_from_options(subjects: str | Path | None = None, studies: str | Path | None = None,
                           views: Iterable[str] | None = None, splits: Iterable[str] | None = None) -> Selection:
    """Read and check a selection given on the command line (before any work)."""
    return Selection(
        subjects=read_ids(subjects, "subject") if subjects is not None else None,
        studies=read_ids(studies, "study") if studies is not None else None,
        views=parse_values(views, "view"),
        splits=parse_values(splits, "split", SPLITS),
    )


def _rows(selection: Selection) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for ids in (selection.subjects, selection.studies):
        if ids is not None:
            rows += [{"kind": ids.kind, "id": i, "value": None} for i in sorted(ids.ids)]
    for kind, values in (("view", selection.views), ("split", selection.splits)):
        rows += [{"kind": kind, "id": None, "value": v} for v in values or ()]
    return rows


def _missing(cat: Catalog, kind: str) -> list[int]:
    """The ids of one kind the selection in force lists and the catalog holds no image or report of."""
    column = _KIND_COLUMN[kind]
    _, rows = cat.query(
        f"SELECT s.id FROM meta.selection AS s WHERE s.kind = ? AND s.id NOT IN "
        f"(SELECT {column} FROM stg.images UNION SELECT {column} FROM stg.reports) ORDER BY s.id", [kind])
    return [r[0] for r in rows]


def apply(cat: Catalog, selection: Selection) -> Applied:
    """Store ``selection`` as the catalog's selection in force and count what it picks.

    Refused (one line) when it picks nothing although the catalog holds images or reports, or when it selects by
    split before any split was assigned. Listed ids the catalog lacks are counted, not an error.
    """
    if selection.splits is not None and not cat.scalar("SELECT count(*) FROM work.split"):
        raise CxrdbError("--split selects by the split, which is not assigned yet: run `cxrdb split` first "
                         "(build assigns it before converting)")
    with cat.transaction():  # a refused selection leaves the one in force as it was
        cat.write_rows("meta.selection", _rows(selection), replace_all=True)
        cat.set_setting("selection", "\n".join(selection.describe()))
        applied = _count(cat, selection)
        has_any = cat.scalar("SELECT (SELECT count(*) FROM stg.images) + (SELECT count(*) FROM stg.reports)")
        if not selection.empty and has_any and not applied.images and not applied.studies:
            why = "; ".join(f"{k} ids not in the catalog: {_name_missing(k, v)}" for k, v in applied.missing.items())
            raise CxrdbError("the selection picks nothing in the catalog (" + "; ".join(selection.describe())
                             + (f"; {why}" if why else "") + ")")
    return applied


def _count(cat: Catalog, selection: Selection) -> Applied:
    images, subjects = cat.query("SELECT count(*), count(DISTINCT subject_id) FROM stg.selected_images")[1][0]
    studies = cat.scalar("SELECT count(*) FROM (SELECT study_id FROM stg.selected_images "
                         "UNION SELECT study_id FROM stg.selected_studies)")
    if not images:  # a reports-only catalog: its subjects are the selected reports'
        subjects = cat.scalar("SELECT count(DISTINCT subject_id) FROM stg.selected_studies")
    missing = {ids.kind: _missing(cat, ids.kind) for ids in (selection.subjects, selection.studies) if ids is not None}
    return Applied(selection, images, studies, subjects, {k: v for k, v in missing.items() if v})


def in_force(cat: Catalog) -> list[str]:
    """The selection the catalog holds, as :meth:`Selection.describe` wrote it (empty: everything)."""
    text = cat.get_setting("selection")
    return text.split("\n") if text else []


def remove_outside(cat: Catalog, out: Path, folder: ReleaseFolder) -> int:
    """Remove from ``out`` the JPGs and smaller copies an earlier, wider run wrote there that the selection in
    force leaves out (their folders too, once empty), so the release folder holds exactly what it lists; their
    catalog rows stay, and a wider selection later converts them again. Returns the files removed."""
    _, rows = cat.query(
        "SELECT jpg_path FROM work.jpg WHERE out_root = ? AND jpg_path IS NOT NULL "
        "AND dicom_id NOT IN (SELECT s.dicom_id FROM stg.selected_images AS s) "
        "UNION ALL SELECT jpg_path FROM work.derivative WHERE out_root = ? AND jpg_path IS NOT NULL "
        "AND dicom_id NOT IN (SELECT s.dicom_id FROM stg.selected_images AS s)", [str(out), str(out)])
    removed = 0
    for (rel,) in rows:
        if folder.stat(rel) is None:
            continue
        (out / rel).unlink(missing_ok=True)
        folder.wrote(rel)
        removed += 1
        parent = (out / rel).parent
        while parent != out:
            try:
                parent.rmdir()  # only an empty folder goes
            except OSError:
                break
            parent = parent.parent
    return removed

def readme_lines(cat: Catalog) -> list[str]:
    """The release README's "Selection" section: what the selection in force is and picks (none: no lines)."""
    described = in_force(cat)
    if not described:
        return []
    counts = "SELECT count(*), count(DISTINCT study_id), count(DISTINCT subject_id) FROM "
    picked = cat.query(counts + "stg.selected_images")[1][0]
    released = cat.query(counts + "stg.release_images")[1][0]
    lines = ["", "Selection", "---------", "A subset: the whole source was ingested and split; the images selected "
             "were converted, labeled and exported.", *described,
             "selected: {} images, {} studies, {} patients".format(*picked),
             "in the release: {} images, {} studies, {} patients".format(*released)]
    for kind in ("subject", "study"):
        missing = _missing(cat, kind)
        if missing:
            lines.append(f"{kind} ids not in the catalog: {_name_missing(kind, missing)}")
    return lines
