"""Benchmark report labeling: end-to-end reports/s through label_reports_csv, plus a per-stage breakdown.

    python bench/label.py [--labeler chexpert] [--workers N] [--repeat K] [INPUT.csv]

Default input: the Indiana dev reports (findings + impression) written to a temporary study_id,text CSV.
The stage breakdown (load, split, match, parse, classify, aggregate) comes from one in-process Labeler
run; the end-to-end figure includes process-pool start-up and spaCy loading in every worker.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from cxrdb.labeling.engine import STAGES, Labeler
from cxrdb.labeling.reports_csv import label_reports_csv, read_reports

ROOT = Path(__file__).resolve().parents[1]
IU = ROOT / "tests" / "data" / "reports" / "iu_reports_dev.csv"


def indiana_csv(dest: Path, repeat: int = 1) -> Path:
    """Write study_id,text (findings then impression) for the Indiana dev reports, ``repeat`` times."""
    with IU.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with dest.open("w", newline="", encoding="utf-8") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["study_id", "text"])
        for k in range(repeat):
            for r in rows:
                w.writerow([f"{r['uid']}-{k}" if k else r["uid"], f"{r['findings']} {r['impression']}".strip()])
    return dest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", type=Path)
    ap.add_argument("--labeler", default="chexpert")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="repeat the default input K times")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = args.input or indiana_csv(Path(tmp) / "reports.csv", args.repeat)
        texts = [t for _, t in read_reports(src)]
        n = len(texts)
        # per-stage breakdown, one process, cold cache
        lab = Labeler(args.labeler)
        t0 = time.perf_counter()
        for i in range(0, n, 2048):
            lab.label_many(texts[i : i + 2048])
        wall = time.perf_counter() - t0
        print(f"in-process ({args.labeler}): {n} reports in {wall:.2f} s = {n / wall:.0f} reports/s "
              f"(+ {lab.timings['load']:.2f} s load)")
        for st in STAGES:
            print(f"  {st:<10}{lab.timings[st]:8.3f} s")
        c = lab.counts
        print(f"  sentences {c['sentences']}, parsed {c['parsed']}, cache hits {c['cache_hits']}")
        # end to end through the CSV path (process pool)
        t0 = time.perf_counter()
        summary = label_reports_csv(src, Path(tmp) / "out.csv", labeler=args.labeler, workers=args.workers)
        e2e = time.perf_counter() - t0
        print(f"end-to-end label_reports_csv (workers={args.workers or 'default'}): {n} reports in {e2e:.2f} s "
              f"= {n / e2e:.0f} reports/s; parse failures {summary['parse_failures']}")


if __name__ == "__main__":
    main()
