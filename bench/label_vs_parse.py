"""Labeling vs one spaCy parse pass on real report text (the scale target: both labelers >= 2x faster).

    python bench/label_vs_parse.py [--copies 1,3] [--workers 1,2] [--repeats 3] [--against DIR]

Input: the Indiana dev reports (findings + impression, as ``bench/label.py`` builds them), ``--copies K`` times
in a seeded shuffled order, so that the share of repeated sentences rises with K (1: Indiana's own; MIMIC's
assumed share 0.85, ``docs/scale.md``, lies between K=2 and K=3). Every measurement runs in a fresh process
(cold caches):

* **floor**: one ``nlp.pipe(texts, batch_size=256)`` of every labeler text with the labeler's own loader, load
  excluded (as ``bench/scale.py``'s ``parse_floor``);
* **label**: ``cxrdb.labeling.run.label(catalog, ("chexpert", "negbio"), workers=W)`` on a catalog holding
  those texts, worker start-up and spaCy loads included (what a build pays), catalog writes included.

Wall time and CPU time (the process plus its reaped children: the pool's workers) of each; the floor and the
label runs interleave over ``--repeats``. ``--against DIR`` also labels with the ``cxrdb`` package in DIR (an
unpacked older commit, e.g. ``git archive <commit> | tar -x -C DIR``), interleaved, for a before/after. Prints
per configuration the median of floor / label (how many times faster than one parse pass; >= 2 is the target)
and its inverse, in wall and in CPU time.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _cpu import workers_cpu  # noqa: E402

IU = ROOT / "tests" / "data" / "reports" / "iu_reports_dev.csv"
LABELERS = ("chexpert", "negbio")


def texts(copies: int, seed: int = 0) -> list[str]:
    """The non-empty Indiana labeler texts (findings then impression), ``copies`` times, shuffled (seeded)."""
    with IU.open(newline="", encoding="utf-8") as fh:
        one = [f"{r['findings']} {r['impression']}".strip() for r in csv.DictReader(fh)]
    out = [t for t in one if t] * copies
    if copies > 1:
        random.Random(seed).shuffle(out)
    return out


def repeat_share(items: list[str]) -> float:
    """Share of (CheXpert-cleaned) sentence occurrences that repeat an earlier one."""
    from cxrdb.labeling.clean import clean_text
    from cxrdb.labeling.sentences import split_sentences
    from cxrdb.labeling.vocabulary import default_vocabulary

    vocab = default_vocabulary()
    seen: set[str] = set()
    total = repeats = 0
    for t in items:
        for _, _, s in split_sentences(clean_text(t, True), vocab):
            total += 1
            repeats += s in seen
            seen.add(s)
    return repeats / max(1, total)


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime + workers_cpu()


def floor(items: list[str]) -> dict[str, Any]:
    """One parse of every text (load excluded)."""
    from cxrdb.labeling.parse import load_spacy

    t0 = time.perf_counter()
    nlp = load_spacy(indexed_rules=False)  # spaCy's pipeline as it loads it
    load = time.perf_counter() - t0
    c0, t0 = _cpu(), time.perf_counter()
    for _doc in nlp.pipe(items, batch_size=256):
        pass
    return {"wall": time.perf_counter() - t0, "cpu": _cpu() - c0, "load": load, "texts": len(items),
            "repeat_share": repeat_share(items)}


def label(items: list[str], workers: int, tmp: Path) -> dict[str, Any]:
    """Both labelers over the texts through the catalog labeling stage."""
    from cxrdb.catalog import Catalog
    from cxrdb.labeling.run import label as run_label

    rows = [{"study_id": 50_000_000 + i, "subject_id": 10_000_000, "path": f"files/p10/p10000000/s{50_000_000 + i}.txt",
             "text": t, "section": "findings", "labeler_text": t} for i, t in enumerate(items)]
    with Catalog.open(tmp / "bench.duckdb") as cat:
        with cat.transaction():
            cat.write_rows("raw.reports", rows)
        c0, t0 = _cpu(), time.perf_counter()
        res = run_label(cat, LABELERS, workers=workers)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        _, out = cat.query("SELECT labeler, count(*) FROM work.labels GROUP BY ALL ORDER BY 1")
    assert all(n == len(items) for _, n in out) and len(out) == len(LABELERS), (out, res)
    return {"wall": wall, "cpu": cpu, "labeled": res.labeled}


def _child(args: argparse.Namespace) -> None:
    items = texts(args.copies, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        out = floor(items) if args.child == "floor" else label(items, args.workers, Path(tmp))
    print(json.dumps(out))


def _run(tree: Path, kind: str, copies: int, workers: int, seed: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--copies", str(copies),
           "--workers", str(workers), "--seed", str(seed)]
    done = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", default="1,3", help="comma-separated copy counts of the Indiana set")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts for labeling")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--against", type=Path, action="append", default=[],
                    help="another source tree whose cxrdb package also labels (repeatable)")
    ap.add_argument("--child", choices=("floor", "label"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.workers = int(args.workers)
        args.copies = int(args.copies)
        _child(args)
        return
    copies = [int(c) for c in args.copies.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    trees = [ROOT, *(p.resolve() for p in args.against)]
    floors: dict[int, list[dict[str, Any]]] = {k: [] for k in copies}
    labels: dict[tuple[Path, int, int], list[dict[str, Any]]] = {}
    for r in range(args.repeats):
        for k in copies:
            f = _run(ROOT, "floor", k, 1, args.seed)
            floors[k].append(f)
            print(f"[{r}] copies {k}: floor {f['wall']:.2f} s wall, {f['cpu']:.2f} s CPU ({f['texts']} texts, "
                  f"repeat share {f['repeat_share']:.2f}, load {f['load']:.1f} s)", flush=True)
            for tree in trees:
                for w in workers:
                    res = _run(tree, "label", k, w, args.seed)
                    labels.setdefault((tree, k, w), []).append(res)
                    print(f"[{r}] copies {k}: {tree.name} label workers={w}: {res['wall']:.2f} s wall, "
                          f"{res['cpu']:.2f} s CPU", flush=True)
    print("\nx = one parse pass / both labelers, i.e. how many times faster (medians over repeats; target >= 2);"
          " share = both labelers' time / one parse pass")
    for (tree, k, w), runs in labels.items():
        fw = statistics.median(f["wall"] for f in floors[k])
        fc = statistics.median(f["cpu"] for f in floors[k])
        lw = statistics.median(x["wall"] for x in runs)
        lc = statistics.median(x["cpu"] for x in runs)
        share = floors[k][0]["repeat_share"]
        print(f"{tree.name:>14} copies {k} (repeat share {share:.2f}) workers {w}: wall {fw:.2f} / {lw:.2f} = "
              f"x{fw / lw:.2f} (share {lw / fw:.2f}); CPU {fc:.2f} / {lc:.2f} = x{fc / lc:.2f} (share {lc / fc:.2f})")


if __name__ == "__main__":
    main()
