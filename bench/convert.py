"""Benchmark the DICOM → JPG conversion against the published function, by worker count, stage and decoder.

    python bench/convert.py [--images 32] [--passes 3] [--tmp DIR]

1. Generates full-size 3056×2544 12-bit uncompressed DICOMs (half MONOCHROME2, half MONOCHROME1) from a real
   public radiograph (tests/data/dicom, upscaled, with per-image noise) into a temp dir.
2. Single worker, each variant in a fresh process: the published function vs ``convert_one`` (and
   ``convert_one`` without the allocator tuning), images/s, ratio, per-stage ms, peak RSS; all JPG bytes
   compared.
3. ``cxrdb.executor.run_map`` with 1 and 2 workers: images/s (steady state and wall incl. pool start).
4. Decoder table on the real compressed files: every available pydicom plugin, ms (wall and CPU), and
   whether it is pixel-identical to pylibjpeg.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxrdb.convert import PARAMS_FINGERPRINT, ConvertTask, convert_one  # noqa: E402
from cxrdb.convert.decode import decode, plugins_for, read_dataset  # noqa: E402
from cxrdb.convert.published import published_pixel_array, published_pixels  # noqa: E402
from cxrdb.convert.synth import make_dicom  # noqa: E402
from cxrdb.executor import run_map  # noqa: E402

ROWS, COLS = 3056, 2544
DATA = ROOT / "tests" / "data" / "dicom"
STAGES = ("t_read", "t_pixels", "t_encode", "t_write")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb() -> float:
    """Current resident set size of this process (MiB)."""
    return _status_mb("VmRSS")


def peak_rss_mb() -> float:
    """Peak RSS since the last :func:`reset_peak` (VmHWM; ru_maxrss survives exec, so not that)."""
    return _status_mb("VmHWM")


def reset_peak() -> float:
    """Reset this process's peak-RSS mark (Linux clear_refs 5); return the current RSS as the baseline."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    return vm_rss_mb()


def cpu_ceiling() -> float:
    """How much faster 2 processes run a pure-CPU loop than 1 right now (2.0 on an idle 2-core box)."""
    t = time.perf_counter()
    _spin(0)
    one = time.perf_counter() - t
    with mp.get_context("fork").Pool(2) as pool:
        t = time.perf_counter()
        pool.map(_spin, [0, 1])
        two = time.perf_counter() - t
    return 2 * one / two


def _spin(_: int) -> None:
    x = 0
    for i in range(4_000_000):
        x += i


def generate(out: Path, n: int) -> list[Path]:
    """n full-size 12-bit MONOCHROME2/1 DICOMs from an upscaled real radiograph plus per-image noise."""
    out.mkdir(parents=True, exist_ok=True)
    base = read_dataset(str(DATA / "dicom-test-files__RG2_RLE.dcm")).pixel_array.astype(np.float32)
    base = cv2.resize(base, (COLS, ROWS), interpolation=cv2.INTER_LINEAR)
    base = (base - base.min()) / (base.max() - base.min()) * 3800 + 100
    paths = []
    for i in range(n):
        rng = np.random.default_rng(i)
        noisy = base + rng.normal(0, 6, base.shape).astype(np.float32)
        img = np.clip(noisy, 0, 4095).astype(np.uint16)
        pi = "MONOCHROME2" if i % 2 == 0 else "MONOCHROME1"
        if pi == "MONOCHROME1":
            img = 4095 - img
        paths.append(Path(make_dicom(str(out / f"img{i:03d}.dcm"), img, photometric=pi, bits_stored=12)))
    return paths


def _published_one(src: str, dest: str) -> dict[str, float]:
    """The published function with its stages timed (dcmread + pixel_array, pixels, imwrite)."""
    import pydicom

    t0 = time.perf_counter()
    ds = pydicom.dcmread(src)
    raw = published_pixel_array(ds)
    t1 = time.perf_counter()
    final = published_pixels(raw, str(ds.PhotometricInterpretation))
    t2 = time.perf_counter()
    cv2.imwrite(dest, final)
    t3 = time.perf_counter()
    return {"t_read": t1 - t0, "t_pixels": t2 - t1, "t_encode+write": t3 - t2}


def _single_run(variant: str, srcs: list[str], out_dir: str) -> dict:
    """Run one variant over all sources in this (fresh) process; return timings and memory."""
    rss0 = reset_peak()  # after imports, before any image: the baseline the per-image working set adds to
    warm = srcs[:2]
    for i, s in enumerate(warm):  # warm imports, decoders, encoder
        if variant == "published":
            _published_one(s, os.path.join(out_dir, f"warm{i}.jpg"))
        else:
            convert_one(ConvertTask("w", s, os.path.join(out_dir, f"warm{i}.jpg")))
    stages: list[dict[str, float]] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    for s in srcs:
        dest = os.path.join(out_dir, Path(s).stem + ".jpg")
        if variant == "published":
            stages.append(_published_one(s, dest))
        else:
            r = convert_one(ConvertTask(Path(s).stem, s, dest))
            assert r["ok"], r["error"]
            stages.append({k: r[k] for k in STAGES})
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {"wall": wall, "cpu": cpu, "stages": stages, "rss0": rss0, "peak": peak_rss_mb()}


def single_worker(variant: str, srcs: list[str], out_dir: str, env: dict[str, str] | None = None) -> dict:
    """``_single_run`` in a fresh spawned process (clean allocator state, honest peak RSS)."""
    old = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        with mp.get_context("spawn").Pool(1) as pool:
            return pool.apply(_single_run, (variant, srcs, out_dir))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_base_rss: float | None = None


def bench_task(task: ConvertTask) -> dict:
    """convert_one plus this worker's pid, baseline RSS (before its first image) and peak RSS."""
    global _base_rss
    if _base_rss is None:
        _base_rss = reset_peak()
    r = convert_one(task)
    r.update(pid=os.getpid(), rss0=_base_rss, peak=peak_rss_mb(), t_done=time.time())
    return r


def scaling(srcs: list[str], out: Path, workers: int, passes: int) -> dict:
    tasks = [
        ConvertTask(f"{p}-{i}", s, str(out / f"w{workers}" / f"p{p}" / f"{i:03d}.jpg"))
        for p in range(passes)
        for i, s in enumerate(srcs)
    ]
    t0 = time.time()
    results = list(run_map(bench_task, tasks, workers=workers, batch_size=1))
    wall = time.time() - t0
    assert all(r["ok"] for r in results), [r["error"] for r in results if not r["ok"]][:3]
    done = sorted(r["t_done"] for r in results)
    k = max(1, workers)  # steady state: from the first result of every worker to the last result
    steady = (len(done) - k) / (done[-1] - done[k - 1])
    per_pid: dict[int, float] = {}
    for r in results:
        if r["pid"] != os.getpid():  # inline run: the bench process itself, baseline not meaningful
            per_pid[r["pid"]] = max(per_pid.get(r["pid"], 0.0), r["peak"] - r["rss0"])
    return {"n": len(tasks), "wall_ips": len(tasks) / wall, "steady_ips": steady, "mem": per_pid}


def decoder_table() -> list[tuple]:
    rows = []
    for path in sorted(DATA.glob("*.dcm")):
        ds = read_dataset(str(path))
        ts = ds.file_meta.TransferSyntaxUID
        if not ts.is_compressed:
            continue
        try:
            ref = published_pixel_array(read_dataset(str(path)), "pylibjpeg")
        except Exception:
            ref = None
        chosen = plugins_for(ts)[0] if plugins_for(ts) else "-"
        for plugin in plugins_for(ts):
            best_wall = best_cpu = float("inf")
            same: str = "-"
            for _ in range(3):
                d = read_dataset(str(path))
                w0, c0 = time.perf_counter(), time.process_time()
                try:
                    arr = decode(d, plugin).array
                except Exception:
                    same = "fails"
                    break
                best_wall = min(best_wall, time.perf_counter() - w0)
                best_cpu = min(best_cpu, time.process_time() - c0)
                same = "yes" if ref is not None and arr.dtype == ref.dtype and np.array_equal(arr, ref) else "no"
            rows.append((path.name.split("__")[-1], ts.name, plugin, best_wall * 1e3, best_cpu * 1e3, same, chosen))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=32, help="full-size DICOMs to generate (default 32)")
    ap.add_argument("--passes", type=int, default=3, help="passes over them for the scaling runs (default 3)")
    ap.add_argument("--reps", type=int, default=2, help="alternating repetitions of the worker runs (best kept)")
    ap.add_argument("--tmp", default=None, help="directory for generated data (default: a new temp dir)")
    ap.add_argument("--skip-decoders", action="store_true", help="skip the decoder table")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cxrdb-bench-", dir=args.tmp))
    try:
        print(f"cxrdb convert bench  fingerprint={PARAMS_FINGERPRINT}  cores={os.cpu_count()}")
        t = time.perf_counter()
        srcs = [str(p) for p in generate(tmp / "dcm", args.images)]
        pix_mb = ROWS * COLS * 2 / 2**20
        print(f"generated {len(srcs)} × {ROWS}×{COLS} 12-bit uncompressed ({pix_mb:.1f} MiB pixels each) "
              f"in {time.perf_counter() - t:.1f}s")  # fmt: skip

        print("\n== single worker, same run, fresh process per variant ==")
        runs = {}
        for name, variant, env in (
            ("published", "published", None),
            ("cxrdb", "ours", None),
            ("cxrdb, no malloc tuning", "ours", {"CXRDB_MALLOC_TUNE": "0"}),
        ):
            out = tmp / name.replace(" ", "_").replace(",", "")
            out.mkdir()
            runs[name] = single_worker(variant, srcs, str(out), env)
        pub = len(srcs) / runs["published"]["wall"]
        for name, r in runs.items():
            ips = len(srcs) / r["wall"]
            st = {k: statistics.mean(s[k] for s in r["stages"]) * 1e3 for k in r["stages"][0]}
            stage_txt = "  ".join(f"{k[2:]}={v:.1f}" for k, v in st.items())
            delta = r["peak"] - r["rss0"]
            print(f"{name:24s} {ips:6.2f} img/s {1e3 / ips:5.1f} ms/img (cpu {r['cpu'] / len(srcs) * 1e3:5.1f}) "
                  f"ratio={ips / pub:4.2f}x  "
                  f"stages ms: {stage_txt}  peak RSS {r['peak']:.0f} MiB (+{delta:.0f} MiB over baseline "
                  f"= {delta / pix_mb:.2f}x image pixel bytes)")  # fmt: skip
        same = sum(
            (tmp / "published" / (Path(s).stem + ".jpg")).read_bytes()
            == (tmp / "cxrdb" / (Path(s).stem + ".jpg")).read_bytes()
            for s in srcs
        )
        print(f"JPG bytes identical published vs cxrdb: {same}/{len(srcs)}")
        shutil.rmtree(tmp / "published")
        shutil.rmtree(tmp / "cxrdb")

        print(f"\n== workers (cxrdb.executor.run_map; 1 = inline; best of {args.reps}) ==")
        ceiling = cpu_ceiling()
        print(f"machine check: 2 processes of a pure-CPU loop run {ceiling:.2f}x faster than 1 "
              f"(2.00 = two idle cores; less = other load on the box); load avg {os.getloadavg()[0]:.2f}")  # fmt: skip
        best: dict[int, dict] = {}
        for _rep in range(args.reps):  # alternate worker counts; keep the best (the box may be shared)
            for w in (1, 2):
                r = scaling(srcs, tmp / "scale", w, args.passes)
                shutil.rmtree(tmp / "scale")
                if w not in best or r["steady_ips"] > best[w]["steady_ips"]:
                    best[w] = r
        base = best[1]["steady_ips"]
        for w, r in best.items():
            mem = ", ".join(f"+{m:.0f} MiB ({m / pix_mb:.2f}x)" for m in r["mem"].values()) or "n/a (inline)"
            print(f"workers={w}: {r['steady_ips']:6.2f} img/s steady ({r['steady_ips'] / base:4.2f}x vs 1), "
                  f"{r['wall_ips']:6.2f} img/s wall incl. start-up, n={r['n']}; peak RSS over baseline "
                  f"per worker: {mem}")  # fmt: skip

        if not args.skip_decoders:
            print("\n== decoders on the real compressed files (best of 3; identical = vs pydicom+pylibjpeg) ==")
            print(f"{'file':28s} {'transfer syntax':46s} {'plugin':10s} {'wall ms':>8s} {'cpu ms':>8s} "
                  f"{'identical':>9s}  chosen")  # fmt: skip
            for f, ts, plugin, wall, cpu, same_, chosen in decoder_table():
                mark = "*" if plugin == chosen else ""
                print(f"{f:28s} {ts[:46]:46s} {plugin:10s} {wall:8.1f} {cpu:8.1f} {same_:>9s}  {mark}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
