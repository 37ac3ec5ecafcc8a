"""build_graph's passes, one sentence each: the pass's edge is in the graph, and missing without the pass."""

from __future__ import annotations

import pytest

from cxrdb.labeling import parse
from cxrdb.labeling.engine import _parse_text, get_labeler
from cxrdb.labeling.parse import PASSES, PROPAGATION, build_graph

#: pass -> (sentence, edge as (head word, label, dependent word)) the pass adds
CASES = {
    "reattach_list_members": ("negative for focal pulmonary consolidation, pleural effusion or pneumothorax.",
                              ("consolidation", "conj_or", "effusion")),
    "add_basic_edges": ("no effusion.", ("effusion", "det", "no")),
    "collapse_prepositions": ("the lungs are clear and without opacity.", ("clear", "prep_without", "opacity")),
    "versus_after_noun": ("this could indicate a small amount of pleural fluid versus pleural-parenchymal scarring.",
                          ("fluid", "prep_versus", "scarring")),
    "verb_tagged_side": ("the previously described left lower lobe pneumonia has resolved.",
                         ("resolved", "nsubj", "pneumonia")),
    "buried_no": ("no confluent lobar consolidation or pleural effusion.", ("consolidation", "det", "no")),
    "differential_subject": ("findings are secondary to crowding however differential diagnosis includes mild "
                             "pulmonary edema.", ("includes", "nsubj", "diagnosis")),
    "coordinate_conjuncts": ("no effusion, consolidation or pneumothorax.", ("effusion", "conj_or", "pneumothorax")),
    "lost_coordinations": ("no airspace disease, effusion or noncalcified nodule.", ("effusion", "conj_or", "nodule")),
    "unmarked_lists": ("no focal consolidation, effusion, or pneumothorax is seen.",
                       ("consolidation", "conj_list", "effusion")),
    "versus_as_coordination": ("this may represent atelectasis versus edema.", ("represent", "dobj", "edema")),
    "lift_quantity_heads": ("no area of consolidation.", ("consolidation", "det", "no")),
    "negation_through_of": ("no evidence of pneumothorax.", ("pneumothorax", "neg", "no")),
    "share_with_conjuncts": ("no effusion or pneumothorax.", ("pneumothorax", "det", "no")),
    "inherit_from_head": ("no pleural fluid collection.", ("fluid", "det", "no")),
}


def _edges(sentence: str, passes: tuple[parse.Pass, ...]) -> set[tuple[str, str, str]]:
    doc = get_labeler("chexpert").nlp(_parse_text(sentence))
    g = build_graph(doc, passes=passes)
    return {(g.nodes[h].text, lab, g.nodes[c].text) for h, out in enumerate(g.out_edges) for lab, c in out}


def test_every_pass_has_a_case_and_propagation_runs_twice() -> None:
    assert set(CASES) == {p.__name__ for p in PASSES}
    assert PASSES[-2 * len(PROPAGATION):] == PROPAGATION * 2
    assert all(p.__doc__ and '"' in p.__doc__ for p in PASSES), "every pass documents an example sentence"


@pytest.mark.parametrize("name", sorted(CASES))
def test_pass_adds_its_edge(name: str) -> None:
    sentence, edge = CASES[name]
    step = getattr(parse, name)
    assert edge in _edges(sentence, PASSES)
    assert edge not in _edges(sentence, tuple(p for p in PASSES if p is not step))
