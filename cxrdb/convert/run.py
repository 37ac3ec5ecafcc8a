"""Convert every ingested image: pick what is not yet current, run ``convert_one`` on an executor, record
each outcome in work.jpg (and each smaller copy's in work.derivative) in batches, committed as it goes, so a
killed run resumes where it stopped. One worker call writes every output of an image from one decode."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from .. import fstree
from ..atomic import is_temp_name
from ..catalog import Catalog
from ..errors import CxrdbError
from ..executor import run_map
from ..manifest import ReleaseFolder, claim, folder_sizes, set_folder_sizes
from ..progress import Progress, StageResult, no_progress
from .derivatives import FULL_SIZE, Outputs, folder_name, list_name
from .ondisk import OnDisk, check_jpgs
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
    again; ``copies_*``: the smaller copies (``--size``), counted per (image, size); ``copies_removed``: files of
    sizes this run no longer writes; ``extra``: seconds the workers spent per step (read, pixels, encode, write,
    derive: the copies' resize, encode and write)."""

    images: int
    converted: int
    up_to_date: int
    failed: int
    seconds: float
    images_per_second: float
    jpgs_replaced_on_disk: int | None = None
    temp_files_removed: int | None = None
    copies_made: int | None = None
    copies_up_to_date: int | None = None
    copies_failed: int | None = None
    copies_replaced_on_disk: int | None = None
    copies_removed: int | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Plan:
    """What a conversion run into one output root will do, decided by ``plan.convert`` and the files on disk."""

    todo: list[dict[str, Any]]
    current: int
    failed_kept: int
    stale_on_disk: int
    copies: list[dict[str, Any]] = field(default_factory=list)  # plan.derivatives rows to make now
    copies_current: int = 0
    copies_failed_kept: int = 0
    copies_stale_on_disk: int = 0


def _todo(items: list[dict[str, Any]], disk: OnDisk, retry_failed: bool, key: tuple[str, ...]) -> tuple[
        list[dict[str, Any]], int, int]:
    """(rows to redo, rows failed and kept, current rows stale on disk) from plan rows and their disk check."""
    stale = {tuple(row[k] for k in key) for row, _ in disk.stale}
    failed_kept = 0 if retry_failed else sum(r["state"] == "failed" for r in items)
    todo = [r for r in items if (r["state"] != "current" and (retry_failed or r["state"] != "failed"))
            or tuple(r[k] for k in key) in stale]
    return todo, failed_kept, len(stale)


def plan(cat: Catalog, out: Path, retry_failed: bool = True, *, verify: bool = False,
         folder: ReleaseFolder | None = None, outputs: Outputs = FULL_SIZE) -> Plan:
    """Images to convert now: every image ``plan.convert`` does not call current, plus the current ones whose
    JPG on disk is no longer the recorded file (:func:`ondisk.check_jpgs`); failed ones unless ``retry_failed``
    is off. Confirms (re-hashes) JPGs whose mtime changed but whose bytes did not. ``folder``: the folder as
    this run has read it (read now when not given). ``outputs``: the sizes of smaller copies to make too (each
    judged by ``plan.derivatives`` the same way), and whether the full-size JPG is made at all."""
    folder = folder or ReleaseFolder.read(out)
    result = Plan([], 0, 0, 0)
    if outputs.full_size:
        columns, rows = cat.query("SELECT * FROM plan.convert(?, ?) ORDER BY path", [PARAMS_FINGERPRINT, str(out)])
        items = [dict(zip(columns, r, strict=True)) for r in rows]
        disk = check_jpgs(out, [r for r in items if r["state"] == "current"], folder.stat, verify=verify)
        if disk.rehashed:
            with cat.transaction():
                cat.update_columns("work.jpg", disk.rehashed, on=("dicom_id",))
        result.todo, result.failed_kept, result.stale_on_disk = _todo(items, disk, retry_failed, ("dicom_id",))
        result.current = len(disk.current)
    if outputs.sizes:
        key = ("dicom_id", "size")
        columns, rows = cat.query("SELECT * FROM plan.derivatives(?, ?, ?) ORDER BY path, size DESC",
                                  [list(outputs.sizes), outputs.params, str(out)])
        items = [dict(zip(columns, r, strict=True)) for r in rows]
        disk = check_jpgs(out, [r for r in items if r["state"] == "current"], folder.stat, verify=verify, key=key)
        if disk.rehashed:
            with cat.transaction():
                cat.update_columns("work.derivative", disk.rehashed, on=key)
        result.copies, result.copies_failed_kept, result.copies_stale_on_disk = _todo(items, disk, retry_failed, key)
        result.copies_current = len(disk.current)
    return result


def check_outputs(cat: Catalog, out: Path, outputs: Outputs) -> None:
    """Refuse, before any work, ``--no-full-size`` into a folder holding this catalog's full-size JPGs (a release
    of copies only would leave them unlisted; they are never removed for you)."""
    if outputs.full_size:
        return
    n = cat.scalar("SELECT count(*) FROM work.jpg WHERE out_root = ? AND error IS NULL AND jpg_path IS NOT NULL",
                   [str(out)])
    if n:
        raise CxrdbError(f"--no-full-size: {out} holds {n} full-size JPG(s) of this catalog (files/): build the "
                         "copies into another folder, or keep the full-size JPGs (drop --no-full-size)")


def _remove_sizes(cat: Catalog, out: Path, keep: tuple[int, ...], folder: ReleaseFolder) -> int:
    """Remove the files and catalog rows of the sizes earlier runs wrote into ``out`` that this run does not
    (its copies and IMAGE_FILENAMES_N): a release never holds files the catalog does not list. Returns the files
    removed."""
    dropped = [n for n in folder_sizes(cat, out) if n not in keep]
    removed = 0
    for size in dropped:
        prefix = folder_name(size) + "/"
        _, rows = cat.query("SELECT jpg_path FROM plan.derivative_paths(?)", [[size]])
        mine = {r[0] for r in rows} | {list_name(size)}
        for rel in [r for r in folder.files() + folder.temps() if r in mine or
                    (r.startswith(prefix) and is_temp_name(r.rpartition("/")[2]))]:  # a killed run's temps
            (out / rel).unlink(missing_ok=True)
            folder.wrote(rel)
            removed += 1
        _prune_empty_dirs(out / folder_name(size))
        with cat.transaction():
            cat.delete_matching("work.derivative", [{"size": size, "out_root": str(out)}], ("size", "out_root"))
    return removed


def _prune_empty_dirs(top: Path) -> None:
    """Remove ``top`` and the folders under it that are empty (deepest first); keep any that hold a file."""
    if not top.is_dir():
        return
    for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)
        except OSError:
            continue


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


def _flush(cat: Catalog, rows: list[dict[str, Any]], copies: list[dict[str, Any]]) -> None:
    with cat.transaction():
        cat.write_rows("work.jpg", rows, replace_on=("dicom_id",))
        cat.write_rows("work.derivative", copies, replace_on=("dicom_id", "size"))
    rows.clear()
    copies.clear()


def _tasks(source_root: str, out: Path, planned: Plan, outputs: Outputs) -> tuple[int, Iterator[ConvertTask]]:
    """(how many, the tasks): one per image with anything to write, in path order, each made as the pool takes
    it (377k tasks of full MIMIC held at once cost the parent ~170 MB): its full-size JPG when that is due, and
    the copies that are due (a current full-size JPG is not rewritten for a new size: the worker is told)."""
    full = {t["dicom_id"]: t for t in planned.todo}
    copies: dict[str, list[dict[str, Any]]] = {}
    for c in planned.copies:
        copies.setdefault(c["dicom_id"], []).append(c)
    paths = {t["dicom_id"]: t["path"] for t in (*planned.todo, *planned.copies)}
    order = sorted(paths, key=paths.__getitem__)

    def make() -> Iterator[ConvertTask]:
        for did in order:
            yield ConvertTask(did, f"{source_root}/{paths[did]}",
                              str(out / full[did]["jpg_path"]) if did in full else "", full=did in full,
                              derivatives=tuple((c["size"], str(out / c["jpg_path"])) for c in copies.get(did, ())),
                              quality=outputs.quality, resize=outputs.resize)

    return len(order), make()


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
    outputs: Outputs = FULL_SIZE,
    progress: Progress = no_progress,
) -> ConvertResult:
    """Write ``out/files/.../<dicom_id>.jpg`` for every ingested image that is not already current.

    ``source_url`` is where the workers find the source instead of the ingested folder: another mount point,
    or an fsspec URL (``s3://bucket/mimic-cxr``) for a Dask cluster that reads the DICOMs remotely. ``verify``
    re-hashes every finished JPG instead of trusting an unchanged size and mtime. ``folder``: ``out`` as this run
    has read it (a build's one walk); kept current with every JPG written or removed. ``outputs``: smaller copies
    (``out/files_N/...``) made from the same decoded image, and whether the full-size JPG is made; copies of
    sizes an earlier run wrote here and this one does not are removed (files and rows).
    """
    started = time.perf_counter()
    source_root = source_url.rstrip("/") if source_url else cat.get_setting("source_root")
    if source_root is None:
        raise CxrdbError("the catalog has no ingested source: run `cxrdb ingest SOURCE` first")
    out = Path(out).expanduser().resolve()
    check_outputs(cat, out, outputs)
    folder = folder or ReleaseFolder.read(out)
    dropped = _remove_sizes(cat, out, outputs.sizes, folder)
    set_folder_sizes(cat, out, outputs.sizes)  # before any copy is written: a killed run's files are ours
    planned = plan(cat, out, retry_failed, verify=verify, folder=folder, outputs=outputs)
    current, failed_kept = planned.current, planned.failed_kept
    swept = _sweep_debris(out, [*planned.todo, *planned.copies], folder)
    total, tasks = _tasks(source_root, out, planned, outputs)
    by_id = {t["dicom_id"]: t for t in planned.todo}
    copy_rows = {(c["dicom_id"], c["size"]): c for c in planned.copies}
    if outputs.full_size:
        cat.set_setting("jpg_root", str(out))
    cat.set_setting("convert_outputs", json.dumps({"full_size": outputs.full_size, "sizes": list(outputs.sizes),
                                                   "quality": outputs.quality, "resize": outputs.resize,
                                                   "params": outputs.params,
                                                   "out_root": str(out)}))
    claim(cat, out)
    progress("convert", 0, total)
    pending: list[dict[str, Any]] = []
    pending_copies: list[dict[str, Any]] = []
    converted = failed = made = copies_failed = decoded = 0
    stage_seconds = {"read": 0.0, "pixels": 0.0, "encode": 0.0, "write": 0.0, "derive": 0.0}
    last_flush = time.monotonic()
    inflight: dict[str, ConvertTask] = {}  # handed to the pool, result not yet back
    sent = _register(tasks, inflight)
    ahead = sent if scheduler or source_url else fstree.read_ahead(sent, attrgetter("source"), lead=READ_AHEAD)
    for res in run_map(convert_one, ahead, workers=workers, scheduler=scheduler,
                       batch_size=DASK_TASK if scheduler else 1, on_lost=lost_result):
        task = inflight.pop(res["dicom_id"])  # results come in any order: matched by dicom_id
        if task.full:
            item = by_id[task.dicom_id]
            mtime = None
            if res["ok"]:
                converted += 1
                mtime = res.get("jpg_mtime_ns")
                if mtime is None:  # not read by the worker (a Dask worker running an older cxrdb): read it here
                    mtime = _mtime(out / item["jpg_path"])
                folder.wrote(item["jpg_path"], res["jpg_bytes"], mtime)
            elif (res["error"] or "").startswith("disk full"):
                _flush(cat, pending, pending_copies)
                raise CxrdbError(f"{res['error']}: finished images are saved; free space and run again to resume")
            else:
                failed += 1
                (out / item["jpg_path"]).unlink(missing_ok=True)  # no stale JPG from an earlier, different source
                folder.wrote(item["jpg_path"])
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
        decoded += bool(res["ok"])
        results = {d["size"]: d for d in res.get("derivatives") or ()}
        for size, _dest in task.derivatives:
            row = copy_rows[(task.dicom_id, size)]
            got = results.get(size) or {"ok": False, "error": res["error"] or "the worker made no copy (older cxrdb?)"}
            if got["ok"]:
                made += 1
                folder.wrote(row["jpg_path"], got["jpg_bytes"], got["jpg_mtime_ns"])
            elif (got["error"] or "").startswith("disk full"):
                _flush(cat, pending, pending_copies)
                raise CxrdbError(f"{got['error']}: finished images are saved; free space and run again to resume")
            else:
                copies_failed += 1
                (out / row["jpg_path"]).unlink(missing_ok=True)
                folder.wrote(row["jpg_path"])
            note = got.get("note")
            if res["note"]:  # what the full-size conversion noted holds for its copies too
                note = f"{res['note']}; {note}" if note else res["note"]
            pending_copies.append({
                "dicom_id": task.dicom_id, "size": size, "jpg_path": row["jpg_path"] if got["ok"] else None,
                "jpg_bytes": got.get("jpg_bytes"), "jpg_sha256": got.get("jpg_sha256"),
                "jpg_mtime_ns": got.get("jpg_mtime_ns"), "rows": got.get("rows"), "columns": got.get("columns"),
                "error": got["error"], "note": note, "source_size": row["file_size"],
                "source_mtime_ns": row["file_mtime_ns"], "params": outputs.params, "out_root": str(out)})
        for stage in stage_seconds:
            stage_seconds[stage] += res.get(f"t_{stage}") or 0.0
        if len(pending) + len(pending_copies) >= FLUSH_ROWS or time.monotonic() - last_flush > FLUSH_SECONDS:
            _flush(cat, pending, pending_copies)
            last_flush = time.monotonic()
        progress("convert", 1, total)
    _flush(cat, pending, pending_copies)
    seconds = time.perf_counter() - started
    n_images = cat.scalar("SELECT count(*) FROM raw.images WHERE error IS NULL")
    sized = bool(outputs.sizes)
    done = converted if outputs.full_size else decoded
    return ConvertResult(
        images=n_images if not outputs.full_size else current + failed_kept + len(planned.todo),
        converted=converted, up_to_date=current,
        failed=failed + failed_kept, seconds=round(seconds, 2),
        images_per_second=round(done / seconds, 1) if seconds > 0 and done else 0,
        jpgs_replaced_on_disk=planned.stale_on_disk or None, temp_files_removed=swept or None,
        copies_made=made if sized else None, copies_up_to_date=planned.copies_current if sized else None,
        copies_failed=copies_failed + planned.copies_failed_kept if sized else None,
        copies_replaced_on_disk=planned.copies_stale_on_disk or None, copies_removed=dropped or None,
        extra={f"worker_{k}_s": round(v, 2) for k, v in stage_seconds.items() if k != "derive" or sized})


def _register(tasks: Iterable[ConvertTask], inflight: dict[str, ConvertTask]) -> Iterator[ConvertTask]:
    """Yield the tasks, each noted in ``inflight`` as it goes (the caller pops it when its result comes)."""
    for task in tasks:
        inflight[task.dicom_id] = task
        yield task
