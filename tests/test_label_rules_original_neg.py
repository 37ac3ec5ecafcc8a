"""Single-sentence tests that follow the CheXpert labeler's negation rule groups one by one: for each
group, sentences (our own wording) the original rule is meant to catch, and near misses that must stay
positive or uncertain. Labels are the original labelers' (CheXpert, and NegBio as run for MIMIC-CXR-JPG,
whose regex "no ... X" rules and negative+uncertain -> negative aggregation differ). Both modes."""

from __future__ import annotations

import pytest
from labelcases import N, P, U, assert_modes

# (text, observation, CheXpert label, NegBio label)
CASES = [
    # "no" on a finding that carries a "definite" modifier
    ("No definite pneumothorax.", "Pneumothorax", N, N),
    ("There is no definite focal consolidation.", "Consolidation", N, N),
    ("There is no definite evidence of pneumonia.", "Pneumonia", N, N),
    ("Definite left lower lobe consolidation.", "Consolidation", P, P),
    # "no" on a finding that carries an "obvious" modifier
    ("No obvious displaced rib fracture.", "Fracture", N, N),
    ("There is no obvious pleural effusion.", "Pleural Effusion", N, N),
    # "normal" / "unremarkable" modifying the anatomy, or said of it (also through its head word)
    ("Normal heart size.", "Cardiomegaly", N, N),
    ("Heart size normal.", "Cardiomegaly", N, N),
    ("Heart size is normal.", "Cardiomegaly", N, N),
    ("Heart size is normal and the lungs are clear.", "Cardiomegaly", N, N),
    ("Normal cardiac silhouette.", "Cardiomegaly", N, N),
    ("The cardiac silhouette is unremarkable.", "Cardiomegaly", N, N),
    ("Normal size of the cardiac silhouette.", "Cardiomegaly", N, N),
    ("The heart is normal in size.", "Cardiomegaly", N, N),
    ("The heart is of normal size.", "Cardiomegaly", N, N),
    ("Unremarkable mediastinum.", "Enlarged Cardiomediastinum", N, N),
    ("The mediastinum is normal.", "Enlarged Cardiomediastinum", N, N),
    ("Mediastinal contours are normal.", "Enlarged Cardiomediastinum", N, N),
    ("Normal mediastinal contours.", "Enlarged Cardiomediastinum", N, N),
    ("Normal cardiomediastinal contours.", "Enlarged Cardiomediastinum", N, N),
    ("Normal cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", N, N),
    ("The cardiomediastinal silhouette is normal in size.", "Enlarged Cardiomediastinum", N, N),
    ("Heart size and mediastinal contours are normal.", "Cardiomegaly", N, N),
    ("Heart size and mediastinal contours are normal.", "Enlarged Cardiomediastinum", N, N),
    ("Cardiac and mediastinal silhouettes are unremarkable.", "Enlarged Cardiomediastinum", N, N),
    # a normal-looking anatomy that a verb such as "show" / "demonstrate" reports
    ("Frontal and lateral views show a normal cardiac silhouette.", "Cardiomegaly", N, N),
    ("The radiograph demonstrates a normal mediastinum.", "Enlarged Cardiomediastinum", N, N),
    ("Chest radiograph shows a normal heart size.", "Cardiomegaly", N, N),
    # "normal appearance of X"
    ("Normal appearance of the mediastinum.", "Enlarged Cardiomediastinum", N, N),
    ("The images demonstrate normal appearance of the cardiac silhouette.", "Cardiomegaly", N, N),
    ("Unremarkable appearance of the cardiac silhouette.", "Cardiomegaly", N, N),
    # "X appears / remains normal"
    ("The heart size appears normal.", "Cardiomegaly", N, N),
    ("The cardiac silhouette remains normal.", "Cardiomegaly", N, N),
    ("The cardiac silhouette appears normal in size.", "Cardiomegaly", N, N),
    ("The mediastinal contours appear unremarkable.", "Enlarged Cardiomediastinum", N, N),
    # "within normal limits", "at the upper limit(s) of normal"
    ("Heart size is within normal limits.", "Cardiomegaly", N, N),
    ("Heart size within normal limits.", "Cardiomegaly", N, N),
    ("Heart size remains within normal limits.", "Cardiomegaly", N, N),
    ("Cardiac silhouette within normal limits.", "Cardiomegaly", N, N),
    ("The cardiac silhouette is within normal limits.", "Cardiomegaly", N, N),
    ("The heart size and pulmonary vascularity appear within normal limits.", "Cardiomegaly", N, N),
    ("The mediastinum is within normal limits.", "Enlarged Cardiomediastinum", N, N),
    ("Cardiomediastinal silhouette is within normal limits.", "Enlarged Cardiomediastinum", N, N),
    ("The cardiac and mediastinal contours are within normal limits.", "Enlarged Cardiomediastinum", N, N),
    ("Heart size is at the upper limits of normal.", "Cardiomegaly", N, N),
    ("The cardiac silhouette is at the upper limit of normal.", "Cardiomegaly", N, N),
    # a "no" shared by every member of an 'or' / comma list
    ("No pneumothorax or pleural effusion.", "Pleural Effusion", N, N),
    ("No pneumothorax or pleural effusion.", "Pneumothorax", N, N),
    ("No pleural effusions or pneumothoraces.", "Pneumothorax", N, N),
    ("No focal consolidation, pleural effusion, or pneumothorax.", "Pneumothorax", N, N),
    ("No focal consolidation, pleural effusion, or pneumothorax.", "Pleural Effusion", N, N),
    ("No focal consolidation, pleural effusion or pneumothorax is seen.", "Pneumothorax", N, N),
    ("No consolidation, effusion, or edema.", "Edema", N, N),
    ("There is no evidence of pneumothorax or large pleural effusion.", "Pleural Effusion", N, N),
    ("There is no evidence of pneumothorax or large pleural effusion.", "Pneumothorax", N, N),
    ("Small left pleural effusion, no pneumothorax.", "Pneumothorax", N, N),
    # a mention that modifies a negated noun ("no consolidative opacity"), or is a compound of one
    ("No consolidative opacity.", "Consolidation", N, N),
    ("No consolidative opacity.", "Lung Opacity", N, N),
    ("No PICC line.", "Support Devices", N, N),
    ("No chest tube.", "Support Devices", N, N),
    # "X is absent"
    ("Pneumothorax is absent.", "Pneumothorax", N, N),
    ("The previously seen left pleural effusion is now absent.", "Pleural Effusion", N, N),
    # "no / without evidence (signs, findings) of / for X"
    ("No evidence of pneumonia.", "Pneumonia", N, N),
    ("No evidence of focal consolidation.", "Consolidation", N, N),
    ("No evidence of left pleural effusion.", "Pleural Effusion", N, N),
    ("There is no evidence for pleural effusion.", "Pleural Effusion", N, N),
    ("No radiographic evidence of acute fracture.", "Fracture", N, N),
    ("No signs of pulmonary edema.", "Edema", N, N),
    ("No findings of pneumonia.", "Pneumonia", N, N),
    ("Without evidence of pneumothorax.", "Pneumothorax", N, N),
    ("Without evidence of consolidative opacity.", "Consolidation", N, N),
    ("The lungs are clear without evidence of pneumonia.", "Pneumonia", N, N),
    ("The lungs are clear without evidence of focal airspace disease.", "Lung Opacity", N, N),
    # the second member of "X rather than Y" (the first stays positive)
    ("Left basilar opacity likely represents atelectasis rather than pneumonia.", "Atelectasis", P, P),
    # "without X"
    ("Stable chest radiograph without pneumothorax.", "Pneumothorax", N, N),
    ("Right lower lobe opacity without pleural effusion.", "Pleural Effusion", N, N),
    ("Right lower lobe opacity without pleural effusion.", "Lung Opacity", P, P),
    ("Lungs are clear bilaterally without consolidation or effusion.", "Pleural Effusion", N, N),
    ("Lungs are clear bilaterally without consolidation or effusion.", "Consolidation", N, N),
    ("Chest tube remains in place without pneumothorax.", "Pneumothorax", N, N),
    ("Chest tube remains in place without pneumothorax.", "Support Devices", P, P),
    # "clear of X", "clearing of X"
    ("Lungs are clear of focal consolidation.", "Consolidation", N, N),
    ("Lungs are clear of pneumonia.", "Pneumonia", N, N),
    ("Interval clearing of the right basilar opacity.", "Lung Opacity", N, N),
    ("Interval clearing of right lower lobe consolidation.", "Consolidation", N, N),
    # "rule out X" is a request (negative); "cannot rule out X" is uncertain (tried first)
    ("Portable chest radiograph to rule out pneumothorax.", "Pneumothorax", N, N),
    ("Cannot rule out pneumonia.", "Pneumonia", U, U),
    # "removal / resolution / drainage / disappearance / history of X", "free of X"
    ("Interval removal of the endotracheal tube.", "Support Devices", N, N),
    ("Interval removal of left chest tube.", "Support Devices", N, N),
    ("Status post removal of the right chest tube.", "Support Devices", N, N),
    ("Removal of the right chest tube with no residual pneumothorax.", "Support Devices", N, N),
    ("Removal of the right chest tube with no residual pneumothorax.", "Pneumothorax", N, N),
    ("Resolution of the left pleural effusion.", "Pleural Effusion", N, N),
    ("Near-complete resolution of the right pneumothorax.", "Pneumothorax", N, N),
    ("Interval resolution of right lower lobe pneumonia.", "Pneumonia", N, N),
    ("Interval resolution of the left lower lobe consolidation.", "Consolidation", N, N),
    ("Interval drainage of the right pleural effusion.", "Pleural Effusion", N, N),
    ("Disappearance of the previously seen nodule.", "Lung Lesion", N, N),
    ("History of pneumonia.", "Pneumonia", N, N),
    ("Patient with a history of pneumonia.", "Pneumonia", N, N),
    ("The lungs are free of consolidation.", "Consolidation", N, N),
    ("Costophrenic angles are free of effusion.", "Pleural Effusion", N, N),
    # "negative for X"
    ("The examination is negative for acute fracture.", "Fracture", N, N),
    ("Negative for pneumothorax.", "Pneumothorax", N, N),
    # "to exclude X" (negative) against "cannot exclude X" / "X is not excluded" (uncertain, tried first)
    ("Study performed to exclude pneumothorax.", "Pneumothorax", N, N),
    ("Pneumonia cannot be excluded.", "Pneumonia", U, U),
    ("Pneumothorax is not excluded.", "Pneumothorax", U, U),
    ("Cannot exclude a small pleural effusion.", "Pleural Effusion", U, U),
    # "X has resolved"
    ("The left pleural effusion has resolved.", "Pleural Effusion", N, N),
    ("Right pneumothorax has resolved.", "Pneumothorax", N, N),
    ("The previously seen right pleural effusion has resolved.", "Pleural Effusion", N, N),
    # "there is no X"
    ("There is no pneumothorax.", "Pneumothorax", N, N),
    ("There is no pleural effusion.", "Pleural Effusion", N, N),
    # "no / without (interval) development of X"; plain development is a new finding
    ("No interval development of pneumothorax.", "Pneumothorax", N, N),
    ("No development of pleural effusion.", "Pleural Effusion", N, N),
    ("Follow-up radiograph without development of pneumothorax.", "Pneumothorax", N, N),
    ("Interval development of a small left pleural effusion.", "Pleural Effusion", P, P),
    # "no focus / area of X"; "no new area of X" is uncertain for CheXpert (NegBio's "no ... X" regex
    # negates it first)
    ("No focus of consolidation.", "Consolidation", N, N),
    ("No discrete focus of consolidation is identified.", "Consolidation", N, N),
    ("No focal area of consolidation.", "Consolidation", N, N),
    ("No focal areas of consolidation.", "Consolidation", N, N),
    ("No area of consolidation.", "Consolidation", N, N),
    ("No new area of consolidation.", "Consolidation", U, N),
    ("No new focal consolidation.", "Consolidation", U, N),
    ("No new pleural effusion.", "Pleural Effusion", U, N),
    ("No new pneumothorax.", "Pneumothorax", U, N),
    ("No evidence of new consolidation.", "Consolidation", U, N),
    # "no moderate to large X"
    ("No moderate to large pleural effusion.", "Pleural Effusion", N, N),
    # "no / without evidence of developing X"
    ("No evidence of developing pneumonia.", "Pneumonia", N, N),
    ("No evidence of developing effusion.", "Pleural Effusion", N, N),
    ("Without evidence of developing consolidation.", "Consolidation", N, N),
    # "no focal X" (the parser's verb reading of the modifier)
    ("No focal consolidation.", "Consolidation", N, N),
    ("No focal airspace opacity.", "Lung Opacity", N, N),
    # "X was previously demonstrated / visualized" (seen before, not now)
    ("The left upper lobe nodule was previously demonstrated.", "Lung Lesion", N, N),
    ("A right lung nodule was previously visualized.", "Lung Lesion", N, N),
    # "(there is) no <noun> to suggest / explain X"
    ("There is no focal airspace opacity to suggest pneumonia.", "Pneumonia", N, N),
    ("No radiographic findings to suggest pneumonia.", "Pneumonia", N, N),
    ("No consolidation to suggest pneumonia.", "Pneumonia", N, N),
    ("No focal consolidation to suggest pneumonia.", "Pneumonia", N, N),
    ("No pleural effusion to suggest heart failure.", "Edema", N, N),
    # "X is not enlarged"
    ("The heart is not enlarged.", "Cardiomegaly", N, N),
    ("The cardiac silhouette is not enlarged.", "Cardiomegaly", N, N),
    ("Heart size is not enlarged.", "Cardiomegaly", N, N),
    # "X (has been) removed": any link to "remove" negates, even a negated one (no double-negation
    # check on this rule); moved devices stay positive
    ("The right internal jugular catheter has been removed.", "Support Devices", N, N),
    ("Endotracheal tube removed.", "Support Devices", N, N),
    ("Tracheostomy tube has been removed.", "Support Devices", N, N),
    ("The left PICC has been removed.", "Support Devices", N, N),
    ("Lines and tubes have been removed.", "Support Devices", N, N),
    ("The right chest tube has not been removed.", "Support Devices", N, N),
    ("The nasogastric tube has been advanced.", "Support Devices", P, P),
    ("The endotracheal tube has been pulled back.", "Support Devices", P, P),
    # "X is no longer seen"
    ("The left lower lobe nodule is no longer seen.", "Lung Lesion", N, N),
    ("The right pneumothorax is no longer seen.", "Pneumothorax", N, N),
    ("The previously noted left lower lobe opacity is no longer seen.", "Lung Opacity", N, N),
    ("Right chest tube is no longer seen.", "Support Devices", N, N),
    ("The right pneumothorax is still seen.", "Pneumothorax", P, P),
    # "X has cleared" (again without a double-negation check)
    ("The left basilar opacity has cleared.", "Lung Opacity", N, N),
    ("Right lower lobe consolidation has cleared.", "Consolidation", N, N),
    ("The right lower lobe pneumonia has cleared.", "Pneumonia", N, N),
    ("Left pleural effusion has not cleared.", "Pleural Effusion", N, N),
    # "no obvious associated X"
    ("Left rib fractures without obvious associated pneumothorax.", "Pneumothorax", N, N),
    ("Left rib fractures without obvious associated pneumothorax.", "Fracture", P, P),
    ("No obvious associated pleural effusion.", "Pleural Effusion", N, N),
    # "X with interval resolution"
    ("Left basilar opacity with interval resolution.", "Lung Opacity", N, N),
    ("Right pneumothorax with interval resolution.", "Pneumothorax", N, N),
    ("Left lower lobe consolidation with interval resolution.", "Consolidation", N, N),
    # the general cases: "no X", "not X", "without X"; a "no" that belongs to "change" negates nothing
    # for CheXpert (NegBio's "no ... X" regex negates it)
    ("No pneumothorax.", "Pneumothorax", N, N),
    ("No pneumothorax is seen.", "Pneumothorax", N, N),
    ("Without pleural effusion.", "Pleural Effusion", N, N),
    ("No large pleural effusion.", "Pleural Effusion", N, N),
    ("No acute fracture.", "Fracture", N, N),
    ("No displaced rib fractures are identified.", "Fracture", N, N),
    ("No pulmonary edema.", "Edema", N, N),
    ("No pneumonia.", "Pneumonia", N, N),
    ("No lung nodules or masses.", "Lung Lesion", N, N),
    ("No atelectasis.", "Atelectasis", N, N),
    ("No pleural thickening.", "Pleural Other", N, N),
    ("No cardiomegaly.", "Cardiomegaly", N, N),
    ("Small right pleural effusion.", "Pleural Effusion", P, P),
    ("No change in pleural effusion.", "Pleural Effusion", P, N),
    ("No change in the appearance of the right chest tube.", "Support Devices", P, P),
    # an opacity that obscures something is hedged (post-negation uncertainty)
    ("The left base opacity obscures the cardiac silhouette.", "Lung Opacity", U, U),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), CASES)
def test_original_negation_both_modes(text: str, obs: str, chexpert: float | None,
                                      negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)
