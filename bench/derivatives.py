"""Benchmark what smaller copies (``--size``) add to the conversion of a full-size image, in the same run.

    python bench/derivatives.py [--images 8] [--reps 3] [--tmp DIR]

Generates full-size 3056×2544 12-bit uncompressed DICOMs (as bench/convert.py does: a real public radiograph,
upscaled, per-image noise, half MONOCHROME1), then converts them with ``convert_one`` in one process, the
variants interleaved image by image (none / --size 512 / --size 512 --size 224, each with the default
``--resize area`` and with ``--resize fast``), each repeated; per image the fastest repetition counts (the box may
be shared). Prints ms per image (wall and CPU) and the ratio to the conversion without copies; the target is
under 1.15 for one copy. Also checks that the full-size JPG bytes do
not depend on the copies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from convert import COLS, ROWS, generate  # noqa: E402  (bench/convert.py: the same full-size images)

from cxrdb.convert import ConvertTask, convert_one  # noqa: E402

#: name -> (sizes, resize method): the default area and the explicit --resize fast
VARIANTS: dict[str, tuple[tuple[int, ...], str]] = {
    "full size only": ((), "area"), "+ 512": ((512,), "area"), "+ 512 + 224": ((512, 224), "area"),
    "+ 512 fast": ((512,), "fast"), "+ 512 + 224 fast": ((512, 224), "fast")}


def run_once(src: str, out: Path, name: str, variant: tuple[tuple[int, ...], str]) -> tuple[float, float, dict]:
    """(wall s, cpu s, result) of one convert_one writing the full-size JPG and the variant's copies."""
    stem = Path(src).stem
    sizes, method = variant
    task = ConvertTask(stem, src, str(out / name / f"{stem}.jpg"),
                       derivatives=tuple((n, str(out / name / f"{stem}_{n}.jpg")) for n in sizes), resize=method)
    c0, t0 = time.process_time(), time.perf_counter()
    res = convert_one(task)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert res["ok"] and all(d["ok"] for d in res["derivatives"]), res["error"]
    return wall, cpu, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=8, help="full-size DICOMs to generate (default 8)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of every (image, variant); fastest kept")
    ap.add_argument("--tmp", default=None, help="directory for generated data (default: a new temp dir)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cxrdb-bench-deriv-", dir=args.tmp))
    try:
        srcs = [str(p) for p in generate(tmp / "dcm", args.images)]
        print(f"cxrdb derivatives bench: {len(srcs)} × {ROWS}×{COLS} 12-bit uncompressed, {args.reps} reps, "
              f"load avg {os.getloadavg()[0]:.2f}, cores {os.cpu_count()}")
        for name in VARIANTS:
            (tmp / "out" / name).mkdir(parents=True)
            run_once(srcs[0], tmp / "out", name, VARIANTS[name])  # warm decoders, encoder, allocator
        best: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
        derive: dict[str, list[float]] = {name: [] for name in VARIANTS}
        digests: dict[str, list[str]] = {name: [] for name in VARIANTS}
        for src in srcs:
            runs: dict[str, list[tuple[float, float, dict]]] = {name: [] for name in VARIANTS}
            for _ in range(args.reps):
                for name, variant in VARIANTS.items():  # interleaved: load changes hit every variant alike
                    runs[name].append(run_once(src, tmp / "out", name, variant))
            for name, found in runs.items():
                wall, cpu, res = min(found, key=lambda r: r[0])
                best[name].append((wall, min(r[1] for r in found)))
                derive[name].append(res["t_derive"])
                digests[name].append(res["jpg_sha256"])
        base_wall = sum(w for w, _ in best["full size only"])
        base_cpu = sum(c for _, c in best["full size only"])
        for name, figures in best.items():
            wall, cpu = sum(w for w, _ in figures), sum(c for _, c in figures)
            print(f"{name:16s} {wall / len(srcs) * 1e3:7.1f} ms/img wall ({wall / base_wall:4.2f}x)  "
                  f"{cpu / len(srcs) * 1e3:7.1f} ms/img cpu ({cpu / base_cpu:4.2f}x)  "
                  f"copies: {sum(derive[name]) / len(srcs) * 1e3:5.1f} ms/img (resize + encode + write)")
        same = all(digests[name] == digests["full size only"] for name in VARIANTS)
        print(f"full-size JPG bytes identical with and without copies: {same}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
