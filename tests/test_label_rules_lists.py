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
    # a preposition coordinated with the predicate; "no" deep inside the noun phrase
    ("The lungs are clear, and without focal air space opacity.", "Lung Opacity", N),
    ("The heart size and cardiomediastinal silhouette are stable and within normal limits.", "Cardiomegaly", N),
    ("1. No acute intrathoracic abnormality. Emphysema is absent.", "No Finding", P),
    ("There is no focal air space opacity to suggest a pneumonia.", "Pneumonia", N),
    ("No acute intrathoracic abnormality.", "No Finding", P),
    # hedges
    ("Opacities which may be compatible with mild pulmonary edema.", "Edema", U),
    ("Opacities which may be due to atelectasis.", "Atelectasis", U),
    ("Pulmonary edema is difficult to exclude.", "Edema", U),
    ("Basilar opacities, pulmonary edema difficult to entirely exclude.", "Edema", U),
    ("Differential diagnosis is broad and includes pulmonary edema and infection.", "Edema", U),
    ("Differential diagnosis includes pneumonia.", "Pneumonia", U),
    # soft-tissue edema is not pulmonary edema
    ("Soft tissue edema with no visible bony injury.", "Edema", None),
    ("Subcutaneous edema of the chest wall.", "Edema", None),
    ("Mild interstitial edema.", "Edema", P),
    # Lung Lesion: a nodular opacity may be a nodule; interstitial patterns and thyroid masses are not lesions
    ("There is a 6 mm nodular opacity in the right midlung.", "Lung Lesion", U),
    ("There is a 6 mm nodular opacity in the right midlung.", "Lung Opacity", P),
    ("Right upper lobe nodule.", "Lung Lesion", P),
    ("Diffuse reticulonodular interstitial opacities.", "Lung Lesion", None),
    ("Enlarging thyroid mass.", "Lung Lesion", None),
    ("There is a 7 mm uncalcified nodule of uncertain origin.", "Lung Lesion", P),
    ("Noncalcified nodule in the left upper lobe.", "Lung Lesion", P),
    ("Masslike opacification of the right apex.", "Lung Lesion", P),
    ("The nodular density in the right upper lobe is not well-seen today.", "Lung Lesion", U),
    # more hedges
    ("Please correlate clinically for pneumonia.", "Pneumonia", U),
    ("These may represent sequela of infection.", "Pneumonia", U),
    ("There is bibasilar airspace disease, possibly passive atelectasis.", "Atelectasis", U),
    ("Effusion and/or atelectasis.", "Atelectasis", U),
    # "negative for Y" negates Y only; "upper normal" is not a normality statement (negated relations)
    ("Minimal atelectasis at the left base otherwise negative for focal airspace disease.", "Atelectasis", P),
    ("Minimal atelectasis at the left base otherwise negative for focal airspace disease.", "Lung Opacity", N),
    ("Heart size is upper normal.", "Cardiomegaly", None),
    ("Heart size is normal.", "Cardiomegaly", N),
    ("Heart size large.", "Cardiomegaly", P),
    # noun-phrase negation scope (patterns/negation_scope.txt) when the parse is wrong
    ("No displaced, acute fractures are identified.", "Fracture", N),
    ("No suspicious pulmonary nodule is found.", "Lung Lesion", N),
    ("No change in moderate left pneumothorax.", "Pneumothorax", P),
    ("No effusion identified, small pneumothorax.", "Pneumothorax", P),
    ("No significant interval change in left base airspace disease and small effusion.", "Pleural Effusion", P),
    # "does not look like", "without demonstration of"
    ("This does not look like an acute infiltrate.", "Lung Opacity", N),
    ("Limited examination without demonstration of an acute intrathoracic abnormality.", "No Finding", P),
    # hedged relations, versus on the governor, "suspect X"
    ("Streaky opacities possibly related to scarring and atelectasis.", "Atelectasis", U),
    ("Opacity may be related to atelectasis.", "Atelectasis", U),
    ("Opacity consistent with pneumonia.", "Pneumonia", P),
    ("Enlarged silhouette, possibly consistent with mild cardiomegaly versus a small pericardial effusion.",
     "Cardiomegaly", U),
    ("If findings localize to this region, suspect acute fracture.", "Fracture", U),
    # an apposition's "no" does not negate its head; neither ... nor
    ("Small pneumothorax, no effusion.", "Pneumothorax", P),
    ("Small pneumothorax, no effusion.", "Pleural Effusion", N),
    ("Neither pneumothorax nor effusion.", "Pleural Effusion", N),
    ("Neither pneumothorax nor effusion.", "Pneumothorax", N),
    ("Stable cardiomegaly and central pulmonary vascular prominence.", "Edema", U),
    # "left"/"right" taken for a verb by the parser
    ("The previously described left lower lobe pneumonia has resolved.", "Pneumonia", N),
    ("Previously seen left pleural effusion has resolved.", "Pleural Effusion", N),
    ("Previously seen right pleural effusion is no longer seen.", "Pleural Effusion", N),
    ("Previously seen left pleural effusion.", "Pleural Effusion", P),
    ("Minimal left basilar atelectasis, otherwise clear.", "Atelectasis", P),
    # a modifier shared with a conjunct does not carry the conjunct's "no" back to the first member
    ("There is a small left effusion and no pneumothorax.", "Pleural Effusion", P),
    ("There is a small left effusion and no pneumothorax.", "Pneumothorax", N),
    # the mention modifies a hedged noun
    ("Possible infectious process in the right base.", "Pneumonia", U),
    ("Opacity with possible mass and associated area of atelectasis.", "Lung Lesion", U),
    # the object of a finding noun taken for a verb; a long negated list
    ("No evidence of focal airspace consolidation large pleural effusion or pneumothorax.", "Pleural Effusion", N),
    ("No evidence of focal airspace consolidation large pleural effusion or pneumothorax.", "Pneumothorax", N),
    ("There is no pleural line to suggest pneumothorax or costophrenic blunting to suggest large pleural effusion.",
     "Pleural Effusion", N),
    ("Low lung volumes without evidence of focal consolidation, suspicious pulmonary opacity, large pleural "
     "effusion, or pneumothorax is identified.", "Pneumothorax", N),
]

# other abnormalities (rules/mention/no_finding.txt): they block No Finding only when not negated
NO_FINDING_CASES = [
    ("Low lung volumes. Lungs are clear.", None),
    ("Lung volumes are low. No infiltrates.", None),
    ("The lungs are hypoinflated but clear.", None),
    ("Low lung volumes with bronchovascular crowding.", None),
    ("Mild dextrocurvature of the thoracic spine.", None),
    ("Flowing syndesmophytes in the thoracic spine.", None),
    ("Old fusion of T9-T10.", None),
    ("Metallic foreign body in the soft tissues of the left chest wall.", None),
    ("Bilateral breast implants.", None),
    ("Surgical clips from cholecystectomy.", None),
    ("Mild unfolding of the thoracic aorta.", None),
    ("Stable interstitial fibrotic changes.", None),
    ("Normal lung volumes. Lungs are clear.", P),
    ("The lung volumes are low normal. Lungs are clear.", P),
    ("No pleural effusion. Heart size normal.", P),
]


@pytest.mark.parametrize(("text", "obs", "expected"), CASES)
def test_list_negation(lab, text: str, obs: str, expected: float) -> None:
    assert lab.label(text).labels[obs] == expected, lab.label(text).evidence


@pytest.mark.parametrize(("text", "obs", "expected"), [c for c in CASES if c[2] == N])
def test_list_negation_negbio(nb, text: str, obs: str, expected: float) -> None:
    assert nb.label(text).labels[obs] == expected, nb.label(text).evidence


@pytest.mark.parametrize(("text", "expected"), NO_FINDING_CASES)
def test_no_finding_other_abnormalities(lab, text: str, expected: float | None) -> None:
    assert lab.label(text).labels["No Finding"] == expected, lab.label(text).evidence


def test_negated_relation_without_named_nodes() -> None:
    """A '!' relation blocks the match even when the pattern names no node (bug fix)."""
    from cxrdb.labeling.parse import Graph, Node
    from cxrdb.labeling.patterns import parse_pattern

    g = Graph([Node("heart", "heart", "NN", "NOUN", 0, 5), Node("normal", "normal", "JJ", "ADJ", 6, 12),
               Node("upper", "upper", "JJ", "ADJ", 13, 18)])
    g.add(0, "amod", 1)
    pat = parse_pattern("{} >amod ({lemma:normal} !>* {lemma:upper})")
    assert pat.match(g, 0) is not None
    g.add(1, "amod", 2)
    assert pat.match(g, 0) is None


NEGBIO_CASES = [
    # NegBio's regex rules: "no" up to three words before the mention, anywhere in the sentence
    ("Heart size normal, no pneumothorax or pleural effusion.", "Pleural Effusion", N),
    ("No evidence of focal consolidation, pneumothorax, or pleural effusion.", "Pleural Effusion", N),
    ("The previously seen effusion is resolved, resolved pneumothorax.", "Pneumothorax", N),
    ("Unchanged small left effusion.", "Pleural Effusion", U),
    ("Borderline size of the cardiac silhouette.", "Cardiomegaly", U),
    ("Borderline heart size.", "Cardiomegaly", U),
    ("Borderline cardiomegaly.", "Cardiomegaly", P),
    ("Pneumothorax cannot be entirely excluded.", "Pneumothorax", U),
    ("Small left effusion, if any.", "Pleural Effusion", U),
    ("Pneumonia is less likely.", "Pneumonia", U),
    ("Less likely pneumonia.", "Pneumonia", U),
    ("Atelectasis is likely.", "Atelectasis", P),
    ("Small effusion could be present.", "Pleural Effusion", U),
    ("Pericardial fluid or cardiomegaly could have this appearance.", "Cardiomegaly", U),
]


@pytest.mark.parametrize(("text", "obs", "expected"), NEGBIO_CASES)
def test_negbio_rules(nb, text: str, obs: str, expected: float | None) -> None:
    assert nb.label(text).labels[obs] == expected, nb.label(text).evidence


@pytest.mark.parametrize(("text", "obs", "expected"), [
    ("Borderline heart size.", "Cardiomegaly", U),
    ("Borderline cardiomegaly.", "Cardiomegaly", P),
    ("The heart is borderline enlarged.", "Cardiomegaly", P),
    ("Pneumonia is less likely.", "Pneumonia", U),
    ("Atelectasis is likely.", "Atelectasis", P),
    ("Small effusion could be present.", "Pleural Effusion", U),
    ("Tuberculosis infection could have this appearance.", "Pneumonia", U),
    ("The pneumothorax is not clearly seen.", "Pneumothorax", U),
    ("Opacity possibly represents atelectasis.", "Atelectasis", U),
    ("The cardiac silhouette is similar to prior.", "Cardiomegaly", U),
    ("Stable appearance of the cardiac silhouette.", "Cardiomegaly", U),
])
def test_chexpert_hedges(lab, text: str, obs: str, expected: float | None) -> None:
    assert lab.label(text).labels[obs] == expected, lab.label(text).evidence


@pytest.mark.parametrize(("text", "obs", "expected"), [
    ("Rule out pneumonia.", "Pneumonia", N),
    ("Evaluation to exclude pneumothorax.", "Pneumothorax", N),
    ("Cannot rule out pneumothorax.", "Pneumothorax", U),
    ("Pneumothorax is not excluded.", "Pneumothorax", U),
    ("History of pneumonia.", "Pneumonia", N),
    ("Stable right middle lobe bronchiectasis, likely postinfectious.", "Pneumonia", None),
    ("Left effusion with interval resolution.", "Pleural Effusion", N),
    ("Without development of pleural effusion.", "Pleural Effusion", N),
    ("Status post drainage of the effusion.", "Pleural Effusion", N),
    ("The nodule was previously demonstrated on CT.", "Lung Lesion", N),
])
def test_chexpert_negation_semantics(lab, text: str, obs: str, expected: float | None) -> None:
    assert lab.label(text).labels[obs] == expected, lab.label(text).evidence
