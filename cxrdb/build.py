"""``cxrdb build``: ingest → convert → label → split → export → checksums, one resumable run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .catalog import Catalog
from .convert.run import convert
from .errors import CxrdbError
from .export import export
from .ingest import ingest
from .labeling.run import LABELERS, label
from .release import TEST_SET, copy_into, write_checksums, write_readme
from .split import split
from .status import status

Progress = Callable[[str, int, int | None], None]


def _noop(task: str, advance: int, total: int | None) -> None:
    return None


def default_catalog(out: Path) -> Path:
    """The catalog beside the release folder: release/ -> release.duckdb (kept out of the release itself)."""
    return out.parent / f"{out.name}.duckdb"


def _check_output(cat: Catalog, out: Path, force: bool) -> None:
    """Refuse a non-empty output folder that this catalog did not build, unless forced."""
    if not out.exists() or not any(out.iterdir()):
        return
    if cat.get_setting("release_root") == str(out) or force:
        return
    raise CxrdbError(f"{out} holds files of another build (or other files); use a new folder or --force")


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
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Build a whole MIMIC-CXR-JPG-style release from a source; re-running resumes and skips finished work."""
    started = time.perf_counter()
    out = Path(out).expanduser().resolve()
    db = Path(db) if db is not None else default_catalog(out)
    with Catalog.open(db) as cat:
        _check_output(cat, out, force)
        out.mkdir(parents=True, exist_ok=True)
        cat.set_setting("release_root", str(out))
        ingested = ingest(cat, source, reports=reports, overrides=overrides, workers=workers, progress=progress)
        converted = convert(cat, out, workers=workers, scheduler=scheduler, progress=progress)
        labeled = label(cat, LABELERS, workers=workers, progress=progress)
        split_summary = split(cat, published=published_split, test_set=test_set, seed=seed,
                              validate_patients=validate_patients)
        written = export(cat, out, fmt)
        if license_file is not None:
            copy_into(license_file, out, "LICENSE.txt")
        if test_set is not None:  # the radiologists' labels ship with the release, as in 2.1.0
            copy_into(test_set, out, TEST_SET)
        write_readme(cat, out, written)
        n_files = write_checksums(cat, out)
        failures = len(status(cat).failures)
    summary: dict[str, Any] = {
        "release": str(out),
        "catalog": str(db),
        "images": ingested["images"],
        "reports": ingested["reports"],
        "jpgs": converted["converted"] + converted["up_to_date"],
        "converted now": converted["converted"],
        "labeled now": labeled["chexpert_labeled"] + labeled["negbio_labeled"],
    }
    summary.update({f"split {k}": v for k, v in split_summary.items() if k in ("train", "validate", "test")})
    summary.update({name: f"{n} rows" for name, n in written.items()})
    summary["files in SHA256SUMS.txt"] = n_files
    summary["failed items"] = failures
    summary["seconds"] = round(time.perf_counter() - started, 1)
    return summary
