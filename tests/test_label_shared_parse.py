"""Both labelers in one process share one spaCy pipeline and one parse cache, and label exactly as labelers on
their own do (labels and evidence, on the Indiana dev set); a chunk whose worker dies stays pending for both."""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxrdb.catalog import Catalog
from cxrdb.labeling import OBSERVATIONS, engine, parse, run
from cxrdb.labeling.engine import Labeler

IU = Path(__file__).parent / "data" / "reports" / "iu_reports_dev.csv"
BOTH = ("chexpert", "negbio")
EVIDENCE = ("sentence_index", "sentence", "start", "end", "phrase", "observation", "label", "rule")


def _reset() -> None:
    """Forget this process's labelers, graph caches and spaCy pipeline (as in a new worker process)."""
    engine._WORKER_LABELERS.clear()
    getattr(engine, "_GRAPH_CACHES", []).clear()
    getattr(parse.load_spacy, "cache_clear", lambda: None)()


@pytest.fixture
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A process with nothing loaded; yields the names of the models spaCy loaded."""
    import spacy

    loads: list[str] = []
    real = spacy.load

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        nlp = real(name, *args, **kwargs)  # an uninstalled model raises: not a load
        loads.append(name)
        return nlp

    monkeypatch.setattr(engine, "_WORKER_LABELERS", {})
    monkeypatch.setattr(spacy, "load", counting)
    _reset()
    yield loads
    _reset()


def _catalog(path: Path, texts: list[str]) -> Catalog:
    cat = Catalog(path)
    rows = [{"study_id": 50_000_000 + i, "subject_id": 10_000_000, "path": f"files/p10/p10000000/s{50_000_000 + i}.txt",
             "text": t, "section": "findings", "labeler_text": t} for i, t in enumerate(texts)]
    with cat.transaction():
        cat.write_rows("raw.reports", rows)
    return cat


def _stored(cat: Catalog) -> dict[tuple[int, str], tuple[tuple[Any, ...], Counter[tuple[Any, ...]]]]:
    """(study, labeler) -> (parse failures and labels, evidence rows) as the catalog holds them."""
    cols = ", ".join(f'"{o}"' for o in OBSERVATIONS)
    _, rows = cat.query(f"SELECT study_id, labeler, parse_failures, {cols} FROM work.labels")
    evidence = ", ".join(f'"{c}"' for c in EVIDENCE)
    _, ev = cat.query(f"SELECT study_id, labeler, {evidence} FROM work.label_evidence")
    out = {(r[0], r[1]): (tuple(r[2:]), Counter()) for r in rows}
    for e in ev:
        out[(e[0], e[1])][1][tuple(e[2:])] += 1
    return out


def _indiana() -> list[str]:
    with IU.open(newline="", encoding="utf-8") as fh:
        texts = [f"{r['findings']} {r['impression']}".strip() for r in csv.DictReader(fh)]
    return [t for t in texts if t]


SENTENCE = "No pleural effusion or pneumothorax."  # both modes parse it as this text


def test_both_labelers_of_a_chunk_load_spacy_once_and_parse_a_shared_sentence_once(
        fresh_process: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy.language import Language

    parsed: list[str] = []
    real_pipe = Language.pipe

    def pipe(self: Any, texts: Any, *args: Any, **kwargs: Any) -> Any:
        texts = list(texts)
        parsed.extend(texts)
        return real_pipe(self, texts, *args, **kwargs)

    monkeypatch.setattr(Language, "pipe", pipe)
    cat = _catalog(tmp_path / "c.duckdb", [SENTENCE, "Heart size is normal. " + SENTENCE])
    try:
        res = run.label(cat, BOTH, workers=1)
    finally:
        cat.close()
    assert res["chexpert_labeled"] == res["negbio_labeled"] == 2
    assert len(fresh_process) == 1, fresh_process
    assert parsed.count(SENTENCE) == 1, parsed


def test_shared_pipeline_and_cache_label_indiana_like_labelers_on_their_own(
        fresh_process: list[str], tmp_path: Path) -> None:
    texts = _indiana()
    cat = _catalog(tmp_path / "c.duckdb", texts)
    try:
        assert run.label(cat, BOTH, workers=1).labeled == 2 * len(texts)
        shared = _stored(cat)
    finally:
        cat.close()
    hits = {n: engine.get_labeler(n).counts.get("graph_hits", 0) for n in BOTH}
    for name in BOTH:  # each on its own: a new pipeline, an empty graph cache, all texts in one call
        _reset()
        alone = Labeler(name).label_many(texts)
        for i, r in enumerate(alone):
            labels = (r.parse_failures, *(r.labels[o] for o in OBSERVATIONS))
            evidence = Counter(tuple(e[k] for k in EVIDENCE) for e in r.evidence)
            assert shared[(50_000_000 + i, name)] == (labels, evidence), (name, texts[i])
    assert hits["negbio"] > 1000  # the shared cache was really used (Indiana: ~3,200 of negbio's ~4,950 graphs)


def test_a_tiny_graph_cache_changes_nothing(fresh_process: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _indiana()[:150]
    expected = {n: engine.get_labeler(n).label_many(texts) for n in BOTH}
    engine._WORKER_LABELERS.clear()
    engine._GRAPH_CACHES.clear()
    monkeypatch.setattr(engine, "GRAPH_CACHE_LIMIT", 3)
    got = {n: engine.get_labeler(n).label_many(texts) for n in BOTH}
    assert got == expected
    assert all(len(c.graphs) <= 3 for c in engine._GRAPH_CACHES)


def test_a_dead_worker_leaves_its_chunk_pending_for_every_labeler(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["No effusion.", "Small left effusion.", "Mild edema.", "Clear lungs.", "Cardiomegaly.", "No pneumothorax."]
    victim = 50_000_002
    real = run._label_chunk

    def dies_on_victim(item: Any) -> Any:
        if victim in item[0]:
            os._exit(1)
        return real(item)

    monkeypatch.setenv("CXRDB_START_METHOD", "fork")  # only a forked worker sees this process's patched function
    monkeypatch.setattr(run, "CHUNK", 2)
    monkeypatch.setattr(run, "_label_chunk", dies_on_victim)
    cat = _catalog(tmp_path / "c.duckdb", texts)
    try:
        res = run.label(cat, BOTH, workers=2)
        for name in BOTH:
            assert (res[f"{name}_labeled"], res[f"{name}_lost"]) == (4, 2)
        _, rows = cat.query("SELECT DISTINCT study_id FROM work.labels ORDER BY 1")
        assert [r[0] for r in rows] == [50_000_000, 50_000_001, 50_000_004, 50_000_005]
        monkeypatch.setattr(run, "_label_chunk", real)
        again = run.label(cat, BOTH, workers=1)
        assert [(c.up_to_date, c.labeled, c.lost) for c in again.labelers] == [(4, 2, 0)] * 2
    finally:
        cat.close()
