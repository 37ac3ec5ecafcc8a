"""The labeling engine: clean → split → match → parse → classify → aggregate, for either mode.

Per process, every :class:`Labeler` shares one spaCy pipeline (:func:`~cxrdb.labeling.parse.load_spacy` loads it
once) and one bounded cache of built dependency graphs keyed by the parser's input text (:func:`_parse_text`):
the graph depends only on that text and the word lists, not on the mode, so a sentence both modes parse the
same way (and every sentence of a ``+alternatives`` variant) is parsed once. Each labeler keeps its own cache
of decided sentences (the decisions depend on the mode).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..executor import batched, default_workers, run_map
from .aggregate import aggregate
from .classify import NEGATIVE, Classifier
from .clean import clean_text
from .config import OBSERVATIONS, LabelerConfig, get_config
from .mentions import Mention, MentionExtractor
from .parse import Graph, build_graph, load_spacy
from .sentences import split_sentences
from .vocabulary import Vocabulary, load_vocabulary

STAGES = ("load", "split", "match", "parse", "classify", "aggregate")
_CACHE_LIMIT = 200_000  # decided sentences per labeler (small objects); cleared when exceeded
#: built graphs kept per process (oldest dropped first). A graph is ~9 KB (10 tokens), so 4,096 cost ~40 MB; the
#: cache serves the other labelers of the same chunk (run.CHUNK studies parse ~0.5-2 sentences each per mode)
#: and sentences met again with another casing; a labeler's own repeats are served by its sentence cache.
GRAPH_CACHE_LIMIT = 4096
CHUNK = 128  # reports per task sent to a worker: amortises the round trip, keeps results streaming in order
INLINE_CHUNKS = 8  # with one process, texts go to label_many this many chunks at a time (one spaCy pipe each)


@dataclass(slots=True)
class ReportResult:
    """Labels of one report.

    ``labels``: 1.0 / 0.0 / -1.0 / None for each of the 14 observations. ``evidence``: one dict per
    mention with ``sentence_index``, ``sentence`` (cleaned), ``start``/``end`` (char span in that cleaned
    sentence), ``phrase``, ``observation``, ``label`` and ``rule`` (the rule that decided it, 'mention'
    for a plain positive). ``parse_failures``: mention sentences the parser could not handle (their
    mentions were decided by the fallback regex rules). ``skipped``: the mode drops this report (NegBio:
    empty text). ``lost``: why no labels came back (the worker labeling it died); such a result is never written.
    """

    labels: dict[str, float | None]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    parse_failures: int = 0
    skipped: bool = False
    lost: str | None = None


@dataclass(slots=True)
class _SentenceResult:
    decided: list[tuple[Mention, float | None, str]]
    failed: bool


class _GraphCache:
    """Built graphs by parser input text for one vocabulary, at most :data:`GRAPH_CACHE_LIMIT` (oldest go first)."""

    __slots__ = ("graphs", "vocabulary")

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary
        self.graphs: dict[str, Graph] = {}

    def put(self, text: str, graph: Graph) -> None:
        graphs = self.graphs
        graphs[text] = graph
        while len(graphs) > GRAPH_CACHE_LIMIT:
            del graphs[next(iter(graphs))]


_GRAPH_CACHES: list[_GraphCache] = []  # this process's, one per distinct vocabulary (in practice one)


def _graph_cache(vocabulary: Vocabulary) -> _GraphCache:
    """The process's graph cache for word lists equal to ``vocabulary`` (build_graph reads only them and the doc)."""
    for c in _GRAPH_CACHES:
        if c.vocabulary == vocabulary:
            return c
    _GRAPH_CACHES.append(c := _GraphCache(vocabulary))
    return c


class Labeler:
    """One labeler mode with its rules; the spaCy pipeline and the graph cache are the process's, shared."""

    def __init__(self, labeler: str | LabelerConfig = "chexpert", *, load_parser: bool = True) -> None:
        t0 = time.perf_counter()
        self.config = get_config(labeler)
        self.vocabulary = load_vocabulary()
        self.extractor = MentionExtractor(self.config)
        self.classifier = Classifier(self.config, vocabulary=self.vocabulary)
        self._nlp: Any = load_spacy() if load_parser else None
        self._cache: dict[str, _SentenceResult] = {}
        self._graphs = _graph_cache(self.vocabulary)
        self.timings: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self.timings["load"] = time.perf_counter() - t0
        #: parsed: sentences this labeler needed a graph for; graph_hits: of those, graphs already built (by any
        #: labeler of this process); cache_hits: sentences already decided by this labeler
        self.counts = {"reports": 0, "sentences": 0, "parsed": 0, "graph_hits": 0, "cache_hits": 0}

    @property
    def nlp(self) -> Any:
        if self._nlp is None:
            self._nlp = load_spacy()
        return self._nlp

    def label(self, text: str) -> ReportResult:
        """Labels of one report."""
        return self.label_many([text])[0]

    def label_many(self, texts: Sequence[str | None]) -> list[ReportResult]:
        """Labels of many reports, in order (in this process)."""
        tm = self.timings
        t0 = time.perf_counter()
        docs: list[list[str]] = []
        for text in texts:
            cleaned = clean_text(text or "", self.config.clean_text)
            docs.append([s for _, _, s in split_sentences(cleaned, self.vocabulary)])
        t1 = time.perf_counter()
        tm["split"] += t1 - t0
        todo: dict[str, list[Mention]] = {}
        for sents in docs:
            for s in sents:
                if s in self._cache or s in todo:
                    self.counts["cache_hits"] += 1
                    continue
                todo[s] = self.extractor.extract(s)
        self.counts["sentences"] += sum(len(s) for s in docs)
        t2 = time.perf_counter()
        tm["match"] += t2 - t1
        self._decide(todo)
        t5 = time.perf_counter()
        results = [self._report(sents, text) for sents, text in zip(docs, texts, strict=True)]
        tm["aggregate"] += time.perf_counter() - t5
        self.counts["reports"] += len(texts)
        if len(self._cache) > _CACHE_LIMIT:
            self._cache.clear()
        return results

    def _decide(self, todo: dict[str, list[Mention]]) -> None:
        """Classify the mentions of new sentences; parse only sentences that need the graph rules."""
        cls = self.classifier
        t0 = time.perf_counter()
        to_parse: list[tuple[str, list[Mention], list[tuple[Mention, float | None, str]]]] = []
        for sent, mentions in todo.items():
            if not mentions:
                self._cache[sent] = _SentenceResult([], False)
                continue
            shortcut = cls.sentence_shortcut(sent)
            if shortcut:
                self._cache[sent] = _SentenceResult([(m, NEGATIVE, shortcut) for m in mentions], False)
                continue
            decided: list[tuple[Mention, float | None, str]] = []
            pending: list[Mention] = []
            for m in mentions:
                hit = cls.regex_stage(sent, m)
                if hit:
                    decided.append((m, *hit))
                else:
                    pending.append(m)
            if not pending:
                self._cache[sent] = _SentenceResult(decided, False)
            elif len(sent) > self.config.max_parse_chars:
                decided += [(m, *cls.fallback_stage(sent, m)) for m in pending]
                self._cache[sent] = _SentenceResult(decided, True)
            else:
                to_parse.append((sent, pending, decided))
        tp = time.perf_counter()
        graphs = self._graphs_for([_parse_text(s) for s, _, _ in to_parse]) if to_parse else []
        parse_time = time.perf_counter() - tp
        for (sent, pending, decided), g in zip(to_parse, graphs, strict=True):
            failed = False
            for m in pending:
                hit = cls.graph_stage(g, m)
                if hit is None:
                    failed = True
                    hit = cls.fallback_stage(sent, m)
                decided.append((m, *hit))
            self._cache[sent] = _SentenceResult(decided, failed)
        total = time.perf_counter() - t0
        self.timings["parse"] += parse_time
        self.timings["classify"] += total - parse_time

    def _graphs_for(self, texts: list[str]) -> list[Graph]:
        """The graph of every parser input text: from the process's cache, else parsed (one ``nlp.pipe``) and built."""
        cache = self._graphs.graphs
        graphs = {t: cache[t] for t in texts if t in cache}  # before any put can drop them
        new = list(dict.fromkeys(t for t in texts if t not in graphs))
        self.counts["parsed"] += len(texts)
        self.counts["graph_hits"] += len(texts) - len(new)
        for t, doc in zip(new, self.nlp.pipe(new, batch_size=256), strict=True):
            graphs[t] = build_graph(doc, self.vocabulary)
            self._graphs.put(t, graphs[t])
        return [graphs[t] for t in texts]

    def _report(self, sents: list[str], text: str | None) -> ReportResult:
        if self.config.drop_empty and not (text or "").strip():
            return ReportResult(dict.fromkeys(OBSERVATIONS), [], 0, skipped=True)
        evidence: list[dict[str, Any]] = []
        failures = 0
        triples: list[tuple[str, str, float]] = []
        for idx, s in enumerate(sents):
            res = self._cache[s]
            failures += res.failed
            for m, label, rule in res.decided:
                if label is not None:
                    triples.append((m.observation, m.text, label))
                evidence.append(
                    {"sentence_index": idx, "sentence": s, "start": m.start, "end": m.end, "phrase": m.text,
                     "observation": m.observation, "label": label, "rule": rule}
                )
        return ReportResult(aggregate(triples, self.config, self.vocabulary), evidence, failures)


_AND_OR = re.compile(r"\band/or\b", re.IGNORECASE)


def _parse_text(sentence: str) -> str:
    """The text given to the parser: same length as the sentence (offsets stay valid), newlines as
    spaces, first letter upper-cased (the parser was trained on cased text). An uncleaned "and/or"
    (NegBio mode) is given as "or" plus padding: the small model often misparses the "and/or" token
    (as an interjection or a modifier), losing the coordination the 'or' rules read."""
    s = sentence.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    if "/" in s:
        s = _AND_OR.sub("or    ", s)
    return s[:1].upper() + s[1:]


# ------------------------------------------------------------------ parallel labeling

_WORKER_LABELERS: dict[str, Labeler] = {}


def get_labeler(name: str) -> Labeler:
    """A per-process shared Labeler (spaCy loaded once per process)."""
    lab = _WORKER_LABELERS.get(name)
    if lab is None:
        lab = _WORKER_LABELERS[name] = Labeler(name)
    return lab


def _label_chunk(item: tuple[str, int, list[str | None]]) -> tuple[int, list[ReportResult]]:
    name, start, texts = item
    return start, get_labeler(name).label_many(texts)


def _lost_chunk(item: tuple[str, int, list[str | None]], reason: str) -> tuple[int, list[ReportResult]]:
    """``run_map``'s on_lost: every report of a chunk whose worker died, marked lost."""
    _, start, texts = item
    return start, [ReportResult(dict.fromkeys(OBSERVATIONS), lost=reason) for _ in texts]


def iter_labels(
    texts: Iterable[str | None], labeler: str = "chexpert", workers: int | None = None, chunk_size: int = CHUNK
) -> Iterator[ReportResult]:
    """Stream labels in input order; chunks of ``chunk_size`` go through one process pool
    (:func:`cxrdb.executor.run_map`), each worker loading spaCy once."""
    name = get_config(labeler).name
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        lab = get_labeler(name)
        chunk: list[str | None] = []
        for t in texts:
            chunk.append(t)
            if len(chunk) >= chunk_size * INLINE_CHUNKS:
                yield from lab.label_many(chunk)
                chunk = []
        if chunk:
            yield from lab.label_many(chunk)
        return
    chunks = _chunks(name, texts, chunk_size)
    pending: dict[int, list[ReportResult]] = {}
    next_start = 0
    for start, results in run_map(_label_chunk, chunks, workers=workers, batch_size=1, on_lost=_lost_chunk):
        pending[start] = results
        while next_start in pending:
            done = pending.pop(next_start)
            next_start += len(done)
            yield from done


def _chunks(name: str, texts: Iterable[str | None], size: int) -> Iterator[tuple[str, int, list[str | None]]]:
    start = 0
    for chunk in batched(texts, size):
        yield name, start, chunk
        start += len(chunk)


def label_texts(
    texts: Sequence[str | None], labeler: str = "chexpert", workers: int | None = None, chunk_size: int = CHUNK
) -> list[ReportResult]:
    """Label many reports, in parallel via :func:`cxrdb.executor.run_map`; order is preserved.
    Small inputs (one chunk) are labeled in this process."""
    if len(texts) <= chunk_size:
        workers = 1
    return list(iter_labels(texts, labeler, workers, chunk_size))
