"""Benchmark `cxrdb diff` on generated MIMIC-shaped releases at several sizes, against hashing every file.

    python bench/diff.py [--images 10000 40000] [--tmp DIR] [-j 2]

For each size, writes a release of N tiny JPGs (64x64, each its own pixels) in the MIMIC-CXR-JPG layout with the
four tables (~1.65 images per study, random labels), SHA256SUMS.txt and IMAGE_FILENAMES, and a second release
that hard-links every file of the first except a known set of perturbations: 0.1% of the JPGs re-encoded, 1% of
the metadata rows with one value changed, 0.5% of the images in another split, 2% of the label cells flipped.
Then runs `diff` (checksums trusted where both folders vouch for a file) and `diff --rehash`, and, in the same
run, the reference: one process hashing every file of both folders with hashlib (what `sha256sum -c` on both
would cost). Prints per stage seconds, the marginal ms per image between sizes, peak RSS, and checks that every
perturbation was counted exactly.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import itertools
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from cxrdb.contract import OBSERVATIONS, TABLES  # noqa: E402
from cxrdb.diff import report as report_module  # noqa: E402
from cxrdb.diff import tables as tables_module  # noqa: E402

LABEL_VALUES = ("1.0", "0.0", "-1.0", "", "", "", "", "")  # blank most often, as in the published files


def _gz(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([list(header), *rows])
    path.write_bytes(gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=1, mtime=0))


def _padded(jpg: bytes, kb: int) -> bytes:
    """The JPG grown to about ``kb`` KiB with comment (COM) segments after SOI: decoders skip them."""
    pad, out = kb * 1024 - len(jpg), [jpg[:2]]
    while pad > 4:
        n = min(pad - 4, 65533)
        out.append(b"\xff\xfe" + (n + 2).to_bytes(2, "big") + os.urandom(n))
        pad -= n + 4
    return b"".join([*out, jpg[2:]])


def make_release(root: Path, n: int, seed: int = 0, kb: int = 0) -> dict[str, Any]:
    """A release of ``n`` images (each about ``kb`` KiB when set); returns its rows (to perturb a copy)."""
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    base = np_rng.integers(0, 255, (64, 64), dtype=np.uint8)
    meta, split, studies, paths = [], [], [], []
    subject, study, left = 10_000_000, 50_000_000, 0
    for i in range(n):
        if left == 0:
            study += rng.randint(1, 40)
            left = rng.choice((1, 1, 2, 2, 2, 3))
            if rng.random() < 0.3 or not studies:
                subject += rng.randint(1, 30)
            studies.append([str(subject), str(study), *(rng.choice(LABEL_VALUES) for _ in OBSERVATIONS)])
        left -= 1
        dicom_id = f"{rng.getrandbits(160):040x}"
        rel = f"files/p{str(subject)[:2]}/p{subject}/s{study}/{dicom_id}.jpg"
        img = base.copy()
        img[i % 64, :] = i % 251  # each image its own pixels, hence its own bytes
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(_padded(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes(), kb))
        paths.append(rel)
        meta.append([dicom_id, str(subject), str(study), "CHEST (PA AND LAT)", rng.choice(("PA", "AP", "LATERAL")),
                     "3056", "2544", "21800506", f"{rng.randint(0, 235959)}.{rng.randint(0, 999)}",
                     "CHEST (PA AND LAT)", "postero-anterior", "Erect"])
        split.append([dicom_id, str(study), str(subject), "train"])
    tables = {t.view.removeprefix("release."): t for t in TABLES}
    _gz(root / tables["metadata"].name, tables["metadata"].columns, meta)
    _gz(root / tables["split"].name, tables["split"].columns, split)
    for labeler in ("chexpert", "negbio"):
        _gz(root / tables[labeler].name, tables[labeler].columns, studies)
    (root / "IMAGE_FILENAMES").write_text("".join(p + "\n" for p in paths), encoding="utf-8")
    sums = [f"{hashlib.sha256((root / p).read_bytes()).hexdigest()} {p}\n"
            for p in sorted([*paths, *(t.name for t in tables.values()), "IMAGE_FILENAMES"])]
    (root / "SHA256SUMS.txt").write_text("".join(sums), encoding="utf-8")
    return {"meta": meta, "split": split, "studies": studies, "paths": paths, "tables": tables}


def perturbed_copy(ours: Path, theirs: Path, rows: dict[str, Any], seed: int = 1) -> dict[str, int]:
    """Hard-link ``ours`` into ``theirs``, then rewrite the perturbed files; returns the expected counts."""
    rng = random.Random(seed)
    for dirpath, _dirs, names in os.walk(ours):
        target = theirs / Path(dirpath).relative_to(ours)
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            os.link(Path(dirpath) / name, target / name)
    n = len(rows["paths"])
    changed = rng.sample(rows["paths"], max(1, n // 1000))
    for rel in changed:
        img = cv2.imread(str(theirs / rel), cv2.IMREAD_GRAYSCALE)
        (theirs / rel).unlink()
        (theirs / rel).write_bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    meta = [list(r) for r in rows["meta"]]
    for r in rng.sample(meta, max(1, n // 100)):
        r[4] = {"PA": "AP", "AP": "LATERAL", "LATERAL": "PA"}[r[4]]
    split = [list(r) for r in rows["split"]]
    for r in rng.sample(split, max(1, n // 200)):
        r[3] = "test"
    cells = 0
    studies = [list(r) for r in rows["studies"]]
    for r in studies:
        for i in range(2, len(r)):
            if rng.random() < 0.02:
                r[i] = "1.0" if r[i] != "1.0" else ""
                cells += 1
    t = rows["tables"]
    for name, data in (("metadata", meta), ("split", split), ("chexpert", studies)):
        (theirs / t[name].name).unlink()
        _gz(theirs / t[name].name, t[name].columns, data)
    return {"jpgs_differ": len(changed), "metadata_rows_differ": max(1, n // 100), "split_moves": max(1, n // 200),
            "chexpert_labels_differ": cells, "negbio_labels_differ": 0}


def hash_everything(roots: tuple[Path, Path]) -> int:
    """The reference: one process reading and hashing every file of both folders."""
    files = 0
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                digest = hashlib.sha256()
                with open(os.path.join(dirpath, name), "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(block)
                files += 1
    return files


def timed_stages() -> dict[str, float]:
    """Wrap the diff's stages with timers (module attributes the orchestration calls through)."""
    spent: dict[str, float] = defaultdict(float)

    def wrap(module: Any, name: str, stage: str) -> None:
        fn: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - t0

        setattr(module, name, timed)

    wrap(report_module, "list_side", "walk both folders")
    wrap(report_module, "compare_files", "compare / hash files")
    wrap(report_module, "_pixels", "decode differing JPGs")
    wrap(tables_module, "compare_rows", "metadata + split tables")
    wrap(tables_module, "compare_labels", "label tables")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--tmp", type=Path, default=None)
    parser.add_argument("-j", "--workers", type=int, default=None)
    parser.add_argument("--jpg-kb", type=int, default=0,
                        help="Pad each JPG to about this many KiB (MIMIC-CXR-JPG's average is ~1,500).")
    args = parser.parse_args()
    spent = timed_stages()
    results = []
    for n in args.images:
        work = Path(tempfile.mkdtemp(prefix=f"cxrdb-bench-diff-{n}-", dir=args.tmp))
        try:
            t0 = time.perf_counter()
            rows = make_release(work / "ours", n, kb=args.jpg_kb)
            expected = perturbed_copy(work / "ours", work / "theirs", rows)
            print(f"{n:,} images: generated in {time.perf_counter() - t0:.1f} s", flush=True)
            os.sync()
            line: dict[str, Any] = {"n": n}
            for label, rehash in (("diff", False), ("diff --rehash", True)):
                spent.clear()
                t0 = time.perf_counter()
                result = report_module.diff(work / "ours", work / "theirs", rehash=rehash, workers=args.workers)
                line[label] = time.perf_counter() - t0
                line[f"{label} stages"] = dict(spent)
                s = result.report["summary"]
                got = {k: s[k] for k in expected}
                assert got == expected, (label, got, expected)
            t0 = time.perf_counter()
            files = hash_everything((work / "ours", work / "theirs"))
            line["hash every file (reference)"] = time.perf_counter() - t0
            line["files"] = files
            results.append(line)
            print(f"  diff {line['diff']:.2f} s, diff --rehash {line['diff --rehash']:.2f} s, one process hashing "
                  f"all {files:,} files {line['hash every file (reference)']:.2f} s: diff is "
                  f"x{line['hash every file (reference)'] / line['diff']:.2f} the reference; every perturbation "
                  f"counted exactly ({', '.join(f'{k} {v}' for k, v in expected.items())})", flush=True)
            for stage, secs in line["diff stages"].items():
                print(f"    {stage:<26} {secs:7.2f} s  {1000 * secs / n:.3f} ms/image", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    for a, b in itertools.pairwise(results):
        dn = b["n"] - a["n"]
        print(f"marginal {a['n']:,} -> {b['n']:,}: diff {1000 * (b['diff'] - a['diff']) / dn:.3f} ms/image, "
              f"--rehash {1000 * (b['diff --rehash'] - a['diff --rehash']) / dn:.3f} ms/image, reference "
              f"{1000 * (b['hash every file (reference)'] - a['hash every file (reference)']) / dn:.3f} ms/image")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
