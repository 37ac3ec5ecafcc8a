"""Benchmark report labeling: end-to-end reports/s through label_reports_csv, plus a per-stage breakdown.

    python bench/label.py [--labeler chexpert] [--workers N] [--repeat K] [INPUT.csv]
    python bench/label.py --errors COLUMN [--half odd|even|all] [--labeler negbio]

``--errors`` instead prints, for one gold column of the Indiana dev set, every false positive and false
negative (positive vs rest) with the mention's sentence, label and deciding rule, plus F1 per half. Rules
are developed on the odd uids; the even uids are the check.

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


def errors(labeler: str, column: str, half: str) -> None:
    """Print the false positives / negatives of one gold column with their evidence."""
    gold_path = IU.parent / "iu_gold_dev.csv"
    with IU.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with gold_path.open(newline="", encoding="utf-8") as fh:
        gold = {r["study_id"]: r for r in csv.DictReader(fh)}
    results = Labeler(labeler).label_many([f"{r['findings']} {r['impression']}".strip() for r in rows])
    counts = {h: [0, 0, 0] for h in ("odd", "even")}
    for r, res in zip(rows, results, strict=True):
        g_raw = gold.get(r["uid"], {}).get(column, "").strip()
        if not g_raw:
            continue
        g, p = float(g_raw) == 1.0, res.labels[column] == 1.0
        h = "odd" if int(r["uid"]) % 2 else "even"
        counts[h][0] += g and p
        counts[h][1] += p and not g
        counts[h][2] += g and not p
        if g == p or half not in ("all", h):
            continue
        print(f"--- {'fp' if p else 'fn'} uid={r['uid']} predicted={res.labels[column]}")
        shown = [e for e in res.evidence if e["observation"] == column
                 or (column == "No Finding" and e["label"] in (1.0, -1.0) and e["observation"] != "Support Devices")]
        for e in shown:
            print(f"   [{e['observation']}|{e['phrase']}|{e['label']}|{e['rule']}] {e['sentence'][:200]}")
        if not shown:
            print(f"   (no mention) {r['findings']} {r['impression']}"[:300])
    for h, (tp, fp, fn) in counts.items():
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        print(f"{column} {h}: F1 {f1:.3f} (tp {tp}, fp {fp}, fn {fn})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", type=Path)
    ap.add_argument("--labeler", default="chexpert")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1, help="repeat the default input K times")
    ap.add_argument("--errors", metavar="COLUMN", help="print the Indiana dev errors of one column instead")
    ap.add_argument("--half", default="odd", choices=("odd", "even", "all"), help="uids to print with --errors")
    args = ap.parse_args()
    if args.errors:
        errors(args.labeler, args.errors, args.half)
        return
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
        print(f"  sentences {c['sentences']}, graphs needed {c['parsed']} ({c['graph_hits']} already built), "
              f"cache hits {c['cache_hits']}")
        # end to end through the CSV path (process pool)
        t0 = time.perf_counter()
        summary = label_reports_csv(src, Path(tmp) / "out.csv", labeler=args.labeler, workers=args.workers)
        e2e = time.perf_counter() - t0
        print(f"end-to-end label_reports_csv (workers={args.workers or 'default'}): {n} reports in {e2e:.2f} s "
              f"= {n / e2e:.0f} reports/s; parse failures {summary['parse_failures']}")


if __name__ == "__main__":
    main()
