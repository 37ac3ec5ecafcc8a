"""Ingest a source into the catalog: scan, read new or changed files in parallel, write rows in batches."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from .. import fstree
from ..archive import Archive
from ..catalog import Catalog
from ..errors import CxrdbError
from ..executor import run_map
from ..progress import Progress, StageResult, no_progress
from ..sections import Override, choose_text, section_text
from ..source import SourceFile, reports_source, resolve_root, scan, scan_archive
from .headers import lost_header, read_header
from .overrides import load_overrides
from .reports import lost_report, read_report, report_row

BATCH_ROWS = 2000  # rows per catalog transaction
HEADER_TASK = 64  # headers per worker task
REPORT_TASK = 256  # reports per worker task (cheaper than headers)
READ_AHEAD = 1024  # files the kernel is asked to fetch ahead of those handed to the workers
HEADER_BYTES = 1 << 16  # of each DICOM: the header (MIMIC's are a few KB), not the 12 MB of pixels


@dataclass(frozen=True)
class IngestResult(StageResult):
    """What an ingest run did: files found, failed, source problems and warnings; ``extra`` has the details
    (read / new / updated / unchanged per kind, and missing or pruned files)."""

    images: int
    reports: int
    images_failed: int
    reports_failed: int
    other_problems: int
    source_warnings: int
    seconds: float
    extra: dict[str, int] = field(default_factory=dict)


def _read_header_item(item: tuple[str, str]) -> tuple[str, dict[str, Any]]:
    rel, abs_path = item
    return rel, read_header(abs_path)


def _read_report_item(item: tuple[str, str, Override | None]) -> tuple[str, dict[str, Any]]:
    rel, abs_path, override = item
    return rel, read_report((abs_path, override))


def _report_bytes_item(item: tuple[str, bytes | str, Override | None]) -> tuple[str, dict[str, Any]]:
    rel, data, override = item
    return rel, report_row(data, override)


Identity = tuple[int, "int | None", "int | None"]  # (size, mtime_ns, crc32): a file's, a tar's or a zip's member


def _known(cat: Catalog, table: str) -> dict[str, Identity]:
    """path -> identity of the files a raw table already holds."""
    crc = "file_crc32" if table == "raw.reports" else "NULL"
    _, rows = cat.query(  # a read whose worker died, or that could not get the bytes, is retried
        f"SELECT path, file_size, file_mtime_ns, {crc} FROM {table} WHERE coalesce(error, '') NOT LIKE 'worker died%' "
        "AND coalesce(error, '') NOT LIKE 'cannot read%'")
    return {p: (s, m, c) for p, s, m, c in rows}


def _changed(files: list[SourceFile], known: dict[str, Identity]) -> tuple[list[SourceFile], int]:
    todo = [f for f in files if known.get(f.rel_path) != (f.size, f.mtime_ns, f.crc32)]
    return todo, len(files) - len(todo)


def _flush(cat: Catalog, table: str, rows: list[dict[str, Any]], key: str) -> None:
    with cat.transaction():
        cat.write_rows(table, rows, replace_on=(key,))
    rows.clear()


def _ingest_images(cat: Catalog, root: Path, files: list[SourceFile], workers: int | None,
                   progress: Progress) -> dict[str, int]:
    known = _known(cat, "raw.images")
    todo, unchanged = _changed(files, known)
    by_rel = {f.rel_path: f for f in todo}
    progress("headers", 0, len(todo))
    rows: list[dict[str, Any]] = []
    failed = 0
    items = [(f.rel_path, str(root / f.rel_path)) for f in todo]
    ahead = fstree.read_ahead(items, itemgetter(1), lead=READ_AHEAD, head=HEADER_BYTES)
    for rel, row in run_map(_read_header_item, ahead, workers=workers, batch_size=HEADER_TASK,
                            on_lost=lambda item, why: (item[0], lost_header(why))):
        f = by_rel[rel]
        row.update(dicom_id=f.dicom_id, subject_id=f.subject_id, study_id=f.study_id, path=rel,
                   file_size=f.size, file_mtime_ns=f.mtime_ns)
        failed += row["error"] is not None
        rows.append(row)
        if len(rows) >= BATCH_ROWS:
            _flush(cat, "raw.images", rows, "dicom_id")
        progress("headers", 1, len(todo))
    _flush(cat, "raw.images", rows, "dicom_id")
    new = sum(1 for f in todo if f.rel_path not in known)
    return {"images": len(files), "images_read": len(todo), "images_new": new,
            "images_updated": len(todo) - new, "images_unchanged": unchanged, "images_failed": failed}


def _archive_items(archive: Archive, todo: list[SourceFile],
                   overrides: dict[int, Override]) -> Iterator[tuple[str, bytes | str, Override | None]]:
    """The members to read, each with its bytes (or its one-line error), read here in archive order."""
    by_member = {f.member: f for f in todo}
    for index, data in archive.read(by_member):
        f = by_member[index]
        yield f.rel_path, data, overrides.get(f.study_id)


def _ingest_reports(cat: Catalog, root: Path | Archive, files: list[SourceFile], overrides: dict[int, Override],
                    workers: int | None, progress: Progress) -> dict[str, int]:
    known = _known(cat, "raw.reports")
    todo, unchanged = _changed(files, known)
    by_rel = {f.rel_path: f for f in todo}
    progress("reports", 0, len(todo))
    rows: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    failed = 0
    if isinstance(root, Path):
        items = [(f.rel_path, str(root / f.rel_path), overrides.get(f.study_id)) for f in todo]
        results = run_map(_read_report_item, fstree.read_ahead(items, itemgetter(1), lead=READ_AHEAD),
                          workers=workers, batch_size=REPORT_TASK,
                          on_lost=lambda item, why: (item[0], lost_report(why)))
    else:  # the parent reads the members (a tar only front to back); the workers decode and section them
        results = run_map(_report_bytes_item, _archive_items(root, todo, overrides), workers=workers,
                          batch_size=REPORT_TASK, on_lost=lambda item, why: (item[0], lost_report(why)))
    for rel, row in results:
        f = by_rel[rel]
        row.update(study_id=f.study_id, subject_id=f.subject_id, path=rel, file_size=f.size,
                   file_mtime_ns=f.mtime_ns, file_crc32=f.crc32)
        failed += row["error"] is not None
        sections.extend({"study_id": f.study_id, "idx": i, "name": n, "start": s, "text": t}
                        for i, (n, s, t) in enumerate(row.pop("sections")))
        rows.append(row)
        if len(rows) >= BATCH_ROWS:
            _flush_reports(cat, rows, sections)
        progress("reports", 1, len(todo))
    _flush_reports(cat, rows, sections)
    new = sum(1 for f in todo if f.rel_path not in known)
    return {"reports": len(files), "reports_read": len(todo), "reports_new": new,
            "reports_updated": len(todo) - new, "reports_unchanged": unchanged,
            "reports_failed": failed}


def _flush_reports(cat: Catalog, rows: list[dict[str, Any]], sections: list[dict[str, Any]]) -> None:
    with cat.transaction():
        cat.write_rows("raw.reports", rows, replace_on=("study_id",))
        cat.delete_matching("raw.report_sections", rows, on=("study_id",))
        cat.write_rows("raw.report_sections", sections)
    rows.clear()
    sections.clear()


def _apply_overrides(cat: Catalog, overrides: dict[int, Override], digest: str) -> set[int]:
    """Store the overrides; return the study ids whose choice must be recomputed."""
    if cat.get_setting("overrides_sha256") == digest:
        return set()
    _, rows = cat.query("SELECT study_id FROM raw.section_overrides")
    before = {r[0] for r in rows}
    with cat.transaction():
        cat.write_rows("raw.section_overrides", [
            {"study_id": k, "section": o.section, "start_char": o.start, "end_char": o.end}
            for k, o in sorted(overrides.items())], replace_all=True)
        cat.set_setting("overrides_sha256", digest)
    return before | set(overrides)


def _rechoose(cat: Catalog, study_ids: set[int], overrides: dict[int, Override]) -> None:
    """Recompute the chosen text of already-ingested reports whose override changed."""
    if not study_ids:
        return
    _, rows = cat.query(
        "SELECT study_id, text FROM raw.reports WHERE error IS NULL AND study_id IN (SELECT unnest(?))",
        [sorted(study_ids)])
    updates = []
    for study_id, text in rows:
        name, chosen = choose_text(text, section_text(text), overrides.get(study_id))
        updates.append({"study_id": study_id, "section": name, "labeler_text": chosen})
    with cat.transaction():
        cat.update_columns("raw.reports", updates, on=("study_id",))


def _missing(cat: Catalog, images: list[SourceFile], reports: list[SourceFile], prune: bool,
             scanned_images: bool = True, reports_complete: bool = True) -> dict[str, int]:
    """Count (and with ``prune`` delete) catalog rows whose source file is gone: images only when they were looked
    for, reports only when their listing is complete (a damaged archive lists only the members before the damage)."""
    present_images = {f.rel_path for f in images}
    present_reports = {f.rel_path for f in reports}
    _, image_rows = cat.query("SELECT dicom_id, path FROM raw.images")
    _, report_rows = cat.query("SELECT study_id, path FROM raw.reports")
    gone_images = [(d, p) for d, p in image_rows if p not in present_images] if scanned_images else []
    gone_reports = [(s, p) for s, p in report_rows if p not in present_reports]
    pruned_reports = gone_reports if reports_complete else []
    if prune and (gone_images or pruned_reports):
        ids = [d for d, _ in gone_images]
        _, jpgs = cat.query("SELECT out_root, jpg_path FROM work.jpg WHERE jpg_path IS NOT NULL AND dicom_id IN "
                            "(SELECT unnest(?)) UNION ALL SELECT out_root, jpg_path FROM work.derivative "
                            "WHERE jpg_path IS NOT NULL AND dicom_id IN (SELECT unnest(?))", [ids, ids])
        cat.prune(ids, [s for s, _ in pruned_reports])
        for root, rel in jpgs:
            (Path(root) / rel).unlink(missing_ok=True)
    key = "pruned" if prune else "missing"
    report_key = "pruned" if prune and reports_complete else "missing"
    return {f"images_{key}": len(gone_images), f"reports_{report_key}": len(gone_reports)}


def ingest(
    cat: Catalog,
    source: str | Path,
    *,
    reports: str | Path | None = None,
    overrides: str | Path | None = None,
    workers: int | None = None,
    prune: bool = False,
    images: bool = True,
    progress: Progress = no_progress,
) -> IngestResult:
    """Ingest DICOM headers and reports from ``source`` (reports from ``reports`` when given).

    ``reports`` may be a folder or a zip/tar archive of one, read in place. Unchanged files (same size and mtime;
    an archive member: size and CRC-32 in a zip, size and mtime in a tar) are skipped; changed ones are re-read
    and replaced. Files the catalog knows but the source no longer has are counted, and with ``prune`` removed
    from the catalog together with their JPGs and labels. ``images=False`` reads the reports only (``reports``,
    else ``source``, either a folder or an archive): no .dcm file is looked for. Returns a summary of counts.
    """
    started = time.perf_counter()
    if images:
        root = resolve_root(source)
        report_root = reports_source(reports) if reports is not None else root  # a folder, or an archive
    else:
        root = report_root = reports_source(reports if reports is not None else source)
    if images or isinstance(report_root, Path):
        listing = scan(root, images=images, reports=report_root == root)
    else:
        listing = scan_archive(report_root)
    if report_root != root:
        extra = scan(report_root, images=False) if isinstance(report_root, Path) else scan_archive(report_root)
        listing.reports, listing.problems = extra.reports, listing.problems + extra.problems
        listing.warnings += extra.warnings
        listing.complete = extra.complete
    if not listing.images and not listing.reports:
        raise CxrdbError(f"source {source} has no images or reports under files/ (expected "
                         "files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm and .../sNNNNNNNN.txt)")
    cat.set_setting("source_root", str(root if isinstance(root, Path) else root.path))
    cat.set_setting("reports_root", str(report_root if isinstance(report_root, Path) else report_root.path))

    override_map: dict[int, Override] = {}
    recompute: set[int] = set()
    if overrides is not None:
        override_map, digest = load_overrides(overrides)
        recompute = _apply_overrides(cat, override_map, digest)
    else:
        _, rows = cat.query("SELECT study_id, section, start_char, end_char FROM raw.section_overrides")
        override_map = {r[0]: Override(r[1], r[2], r[3]) for r in rows}

    # one row per path (the last reason wins, as INSERT OR REPLACE did)
    cat.replace_all("raw.source_problems", [{"path": p, "error": e} for p, e in dict(listing.problems).items()])
    cat.replace_all("raw.source_warnings", [{"path": p, "warning": w} for p, w in dict(listing.warnings).items()])
    summary: dict[str, Any] = {}
    summary.update(_ingest_images(cat, root, listing.images, workers, progress))
    summary.update(_ingest_reports(cat, report_root, listing.reports, override_map, workers, progress))
    _rechoose(cat, recompute, override_map)
    summary.update(_missing(cat, listing.images, listing.reports, prune, images, listing.complete))
    core = {k: summary.pop(k) for k in ("images", "reports", "images_failed", "reports_failed")}
    return IngestResult(**core, other_problems=len(listing.problems), source_warnings=len(listing.warnings),
                        seconds=round(time.perf_counter() - started, 3), extra=summary)
