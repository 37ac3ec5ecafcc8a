"""Mention extraction audited against the originals' phrase lists: for each mention and unmention phrase of
the CheXpert labeler (and NegBio's MIMIC-CXR copy of them), a plain report sentence of our own wording and
the label the original gives for the observation it triggers. Only the cases our labeler reproduces are
here; the sentences are ours, the phrases they exercise are the originals'."""

from __future__ import annotations

import pytest
from labelcases import P, U, assert_label, assert_modes

NF = "No Finding"

# (text, observation, CheXpert label, NegBio label)
CASES = [
    # Atelectasis: "atelecta" and "collapse" as substrings
    ("There is atelectasis at the left base.", "Atelectasis", P, P),
    ("The left lower lobe is atelectatic.", "Atelectasis", P, P),
    ("There is collapse of the right upper lobe.", "Atelectasis", P, P),
    ("The right upper lobe has collapsed.", "Atelectasis", P, P),
    # Cardiomegaly: the finding itself and the heart-size phrases, here called enlarged
    ("There is cardiomegaly.", "Cardiomegaly", P, P),
    ("There is cardiac enlargement.", "Cardiomegaly", P, P),
    ("There is an enlarged heart.", "Cardiomegaly", P, P),
    ("The heart is enlarged.", "Cardiomegaly", P, P),
    ("Heart size is enlarged.", "Cardiomegaly", P, P),
    ("The cardiac size is increased.", "Cardiomegaly", P, P),
    ("The cardiac shadow is enlarged.", "Cardiomegaly", P, P),
    ("The cardiac silhouette is enlarged.", "Cardiomegaly", P, P),
    ("The cardiac silhouette and vascularity are enlarged.", "Cardiomegaly", P, P),
    # ... "heart failure" / "chf" are Edema mentions that also give Cardiomegaly -1
    ("Findings are consistent with congestive heart failure.", "Cardiomegaly", U, U),
    ("Findings are consistent with CHF.", "Cardiomegaly", U, U),
    # ... generated positional unmentions: "over the / in the (side) <phrase without 'the'>"
    ("A pacemaker lead projects over the heart.", "Cardiomegaly", None, None),
    ("The catheter tip is in the right heart.", "Cardiomegaly", None, None),
    # ... "overlying the left heart" has no original mention at all ("the heart" is not in it)
    ("A wire is seen overlying the left heart border.", "Cardiomegaly", None, None),
    ("Transverse diameter of heart is enlarged.", "Cardiomegaly", None, None),
    # Consolidation: "consolidat"
    ("There is consolidation in the right lower lobe.", "Consolidation", P, P),
    ("There is a consolidative process at the left base.", "Consolidation", P, P),
    # Edema: edema, heart failure, chf; the congestion / indistinctness / vascular prominence phrases are
    # always hedged by the originals' post-negation uncertainty rules
    ("There is mild pulmonary edema.", "Edema", P, P),
    ("Findings are consistent with congestive heart failure.", "Edema", P, P),
    ("Findings are consistent with CHF.", "Edema", P, P),
    ("There is mild vascular congestion.", "Edema", U, U),
    ("There is pulmonary congestion.", "Edema", U, U),
    ("There is indistinctness of the pulmonary vessels.", "Edema", U, U),
    ("There is vascular prominence.", "Edema", U, U),
    # Enlarged Cardiomediastinum: " mediastinum", cardiomediastinum, contour, mediastinal / pericardial
    # silhouette ("cardiomediastinal silhouette" contains "mediastinal silhouette")
    ("The mediastinum is widened.", "Enlarged Cardiomediastinum", P, P),
    ("There is a widened mediastinum.", "Enlarged Cardiomediastinum", P, P),
    ("The cardiomediastinum is enlarged.", "Enlarged Cardiomediastinum", P, P),
    ("The mediastinal contours are widened.", "Enlarged Cardiomediastinum", P, P),
    ("The cardiac contour is enlarged.", "Enlarged Cardiomediastinum", P, P),
    ("The mediastinal silhouette is widened.", "Enlarged Cardiomediastinum", P, P),
    ("The cardiomediastinal silhouette is enlarged.", "Enlarged Cardiomediastinum", P, P),
    ("The pericardial silhouette is enlarged.", "Enlarged Cardiomediastinum", P, P),
    # ... positional unmention, and "pneumomediastinum" (no space before "mediastinum")
    ("A line projects over the cardiomediastinum.", "Enlarged Cardiomediastinum", None, None),
    ("There is pneumomediastinum.", "Enlarged Cardiomediastinum", None, None),
    # Fracture
    ("There is a fracture of the left seventh rib.", "Fracture", P, P),
    ("Healed right rib fractures are seen.", "Fracture", P, P),
    # Lung Lesion: mass (also in "masses", "masslike"), nodule, cavitary lesion, carcinoma, tumor
    ("There is a mass in the right upper lobe.", "Lung Lesion", P, P),
    ("There are several masses in both lungs.", "Lung Lesion", P, P),
    ("There is a masslike opacity in the left lung.", "Lung Lesion", P, P),
    ("There is a nodule in the right lower lobe.", "Lung Lesion", P, P),
    ("There is a cavitary lesion in the right upper lobe.", "Lung Lesion", P, P),
    ("Findings are consistent with bronchogenic carcinoma.", "Lung Lesion", P, P),
    ("A tumor is present in the right lung.", "Lung Lesion", P, P),
    # ... unmentions: calcified nodules, "massive", the name Massengale
    ("There is a calcified nodule in the right upper lobe.", "Lung Lesion", None, None),
    ("There is a massive right pleural effusion.", "Lung Lesion", None, None),
    ("The findings were discussed with Massengale.", "Lung Lesion", None, None),
    # Lung Opacity: opaci, airspace disease (3 spellings), infiltrate/infiltration, interstitial and
    # reticular patterns, scar
    ("There is an opacity at the right base.", "Lung Opacity", P, P),
    ("There is opacification of the left lower lobe.", "Lung Opacity", P, P),
    ("There is airspace disease in the right lower lobe.", "Lung Opacity", P, P),
    ("There is air-space disease in the right lower lobe.", "Lung Opacity", P, P),
    ("There is air space disease in the right lower lobe.", "Lung Opacity", P, P),
    ("There is an infiltrate in the left lower lobe.", "Lung Opacity", P, P),
    ("There is infiltration of the right lung.", "Lung Opacity", P, P),
    ("There are increased interstitial markings.", "Lung Opacity", P, P),
    ("There is an interstitial pattern in both lungs.", "Lung Opacity", P, P),
    ("There is interstitial lung disease.", "Lung Opacity", P, P),
    ("There is a reticular pattern at the bases.", "Lung Opacity", P, P),
    ("There are reticular markings at the bases.", "Lung Opacity", P, P),
    ("There is reticulation at the bases.", "Lung Opacity", P, P),
    ("There is parenchymal scarring at the left apex.", "Lung Opacity", P, P),
    ("There is a scar at the left base.", "Lung Opacity", P, P),
    # ... "pleural scar" is unmentioned; other pleural scars keep their "scar" mention
    ("There is a right apical pleural scar.", "Lung Opacity", None, None),
    ("There is a pleural parenchymal scar at the right apex.", "Lung Opacity", P, P),
    ("There is a pleuro-pericardial scar.", "Lung Opacity", P, P),
    # Pleural Effusion: effusion, pleural fluid; a pericardial effusion is no mention (and no other
    # abnormality either)
    ("There is a small left pleural effusion.", "Pleural Effusion", P, P),
    ("There is pleural fluid on the right.", "Pleural Effusion", P, P),
    ("There is a small pericardial effusion.", "Pleural Effusion", None, None),
    ("There is a small pericardial effusion.", NF, P, P),
    # Pleural Other: pleural thickening, fibrosis, fibrothorax, pleural and pleuro-parenchymal scars
    ("There is right pleural thickening.", "Pleural Other", P, P),
    ("There is pulmonary fibrosis.", "Pleural Other", P, P),
    ("There is a left fibrothorax.", "Pleural Other", P, P),
    ("There is a right apical pleural scar.", "Pleural Other", P, P),
    ("There is a pleuro-parenchymal scar at the left apex.", "Pleural Other", P, P),
    # Pneumonia: pneumonia (also inside "bronchopneumonia"), infection, infectious (process)
    ("Findings are consistent with pneumonia.", "Pneumonia", P, P),
    ("There is bronchopneumonia.", "Pneumonia", P, P),
    ("There is an infection in the right lower lobe.", "Pneumonia", P, P),
    ("There is an infectious process in the left lung.", "Pneumonia", P, P),
    ("There are infectious changes at the left base.", "Pneumonia", P, P),
    # Pneumothorax: pneumothorax (also inside "hydropneumothorax"), pneumothoraces
    ("There is a small right pneumothorax.", "Pneumothorax", P, P),
    ("Bilateral pneumothoraces are present.", "Pneumothorax", P, P),
    ("There is a left hydropneumothorax.", "Pneumothorax", P, P),
    # Support Devices
    ("A cardiac pacer is in place.", "Support Devices", P, P),
    ("A pacemaker is present.", "Support Devices", P, P),
    ("A central line is in place.", "Support Devices", P, P),
    ("Two lines are in place.", "Support Devices", P, P),
    ("A right PICC terminates in the SVC.", "Support Devices", P, P),
    ("An endotracheal tube is in place.", "Support Devices", P, P),
    ("Endotracheal and nasogastric tubes are in place.", "Support Devices", P, P),
    ("A Swan-Ganz catheter is in place.", "Support Devices", P, P),
    ("Spinal hardware is noted.", "Support Devices", P, P),
    ("An ICD is in place.", "Support Devices", P, P),
    ("An AICD is in place.", "Support Devices", P, P),
    ("Defibrillator pads overlie the chest.", "Support Devices", P, P),
    ("A monitoring device is present.", "Support Devices", P, P),
    ("A chest drain is in place.", "Support Devices", P, P),
    ("A sternal plate is present.", "Support Devices", P, P),
    ("Fixation screws are seen in the spine.", "Support Devices", P, P),
    ("Embolization coils are noted.", "Support Devices", P, P),
    ("Life support is in place.", "Support Devices", P, P),
    ("A mediport is in place.", "Support Devices", P, P),
    # No Finding: an other abnormality blocks it in CheXpert mode only (NegBio skips these mentions);
    # a finding of the 13 columns blocks it in both; no mention at all gives 1
    ("There is emphysema.", NF, None, P),
    ("There is blunting of the left costophrenic angle.", NF, None, P),
    ("There is a density in the right lower lobe.", NF, None, P),
    ("There is elevation of the right hemidiaphragm.", NF, None, P),
    ("There is eventration of the right hemidiaphragm.", NF, None, P),
    ("There is scoliosis of the thoracic spine.", NF, None, P),
    ("There are degenerative changes of the spine.", NF, None, P),
    ("There is calcification of the aortic knob.", NF, None, P),
    ("The lungs show hyperinflation.", NF, None, P),
    ("The lungs are hyperinflated.", NF, None, P),
    ("There is hyperexpansion of the lungs.", NF, None, P),
    ("There is a small hiatal hernia.", NF, None, P),
    ("Findings are consistent with COPD.", NF, None, P),
    ("There is osteophytosis of the thoracic spine.", NF, None, P),
    ("There is thickening of the minor fissure.", NF, None, P),
    ("Findings are consistent with aspiration.", NF, None, P),
    ("There are apical bullae.", NF, None, P),
    ("There is atherosclerosis of the aorta.", NF, None, P),
    ("There is diffuse osteopenia.", NF, None, P),
    ("There is a granuloma in the right upper lobe.", NF, None, P),
    ("There is pneumomediastinum.", NF, None, P),
    ("There is pneumoperitoneum.", NF, None, P),
    ("There is peribronchial cuffing.", NF, None, P),
    ("There is an irregular lucency in the left humerus.", NF, None, P),
    ("The hila are prominent.", NF, None, P),
    ("There is thoracic kyphosis.", NF, None, P),
    ("A bullet fragment is seen in the left chest.", NF, None, P),
    ("Findings are consistent with bronchitis.", NF, None, P),
    ("There is volume loss in the left lung.", NF, None, P),
    ("There is a deformity of the right clavicle.", NF, None, P),
    ("There is pulmonary hemorrhage.", NF, None, P),
    ("There is a hematoma in the chest wall.", NF, None, P),
    ("There is arthropathy of the shoulder.", NF, None, P),
    ("A tracheostomy is in place.", NF, None, P),
    ("There are increased interstitial markings.", NF, None, None),
    ("The lungs are clear.", NF, P, P),
]

# (mode, text, observation, label): cases checked in one mode only
ONE_MODE = [
    # NegBio's two extra positional prefixes ("assessment of", "diameter of"); its word-bounded
    # "\bmediastinum" lets "in the mediastinum" be unmentioned (CheXpert's generated "in the  mediastinum"
    # has two spaces and never matches)
    ("negbio", "Assessment of heart size is limited by rotation.", "Cardiomegaly", None),
    ("negbio", "A catheter tip is in the mediastinum.", "Enlarged Cardiomediastinum", None),
    # NegBio's word-bounded device regexes: "drain" before a period, no "tube" in "tuberculosis"
    ("negbio", "There is a left chest drain.", "Support Devices", P),
    ("negbio", "There is evidence of prior tuberculosis.", "Support Devices", None),
    # NegBio's No Finding ignores other abnormalities, whichever list names them
    ("negbio", "There is bronchospasm.", NF, P),
    ("negbio", "Findings are consistent with asthma.", NF, P),
    ("negbio", "There is plaque in the aortic arch.", NF, P),
    ("negbio", "There is aortic disease.", NF, P),
    ("negbio", "Findings are consistent with bronchiolitis.", NF, P),
    ("negbio", "There is small airways disease.", NF, P),
    ("negbio", "There is a pulmonary contusion.", NF, P),
    ("negbio", "There is a metastasis in the right humerus.", NF, P),
    ("negbio", "There is renal osteodystrophy.", NF, P),
    ("negbio", "There is bronchial cuffing.", NF, P),
    ("negbio", "There are inflammatory changes in the left lung.", NF, P),
    ("negbio", "Fluid is seen in the minor fissure.", NF, P),
    ("negbio", "There is pulmonary arterial hypertension.", NF, P),
    ("negbio", "Defibrillator pads overlie the chest.", NF, P),
    ("negbio", "Right thoracentesis was performed.", NF, P),
    ("negbio", "A radiopaque object is seen in the stomach.", NF, P),
    ("negbio", "There is aerophagia.", NF, P),
    ("negbio", "The right hemidiaphragm is elevated.", NF, P),
    # CheXpert's No Finding is blocked by "reticula" and by "cephalization" (other abnormalities there)
    ("chexpert", "There are reticular changes at the bases.", NF, None),
    ("chexpert", "There is cephalization.", NF, None),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), CASES)
def test_original_mentions_both_modes(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)


@pytest.mark.parametrize(("mode", "text", "obs", "expected"), ONE_MODE)
def test_original_mentions_one_mode(mode: str, text: str, obs: str, expected: float | None) -> None:
    assert_label(mode, text, obs, expected)


# The audit's findings, fixed: phrases the originals have and we lacked, and ours that matched words the
# originals do not treat as that observation (clips, wires, drains, pneumonitis, venous congestion, a bare
# "heart", "nodularity", pleural plaques as Pleural Other)
FIXED = [
    ("The cardiac contour is enlarged.", "Cardiomegaly", P, P),
    ("The mediastinal configuration is abnormal.", "Enlarged Cardiomediastinum", P, P),
    ("There is a lump in the left lung.", "Lung Lesion", P, P),
    ("There is a neoplasm in the left hilum.", "Lung Lesion", P, P),
    ("There is decreased translucency at the left base.", "Lung Opacity", P, P),
    ("There is peribronchial thickening.", "Lung Opacity", P, P),
    ("Interstitial lung markings are increased.", "Lung Opacity", P, P),
    ("A prosthetic aortic valve is noted.", "Support Devices", P, P),
    ("Defib pads are present.", "Support Devices", P, P),
    ("Nipple marker in the left breast.", "Support Devices", P, P),
    ("Surgical clips in the left axilla.", "Support Devices", None, None),
    ("Sternotomy wires are intact.", "Support Devices", None, None),
    ("Chest drains in place.", "Support Devices", None, None),
    ("There is pneumonitis in the left lower lobe.", "Pneumonia", None, None),
    ("Pulmonary venous congestion.", "Edema", None, None),
    ("There is a pulmonary lesion in the right lung.", "Lung Lesion", None, None),
    ("There is mild nodularity in the right lung.", "Lung Lesion", None, None),
    ("Heart is enlarged.", "Cardiomegaly", None, None),
    ("The heart is enlarged.", "Cardiomegaly", P, P),
    ("Pleural plaque on the left.", "Pleural Other", None, None),
    ("Fluid is seen in the minor fissure.", "No Finding", None, P),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), FIXED)
def test_audit_fixed_mentions(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)
