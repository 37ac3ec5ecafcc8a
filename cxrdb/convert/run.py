"""Convert every ingested image: pick what is not yet current, run ``convert_one`` on an executor, record
each outcome in work.jpg in batches (committed as it goes, so a killed run resumes where it stopped)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from .. import fstree
from ..atomic import is_temp_name
from ..catalog import Catalog
from ..errors import CxrdbError
from ..executor import run_map
from ..manifest import ReleaseFolder, claim
from ..progress import Progress, StageResult, no_progress
from .ondisk import check_jpgs
from .worker import PARAMS_FINGERPRINT, ConvertTask, convert_one, lost_result

FLUSH_ROWS = 2000  # results per catalog transaction (FLUSH_SECONDS bounds what a kill -9 loses)
FLUSH_SECONDS = 2.0
READ_AHEAD = 32  # DICOMs the kernel is asked to fetch ahead of the workers (local runs; ~400 MB of MIMIC's)
# Images per task on a Dask cluster (the local pool sends one at a time): a Dask task costs the parent ~1-2 ms
# (submit, result gather), more than recording 10 images; 16 full-size images are ~0.8 s of worker time.
DASK_TASK = 16


def jpg_path(dcm_path: str) -> str:
    """files/pNN/.../<dicom_id>.dcm -> files/pNN/.../<dicom_id>.jpg (the published layout)."""
    return dcm_path[: -len(".dcm")] + ".jpg"


@dataclass(frozen=True)
class ConvertResult(StageResult):
    """What a conversion run did. ``jpgs_replaced_on_disk``: current JPGs found missing or changed and converted
    again; ``extra``: seconds the workers spent per step (read, pixels, encode, write)."""

    images: int
    converted: int
    up_to_date: int
    failed: int
    seconds: float
    images_per_second: float
    jpgs_replaced_on_disk: int | None = None
    temp_files_removed: int | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Plan:
    """What a conversion run into one output root will do, decided by ``plan.convert`` and the files on disk."""

    todo: list[dict[str, Any]]
    current: int
    failed_kept: int
    stale_on_disk: int


def plan(cat: Catalog, out: Path, retry_failed: bool = True, *, verify: bool = False,
         folder: ReleaseFolder | None = None) -> Plan:
    """Images to convert now: every image ``plan.convert`` does not call current, plus the current ones whose
    JPG on disk is no longer the recorded file (:func:`ondisk.check_jpgs`); failed ones unless ``retry_failed``
    is off. Confirms (re-hashes) JPGs whose mtime changed but whose bytes did not. ``folder``: the folder as
    this run has read it (read now when not given)."""
    columns, rows = cat.query("SELECT * FROM plan.convert(?, ?) ORDER BY path", [PARAMS_FINGERPRINT, str(out)])
    items = [dict(zip(columns, r, strict=True)) for r in rows]
    folder = folder or ReleaseFolder.read(out)
    disk = check_jpgs(out, [r for r in items if r["state"] == "current"], folder.stat, verify=verify)
    if disk.rehashed:
        with cat.transaction():
            cat.update_columns("work.jpg", disk.rehashed, on=("dicom_id",))
    stale = {row["dicom_id"] for row, _ in disk.stale}
    failed_kept = 0 if retry_failed else sum(r["state"] == "failed" for r in items)
    todo = [r for r in items if (r["state"] != "current" and (retry_failed or r["state"] != "failed"))
            or r["dicom_id"] in stale]
    return Plan(todo, len(disk.current), failed_kept, len(stale))


def _sweep_debris(out: Path, todo: list[dict[str, Any]], folder: ReleaseFolder) -> int:
    """Remove temp files a killed run left in the folders this run will write."""
    removed = 0
    for sub in sorted({t["jpg_path"].rpartition("/")[0] for t in todo}):
        try:
            names = os.listdir(out / sub)
        except OSError:
            continue
        for name in names:
            if is_temp_name(name):
                (out / sub / name).unlink(missing_ok=True)
                folder.wrote(f"{sub}/{name}")
                removed += 1
    return removed


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _flush(cat: Catalog, rows: list[dict[str, Any]]) -> None:
    with cat.transaction():
        cat.write_rows("work.jpg", rows, replace_on=("dicom_id",))
    rows.clear()


def convert(
    cat: Catalog,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = True,
    source_url: str | None = None,
    verify: bool = False,
    folder: ReleaseFolder | None = None,
    progress: Progress = no_progress,
) -> ConvertResult:
    """Write ``out/files/.../<dicom_id>.jpg`` for every ingested image that is not already current.

    ``source_url`` is where the workers find the source instead of the ingested folder: another mount point,
    or an fsspec URL (``s3://bucket/mimic-cxr``) for a Dask cluster that reads the DICOMs remotely. ``verify``
    re-hashes every finished JPG instead of trusting an unchanged size and mtime. ``folder``: ``out`` as this run
    has read it (a build's one walk); kept current with every JPG written or removed.
    """
    started = time.perf_counter()
    source_root = source_url.rstrip("/") if source_url else cat.get_setting("source_root")
    if source_root is None:
        raise CxrdbError("the catalog has no ingested source: run `cxrdb ingest SOURCE` first")
    out = Path(out).expanduser().resolve()
    folder = folder or ReleaseFolder.read(out)
    planned = plan(cat, out, retry_failed, verify=verify, folder=folder)
    todo, current, failed_kept = planned.todo, planned.current, planned.failed_kept
    swept = _sweep_debris(out, todo, folder)
    tasks = [ConvertTask(t["dicom_id"], f"{source_root}/{t['path']}", str(out / t["jpg_path"])) for t in todo]
    by_id = {t["dicom_id"]: t for t in todo}
    cat.set_setting("jpg_root", str(out))
    claim(cat, out)
    progress("convert", 0, len(tasks))
    pending: list[dict[str, Any]] = []
    converted = failed = 0
    stage_seconds = {"read": 0.0, "pixels": 0.0, "encode": 0.0, "write": 0.0}
    last_flush = time.monotonic()
    ahead = tasks if scheduler or source_url else fstree.read_ahead(tasks, attrgetter("source"), lead=READ_AHEAD)
    for res in run_map(convert_one, ahead, workers=workers, scheduler=scheduler,
                       batch_size=DASK_TASK if scheduler else 1, on_lost=lost_result):
        item = by_id[res["dicom_id"]]
        mtime = None
        if res["ok"]:
            converted += 1
            mtime = res.get("jpg_mtime_ns")
            if mtime is None:  # not read by the worker (a Dask worker running an older cxrdb): read it here
                mtime = _mtime(out / item["jpg_path"])
            folder.wrote(item["jpg_path"], res["jpg_bytes"], mtime)
        elif (res["error"] or "").startswith("disk full"):
            _flush(cat, pending)
            raise CxrdbError(f"{res['error']}: finished images are saved; free space and run again to resume")
        else:
            failed += 1
            (out / item["jpg_path"]).unlink(missing_ok=True)  # no stale JPG from an earlier, different source
            folder.wrote(item["jpg_path"])
        for stage in stage_seconds:
            stage_seconds[stage] += res.get(f"t_{stage}") or 0.0
        pending.append(
            {
                "dicom_id": res["dicom_id"],
                "jpg_path": item["jpg_path"] if res["ok"] else None,
                "jpg_bytes": res["jpg_bytes"],
                "jpg_sha256": res["jpg_sha256"],
                "error": res["error"],
                "note": res["note"],
                "decoder": res["decoder"] or None,
                "jpg_mtime_ns": mtime,
                "source_size": item["file_size"],
                "source_mtime_ns": item["file_mtime_ns"],
                "params": PARAMS_FINGERPRINT,
                "out_root": str(out),
            }
        )
        if len(pending) >= FLUSH_ROWS or time.monotonic() - last_flush > FLUSH_SECONDS:
            _flush(cat, pending)
            last_flush = time.monotonic()
        progress("convert", 1, len(tasks))
    _flush(cat, pending)
    seconds = time.perf_counter() - started
    return ConvertResult(
        images=current + failed_kept + len(tasks), converted=converted, up_to_date=current,
        failed=failed + failed_kept, seconds=round(seconds, 2),
        images_per_second=round(converted / seconds, 1) if seconds > 0 and converted else 0,
        jpgs_replaced_on_disk=planned.stale_on_disk or None, temp_files_removed=swept or None,
        extra={f"worker_{k}_s": round(v, 2) for k, v in stage_seconds.items()})
