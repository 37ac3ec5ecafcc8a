"""Label every study's chosen section text in the catalog with one or more labelers.

Studies go to worker processes in chunks; one task labels its chunk with every labeler that has studies of it
to do, in one process, so the labelers share that process's spaCy pipeline and parse cache
(:mod:`cxrdb.labeling.engine`). Results (labels + evidence) come back to this process, which alone writes
work.labels / work.label_evidence, in batches. A study is relabeled only when its text or the labeler's rules
changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog
from ..contract import RELEASE_LABELERS
from ..executor import batched, run_map
from ..progress import Progress, StageResult, no_progress
from .config import OBSERVATIONS, get_config
from .engine import ReportResult, get_labeler
from .fingerprint import rules_fingerprint  # re-exported: the public name

#: studies per task. Each labeler parses a chunk's new sentences in one spaCy pipe, cheaper per sentence the fuller
#: it is (measured 1.8 ms at 8 sentences, 1.5 at 64, 1.4 at 256), and only 0.6-1.8 sentences per study and labeler
#: need a parse (Indiana x3 / x1; repeats are cached): 256 studies fill a pipe, and are 0.5-1.5 s of work for both
#: labelers (1.8-5.8 ms per study), all a dead worker loses.
CHUNK = 256
FLUSH_REPORTS = 2000
LABELERS = RELEASE_LABELERS  # the labelers a build runs: those a release publishes
__all__ = ["LABELERS", "label", "rules_fingerprint"]


@dataclass(frozen=True)
class LabelerCounts:
    """One labeler's share of a run: studies already current, labeled now, lost to a dead worker (still pending),
    and mention sentences the parser could not handle."""

    name: str
    up_to_date: int
    labeled: int
    lost: int
    parse_failures: int


@dataclass(frozen=True)
class LabelResult(StageResult):
    """What a labeling run did, per labeler (``labelers``) and in total (``labeled``)."""

    studies_with_text: int
    labelers: tuple[LabelerCounts, ...]
    seconds: float
    reports_per_second: float

    @property
    def labeled(self) -> int:
        """Studies labeled now, over every labeler."""
        return sum(c.labeled for c in self.labelers)

    def summary(self) -> dict[str, Any]:
        values: dict[str, Any] = {"studies_with_text": self.studies_with_text}
        for c in self.labelers:
            values.update({f"{c.name}_up_to_date": c.up_to_date, f"{c.name}_labeled": c.labeled,
                           f"{c.name}_lost": c.lost, f"{c.name}_parse_failures": c.parse_failures})
        return {**values, "seconds": self.seconds, "reports_per_second": self.reports_per_second}


#: one task: study ids, their texts, and per labeler (in run order) the positions of the studies it labels
Chunk = tuple[list[int], list[str], dict[str, list[int]]]
#: a task's result: the study ids, the positions per labeler, and the results per labeler (None: its worker died)
ChunkResult = tuple[list[int], dict[str, list[int]], dict[str, list[ReportResult]] | None]


def _label_chunk(item: Chunk) -> ChunkResult:
    """Label one chunk with each of its labelers in turn, in this process (one pipeline, one parse cache)."""
    ids, texts, todo = item
    return ids, todo, {name: get_labeler(name).label_many([texts[k] for k in ks]) for name, ks in todo.items()}


def _lost_chunk(item: Chunk, _why: str) -> ChunkResult:
    """``run_map``'s on_lost: a chunk whose worker died has no results; its studies stay pending."""
    ids, _, todo = item
    return ids, todo, None


def _chunks(names: list[str], texts: dict[int, str], todo: dict[str, set[int]], size: int) -> Iterator[Chunk]:
    """The studies some labeler has to do, by study id, in chunks of ``size``."""
    for ids in batched(sorted(texts), size):
        per = {n: [k for k, sid in enumerate(ids) if sid in todo[n]] for n in names}
        yield ids, [texts[sid] for sid in ids], {n: ks for n, ks in per.items() if ks}


def _flush(cat: Catalog, labels: list[dict[str, Any]], evidence: list[dict[str, Any]]) -> None:
    if not labels:
        return
    with cat.transaction():
        cat.write_rows("work.labels", labels, replace_on=("study_id", "labeler"))
        cat.delete_matching("work.label_evidence", labels, on=("study_id", "labeler"))
        cat.write_rows("work.label_evidence", evidence)
    labels.clear()
    evidence.clear()


def label(
    cat: Catalog,
    labelers: Sequence[str] = LABELERS,
    *,
    workers: int | None = None,
    progress: Progress = no_progress,
) -> LabelResult:
    """Label the catalog's studies with each labeler; return counts."""
    started = time.perf_counter()
    names = list(dict.fromkeys(get_config(n).name for n in labelers))
    cat.drop_orphan_labels()
    texts: dict[int, str] = {}
    hashes: dict[int, str] = {}
    todo: dict[str, set[int]] = {}
    studies = cat.scalar("SELECT count(*) FROM stg.reports WHERE labeler_text <> ''")
    up_to_date: dict[str, int] = {}
    for name in names:
        _, rows = cat.query("SELECT study_id FROM plan.labels(?, ?) WHERE state <> 'current'",
                            [name, rules_fingerprint(name)])
        todo[name] = {sid for (sid,) in rows}
        up_to_date[name] = studies - len(rows)
    # each text once, however many labelers need it (current texts stay in the catalog); the texts and their
    # hashes are plan.labels' own, whichever labeler and rules it is asked about (its state is not read here)
    _, rows = cat.query("SELECT study_id, text, text_sha256 FROM plan.labels(?, ?) WHERE study_id IN "
                        "(SELECT unnest(?))", [names[0], "", sorted(set().union(*todo.values()))])
    for sid, text, sha in rows:
        texts[sid] = text
        hashes[sid] = sha
    del rows
    total = sum(len(t) for t in todo.values())
    progress("label", 0, total)
    labels: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    parse_failures = dict.fromkeys(names, 0)
    lost = dict.fromkeys(names, 0)
    for ids, per, results in run_map(_label_chunk, _chunks(names, texts, todo, CHUNK), workers=workers,
                                     batch_size=1, on_lost=_lost_chunk):
        done = sum(len(ks) for ks in per.values())
        if results is None:  # its worker died: not recorded, so these stay pending and the next run labels them
            for name, ks in per.items():
                lost[name] += len(ks)
            progress("label", done, total)
            continue
        for name, ks in per.items():
            fp = rules_fingerprint(name)
            for k, res in zip(ks, results[name], strict=True):
                sid = ids[k]
                parse_failures[name] += res.parse_failures
                row: dict[str, Any] = {"study_id": sid, "labeler": name, "text_sha256": hashes[sid], "rules": fp,
                                       "parse_failures": res.parse_failures}
                row.update({obs: res.labels.get(obs) for obs in OBSERVATIONS})
                labels.append(row)
                evidence.extend({**e, "study_id": sid, "labeler": name} for e in res.evidence)
        if len(labels) >= FLUSH_REPORTS:
            _flush(cat, labels, evidence)
        progress("label", done, total)
    _flush(cat, labels, evidence)
    seconds = time.perf_counter() - started
    counts = tuple(LabelerCounts(n, up_to_date[n], len(todo[n]) - lost[n], lost[n], parse_failures[n]) for n in names)
    return LabelResult(studies, counts, round(seconds, 2), round(total / seconds, 1) if total and seconds > 0 else 0)
