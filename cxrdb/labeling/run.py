"""Label every study's chosen section text in the catalog with one or more labelers.

Texts go to worker processes in chunks; results (labels + evidence) come back to this process, which alone
writes work.labels / work.label_evidence, in batches. A study is relabeled only when its text or the labeler's
rules changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..catalog import Catalog
from ..contract import RELEASE_LABELERS
from ..executor import run_map
from .config import OBSERVATIONS, get_config
from .engine import ReportResult, get_labeler
from .fingerprint import rules_fingerprint  # re-exported: the public name

Progress = Callable[[str, int, int], None]
CHUNK = 64
FLUSH_REPORTS = 2000
LABELERS = RELEASE_LABELERS  # the labelers a build runs: those a release publishes
__all__ = ["LABELERS", "label", "rules_fingerprint"]


def _noop(task: str, advance: int, total: int) -> None:
    return None




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
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Label the catalog's studies with each labeler; return counts."""
    started = time.perf_counter()
    names = [get_config(n).name for n in labelers]
    cat.con.execute("DELETE FROM work.labels WHERE study_id NOT IN (SELECT study_id FROM stg.reports "
                    "WHERE labeler_text <> '')")
    cat.con.execute("DELETE FROM work.label_evidence WHERE study_id NOT IN (SELECT study_id FROM work.labels)")
    items: list[tuple[str, list[int], list[str]]] = []
    hashes: dict[int, str] = {}
    summary: dict[str, Any] = {"studies_with_text": cat.scalar("SELECT count(*) FROM stg.reports "
                                                               "WHERE labeler_text <> ''")}
    for name in names:
        _, rows = cat.query("SELECT study_id, text, text_sha256, state = 'current' FROM plan.labels(?, ?) "
                            "ORDER BY study_id", [name, rules_fingerprint(name)])
        todo = [(sid, text) for sid, text, _, current in rows if not current]
        hashes.update((sid, sha) for sid, _, sha, current in rows if not current)
        summary[f"{name}_up_to_date"] = len(rows) - len(todo)
        summary[f"{name}_labeled"] = len(todo)
        for i in range(0, len(todo), CHUNK):
            chunk = todo[i : i + CHUNK]
            items.append((name, [s for s, _ in chunk], [t for _, t in chunk]))
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
    for name in names:
        summary[f"{name}_parse_failures"] = parse_failures[name]
        summary[f"{name}_labeled"] -= lost[name]
        summary[f"{name}_lost"] = lost[name]
    seconds = time.perf_counter() - started
    summary["seconds"] = round(seconds, 2)
    summary["reports_per_second"] = round(total / seconds, 1) if total and seconds > 0 else 0
    return summary
