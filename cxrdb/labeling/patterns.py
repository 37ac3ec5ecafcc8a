"""A small Semgrex-like pattern language over cxrdb's dependency graphs.

Syntax (one pattern per line in the rule files, as ``rule_id: pattern``)::

    pattern  := node relation*
    node     := '{' [attr ':' value (';' attr ':' value)*] '}' ['=' name]
    relation := ['!'] ('>' | '<') label (node | '(' pattern ')')
    value    := word('|'word)*      full match, case-insensitive
              | '/' regex '/'       full match
    label    := the same value syntax for the edge label, or '*' for any edge

``A >det B`` means A governs B through a ``det`` edge, ``A <nsubj B`` means A depends on B through
``nsubj``. As in Semgrex every relation written after a node attaches to that node; parentheses make the
target the anchor of its own relations: ``{} <prep_of ({lemma:evidence} >det {lemma:no})``.
A ``!`` relation succeeds when *no* neighbour matches. Attributes: ``lemma``, ``text`` (lower-cased
word), ``tag`` (Penn tag), ``pos`` (universal tag). Node 0 (the first node) is a token of the mention.

Most patterns start with a plain relation of node 0 (``{} <prep_of ...``): :attr:`Pattern.needs` keeps its labels, so
the classifier skips a pattern whose labels node 0 has no edge with (``Pattern.ruled_out``; ~80 % of the tries)
before the backtracking match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CxrdbError

if TYPE_CHECKING:  # pragma: no cover
    from .parse import Graph

_ATTRS = {"lemma", "text", "tag", "pos"}


def _compile_value(value: str) -> re.Pattern[str]:
    if len(value) >= 2 and value.startswith("/") and value.endswith("/"):
        return re.compile(value[1:-1], re.IGNORECASE)
    return re.compile("|".join(re.escape(v) for v in value.split("|")), re.IGNORECASE)


@dataclass(slots=True)
class NodeSpec:
    """Attribute constraints on one node, and its optional name."""

    attrs: tuple[tuple[str, re.Pattern[str]], ...]
    name: str | None = None

    def ok(self, g: Graph, i: int) -> bool:
        tok = g.nodes[i]
        return all(rx.fullmatch(getattr(tok, attr)) is not None for attr, rx in self.attrs)


@dataclass(slots=True)
class Relation:
    """One edge constraint from the anchor node to a target sub-pattern."""

    down: bool  # True: '>' (anchor governs target); False: '<' (anchor depends on target)
    label: re.Pattern[str] | None  # None = any edge
    target: Pattern
    negated: bool = False
    #: the label's words when it is a plain ``word|word`` of ASCII words, lower-cased: then an ASCII edge label
    #: matches exactly when its lower-case form is one of them (what the case-insensitive full match does)
    words: frozenset[str] | None = None


@dataclass(slots=True)
class Pattern:
    """A node with relations to sub-patterns."""

    node: NodeSpec
    relations: list[Relation] = field(default_factory=list)
    #: (down, words) of the first non-negated relation with plain words: node 0 needs an edge that way with one of
    #: those labels, a test on the graph's label sets (:meth:`Graph.labels`) before any matching
    needs: tuple[bool, frozenset[str]] | None = None

    def ruled_out(self, labels: tuple[frozenset[str] | None, frozenset[str] | None]) -> bool:
        """True when node 0's edge labels (``Graph.labels``: in, out) cannot satisfy :attr:`needs`."""
        need = self.needs
        if need is None:
            return False
        side = labels[need[0]]
        return side is not None and side.isdisjoint(need[1])

    def match(self, g: Graph, i: int) -> dict[str, int] | None:
        """The first binding (name -> node index) with this pattern's node 0 at ``i``, or None."""
        for binding in _match(self, g, i, {}):
            return binding
        return None


def _match(p: Pattern, g: Graph, i: int, bound: dict[str, int]) -> Iterator[dict[str, int]]:
    if not p.node.ok(g, i):
        return
    if p.node.name:
        bound = {**bound, p.node.name: i}
    yield from _match_rels(p.relations, 0, g, i, bound)


def _match_rels(rels: list[Relation], k: int, g: Graph, i: int, bound: dict[str, int]) -> Iterator[dict[str, int]]:
    if k == len(rels):
        yield bound
        return
    rel = rels[k]
    edges = g.out_edges[i] if rel.down else g.in_edges[i]
    if rel.negated:
        for label, j in edges:
            if (rel.label is None or rel.label.fullmatch(label)) and next(
                _match(rel.target, g, j, bound), None
            ) is not None:
                return
        yield from _match_rels(rels, k + 1, g, i, bound)
        return
    for label, j in edges:
        if rel.label is not None and not rel.label.fullmatch(label):
            continue
        for b in _match(rel.target, g, j, bound):
            yield from _match_rels(rels, k + 1, g, i, b)


# ---------------------------------------------------------------- parsing the pattern text

def _tokenize(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append(c)
            i += 1
        elif c == "{":
            j = text.find("}", i)
            if j < 0:
                raise ValueError("unclosed '{'")
            m = re.match(r"=(\w+)", text[j + 1 :])
            end = j + 1 + (m.end() if m else 0)
            out.append(text[i:end])
            i = end
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in "({":
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _parse_node(tok: str) -> NodeSpec:
    m = re.fullmatch(r"\{(.*)\}(?:=(\w+))?", tok, re.DOTALL)
    if not m:
        raise ValueError(f"expected a node, got {tok!r}")
    attrs = []
    body = m.group(1).strip()
    if body:
        for part in body.split(";"):
            key, _, value = part.partition(":")
            key, value = key.strip(), value.strip()
            if key not in _ATTRS or not value:
                raise ValueError(f"bad node attribute {part!r}")
            attrs.append((key, _compile_value(value)))
    return NodeSpec(tuple(attrs), m.group(2))


def parse_pattern(text: str) -> Pattern:
    """Parse one pattern line (without its id)."""
    toks = _tokenize(text)
    pos = 0

    def expr() -> Pattern:
        nonlocal pos
        if pos >= len(toks):
            raise ValueError("pattern ends early")
        node = _parse_node(toks[pos])
        pos += 1
        pat = Pattern(node)
        while pos < len(toks) and toks[pos] != ")":
            rel_tok = toks[pos]
            m = re.fullmatch(r"(!?)([<>])(.*)", rel_tok)
            if not m:
                raise ValueError(f"expected a relation, got {rel_tok!r}")
            value = m.group(3)
            label = None if value in ("", "*") else _compile_value(value)
            words = None
            if label is not None and not (len(value) >= 2 and value.startswith("/") and value.endswith("/")) \
                    and value.isascii():
                words = frozenset(w.lower() for w in value.split("|"))
            pos += 1
            if pos >= len(toks):
                raise ValueError("relation without a target")
            if toks[pos] == "(":
                pos += 1
                target = expr()
                if pos >= len(toks) or toks[pos] != ")":
                    raise ValueError("unbalanced '('")
                pos += 1
            else:
                target = Pattern(_parse_node(toks[pos]))
                pos += 1
            pat.relations.append(Relation(m.group(2) == ">", label, target, bool(m.group(1)), words))
        pat.needs = next(((r.down, r.words) for r in pat.relations if not r.negated and r.words is not None), None)
        return pat

    pat = expr()
    if pos != len(toks):
        raise ValueError("unbalanced ')'")
    return pat


@dataclass(slots=True)
class Rule:
    """A named pattern from a rule file."""

    rule_id: str
    pattern: Pattern


def load_rules(path: Path) -> list[Rule]:
    """Load ``rule_id: pattern`` lines; '#' comments and blank lines are skipped."""
    rules: list[Rule] = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        rule_id, sep, text = line.partition(":")
        if not sep or not rule_id.strip() or " " in rule_id.strip():
            raise CxrdbError(f"{path.name}:{lineno}: expected 'rule_id: pattern'")
        try:
            rules.append(Rule(rule_id.strip(), parse_pattern(text.strip())))
        except ValueError as exc:
            raise CxrdbError(f"{path.name}:{lineno}: {exc}") from None
    return rules
