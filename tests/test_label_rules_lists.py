"""Single-sentence behaviours of the list / coordination negation rules and parser-error repairs."""

from __future__ import annotations

import pytest

from cxrdb.labeling.engine import get_labeler

P, N, U = 1.0, 0.0, -1.0


@pytest.fixture(scope="module")
def lab():
    return get_labeler("chexpert")


@pytest.fixture(scope="module")
def nb():
    return get_labeler("negbio")


CASES = [
    # a negated list: every member is negative, the 'or' does not make them uncertain
    ("No confluent lobar consolidation or pleural effusion.", "Pleural Effusion", N),
    ("No confluent lobar consolidation or pleural effusion.", "Consolidation", N),
    ("There is no focal airspace disease, pleural effusion, or pneumothorax.", "Pneumothorax", N),
    ("There is no focal airspace disease, pleural effusion, or pneumothorax.", "Pleural Effusion", N),
    ("Negative for focal pulmonary consolidation, pleural effusion or pneumothorax.", "Pleural Effusion", N),
    ("Negative for focal pulmonary consolidation, pleural effusion or pneumothorax.", "Pneumothorax", N),
    ("No confluent lobar pneumonia or pleural effusion.", "Pneumonia", N),
    ("No confluent lobar pneumonia or pleural effusion.", "Pleural Effusion", N),
    # parser errors: plural finding tagged as a verb, size range, "I do not see evidence"
    ("No focal parenchymal infiltrates or pleural air collections.", "Lung Opacity", N),
    ("No suspicious infiltrates or masses.", "Lung Lesion", N),
    ("No moderate to large pleural effusion or pneumothorax is identified.", "Pleural Effusion", N),
    ("No moderate to large pleural effusion or pneumothorax is identified.", "Pneumothorax", N),
    ("I do not see evidence for fracture or destructive process.", "Fracture", N),
    ("Does not appear to be a hydropneumothorax or empyema.", "Pneumothorax", N),
    # an un-negated 'or' list stays uncertain
    ("Bibasilar atelectasis or scarring.", "Atelectasis", U),
    ("Small left pleural effusion or hemothorax.", "Pleural Effusion", U),
    ("Right basilar infiltrate or atelectasis, and bilateral pleural effusions.", "Atelectasis", U),
    # a contrast does not carry the negation
    ("No pneumothorax, but small effusion.", "Pleural Effusion", P),
]


@pytest.mark.parametrize(("text", "obs", "expected"), CASES)
def test_list_negation(lab, text: str, obs: str, expected: float) -> None:
    assert lab.label(text).labels[obs] == expected, lab.label(text).evidence


@pytest.mark.parametrize(("text", "obs", "expected"), [c for c in CASES if c[2] == N])
def test_list_negation_negbio(nb, text: str, obs: str, expected: float) -> None:
    assert nb.label(text).labels[obs] == expected, nb.label(text).evidence
