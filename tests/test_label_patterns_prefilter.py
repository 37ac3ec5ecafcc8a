"""The pattern engine's label pre-test (``Pattern.needs``, ``ruled_out``) skips only patterns that cannot match."""

from __future__ import annotations

import csv
from pathlib import Path

from cxrdb.labeling.engine import _parse_text, get_labeler
from cxrdb.labeling.parse import Graph, Node, build_graph
from cxrdb.labeling.patterns import parse_pattern

IU = Path(__file__).parent / "data" / "reports" / "iu_reports_dev.csv"


def _graph(labels: list[str]) -> Graph:
    """Node 0 depends on nodes 1.. through the given labels."""
    g = Graph([Node(w, w, "NN", "NOUN", 0, 1) for w in ["x", *("y" * len(labels))]])
    for k, lab in enumerate(labels, 1):
        g.add(k, lab, 0)
    return g


def test_needs_is_the_first_plain_relation() -> None:
    assert parse_pattern("{} !<neg {} <nsubj|dobj {}").needs == (False, frozenset({"nsubj", "dobj"}))
    assert parse_pattern("{} <* {} >/prep_.*/ {}").needs is None
    assert parse_pattern("{} <* {} >Prep_Of {}").needs == (True, frozenset({"prep_of"}))


def test_ruled_out_follows_the_case_insensitive_full_match() -> None:
    p = parse_pattern("{} <nsubj {}")
    assert p.ruled_out(_graph(["dobj"]).labels(0))
    assert not p.ruled_out(_graph(["NSUBJ"]).labels(0)) and p.match(_graph(["NSUBJ"]), 0) is not None
    assert not p.ruled_out(_graph(["nſubj"]).labels(0))  # non-ASCII: left to the regex (which matches: ſ ~ s)
    assert p.match(_graph(["nſubj"]), 0) is not None


def test_ruled_out_never_skips_a_pattern_that_matches_on_indiana_graphs() -> None:
    with IU.open(newline="", encoding="utf-8") as fh:
        texts = [f"{r['findings']} {r['impression']}".strip() for r in csv.DictReader(fh)][:400]
    sentences = list(dict.fromkeys(s for t in texts for s in t.replace("XXXX", "___").split(". ") if s))
    labs = [get_labeler("chexpert"), get_labeler("negbio")]
    rules = list({id(r.pattern): r for lab in labs for c in [lab.classifier]
                  for r in (*c.pre, *c.neg, *c.post, *c.anatomy)}.values())
    skipped = 0
    for doc in labs[0].nlp.pipe([_parse_text(s) for s in sentences]):
        g = build_graph(doc, labs[0].vocabulary)
        for i in range(len(g.nodes)):
            labels = g.labels(i)
            for r in rules:
                if r.pattern.ruled_out(labels):
                    skipped += 1
                    assert r.pattern.match(g, i) is None, (r.rule_id, doc.text, i)
    assert skipped > 10_000
