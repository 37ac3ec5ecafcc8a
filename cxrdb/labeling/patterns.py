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


@dataclass(slots=True)
class Pattern:
    """A node with relations to sub-patterns."""

    node: NodeSpec
    relations: list[Relation] = field(default_factory=list)

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
            label = None if m.group(3) in ("", "*") else _compile_value(m.group(3))
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
            pat.relations.append(Relation(m.group(2) == ">", label, target, bool(m.group(1))))
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
