#!/usr/bin/env python
"""Where an ingested header's time goes (prints figures; not a timed test).

On a generated source (bench/_synth.py), in one process and interleaved ``--repeat`` times, the per-header
cost of each step ingest takes, in µs per header:

  scan        cxrdb.source.scan (walk + stat + path checks), per image
  read        open + read of the whole file (the bytes dcmread needs are a subset)
  dcmread     pydicom.dcmread(stop_before_pixels=True) - the floor bench/ingest.py uses
  read_header cxrdb.ingest.headers.read_header (dcmread included): the worker's function
  pickle      pickling + unpickling the result batch (the pipe between worker and parent)
  row         the parent's per-row update (ids, path, size, mtime), as ingest/run.py does
  arrow       pa.Table.from_pylist(rows, schema=raw.images) in batches of 2,000
  insert      Catalog.write_rows(raw.images, replace_on=dicom_id) in a transaction, batches of 2,000

Usage: python bench/ingest_split.py [--n 5000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pydicom

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _synth import make_source

from cxrdb.catalog import Catalog
from cxrdb.ingest.headers import read_header
from cxrdb.source import scan

BATCH = 2000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="cxrdb-split-") if args.keep is None else None
    work = Path(tmp.name) if tmp else args.keep
    root = work / "source"
    if not (root / "files").is_dir():
        make_source(root, args.n, 0)
    times: dict[str, list[float]] = {}

    def rec(name: str, seconds: float, n: int) -> None:
        times.setdefault(name, []).append(seconds / n * 1e6)

    try:
        for rep in range(args.repeat):
            t = time.process_time()
            listing = scan(root, reports=False)
            files = listing.images
            n = len(files)
            rec("scan", time.process_time() - t, n)
            paths = [str(root / f.rel_path) for f in files]

            t = time.process_time()
            for p in paths:
                with open(p, "rb") as fh:
                    fh.read()
            rec("read", time.process_time() - t, n)

            t = time.process_time()
            for p in paths:
                pydicom.dcmread(p, stop_before_pixels=True)
            rec("dcmread", time.process_time() - t, n)

            t = time.process_time()
            results = [(f.rel_path, read_header(p)) for f, p in zip(files, paths, strict=True)]
            rec("read_header", time.process_time() - t, n)

            t = time.process_time()
            for i in range(0, n, 64):
                pickle.loads(pickle.dumps(results[i : i + 64], protocol=pickle.HIGHEST_PROTOCOL))
            rec("pickle", time.process_time() - t, n)

            t = time.process_time()
            by_rel = {f.rel_path: f for f in files}
            rows = []
            for rel, row in results:
                f = by_rel[rel]
                row.update(dicom_id=f.dicom_id, subject_id=f.subject_id, study_id=f.study_id, path=rel,
                           file_size=f.size, file_mtime_ns=f.mtime_ns)
                rows.append(row)
            rec("row", time.process_time() - t, n)

            db = work / f"c{rep}.duckdb"
            with Catalog.open(db) as cat:
                schema = cat.arrow_schema("raw.images")
                t = time.process_time()
                for i in range(0, n, BATCH):
                    pa.Table.from_pylist(rows[i : i + BATCH], schema=schema)
                rec("arrow", time.process_time() - t, n)
                t = time.process_time()
                for i in range(0, n, BATCH):
                    with cat.transaction():
                        cat.write_rows("raw.images", rows[i : i + BATCH], replace_on=("dicom_id",))
                rec("insert (arrow included)", time.process_time() - t, n)
            for p in work.glob(f"c{rep}.duckdb*"):
                p.unlink()
        print(f"{n:,} headers, {args.repeat} interleaved repeats, CPU µs per header (process time; min-max):")
        for name, v in times.items():
            print(f"  {name:24s} {min(v):8.1f} - {max(v):8.1f}   median {statistics.median(v):8.1f}")
        rh, dr = statistics.median(times["read_header"]), statistics.median(times["dcmread"])
        print(f"  read_header beyond dcmread: {rh - dr:.1f} µs ({rh / dr:.2f} x dcmread)")
    finally:
        if tmp:
            tmp.cleanup()
        elif args.keep:
            shutil.rmtree(args.keep / "unused", ignore_errors=True)


if __name__ == "__main__":
    main()
