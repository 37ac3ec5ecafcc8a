"""Where the CheXpert and NegBio modes must differ, and where they must agree, report by report.

Each difference comes from one line of `LabelerConfig` or from a NegBio-only rule file: NegBio's regex
rules run first (its "unchanged", "if any", "doubt", "borderline size of the silhouette" rules), its own
post-negation file hedges "suggest X" and "unchanged size of", negative + uncertain aggregates to 0, and
other abnormalities do not block No Finding."""

from __future__ import annotations

import pytest
from labelcases import N, P, U, assert_modes

from cxrdb.labeling.engine import get_labeler

# (report, observation, CheXpert label, NegBio label)
DIFFER = [
    ("Small pleural effusion, if any.", "Pleural Effusion", P, U),
    ("Unchanged small left pleural effusion.", "Pleural Effusion", P, U),
    ("Unchanged size of the cardiac silhouette.", "Cardiomegaly", None, U),
    ("I doubt there is pneumonia.", "Pneumonia", P, U),
    ("Findings suggest pulmonary edema.", "Edema", P, U),
    # NegBio's silhouette rule names no mention: it hedges the OTHER mentions of the sentence
    ("Borderline size of the cardiac silhouette with small bilateral pleural effusions.", "Pleural Effusion", P, U),
    ("Borderline size of the cardiac silhouette.", "Cardiomegaly", P, U),
    # aggregation: negative + uncertain is -1 for CheXpert, 0 for NegBio (even beside a positive)
    ("Left pleural effusion. No right pleural effusion. Possible loculated effusion.", "Pleural Effusion", U, N),
    ("No pneumothorax on the left. Possible small apical pneumothorax on the right.", "Pneumothorax", U, N),
    # other abnormalities block No Finding in CheXpert mode only
    ("Mild emphysema.", "No Finding", None, P),
    ("Mild thoracic scoliosis. Lungs are clear.", "No Finding", None, P),
]

AGREE = [
    ("No pneumothorax.", "Pneumothorax", N),
    ("No evidence of focal consolidation.", "Consolidation", N),
    ("Possible right lower lobe pneumonia.", "Pneumonia", U),
    ("Pneumonia is less likely.", "Pneumonia", U),
    ("Cardiomegaly cannot be excluded.", "Cardiomegaly", U),
    ("Abnormal opacities most suggestive of pulmonary edema.", "Edema", P),
    ("Moderate cardiomegaly.", "Cardiomegaly", P),
    ("Heart size is normal.", "Cardiomegaly", N),
    ("Stable cardiac silhouette.", "Cardiomegaly", U),
    ("Right IJ central line with tip in the SVC.", "Support Devices", P),
    ("Lungs are clear. No acute cardiopulmonary process.", "No Finding", P),
    ("Right pleural effusion. Possible left pleural effusion.", "Pleural Effusion", P),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), DIFFER)
def test_modes_differ(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)


@pytest.mark.parametrize(("text", "obs", "expected"), AGREE)
def test_modes_agree(text: str, obs: str, expected: float | None) -> None:
    assert_modes(text, obs, expected, expected)


def test_negbio_keeps_case_and_matches_phrases_case_insensitively() -> None:
    res = get_labeler("negbio").label("Small PLEURAL EFFUSION.")
    assert res.labels["Pleural Effusion"] == P
    assert res.evidence[0]["sentence"] == "Small PLEURAL EFFUSION."  # no lowercasing in NegBio mode
    assert get_labeler("chexpert").label("Small PLEURAL EFFUSION.").evidence[0]["sentence"].islower()


def test_empty_text_is_dropped_by_negbio_only() -> None:
    assert get_labeler("negbio").label("").skipped
    chex = get_labeler("chexpert").label("")
    assert not chex.skipped and chex.labels["No Finding"] == P  # no mentions at all: No Finding
