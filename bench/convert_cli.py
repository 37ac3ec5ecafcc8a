"""End-to-end conversion through the CLI vs the published function, start-up included.

    python bench/convert_cli.py [--images 200] [--tmp DIR]

Generates a MIMIC-style source of full-size 3056×2544 12-bit uncompressed DICOMs (half MONOCHROME1), ingests
it once, then times, each as a fresh process on a fresh output folder:
  1. the published function in a plain serial loop (python -c ...), the naive reference;
  2. ``cxrdb convert -j 1``;
  3. ``cxrdb convert -j 2``.
Prints images/s, the ratios, and checks that every JPG of every run is byte-identical. No timed asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from convert import cpu_ceiling, generate  # noqa: E402

PUBLISHED_LOOP = """
import sys
from pathlib import Path
from cxrdb.convert.published import published_convert
src, out = Path(sys.argv[1]), Path(sys.argv[2])
for dcm in sorted(src.rglob('*.dcm')):
    dest = out / dcm.relative_to(src).with_suffix('.jpg')
    dest.parent.mkdir(parents=True, exist_ok=True)
    published_convert(str(dcm), str(dest))
"""


def layout(flat: list[Path], source: Path) -> None:
    """Move generated files into files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm, 2 images per study."""
    for i, path in enumerate(flat):
        subject, study = 10000000 + i // 6, 50000000 + i // 2
        folder = source / "files" / f"p{str(subject)[:2]}" / f"p{subject}" / f"s{study}"
        folder.mkdir(parents=True, exist_ok=True)
        path.rename(folder / f"{i:08x}-00000000-00000000-00000000-00000000.dcm")


def digest_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.jpg"))}


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--tmp", default=None)
    args = ap.parse_args()
    work = Path(args.tmp or tempfile.mkdtemp(prefix="cxrdb-bench-cli-"))
    cxrdb = [sys.executable, "-m", "cxrdb"]
    try:
        t0 = time.perf_counter()
        source = work / "source"
        layout(generate(work / "flat", args.images), source)
        print(f"source: {args.images} DICOMs 3056x2544 12-bit uncompressed in {time.perf_counter() - t0:.1f} s")
        subprocess.run([*cxrdb, "ingest", str(source), "--db", str(work / "c.duckdb")], check=True,
                       stdout=subprocess.DEVNULL)
        for p in source.rglob("*.dcm"):  # warm page cache
            p.read_bytes()
        print(f"cpu check: 2 processes run at {cpu_ceiling():.2f}x one process (2.0 = two idle cores)")
        results: dict[str, float] = {}
        trees: dict[str, dict[str, str]] = {}
        runs = [("published, serial", [sys.executable, "-c", PUBLISHED_LOOP, str(source / "files"),
                                       str(work / "out-published" / "files")], work / "out-published")]
        for j in (1, 2):
            db = work / f"c{j}.duckdb"
            shutil.copyfile(work / "c.duckdb", db)
            runs.append((f"cxrdb convert -j {j}", [*cxrdb, "convert", "--db", str(db), "--out", str(work / f"out-{j}"),
                                                   "-j", str(j)], work / f"out-{j}"))
        for name, cmd, out in runs:
            seconds = timed(cmd)
            results[name] = args.images / seconds
            trees[name] = digest_tree(out)
            print(f"{name:<22} {seconds:7.2f} s  {results[name]:6.1f} images/s")
        base = results["published, serial"]
        one, two = results["cxrdb convert -j 1"], results["cxrdb convert -j 2"]
        print(f"ratio -j 1 / published: {one / base:.2f}x   -j 2 / published: {two / base:.2f}x   "
              f"-j 2 / -j 1: {two / one:.2f}x")
        identical = len({tuple(sorted(t.items())) for t in trees.values()}) == 1
        print(f"JPGs byte-identical across the three runs: {identical} ({len(trees['cxrdb convert -j 1'])} files)")
    finally:
        if not args.tmp:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
