"""Single-sentence tests of the hedges added for the Edema / Effusion errors: postposed "suspected",
"alternatively", "differential ... includes", cephalization. Both modes."""

from __future__ import annotations

import pytest

from cxrdb.labeling.engine import get_labeler

P, N, U = 1.0, 0.0, -1.0

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
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), CASES)
def test_hedges_both_modes(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    for mode, expected in (("chexpert", chexpert), ("negbio", negbio)):
        res = get_labeler(mode).label(text)
        assert res.labels[obs] == expected, (mode, res.evidence)
