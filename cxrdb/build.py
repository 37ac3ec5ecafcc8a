"""``cxrdb build``: ingest → convert → label → split → export → checksums, one resumable run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .convert.derivatives import FULL_SIZE, Outputs
from .convert.run import check_outputs, convert
from .errors import CxrdbError
from .executor import check_scheduler
from .export import check_format, export_tables
from .ingest import ingest
from .labeling.run import LABELERS, label
from .locks import release_lock
from .manifest import TEST_SET, check_folder, claim, own_extras, record_extra, strays, write_checksums
from .memory import trim
from .preflight import ingest_inputs, readable_file, writable_target
from .progress import Progress, StageResult, no_progress
from .release import copy_into, write_readme
from .selection import Applied, Selection
from .selection import apply as apply_selection
from .split import read_published, read_test_studies, split, split_counts
from .status import status


@dataclass(frozen=True)
class BuildResult(StageResult):
    """What a build made: counts per stage, rows per release file, and what needs a look (failures, JPGs left out
    because they changed on disk, stray files)."""

    release: str
    catalog: str
    images: int
    reports: int
    jpgs: int
    converted_now: int
    labeled_now: int
    splits: dict[str, str]
    files: dict[str, int]
    files_in_sums: int
    jpgs_left_out: int
    strays: int
    failed_items: int
    seconds: float
    selected: Applied | None = None
    removed_outside: int = 0
    copies: dict[int, int] | None = None  # size -> smaller copies listed (``--size``)

    def summary(self) -> dict[str, Any]:
        values: dict[str, Any] = {"release": self.release, "catalog": self.catalog, "images": self.images,
                                  "reports": self.reports, "jpgs": self.jpgs, "converted now": self.converted_now,
                                  "labeled now": self.labeled_now}
        if self.selected is not None:
            values.update(self.selected.summary())
        values.update({f"split {k}": v for k, v in self.splits.items()})
        values.update({name: f"{n} rows" for name, n in self.files.items()})
        values["files in SHA256SUMS.txt"] = self.files_in_sums
        if self.jpgs_left_out:
            values["JPGs left out (missing or changed on disk)"] = self.jpgs_left_out
        if self.removed_outside:
            values["JPGs removed (outside the selection)"] = self.removed_outside
        if self.strays:
            values["stray files (not listed)"] = self.strays
        return {**values, "failed items": self.failed_items, "seconds": self.seconds}


def _check_reports_only(reports: str | Path | None, published_split: str | Path | None,
                        validate_patients: int | None, scheduler: str | None) -> None:
    """Refuse the options a reports-only build has no use for (they concern images)."""
    if reports is not None:
        raise CxrdbError("--reports-only reads the reports from SOURCE: leave out --reports")
    for given, option in ((published_split, "--published-split"), (validate_patients, "--validate-patients"),
                          (scheduler, "--scheduler")):
        if given is not None:
            raise CxrdbError(f"{option} concerns images: a reports-only build has none (leave it out)")


def default_catalog(out: Path) -> Path:
    """The catalog beside the release folder: release/ -> release.duckdb (kept out of the release itself)."""
    return out.parent / f"{out.name}.duckdb"


def build(
    source: str | Path,
    out: str | Path,
    *,
    db: str | Path | None = None,
    reports: str | Path | None = None,
    overrides: str | Path | None = None,
    published_split: str | Path | None = None,
    test_set: str | Path | None = None,
    validate_patients: int | None = None,
    seed: int = 0,
    license_file: str | Path | None = None,
    fmt: str = "csv",
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    verify: bool = False,
    selection: Selection | None = None,
    reports_only: bool = False,
    outputs: Outputs = FULL_SIZE,
    progress: Progress = no_progress,
) -> BuildResult:
    """Build a whole MIMIC-CXR-JPG-style release from a source; re-running resumes and skips finished work.

    Every argument is checked before any work; the release folder is locked for the run (a second build into it
    is refused); SHA256SUMS.txt lists exactly the intact JPGs and the files this build wrote. ``selection``: the
    subset to convert, label and export (cxrdb/selection.py); the whole source is ingested and split either way.
    ``reports_only``: ``source`` is a reports tree (no DICOM is looked for): ingest, sections, labels and their
    files only.
    ``outputs``: the smaller copies to make beside the full-size JPGs (``files_N/``), and whether to make full-size
    JPGs at all.
    """
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    db = Path(db) if db is not None else default_catalog(out)
    check_format(fmt)
    if reports_only:
        _check_reports_only(reports, published_split, validate_patients, scheduler)
        if selection is not None and (selection.views is not None or selection.splits is not None):
            raise CxrdbError("--views and --split select images: a reports-only build has none (select reports "
                             "with --subjects or --studies)")
        root = ingest_inputs(source, source, overrides, images=False)
    else:
        root = ingest_inputs(source, reports, overrides)
    for path, what in ((published_split, "--published-split file"), (test_set, "--test-set file"),
                       (license_file, "--license file")):
        readable_file(path, what)
    if published_split is not None:
        read_published(published_split)  # a malformed file is refused now, not after the conversion
    if test_set is not None:
        read_test_studies(test_set)
    if scheduler:
        check_scheduler(scheduler)
    writable_target(out, "release folder")
    writable_target(db, "catalog")
    if out == root or root in out.parents:
        raise CxrdbError(f"release folder {out} is inside the source {root}: write it elsewhere")
    with release_lock(out), Catalog.open(db) as cat:
        if reports_only and (n_images := cat.scalar("SELECT count(*) FROM raw.images")):
            raise CxrdbError(f"catalog {db} holds {n_images} images: a reports-only build needs a catalog of its "
                             "own (--db NEW.duckdb)")
        stray, folder = check_folder(cat, out, force)  # the one walk of the folder; kept current below
        check_outputs(cat, out, outputs)
        cat.set_setting("release_root", str(out))
        claim(cat, out)
        if reports_only:  # through the reports root of ingest, whatever form that root may take
            ingested = ingest(cat, source, reports=source, overrides=overrides, images=False, workers=workers,
                              progress=progress)
        else:
            ingested = ingest(cat, root, reports=reports, overrides=overrides, workers=workers, progress=progress)
            split(cat, published=published_split, test_set=test_set, seed=seed,
                  validate_patients=validate_patients)  # before the selection: it may pick by split
        trim()  # each stage starts from what is live, not from the last one's high-water mark (cxrdb/memory.py)
        selected = apply_selection(cat, selection or Selection())
        if reports_only:
            jpgs = converted_now = 0
        else:
            converted = convert(cat, out, workers=workers, scheduler=scheduler, verify=verify, folder=folder,
                                outputs=outputs, progress=progress)
            jpgs, converted_now = converted.converted + converted.up_to_date, converted.converted
            trim()
        labeled = label(cat, LABELERS, workers=workers, progress=progress)
        trim()
        exported = export_tables(cat, out, fmt, folder)
        written = exported.files
        if license_file is not None:
            copy_into(license_file, out, "LICENSE.txt")
            record_extra(cat, out, "LICENSE.txt")
        if test_set is not None:  # the radiologists' labels ship with the release, as in 2.1.0
            copy_into(test_set, out, TEST_SET)
            record_extra(cat, out, TEST_SET)
        st = status(cat)
        write_readme(cat, out, written, st)
        record_extra(cat, out, "README")
        n_files = write_checksums(out, exported.jpgs, [*written, *own_extras(cat, out)], exported.derived.values())
        stray, _ = strays(cat, out, folder)
        failures = len(st.failures)
        splits = split_counts(cat)  # as the release lists them, after the selection (none: reports only)
    return BuildResult(
        release=str(out), catalog=str(db), images=ingested.images, reports=ingested.reports,
        jpgs=jpgs, converted_now=converted_now,
        labeled_now=labeled.labeled, splits=splits, files=written, files_in_sums=n_files,
        jpgs_left_out=len(exported.jpgs.stale), strays=len(stray), failed_items=failures,
        seconds=round(time.perf_counter() - started, 1), selected=None if selected.selection.empty else selected,
        removed_outside=exported.outside_removed,
        copies={n: len(d.current) for n, d in exported.derived.items()} or None)
