"""Checks made before any work: every argument and every place a command will write, so that a bad argument is
refused in one line at once (not after an hour of conversion) and a refused command leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import CxrdbError


def readable_file(path: str | Path | None, what: str) -> None:
    """Refuse a ``--option FILE`` that is not a readable file."""
    if path is None:
        return
    p = Path(path).expanduser()
    if not p.is_file():
        raise CxrdbError(f"{what} {path} is not a file")
    if not os.access(p, os.R_OK):
        raise CxrdbError(f"{what} {path} is not readable")


def writable_target(path: str | Path, what: str) -> None:
    """Refuse a file or folder that cannot be created or written: its nearest existing ancestor must be a
    writable folder (and the path itself, when it exists, writable)."""
    p = Path(path).expanduser().absolute()
    if p.exists():
        if not os.access(p, os.W_OK):
            raise CxrdbError(f"{what} {path} is not writable")
        return
    ancestor = p.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CxrdbError(f"{what} {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CxrdbError(f"{what} {path} cannot be created: {ancestor} is not writable")


def report_folder(out: str | Path | None, releases: tuple[str | Path, ...], what: str = "--out") -> None:
    """Refuse a report folder that is a file, cannot be written, or lies inside one of the ``releases`` it
    compares (the report would then be a difference of its own next run)."""
    if out is None:
        return
    p = Path(out).expanduser()
    if p.exists() and not p.is_dir():
        raise CxrdbError(f"{what} {out} is not a folder")
    writable_target(p, what)
    resolved = p.resolve()
    for release in releases:
        root = Path(release).expanduser().resolve()
        if resolved == root or root in resolved.parents:
            raise CxrdbError(f"{what} {out} is inside the release {release}: write the report elsewhere")


def ingest_inputs(source: str | Path, reports: str | Path | None, overrides: str | Path | None,
                  images: bool = True) -> Path:
    """Check what ingest reads before any catalog exists: a source with something in it, the --reports folder
    or archive, and a well-formed --overrides file. Returns the resolved source root. ``images=False`` (a
    reports-only ingest): ``reports`` is the one root, a folder that must hold reports or an archive."""
    from .ingest.overrides import load_overrides
    from .source import check_source, reports_source

    if images:
        root = check_source(source)
        if reports is not None:
            reports_source(reports)  # a folder holding files/, or an archive that opens
    else:  # the reports root is the one root
        one = reports if reports is not None else source
        found = reports_source(one)
        root = check_source(one) if isinstance(found, Path) else Path(one).expanduser().resolve()
    if overrides is not None:
        readable_file(overrides, "--overrides file")
        load_overrides(overrides)
    return root
