"""Label every study's chosen section text in the catalog with one or more labelers.

Texts go to worker processes in chunks; results (labels + evidence) come back to this process, which alone
writes work.labels / work.label_evidence, in batches. A study is relabeled only when its text or the labeler's
rules changed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..catalog import Catalog
from ..contract import RELEASE_LABELERS
from ..executor import batched, run_map
from ..progress import Progress, StageResult, no_progress
from .config import OBSERVATIONS, get_config
from .engine import ReportResult, get_labeler
from .fingerprint import rules_fingerprint  # re-exported: the public name

CHUNK = 64  # studies per task: small enough that a dead worker loses little, large enough for one spaCy pipe
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




def _label_chunk(item: tuple[str, list[int], list[str]]) -> tuple[str, list[int], list[ReportResult]]:
    name, ids, texts = item
    return name, ids, get_labeler(name).label_many(texts)


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
    items: list[tuple[str, list[int], list[str]]] = []
    hashes: dict[int, str] = {}
    studies = cat.scalar("SELECT count(*) FROM stg.reports WHERE labeler_text <> ''")
    up_to_date: dict[str, int] = {}
    todo_count: dict[str, int] = {}
    for name in names:
        _, rows = cat.query("SELECT study_id, text, text_sha256, state = 'current' FROM plan.labels(?, ?) "
                            "ORDER BY study_id", [name, rules_fingerprint(name)])
        todo = [(sid, text) for sid, text, _, current in rows if not current]
        hashes.update((sid, sha) for sid, _, sha, current in rows if not current)
        up_to_date[name] = len(rows) - len(todo)
        todo_count[name] = len(todo)
        items += [(name, [s for s, _ in chunk], [t for _, t in chunk]) for chunk in batched(todo, CHUNK)]
    total = sum(len(ids) for _, ids, _ in items)
    progress("label", 0, total)
    labels: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    parse_failures = dict.fromkeys(names, 0)
    lost = dict.fromkeys(names, 0)
    for name, ids, results in run_map(_label_chunk, items, workers=workers, batch_size=1,
                                      on_lost=lambda item, _why: (item[0], item[1], None)):
        if results is None:  # its worker died: not recorded, so these stay pending and the next run labels them
            lost[name] += len(ids)
            progress("label", len(ids), total)
            continue
        fp = rules_fingerprint(name)
        for sid, res in zip(ids, results, strict=True):
            parse_failures[name] += res.parse_failures
            row: dict[str, Any] = {"study_id": sid, "labeler": name, "text_sha256": hashes[sid], "rules": fp,
                                   "parse_failures": res.parse_failures}
            row.update({obs: res.labels.get(obs) for obs in OBSERVATIONS})
            labels.append(row)
            evidence.extend({"study_id": sid, "labeler": name, **{k: e.get(k) for k in (
                "sentence_index", "sentence", "start", "end", "phrase", "observation", "label", "rule")}}
                for e in res.evidence)
        if len(labels) >= FLUSH_REPORTS:
            _flush(cat, labels, evidence)
        progress("label", len(ids), total)
    _flush(cat, labels, evidence)
    seconds = time.perf_counter() - started
    counts = tuple(LabelerCounts(n, up_to_date[n], todo_count[n] - lost[n], lost[n], parse_failures[n]) for n in names)
    return LabelResult(studies, counts, round(seconds, 2), round(total / seconds, 1) if total and seconds > 0 else 0)
