"""Single-sentence behaviours of every labeler rule (CheXpert mode unless said otherwise)."""

from __future__ import annotations

import pytest

from cxrdb.labeling import OBSERVATIONS
from cxrdb.labeling.aggregate import aggregate, resolve
from cxrdb.labeling.clean import clean_chexpert
from cxrdb.labeling.config import CHEXPERT, NEGBIO
from cxrdb.labeling.engine import get_labeler
from cxrdb.labeling.sentences import split_sentences

P, N, U = 1.0, 0.0, -1.0


@pytest.fixture(scope="module")
def lab():
    return get_labeler("chexpert")


def labels(lab, text: str) -> dict[str, float | None]:
    return lab.label(text).labels


CASES = [
    # --- plain mentions and substring semantics
    ("Left pleural effusion.", "Pleural Effusion", P),
    ("Bilateral effusions.", "Pleural Effusion", P),
    ("Patchy opacification at the right base.", "Lung Opacity", P),
    ("Right upper lobe pneumothorax.", "Pneumothorax", P),
    ("Acute rib fractures.", "Fracture", P),
    ("Right IJ central line in place.", "Support Devices", P),
    # --- negation
    ("No pleural effusion.", "Pleural Effusion", N),
    ("There is no pneumothorax.", "Pneumothorax", N),
    ("Pneumothorax is not seen.", "Pneumothorax", N),
    ("The heart is not enlarged.", "Cardiomegaly", N),
    ("Cardiomegaly without overt edema.", "Edema", N),
    ("No evidence of pneumothorax.", "Pneumothorax", N),
    ("No evidence for effusion.", "Pleural Effusion", N),
    ("The lungs are free of consolidation.", "Consolidation", N),
    ("Negative for pneumonia.", "Pneumonia", N),
    ("Heart size is normal.", "Cardiomegaly", N),
    ("Normal heart size.", "Cardiomegaly", N),
    ("The cardiomediastinal silhouette is within normal limits.", "Enlarged Cardiomediastinum", N),
    ("The previously seen effusion has resolved.", "Pleural Effusion", N),
    ("Interval resolution of the consolidation.", "Consolidation", N),
    ("Pneumothorax is no longer seen.", "Pneumothorax", N),
    ("No focal opacity to suggest pneumonia.", "Pneumonia", N),
    # --- negation propagated through conjunctions and 'of' phrases
    ("No edema or pneumonia.", "Pneumonia", N),
    ("There is no evidence of pneumothorax, effusion or consolidation.", "Consolidation", N),
    ("There is no evidence of pneumothorax, effusion or consolidation.", "Pleural Effusion", N),
    ("The lungs are clear without focal consolidation, pneumothorax, or pleural effusion.", "Pneumothorax", N),
    ("There are no signs of pulmonary edema.", "Edema", N),
    # --- pre-negation uncertainty
    ("Pneumonia cannot be excluded.", "Pneumonia", U),
    ("Cannot exclude a small pneumothorax.", "Pneumothorax", U),
    ("Cannot rule out pneumonia.", "Pneumonia", U),
    ("Early pneumonia is not excluded.", "Pneumonia", U),
    ("No new consolidation.", "Consolidation", U),
    # --- post-negation uncertainty
    ("Possible right lower lobe pneumonia.", "Pneumonia", U),
    ("Questionable small left effusion.", "Pleural Effusion", U),
    ("This may represent atelectasis.", "Atelectasis", U),
    ("Findings are concerning for pneumonia.", "Pneumonia", U),
    ("Findings suspicious for pneumonia.", "Pneumonia", U),
    ("Atelectasis versus consolidation.", "Atelectasis", U),
    ("Atelectasis versus consolidation.", "Consolidation", U),
    ("Bibasilar atelectasis or scarring.", "Atelectasis", U),
    ("Heart size is stable.", "Cardiomegaly", U),
    ("Stable cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", U),
    ("Mild pulmonary vascular congestion.", "Edema", U),
    ("Differential diagnosis includes pneumonia.", "Pneumonia", U),
    # --- unmentions, including the generated positional ones
    ("Calcified nodule in the right upper lobe.", "Lung Lesion", None),
    ("Small pericardial effusion.", "Pleural Effusion", None),
    ("Pacemaker leads project over the heart.", "Cardiomegaly", None),
    ("Surgical clips in the left mediastinum.", "Enlarged Cardiomediastinum", None),
    ("Cardiomegaly.", "Cardiomegaly", P),
    ("Pleural scarring at the left apex.", "Lung Opacity", None),
    # --- anatomy phrases need an abnormality to be positive
    ("The heart is enlarged.", "Cardiomegaly", P),
    ("The cardiac silhouette is moderately enlarged.", "Cardiomegaly", P),
    ("The heart and lungs have XXXX XXXX in the interval.", "Cardiomegaly", None),
    ("The heart and lungs are unchanged in the interval.", "Cardiomegaly", U),
]


@pytest.mark.parametrize(("text", "obs", "expected"), CASES)
def test_single_sentence(lab, text: str, obs: str, expected: float | None) -> None:
    assert labels(lab, text)[obs] == expected, lab.label(text).evidence


def test_stable_applies_only_to_silhouette_and_size(lab) -> None:
    assert labels(lab, "Stable mild cardiomegaly.")["Cardiomegaly"] == P


def test_chf_adds_uncertain_cardiomegaly(lab) -> None:
    out = labels(lab, "Findings consistent with CHF.")
    assert out["Edema"] == P and out["Cardiomegaly"] == U
    out = labels(lab, "No evidence of CHF.")
    assert out["Edema"] == N and out["Cardiomegaly"] is None


def test_aggregation_negative_and_uncertain_is_uncertain_even_beside_positive(lab) -> None:
    text = "Left effusion. No right effusion. Possible loculated effusion."
    assert labels(lab, text)["Pleural Effusion"] == U
    assert resolve([P, N, U], -1.0) == U
    assert resolve([P, N, U], 0.0) == N
    assert resolve([P, N], -1.0) == P
    assert resolve([P, U], -1.0) == P
    assert resolve([N, N], -1.0) == N


def test_no_finding_rules(lab) -> None:
    assert labels(lab, "The lungs are clear.")["No Finding"] == P  # no mention at all
    assert labels(lab, "")["No Finding"] == P
    assert labels(lab, "No pneumothorax.")["No Finding"] == P  # only negatives
    assert labels(lab, "Small left effusion.")["No Finding"] is None  # positive finding
    assert labels(lab, "Possible pneumonia.")["No Finding"] is None  # uncertain finding
    assert labels(lab, "Emphysema.")["No Finding"] is None  # other abnormality, positive
    assert labels(lab, "No emphysema.")["No Finding"] == P  # other abnormality, negated
    assert labels(lab, "Endotracheal tube in place. Lungs clear.")["No Finding"] == P  # devices don't block
    for v in labels(lab, "Emphysema. No effusion.").values():
        assert v in (None, 1.0, 0.0, -1.0)


def test_no_finding_mode_difference() -> None:
    triples = [("No Finding", "emphysema", P)]
    assert aggregate(triples, CHEXPERT)["No Finding"] is None
    assert aggregate(triples, NEGBIO)["No Finding"] == P
    assert aggregate([("Support Devices", "tube", P)], CHEXPERT)["No Finding"] == P


def test_observations_order() -> None:
    assert list(OBSERVATIONS) == sorted(OBSERVATIONS) and len(OBSERVATIONS) == 14


def test_cleaning() -> None:
    assert clean_chexpert("A/B and/or C..  D,E\nF") == "a or b or c. d, e f"
    # as the original: ".." becomes "." once (not repeatedly), and ". ." stays
    assert clean_chexpert("Effusion. . Edema") == "effusion. . edema"
    assert clean_chexpert("Effusion... Edema") == "effusion. . edema"


def test_sentence_split() -> None:
    sents = [s for _, _, s in split_sentences("1. left effusion. 2. cardiomegaly. size 2. 5 cm.")]
    assert sents == ["1. left effusion.", "2. cardiomegaly.", "size 2. 5 cm."]


def test_section_title_shortcut(lab) -> None:
    out = lab.label("IMPRESSION: No acute process, effusion seen.")
    assert out.labels["Pleural Effusion"] == N
    assert out.evidence[0]["rule"] == "neg.title_no"


def test_evidence_fields(lab) -> None:
    res = lab.label("Heart size normal. Possible pneumonia.")
    ev = next(e for e in res.evidence if e["observation"] == "Pneumonia")
    assert ev["sentence_index"] == 1 and ev["sentence"][ev["start"] : ev["end"]] == ev["phrase"]
    assert ev["label"] == U and ev["rule"].startswith("unc.")
    assert res.parse_failures == 0


def test_negbio_mode_differences() -> None:
    nb = get_labeler("negbio")
    # regex rule before the graph rules, case preserved in the text, case-insensitive phrases
    res = nb.label("No evidence of focal Pneumothorax.")
    assert res.labels["Pneumothorax"] == N and res.evidence[0]["rule"].startswith("negbio.")
    assert nb.label("Emphysema.").labels["No Finding"] == P  # other abnormalities don't block
    assert nb.label("").skipped
    text = "Left effusion. No right effusion. Possible loculated effusion."
    assert nb.label(text).labels["Pleural Effusion"] == N  # negative + uncertain -> negative
    assert nb.label("Tuberculosis.").labels["Support Devices"] is None  # word-bounded devices
