#!/usr/bin/env python
"""Reports from an archive vs an unpacked tree (prints figures; not a timed test).

Generates N reports in MIMIC's layout from the demo's real reports (each made unique by one line), packs them as
a zip (deflate) and a .tar.gz, then times, each on a fresh catalog whose source holds one DICOM:
  (a) the reference a user would otherwise pay: unpacking the zip to disk (``ZipFile.extractall``);
  (b) ``ingest(cat, src, reports=R, workers=W)`` with R the tree, the zip and the .tar.gz;
  (c) a re-run of (b) with nothing changed (reads no report; the tar is still listed front to back).

Usage: python bench/ingest_archive.py [--n 20000] [--workers 1,2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cxrdb.catalog import Catalog
from cxrdb.ingest import ingest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "source"
DICOM = sorted((ROOT / "tests" / "data" / "dicom").glob("*.dcm"))[0]


def make_reports(n: int) -> list[tuple[str, bytes]]:
    """N (member name, bytes) in MIMIC's layout, 3 studies per patient, cycling the demo's real texts."""
    texts = [p.read_bytes() for p in sorted(DEMO.rglob("*.txt"))]
    out = []
    for i in range(n):
        subject, study = 10_000_000 + i // 3, 50_000_000 + i
        out.append((f"files/p{str(subject)[:2]}/p{subject}/s{study}.txt",
                    texts[i % len(texts)] + f" Study {i}.\n".encode()))
    return out


def write_all(work: Path, reports: list[tuple[str, bytes]]) -> dict[str, Path]:
    tree = work / "tree"
    for name, data in reports:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    zpath, tpath = work / "mimic-cxr-reports.zip", work / "mimic-cxr-reports.tar.gz"
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in reports:
            zf.writestr(name, data)
    with tarfile.open(tpath, "w:gz") as tf:
        for name, data in reports:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_600_000_000
            tf.addfile(info, io.BytesIO(data))
    images = work / "images" / "files" / "p10" / "p10000000" / "s50000000"
    images.mkdir(parents=True)
    shutil.copyfile(DICOM, images / "00000000-00000000-00000000-00000000-00000000.dcm")
    return {"tree": tree, "zip": zpath, "tar.gz": tpath, "images": work / "images"}


def timed_ingest(db: Path, images: Path, reports: Path, workers: int) -> tuple[float, int]:
    with Catalog.open(db) as cat:
        t0 = time.perf_counter()
        got = ingest(cat, images, reports=reports, workers=workers)
        return time.perf_counter() - t0, got["reports_read"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temporary one)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="cxrdb-bench-archive-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        reports = make_reports(args.n)
        paths = write_all(work, reports)
        size = sum(len(d) for _, d in reports)
        print(f"{args.n} reports, {size / 1e6:.1f} MB; zip {paths['zip'].stat().st_size / 1e6:.1f} MB, "
              f"tar.gz {paths['tar.gz'].stat().st_size / 1e6:.1f} MB")
        t0 = time.perf_counter()
        with zipfile.ZipFile(paths["zip"]) as zf:
            zf.extractall(work / "unpacked")
        unpack = time.perf_counter() - t0
        print(f"(a) unpack the zip to disk: {unpack:.2f} s ({args.n / unpack:,.0f} reports/s)")
        for w in (int(x) for x in args.workers.split(",")):
            for kind in ("tree", "zip", "tar.gz"):
                db = work / f"c-{kind}-{w}.duckdb"
                first, read = timed_ingest(db, paths["images"], paths[kind], w)
                again, reread = timed_ingest(db, paths["images"], paths[kind], w)
                assert read == args.n and reread == 0, (read, reread)
                print(f"(b) {kind:6} -j {w}: {first:6.2f} s ({args.n / first:7,.0f} reports/s; "
                      f"{first / unpack:4.1f}x the unpack alone)   (c) unchanged re-run {again:5.2f} s")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
