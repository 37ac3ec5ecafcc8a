#!/usr/bin/env python
"""Header-ingest benchmark (prints figures; not a timed test).

Generates a synthetic MIMIC-style source (bench/_synth.py), warms the page cache, then times:
  (a) the floor: a serial loop of ``pydicom.dcmread(path, stop_before_pixels=True)`` over all files
      (directory walk included, as ingest has to walk too), and the naive baseline the ratios use: the same
      loop reading every element's value into a row, as the published export_metadata.py did;
  (b) cxrdb's ingest, ``cxrdb.ingest.ingest(cat, source, workers=N)``, on a fresh catalog per worker count
      (headers, reports and sections, written to the catalog);
  (c) a re-run of (b) on the last catalog with nothing changed (should skip every file).
Target: ingest >= 1,000 headers/s on a 2-core machine.

Usage: python bench/ingest.py [--n 10000] [--workers 1,2] [--keep DIR] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _synth import list_dicoms, make_source

TARGET = 1000.0  # headers/s


def warm(root: Path) -> tuple[int, float]:
    """Read every file once so the timed runs see a warm page cache. Returns (bytes, seconds)."""
    t0 = time.perf_counter()
    total = 0
    for dirpath, _dirs, files in os.walk(root / "files"):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                total += len(fh.read())
    return total, time.perf_counter() - t0


def baseline(root: Path) -> tuple[int, float]:
    """Serial walk + dcmread(stop_before_pixels=True). Returns (files, seconds)."""
    t0 = time.perf_counter()
    paths = list_dicoms(root)
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        _ = ds.get("StudyDate")
    return len(paths), time.perf_counter() - t0


def naive_export(root: Path) -> tuple[int, float]:
    """What the published export_metadata.py did per file, serially: dcmread(stop_before_pixels) and every
    top-level element's value into a row (sequences as their item count). Returns (files, seconds)."""
    t0 = time.perf_counter()
    paths = list_dicoms(root)
    rows = []
    for p in paths:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        rows.append({int(e.tag): (len(e.value) if e.VR == "SQ" else e.value) for e in ds})
    return len(paths), time.perf_counter() - t0


def ensure_source(n: int, seed: int, keep: Path | None, tmp: Path) -> Path:
    """Generate the source (or reuse the one in --keep DIR if it matches n and seed)."""
    root = (keep if keep else tmp) / "source"
    stamp = root / "synth.json"
    want = {"n": n, "seed": seed}
    if stamp.exists() and json.loads(stamp.read_text()).get("params") == want:
        print(f"source: reusing {root}")
        return root
    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()
    counts = make_source(root, n, seed)
    dt = time.perf_counter() - t0
    stamp.write_text(json.dumps({"params": want, "counts": counts}))
    print(
        f"source: generated {counts['images']:,} DICOMs, {counts['studies']:,} reports, "
        f"{counts['subjects']:,} subjects, {counts['bytes'] / 2**20:.1f} MiB in {dt:.1f} s -> {root}"
    )
    return root


def load_ingest() -> Callable[[Path, Path, int], dict[str, Any]] | None:
    """Return a function (db, source, workers) -> summary, or None if cxrdb's ingest is not there yet.

    Uses ``Catalog.ingest(source, workers=N)`` (the agreed contract) when the method exists, else the
    function ``cxrdb.ingest.ingest(cat, source, workers=N)``.
    """
    try:
        from cxrdb.catalog import Catalog
    except ImportError as exc:
        print(f"cxrdb ingest: not available ({exc})")
        return None
    fn: Callable[..., Any] | None = None
    if not hasattr(Catalog, "ingest"):
        try:
            from cxrdb.ingest import ingest as fn
        except ImportError as exc:
            print(f"cxrdb ingest: not available (no Catalog.ingest, no cxrdb.ingest.ingest: {exc})")
            return None
    print("cxrdb ingest: " + ("Catalog.ingest()" if fn is None else "cxrdb.ingest.ingest(cat, ...)"))

    def run(db: Path, source: Path, workers: int) -> dict[str, Any]:
        with Catalog.open(db) as cat:
            out = cat.ingest(source, workers=workers) if fn is None else fn(cat, source, workers=workers)
            return dict(out)

    return run


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:8,.0f} headers/s" if seconds > 0 else "inf"


def main() -> None:
    ap = argparse.ArgumentParser(description="cxrdb header-ingest benchmark")
    ap.add_argument("--n", type=int, default=10_000, help="number of DICOM files (default 10000)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--keep", type=Path, default=None, help="keep (and reuse) the source and catalogs in DIR")
    ap.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]

    print(
        f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), Python "
        f"{platform.python_version()}, pydicom {pydicom.__version__}"
    )
    tmp_ctx = tempfile.TemporaryDirectory(prefix="cxrdb-bench-") if args.keep is None else None
    work = Path(tmp_ctx.name) if tmp_ctx else args.keep.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        source = ensure_source(args.n, args.seed, args.keep.resolve() if args.keep else None, work)
        nbytes, dt = warm(source)
        print(f"warm-up: read {nbytes / 2**20:.1f} MiB in {dt:.2f} s")

        n, dt = baseline(source)
        print(f"floor      serial dcmread(stop_before_pixels)   {n:,} files in {dt:6.2f} s  {rate(n, dt)}")
        n, dt = naive_export(source)
        base_rate = n / dt
        print(f"baseline   serial export_metadata.py-style      {n:,} files in {dt:6.2f} s  {rate(n, dt)}")

        run = load_ingest()
        if run is None:
            print("ingest: skipped (leave this bench in place; it runs once Catalog.ingest exists)")
            return
        db = None
        for w in workers:
            db = work / f"catalog_w{w}.duckdb"
            for p in (db, db.with_name(db.name + ".wal")):
                p.unlink(missing_ok=True)
            t0 = time.perf_counter()
            summary = run(db, source, w)
            dt = time.perf_counter() - t0
            imgs = int(summary.get("images", 0))
            verdict = "OK" if imgs / dt >= TARGET else f"BELOW target {TARGET:,.0f}"
            print(
                f"ingest     workers={w}  fresh catalog            {imgs:,} images in {dt:6.2f} s  "
                f"{rate(imgs, dt)}  x{imgs / dt / base_rate:.2f} baseline  [{verdict}]"
            )
            print(f"           summary: {summary}")
            if imgs != n:
                print(f"           WARNING: ingest reported {imgs} images, the source has {n}")
        if db is not None:
            w = workers[-1]
            t0 = time.perf_counter()
            summary = run(db, source, w)
            dt = time.perf_counter() - t0
            print(f"re-run     workers={w}  nothing changed          {dt:6.2f} s  summary: {summary}")
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


if __name__ == "__main__":
    main()
