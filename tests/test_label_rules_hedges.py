"""Single-sentence tests of the hedges and parser repairs added for the Edema / Effusion / Atelectasis
errors: postposed "suspected", "alternatively", "differential ... includes", cephalization, and the
coordinations ("or", "versus", uncleaned "and/or") the small parser loses. Both modes."""

from __future__ import annotations

import pytest
from labelcases import N, P, U, assert_modes

# (text, observation, CheXpert label, NegBio label)
CASES = [
    # a hedging participle after the mention
    ("Lateral view limited, however small bilateral effusions suspected.", "Pleural Effusion", U, U),
    ("Bibasilar atelectasis favored.", "Atelectasis", U, U),
    ("Bibasilar effusions are seen.", "Pleural Effusion", P, P),
    # "alternatively" marks an alternative: both are hedged
    ("Blunting which may represent scarring alternatively small pleural effusions.", "Pleural Effusion", U, U),
    ("Small left pleural effusion, alternatively pleural thickening.", "Pleural Effusion", U, U),
    ("Maybe due to fibrosis, scarring or atelectasis.", "Atelectasis", U, U),
    # "differential (diagnosis) includes X": X and its list and 'of' phrases are hedged, also when the
    # parser hung "differential diagnosis" on an earlier preposition
    ("Opacity which may be secondary to crowding however differential diagnosis includes mild pulmonary "
     "edema, atypical infection, inflammation", "Edema", U, U),
    ("Opacity which may be secondary to crowding however differential diagnosis includes mild pulmonary "
     "edema, atypical infection, inflammation", "Pneumonia", U, U),
    ("Markings which may be due to crowding, differential considerations include interstitial infiltrates "
     "of inflammatory etiology and mild pulmonary edema.", "Edema", U, U),
    ("The differential includes pulmonary edema.", "Edema", U, U),
    ("Mild pulmonary edema includes the lung bases.", "Edema", P, P),
    # cephalization is a sign of raised venous pressure, hedged like vascular congestion
    ("Mild vascular cephalization.", "Edema", U, U),
    ("Mild vascular cephalization, no pulmonary edema.", "Edema", U, N),
    # "versus" hung on an earlier word: the noun right before "versus" is an alternative
    ("Cardiomegaly and small left pleural effusion versus pleural thickening.", "Pleural Effusion", U, U),
    ("Opacities likely reflecting atelectasis versus bronchovascular crowding.", "Atelectasis", U, U),
    ("Left basilar airspace opacity atelectasis versus pneumonitis.", "Atelectasis", U, U),
    # an 'or' whose conjunct the parser lost ("scarring" taken as a modifier of atelectasis)
    ("Densities in the left base compatible with scarring or chronic subsegmental atelectasis.",
     "Atelectasis", U, U),
    ("There is left base streaky opacity due to scarring or discoid atelectasis.", "Atelectasis", U, U),
    ("Mild scarring or subsegmental atelectasis in the right lung base.", "Atelectasis", U, U),
    # an 'or' the parser coordinated with the wrong word
    ("Patchy opacity and bibasal atelectasis or scarring.", "Atelectasis", U, U),
    ("Low lung volumes with atelectasis or scarring in the lung bases.", "Atelectasis", U, U),
    ("Small area of atelectasis or infiltrate adjacent to the right hilum.", "Atelectasis", U, U),
    # ... an 'or' between places, and an 'and', are no choice of finding
    ("Pneumonia in the right lower lobe or lingula.", "Pneumonia", P, P),
    ("Mild scarring and subsegmental atelectasis in the right lung base.", "Atelectasis", P, P),
    # "and/or" is read as "or" in NegBio mode too (the parser gets "or" in its place)
    ("Mild scarring and/or subsegmental atelectasis in the right lung base.", "Atelectasis", U, U),
    ("Patchy atelectasis, infiltrates and/or small left pleural effusion.", "Pleural Effusion", U, U),
    ("Cardiomegaly and/or pericardial effusion.", "Cardiomegaly", U, U),
    ("No pneumothorax and/or pleural effusion.", "Pleural Effusion", N, N),
    # "suggestive of X" is no hedge for either original; "suggest(ing) X" is one for NegBio only
    ("Abnormal pulmonary opacities most suggestive of pulmonary edema.", "Edema", P, P),
    ("Blunting of the costophrenic angle suggestive of small pleural effusions.", "Pleural Effusion", P, P),
    ("Increased interstitial markings, suggesting mild pulmonary edema.", "Edema", P, U),
    ("The appearance suggests atelectasis.", "Atelectasis", P, U),
    ("Possibly suggestive of pneumonia.", "Pneumonia", U, U),
    # "no X to suggest Y" negates Y, also when the parser makes "suggest" the main verb
    ("No focal airspace opacities to suggest pneumonia.", "Pneumonia", N, N),
    ("There is no focal opacity to suggest pneumonia.", "Pneumonia", N, N),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), CASES)
def test_hedges_both_modes(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)
