#!/usr/bin/env python
"""Scale benchmark: a whole ``build`` on a generated MIMIC-shaped source at several sizes (prints figures).

For each size it generates a source in a child process, so the generator's heap is not the build's
(header-realistic DICOMs with 64x64 pixels from ``bench/_synth.py``; about 1.66 images per study and 3.5 studies
per patient, as MIMIC-CXR's 377,110 / 227,827 / 65,379; one report per study in MIMIC's layout built from real
public sentences), warms the page cache, then in one process:

* the floors: one process reading every header with ``pydicom.dcmread(stop_before_pixels=True)`` (before and
  after ingest: a range), and one spaCy parse (the labeler's own loader) of every report's labeler text;
* the body of ``cxrdb.build.build`` stage by stage: ingest, convert (tiny images), label (both labelers), split,
  export (tables, README, SHA256SUMS), check (``check_catalog`` + ``verify_release``), each with seconds,
  items/s and the peak RSS/PSS of the parent and of its largest worker (a sampler thread reads /proc);
* the no-op re-run: ``cxrdb.build.build`` again on the same catalog and release (nothing to do);
* the catalog's bytes per 1,000 images.

Then per stage the marginal ms per item between consecutive sizes, and the ratios against the targets:
ingest >= 0.8 x the dcmread floor (headers/s), no-op < 10 % of the first build, marginal cost growth
(40-120k vs 10-40k) <= 1.2, labeling >= 2 x faster than one parse pass over every report.

Reports: sentences of the Indiana University reports (tests/data/reports/iu_reports_dev.csv, Open-i; see
tests/data/PROVENANCE.md) drawn with their Indiana frequencies; with probability ``1 - --repeat-share`` a
sentence slot instead gets a sentence never seen before (two real sentences joined by a connective), so the
share of sentence occurrences that repeat an earlier one is controllable (printed as measured). The generated
texts live only in the temporary source and are deleted with it. Default 0.85 (see docs/scale.md: Heaps'-law
extrapolation of Indiana's own repetition to MIMIC's ~1.4 M sentences).

Usage: python bench/scale.py [--sizes 10000,40000,120000 | --images N] [--workers N] [--repeat-share 0.85]
                             [--work DIR] [--keep] [--parse-floor-max N] [--json FILE] [--seed 0]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from itertools import accumulate
from pathlib import Path
from typing import Any

import psutil
import pydicom

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _cpu import workers_cpu  # noqa: E402
from _synth import PROCESSING, VIEWS, _Patcher, _uid, list_dicoms  # noqa: E402

IU = HERE.parent / "tests" / "data" / "reports" / "iu_reports_dev.csv"
STAGES = ("ingest", "convert", "label", "split", "export", "check")
BUILD_STAGES = STAGES[:-1]  # what build() runs (check is extra)
TARGETS = {"ingest_vs_floor": 0.8, "noop_share": 0.10, "marginal_growth": 1.2, "label_vs_parse": 2.0,
           "convert_overhead_ms": 1.0, "peak_rss_mib": 2048, "noop_full_size_s": 60}
IMAGES_PER_STUDY = ((1, 44), (2, 47), (3, 8), (4, 1))  # mean 1.66 (MIMIC: 377,110 / 227,827 = 1.655)
MEAN_STUDIES_PER_PATIENT = 3.48  # MIMIC: 227,827 / 65,379
CONNECTIVES = (", and ", "; ", ", however ", ", with ", ", although ")


# --- reports ----------------------------------------------------------------------------------------------------

_SENT_SPLIT = re.compile(r"(?<=\.)\s+(?=[A-Z0-9_])")


def _sentences(text: str) -> list[str]:
    text = " ".join(text.replace("XXXX", "___").split())
    return [s for s in _SENT_SPLIT.split(text) if len(s) > 2]


class ReportMaker:
    """MIMIC-layout report texts from real Indiana sentences with a controllable share of repeated sentences."""

    def __init__(self, rng: random.Random, repeat_share: float) -> None:
        with IU.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        findings: Counter[str] = Counter()
        impressions: Counter[str] = Counter()
        indications: list[str] = []
        for r in rows:
            findings.update(_sentences(r["findings"]))
            impressions.update(_sentences(r["impression"]))
            ind = " ".join(r["indication"].replace("XXXX", "___").split()).rstrip(".")
            if ind and len(ind) < 90:
                indications.append(ind[0].lower() + ind[1:])
        self.rng = rng
        self.new_p = 1.0 - repeat_share
        self.pools = {k: (list(c), list(accumulate(c.values()))) for k, c in
                      (("findings", findings), ("impression", impressions))}
        self.indications = indications or ["shortness of breath"]
        self.seen: set[str] = set()
        self.occurrences = self.repeats = 0

    def _draw(self, pool: str) -> str:
        names, cum = self.pools[pool]
        return names[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def sentence(self, pool: str) -> str:
        if self.rng.random() < self.new_p:
            while True:  # a sentence nobody wrote before: two real ones joined
                a, b = self._draw(pool).rstrip("."), self._draw(pool)
                s = a + self.rng.choice(CONNECTIVES) + b[:1].lower() + b[1:]
                if s not in self.seen:
                    break
        else:
            s = self._draw(pool)
        self.occurrences += 1
        self.repeats += s in self.seen
        self.seen.add(s)
        return s

    @staticmethod
    def _wrap(sentences: list[str]) -> list[str]:
        lines, cur = [], ""
        for word in " ".join(sentences).split(" "):
            if cur and len(cur) + 1 + len(word) > 77:
                lines.append(" " + cur)
                cur = word
            else:
                cur = f"{cur} {word}" if cur else word
        if cur:
            lines.append(" " + cur)
        return lines

    def report(self, exam: str) -> str:
        r = self.rng.random()
        has_findings, has_impression = r < 0.90, r >= 0.10  # 80 % both, 10 % findings only, 10 % impression only
        out = ["                                 FINAL REPORT", f" EXAMINATION:  {exam}", " ",
               f" INDICATION:  ___ year old {self.rng.choice(('woman', 'man'))} with "
               f"{self.rng.choice(self.indications)}",
               " ", " COMPARISON:  ___", " "]
        if has_findings:
            out += [" FINDINGS:", " ", *self._wrap([self.sentence("findings") for _ in range(self.rng.randint(2, 7))]),
                    " "]
        if has_impression:
            out += [" IMPRESSION:", " ", *self._wrap([self.sentence("impression")
                                                   for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3)))])]
        return "\n".join(out) + "\n"


# --- source -----------------------------------------------------------------------------------------------------


def make_source(root: Path, n_images: int, seed: int, repeat_share: float) -> dict[str, Any]:
    """Write a MIMIC-shaped source of exactly ``n_images`` DICOMs and one report per study under root/files."""
    rng = random.Random(seed)
    reports = ReportMaker(random.Random(seed + 1), repeat_share)
    patcher = _Patcher.build()
    files = root / "files"
    view_weights = [v[4] for v in VIEWS]
    ips_values, ips_weights = zip(*IMAGES_PER_STUDY, strict=True)
    p_more = 1.0 / MEAN_STUDIES_PER_PATIENT
    used_subjects: set[int] = set()
    used_studies: set[int] = set()
    images = studies = subjects = nbytes = 0
    while images < n_images:
        subj = rng.randrange(10_000_000, 20_000_000)
        if subj in used_subjects:
            continue
        used_subjects.add(subj)
        subjects += 1
        n_studies = 1
        while rng.random() > p_more:  # geometric, mean 3.48
            n_studies += 1
        for _ in range(n_studies):
            if images >= n_images:
                break
            study = rng.randrange(50_000_000, 60_000_000)
            while study in used_studies:
                study = rng.randrange(50_000_000, 60_000_000)
            used_studies.add(study)
            studies += 1
            d = files / f"p{str(subj)[:2]}" / f"p{subj}" / f"s{study}"
            os.makedirs(d, exist_ok=True)
            date = f"{rng.randrange(2110, 2210)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
            time_ = f"{rng.randrange(24):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
            study_uid = _uid(rng)
            n_here = min(rng.choices(ips_values, ips_weights)[0], n_images - images)
            ppsd = ""
            for _ in range(n_here):
                view, meaning, ppsd, orient, _w = rng.choices(VIEWS, view_weights)[0]
                data = patcher.render({
                    "sop": _uid(rng), "study_uid": study_uid, "series_uid": _uid(rng), "patient": str(subj),
                    "date": date, "time": time_, "view": view, "view_meaning": meaning, "ppsd": ppsd,
                    "proc_meaning": ppsd, "orient": orient, "adpd": rng.choice(PROCESSING),
                })
                h = f"{rng.getrandbits(160):040x}"
                with open(d / ("-".join(h[i : i + 8] for i in range(0, 40, 8)) + ".dcm"), "wb") as f:
                    f.write(data)
                images += 1
                nbytes += len(data)
            text = reports.report(ppsd or "CHEST (PA AND LAT)")
            with open(d.with_suffix(".txt"), "w", encoding="utf-8") as f:
                f.write(text)
            nbytes += len(text)
    return {"images": images, "studies": studies, "subjects": subjects, "bytes": nbytes,
            "sentences": reports.occurrences, "repeat_share": reports.repeats / max(1, reports.occurrences)}


def warm(root: Path) -> float:
    t0 = time.perf_counter()
    for dirpath, _dirs, names in os.walk(root / "files"):
        for f in names:
            with open(os.path.join(dirpath, f), "rb") as fh:
                fh.read()
    return time.perf_counter() - t0


# --- floors -----------------------------------------------------------------------------------------------------


def dcmread_floor(root: Path) -> tuple[int, float]:
    """One process: walk + dcmread(stop_before_pixels=True) of every header."""
    t0 = time.perf_counter()
    paths = list_dicoms(root)
    for p in paths:
        pydicom.dcmread(p, stop_before_pixels=True)
    return len(paths), time.perf_counter() - t0


def parse_floor(texts: list[str], limit: int) -> tuple[int, float, float]:
    """One spaCy parse (the labeler's loader, en_core_web_sm) of every text. With ``limit`` > 0 only an even
    sample of that many texts is parsed and the time scaled to all. Returns (texts, seconds, load seconds)."""
    from cxrdb.labeling.parse import load_spacy

    t0 = time.perf_counter()
    nlp = load_spacy(indexed_rules=False)  # spaCy's pipeline as it loads it
    load = time.perf_counter() - t0
    sample = texts
    if limit and len(texts) > limit:
        step = len(texts) / limit
        sample = [texts[int(i * step)] for i in range(limit)]
    t0 = time.perf_counter()
    for _doc in nlp.pipe(sample, batch_size=256):
        pass
    dt = time.perf_counter() - t0
    return len(texts), dt * len(texts) / max(1, len(sample)), load


def convert_inside(root: Path, limit: int = 2000) -> float:
    """CPU seconds per image of the conversion's own work — read + decode, pixels (min-max, equalize), encode —
    done in this process on a sample of the source: what the convert stage costs beyond it is overhead."""
    import cv2

    from cxrdb.convert.decode import decode, read_dataset
    from cxrdb.convert.pixels import convert_pixels

    paths = list_dicoms(root)
    paths = paths[:: max(1, len(paths) // limit)][:limit]
    t0 = time.process_time()
    for p in paths:
        dec = decode(read_dataset(str(p)))
        img, _ = convert_pixels(dec.array, dec.photometric, correct_bits=dec.correct_bits, reuse=True)
        cv2.imencode(".jpg", img)
    return (time.process_time() - t0) / max(1, len(paths))


# --- memory sampler ---------------------------------------------------------------------------------------------


class Sampler:
    """A thread reading RSS (and PSS every few samples) of this process and of every child, per stage."""

    def __init__(self, interval: float = 0.25) -> None:
        self.me = psutil.Process()
        self.interval = interval
        self.stage: str | None = None
        self.peaks: dict[str, dict[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = 0
        while not self._stop.wait(self.interval):
            stage = self.stage
            if stage is None:
                continue
            tick += 1
            pk = self.peaks.setdefault(stage, dict.fromkeys(("parent_rss", "worker_rss", "worker_pss",
                                                             "workers_rss_sum", "total_rss", "total_pss",
                                                             "workers"), 0.0))
            try:
                parent = self.me.memory_info().rss
                pk["parent_rss"] = max(pk["parent_rss"], parent)
                kids = self.me.children(recursive=True)
            except psutil.Error:
                continue
            total = 0
            pss: int | None = None
            if tick % 4 == 0:  # PSS (smaps) is costlier to read: every 4th sample
                try:
                    pss = self.me.memory_full_info().pss
                except psutil.Error:
                    pss = None
            for k in kids:
                try:
                    rss = k.memory_info().rss
                    total += rss
                    pk["worker_rss"] = max(pk["worker_rss"], rss)
                    if pss is not None:
                        kid_pss = k.memory_full_info().pss
                        pk["worker_pss"] = max(pk["worker_pss"], kid_pss)
                        pss += kid_pss
                except psutil.Error:
                    continue
            if pss is not None:  # each shared page split between the processes sharing it: the true total
                pk["total_pss"] = max(pk["total_pss"], pss)
            pk["workers_rss_sum"] = max(pk["workers_rss_sum"], total)
            pk["total_rss"] = max(pk["total_rss"], parent + total)  # RSS counts shared pages twice: an upper bound
            pk["workers"] = max(pk["workers"], len(kids))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


# --- one size ---------------------------------------------------------------------------------------------------


def run_size(n: int, work: Path, args: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    from cxrdb.build import build
    from cxrdb.catalog import Catalog
    from cxrdb.check import check_catalog, verify_release
    from cxrdb.convert.run import convert
    from cxrdb.export import export_tables
    from cxrdb.ingest import ingest
    from cxrdb.labeling.run import LABELERS, label
    from cxrdb.manifest import ReleaseFolder, claim, own_extras, record_extra, write_checksums
    from cxrdb.memory import trim
    from cxrdb.release import write_readme
    from cxrdb.split import split

    d = work / f"n{n}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    source, out, db = d / "source", d / "release", d / "release.duckdb"
    res: dict[str, Any] = {"images": n, "stages": {}}
    t0 = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as gen:  # its heap is not the build's
        res["source"] = gen.submit(make_source, source, n, args.seed, args.repeat_share).result()
    res["generate_s"] = time.perf_counter() - t0
    log(f"[{n:,}] generated {res['source']['images']:,} images, {res['source']['studies']:,} studies, "
        f"{res['source']['subjects']:,} subjects, {res['source']['bytes'] / 2**20:,.0f} MiB, sentence repeat share "
        f"{res['source']['repeat_share']:.3f} in {res['generate_s']:.0f} s; warm-up {warm(source):.0f} s")

    floors = []
    k, dt = dcmread_floor(source)
    floors.append(k / dt)
    log(f"[{n:,}] floor dcmread: {k / dt:,.0f} headers/s")

    w = args.workers
    sampler = Sampler()
    stages: dict[str, dict[str, Any]] = res["stages"]

    def timed(stage: str, items: int | None, fn: Callable[[], Any]) -> Any:
        trim()  # as build does between its stages
        sampler.stage = stage
        t, cpu, kids = time.perf_counter(), time.process_time(), workers_cpu()
        out_ = fn()
        dt_ = time.perf_counter() - t
        sampler.stage = None
        stages[stage] = {"seconds": dt_, "items": items, "cpu_parent": time.process_time() - cpu,
                         "cpu_workers": workers_cpu() - kids}
        log(f"[{n:,}] {stage:8s} {dt_:8.1f} s")
        return out_

    try:
        with Catalog.open(db) as cat:
            out.mkdir()
            cat.set_setting("release_root", str(out.resolve()))
            claim(cat, out.resolve())
            folder = ReleaseFolder.read(out.resolve())  # as build: one walk of the release, kept current by the stages
            ing = dict(timed("ingest", n, lambda: ingest(cat, source, workers=w)))
            stages["ingest"]["summary"] = ing
            stages["convert"] = {}
            conv = dict(timed("convert", n, lambda: convert(cat, out, workers=w, folder=folder)))
            lab = dict(timed("label", None, lambda: label(cat, LABELERS, workers=w)))
            stages["label"]["items"] = lab["chexpert_labeled"]  # reports (each labeled twice)
            timed("split", n, lambda: split(cat))

            def export_stage() -> None:
                exported = export_tables(cat, out, folder=folder)
                write_readme(cat, out, exported.files)
                record_extra(cat, out.resolve(), "README")
                write_checksums(out.resolve(), exported.jpgs, [*exported.files, *own_extras(cat, out.resolve())])

            timed("export", n, export_stage)
            checks = timed("check_catalog", n, lambda: check_catalog(cat))
        problems = timed("verify", n, lambda: verify_release(out, workers=w))
        cc, vv = stages.pop("check_catalog"), stages.pop("verify")
        stages["check"] = {k_: cc[k_] + vv[k_] for k_ in ("seconds", "cpu_parent", "cpu_workers")}
        stages["check"]["items"] = n
        res["check_problems"] = sum(c["problems"] for c in checks) + sum(len(v) for v in problems.values())
        res["convert_summary"] = conv
        res["label_summary"] = lab
        for stage in STAGES:
            pk = sampler.peaks.get(stage) or {}
            if stage == "check":
                pk = {k_: max((sampler.peaks.get(s) or {}).get(k_, 0) for s in ("check_catalog", "verify"))
                      for k_ in ("parent_rss", "worker_rss", "worker_pss", "total_rss", "total_pss", "workers")}
            stages[stage].update(pk)

        t = time.perf_counter()
        sampler.stage = "noop"
        noop = build(source, out, db=db, workers=w)
        sampler.stage = None
        res["noop_s"] = time.perf_counter() - t
        res["noop_summary"] = {k_: noop[k_] for k_ in ("converted now", "labeled now", "failed items")}
        log(f"[{n:,}] no-op build {res['noop_s']:.1f} s {res['noop_summary']}")
    finally:
        sampler.close()
    with Catalog.open(db, read_only=True) as cat:  # the parse floor's input, read once every stage is measured
        texts = [r[0] for r in cat.query(
            "SELECT labeler_text FROM stg.reports WHERE labeler_text <> '' ORDER BY study_id")[1]]
    res["catalog_bytes"] = sum(p.stat().st_size for p in d.glob("release.duckdb*"))

    if args.floor_repeats > 1:
        k, dt = dcmread_floor(source)
        floors.append(k / dt)
    res["dcmread_floor"] = (min(floors), max(floors))
    log(f"[{n:,}] floor dcmread again: {k / dt:,.0f} headers/s")
    res["convert_inside_cpu_s"] = convert_inside(source)
    n_texts, pdt, load = parse_floor(texts, args.parse_floor_max)
    res["parse_floor"] = {"texts": n_texts, "seconds": pdt, "load_s": load,
                          "sampled": bool(args.parse_floor_max and n_texts > args.parse_floor_max)}
    log(f"[{n:,}] floor spaCy parse of {n_texts:,} texts: {pdt:.1f} s ({n_texts / pdt:,.0f} texts/s)")
    res["disk_used"] = shutil.disk_usage(d).used
    if not args.keep:
        shutil.rmtree(d)
    return res


# --- report -----------------------------------------------------------------------------------------------------


def mib(x: float | None) -> str:
    return f"{x / 2**20:,.0f}" if x else "-"


def table(results: list[dict[str, Any]]) -> str:
    lines = ["| images | stage | seconds | items/s | marginal ms/item | CPU ms/item parent + workers | parent peak RSS "
             "MiB | worker peak RSS / PSS MiB | peak PSS, all MiB |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    prev: dict[str, Any] | None = None
    for r in results:
        for stage in STAGES:
            s = r["stages"][stage]
            items = s["items"] or 0
            marg = "-"
            if prev is not None:
                p = prev["stages"][stage]
                di = items - (p["items"] or 0)
                if di > 0:
                    marg = f"{(s['seconds'] - p['seconds']) / di * 1000:.3f}"
            rate = f"{items / s['seconds']:,.0f}" if s["seconds"] > 0 else "-"
            wk = f"{mib(s.get('worker_rss'))} / {mib(s.get('worker_pss'))}" if s.get("workers") else "-"
            cpu = (f"{s['cpu_parent'] / items * 1000:.3f} + {s['cpu_workers'] / items * 1000:.3f}"
                   if items and "cpu_parent" in s else "-")
            lines.append(f"| {r['images']:,} | {stage} | {s['seconds']:.1f} | {rate} | {marg} | {cpu} | "
                         f"{mib(s.get('parent_rss'))} | {wk} | {mib(s.get('total_pss'))} |")
        first = sum(r["stages"][s]["seconds"] for s in BUILD_STAGES)
        lines.append(f"| {r['images']:,} | **build (first)** | {first:.1f} | {r['images'] / first:,.0f} | | | | | |")
        lines.append(f"| {r['images']:,} | no-op re-run | {r['noop_s']:.1f} | | | | | | |")
        prev = r
    return "\n".join(lines)


def _convert_overhead(r: dict[str, Any]) -> float:
    """CPU ms per converted image spent outside read+decode, pixels (min-max, equalize) and encode (measured in
    this process on a sample, :func:`convert_inside`): the parent's planning and recording, dispatch, pickling,
    the workers' writes and result records."""
    s = r["stages"]["convert"]
    n = r["convert_summary"].get("converted") or 1
    return ((s["cpu_parent"] + s["cpu_workers"]) / n - r["convert_inside_cpu_s"]) * 1000


def _peak_total(r: dict[str, Any], key: str = "total_rss") -> float:
    """The largest memory of the parent and all its workers at one instant, over every stage: ``total_rss`` (shared
    pages counted in each process: an upper bound) or ``total_pss`` (each shared page split among its sharers)."""
    return max(s.get(key) or 0 for s in r["stages"].values())


def ratios(results: list[dict[str, Any]]) -> str:
    out = []
    for r in results:
        ing = r["stages"]["ingest"]
        rate = r["images"] / ing["seconds"]
        lo, hi = r["dcmread_floor"]
        first = sum(r["stages"][s]["seconds"] for s in BUILD_STAGES)
        lab = r["stages"]["label"]["seconds"]
        pf = r["parse_floor"]
        out.append(
            f"{r['images']:>9,}: ingest {rate:,.0f} headers/s vs dcmread floor {lo:,.0f}-{hi:,.0f}: "
            f"x{rate / hi:.2f}-{rate / lo:.2f} (target >= {TARGETS['ingest_vs_floor']}); "
            f"no-op {r['noop_s']:.1f} s = {r['noop_s'] / first:.1%} of first build {first:.0f} s "
            f"(target < {TARGETS['noop_share']:.0%}); "
            f"labeling {lab:.0f} s vs one parse pass {pf['seconds']:.0f} s{' (sampled)' if pf['sampled'] else ''}: "
            f"x{pf['seconds'] / lab:.2f} (target >= {TARGETS['label_vs_parse']}); "
            f"convert CPU outside decode/equalize/encode {_convert_overhead(r):.3f} ms per image "
            f"(target < {TARGETS['convert_overhead_ms']}); "
            f"peak memory parent + workers {mib(_peak_total(r, 'total_pss'))} MiB PSS (RSS sum "
            f"{mib(_peak_total(r))}; target < {TARGETS['peak_rss_mib']:,}); "
            f"catalog {r['catalog_bytes'] / r['images'] * 1000 / 2**20:.2f} MiB per 1,000 images; "
            f"sentence repeat share {r['source']['repeat_share']:.3f}; check problems {r['check_problems']}")
    if len(results) >= 3:
        a, b, c = results[-3:]
        for stage in STAGES:
            def marg(x: dict[str, Any], y: dict[str, Any], stage: str = stage) -> float:
                sx, sy = x["stages"][stage], y["stages"][stage]
                return (sy["seconds"] - sx["seconds"]) / max(1, (sy["items"] or 0) - (sx["items"] or 0))
            m1, m2 = marg(a, b), marg(b, c)
            g = m2 / m1 if m1 > 0 else float("inf")
            out.append(f"marginal growth {stage:8s} {m1 * 1000:.3f} -> {m2 * 1000:.3f} ms/item: x{g:.2f} "
                       f"(target <= {TARGETS['marginal_growth']})")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description="cxrdb scale benchmark")
    ap.add_argument("--sizes", default="10000,40000,120000", help="comma-separated image counts")
    ap.add_argument("--images", type=int, default=None, help="a single size (overrides --sizes)")
    ap.add_argument("--workers", type=int, default=None, help="workers per stage (default: one per core)")
    ap.add_argument("--repeat-share", type=float, default=0.85, help="share of repeated sentences (default 0.85)")
    ap.add_argument("--parse-floor-max", type=int, default=0,
                    help="parse at most this many texts for the spaCy floor and scale (default 0: all)")
    ap.add_argument("--floor-repeats", type=int, default=2, help="dcmread floor before and after (2) or once (1)")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep each size's source, release and catalog")
    ap.add_argument("--json", type=Path, default=None, help="also write the raw results here")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sizes = [args.images] if args.images else [int(s) for s in args.sizes.split(",") if s.strip()]

    def log(msg: str) -> None:
        print(msg, flush=True)

    log(f"machine: {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"pydicom {pydicom.__version__}; load {os.getloadavg()[0]:.1f}")
    tmp = tempfile.TemporaryDirectory(prefix="cxrdb-scale-") if args.work is None else None
    work = Path(tmp.name) if tmp else args.work
    work.mkdir(parents=True, exist_ok=True)
    log(f"work: {work}, free {shutil.disk_usage(work).free / 2**30:.0f} GiB")
    results = []
    try:
        for n in sizes:
            results.append(run_size(n, work, args, log))
            if args.json:
                args.json.write_text(json.dumps(results, indent=1, default=str))
    finally:
        if tmp:
            tmp.cleanup()
    log("")
    log(table(results))
    log("")
    log(ratios(results))


if __name__ == "__main__":
    main()
