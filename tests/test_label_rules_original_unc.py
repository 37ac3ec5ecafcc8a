"""Single-sentence tests of the uncertainty behaviour the CheXpert labeler's pre-negation and
post-negation uncertainty stages were written for, one group per kind of original rule, with near-misses
that must stay positive or negative. Sentences are our own; the labels are what the original labeler gives.
NegBio mode differs only where its regex rules decide first ("no" up to three words before the mention)
or where its aggregation reads negative + uncertain as negative."""

from __future__ import annotations

import pytest
from labelcases import N, P, U, assert_modes

# (text, observation, CheXpert label, NegBio label)
CASES = [
    # a denied exclusion ("cannot exclude X", "X is not excluded") is a hedge, a plain request to exclude
    # is a negation
    ("Cannot exclude a small left pleural effusion.", "Pleural Effusion", U, U),
    ("Cannot exclude pneumonia.", "Pneumonia", U, U),
    ("Early pneumonia cannot be excluded.", "Pneumonia", U, U),
    ("A small apical pneumothorax cannot be entirely excluded.", "Pneumothorax", U, U),
    ("A small pneumothorax is not excluded.", "Pneumothorax", U, U),
    ("Superimposed pneumonia is not excluded.", "Pneumonia", U, U),
    ("Evaluate to exclude pneumonia.", "Pneumonia", N, N),
    # "no new X" (also "no new area of X") leaves an old X possible; NegBio's "no ..." regex decides first
    ("No new consolidation.", "Consolidation", U, N),
    ("No new focal opacity.", "Lung Opacity", U, N),
    ("There is no new pleural effusion.", "Pleural Effusion", U, N),
    ("No new area of consolidation.", "Consolidation", U, N),
    ("New small right pleural effusion.", "Pleural Effusion", P, P),
    ("No focal consolidation.", "Consolidation", N, N),
    # "cannot rule out X"
    ("Cannot rule out pneumonia.", "Pneumonia", U, U),
    ("Cannot rule out a small left pleural effusion.", "Pleural Effusion", U, U),
    # a heart / mediastinum described as stable, unchanged, not changed, similar to the prior study or of
    # stable appearance says nothing about enlargement; "normal" negates, "stable cardiomegaly" stays positive
    ("Stable cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", U, U),
    ("Unchanged heart size.", "Cardiomegaly", U, U),
    ("Heart size is unchanged.", "Cardiomegaly", U, U),
    ("Heart size is stable.", "Cardiomegaly", U, U),
    ("The cardiac silhouette is stable.", "Cardiomegaly", U, U),
    ("Cardiomediastinal contours are stable.", "Enlarged Cardiomediastinum", U, U),
    ("The mediastinal contour is unchanged.", "Enlarged Cardiomediastinum", U, U),
    ("The mediastinum is unchanged.", "Enlarged Cardiomediastinum", U, U),
    ("The cardiomediastinal silhouette is unchanged in appearance.", "Enlarged Cardiomediastinum", U, U),
    ("The cardiac silhouette has not changed.", "Cardiomegaly", U, U),
    ("No interval change in heart size.", "Cardiomegaly", U, N),
    ("The cardiac silhouette is similar to prior.", "Cardiomegaly", U, U),
    ("Heart size is similar to the prior study.", "Cardiomegaly", U, U),
    ("Stable appearance of the cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", U, U),
    ("Normal cardiomediastinal silhouette.", "Enlarged Cardiomediastinum", N, N),
    ("Heart size is normal.", "Cardiomegaly", N, N),
    ("Stable cardiomegaly.", "Cardiomegaly", P, P),
    # ... "in the cardiac silhouette" is a location, not a heart-size mention
    ("No change in the cardiac silhouette.", "Cardiomegaly", None, None),
    # "suspicious / worrisome for X" hedges X (and the finding the adjective modifies)
    ("Right lower lobe opacity suspicious for pneumonia.", "Pneumonia", U, U),
    ("Right lower lobe opacity suspicious for pneumonia.", "Lung Opacity", U, U),
    ("Findings are suspicious for early pulmonary edema.", "Edema", U, U),
    ("Left upper lobe opacity worrisome for pneumonia.", "Pneumonia", U, U),
    ("Findings worrisome for a developing pneumonia.", "Pneumonia", U, U),
    # "possibly representing / reflecting X"
    ("Left basilar opacity, possibly representing atelectasis.", "Atelectasis", U, U),
    ("This possibly represents a small pleural effusion.", "Pleural Effusion", U, U),
    ("Bibasilar opacities possibly reflecting atelectasis.", "Atelectasis", U, U),
    # "X and/or Y" is a choice between findings
    ("Left lower lobe atelectasis and/or consolidation.", "Consolidation", U, U),
    # "X versus Y": both alternatives are hedged
    ("Atelectasis versus pneumonia at the left base.", "Pneumonia", U, U),
    ("Atelectasis versus pneumonia at the left base.", "Atelectasis", U, U),
    ("Left basilar opacity, atelectasis versus consolidation.", "Consolidation", U, U),
    # a hedging word on the mention ("possible", "probable", "questionable", "suspected", "suspicious");
    # "likely" is not a hedge
    ("Probable small right pleural effusion.", "Pleural Effusion", U, U),
    ("Possible right lower lobe pneumonia.", "Pneumonia", U, U),
    ("Possible pneumonia in the left lower lobe.", "Pneumonia", U, U),
    ("Questionable small pneumothorax.", "Pneumothorax", U, U),
    ("Suspected right middle lobe pneumonia.", "Pneumonia", U, U),
    ("Suspicious nodule in the left upper lobe.", "Lung Lesion", U, U),
    ("Bibasilar opacities, possibly atelectasis.", "Atelectasis", U, U),
    ("Likely atelectasis at the left base.", "Atelectasis", P, P),
    ("Right lower lobe pneumonia.", "Pneumonia", P, P),
    # "may / might / could be X"
    ("This could be pneumonia.", "Pneumonia", U, U),
    ("The opacity may be atelectasis.", "Atelectasis", U, U),
    ("The retrocardiac density might be atelectasis.", "Atelectasis", U, U),
    ("The retrocardiac density is atelectasis.", "Atelectasis", P, P),
    # the mention hangs on a hedging word: "question / suggestion of X", "suspect / favor / consider X",
    # "concern / suspicion for X", "X is suspected", "X is possible", "X suspected"
    ("Findings raise the question of early pneumonia.", "Pneumonia", U, U),
    ("Question of a small right pneumothorax.", "Pneumothorax", U, U),
    ("There is a suggestion of mild interstitial edema.", "Edema", U, U),
    ("Suggestion of a small left pleural effusion.", "Pleural Effusion", U, U),
    ("Findings favor atelectasis.", "Atelectasis", U, U),
    ("Findings favor atelectasis over pneumonia.", "Atelectasis", U, U),
    ("We suspect early pneumonia.", "Pneumonia", U, U),
    ("Consider early pneumonia in the appropriate clinical setting.", "Pneumonia", U, U),
    ("Concern for pneumonia.", "Pneumonia", U, U),
    ("Patchy right basilar opacity with concern for aspiration pneumonia.", "Pneumonia", U, U),
    ("Suspicion for a small pneumothorax.", "Pneumothorax", U, U),
    ("Pneumonia is suspected.", "Pneumonia", U, U),
    ("A small left pleural effusion is suspected.", "Pleural Effusion", U, U),
    ("Pneumonia is possible.", "Pneumonia", U, U),
    ("Pneumonia suspected.", "Pneumonia", U, U),
    ("Right lower lobe pneumonia suspected.", "Pneumonia", U, U),
    # "may / could / might represent, reflect, indicate X" (also "... the presence of X"); the finding
    # that may represent something stays positive, and an unhedged "indicate" is positive
    ("Left basilar opacity may represent atelectasis.", "Atelectasis", U, U),
    ("Left basilar opacity may represent atelectasis.", "Lung Opacity", P, P),
    ("This could reflect early pneumonia.", "Pneumonia", U, U),
    ("Findings may indicate mild pulmonary edema.", "Edema", U, U),
    ("These findings might represent a small pneumothorax.", "Pneumothorax", U, U),
    ("Findings indicate mild pulmonary edema.", "Edema", P, P),
    ("Findings could reflect the presence of pulmonary edema.", "Edema", U, U),
    ("This may represent the presence of a small pleural effusion.", "Pleural Effusion", U, U),
    # hedged causal links: "possibly / may be secondary to X", "may be / possibly due to X", "could be
    # related to X"; an unhedged "due to" is positive
    ("Right lower lobe opacity, possibly secondary to pneumonia.", "Pneumonia", U, U),
    ("Right lower lobe opacity may be secondary to pneumonia.", "Pneumonia", U, U),
    ("The opacity may be due to atelectasis.", "Atelectasis", U, U),
    ("Increased opacity, possibly due to pneumonia.", "Pneumonia", U, U),
    ("The density could be due to overlying consolidation.", "Consolidation", U, U),
    ("Opacity due to atelectasis.", "Atelectasis", P, P),
    ("Opacity could be related to atelectasis.", "Atelectasis", U, U),
    ("Streaky densities may be related to atelectasis.", "Atelectasis", U, U),
    # "may be compatible / consistent with X"; without a verb "compatible with" and a plain "consistent
    # with" are positive
    ("Findings may be compatible with pneumonia.", "Pneumonia", U, U),
    ("Findings could be compatible with pulmonary edema.", "Edema", U, U),
    ("Retrocardiac opacity could be compatible with atelectasis.", "Atelectasis", U, U),
    ("Opacity compatible with atelectasis.", "Atelectasis", P, P),
    ("Findings may be consistent with pneumonia.", "Pneumonia", U, U),
    ("The opacity could be consistent with atelectasis.", "Atelectasis", U, U),
    ("Findings are consistent with pneumonia.", "Pneumonia", P, P),
    # "differential diagnosis includes X"
    ("Differential diagnosis includes atelectasis and pneumonia.", "Pneumonia", U, U),
    ("Differential diagnosis includes atelectasis and pneumonia.", "Atelectasis", U, U),
    ("The differential diagnosis includes pulmonary edema.", "Edema", U, U),
    # "correlate clinically for X" (also "for signs of X")
    ("Correlate clinically for pneumonia.", "Pneumonia", U, U),
    ("Correlate clinically for infection.", "Pneumonia", U, U),
    ("Please correlate clinically for signs of infection.", "Pneumonia", U, U),
    # a borderline heart size is a hedge; "borderline enlarged" calls the heart enlarged
    ("Borderline heart size.", "Cardiomegaly", U, U),
    ("The heart size is borderline enlarged.", "Cardiomegaly", P, P),
    # "X may / could be present", "X could appear this way", "X may have this appearance"
    ("A small pneumothorax may be present.", "Pneumothorax", U, U),
    ("Small bilateral pleural effusions could be present.", "Pleural Effusion", U, U),
    ("A small left pleural effusion is present.", "Pleural Effusion", P, P),
    ("Early pneumonia could appear this way.", "Pneumonia", U, U),
    ("Atelectasis may have this appearance.", "Atelectasis", U, U),
    ("Pneumonia could also have this appearance.", "Pneumonia", U, U),
    # a finding the study shows badly: poorly / incompletely evaluated, not well visualized, not
    # evaluated, not clearly seen; a "no" on the finding still negates it
    ("Pneumothorax is poorly evaluated on this supine film.", "Pneumothorax", U, U),
    ("Pleural effusions are poorly evaluated on this portable view.", "Pleural Effusion", U, U),
    ("Pneumothorax is incompletely evaluated on this supine radiograph.", "Pneumothorax", U, U),
    ("A small pleural effusion is not well visualized.", "Pleural Effusion", U, U),
    ("The left pleural effusion is not evaluated on this study.", "Pleural Effusion", U, U),
    ("A pneumothorax is not clearly seen.", "Pneumothorax", U, U),
    ("The previously noted nodule is not clearly seen.", "Lung Lesion", U, U),
    ("No pneumothorax is appreciated.", "Pneumothorax", N, N),
    # a mention obscured, or doing the obscuring, is hedged
    ("The cardiac silhouette is obscured.", "Cardiomegaly", U, U),
    ("Consolidation obscures the left heart border.", "Consolidation", U, U),
    # vascular / pulmonary congestion, indistinctness and vascular prominence are always hedged for Edema;
    # a "no" still negates them and a plain "edema" beside them wins
    ("Mild pulmonary vascular congestion.", "Edema", U, U),
    ("Mild vascular congestion.", "Edema", U, U),
    ("Mild pulmonary congestion.", "Edema", U, U),
    ("Indistinctness of the pulmonary vasculature.", "Edema", U, U),
    ("Pulmonary vascular prominence.", "Edema", U, U),
    ("No pulmonary vascular congestion.", "Edema", N, N),
    ("Vascular congestion and mild interstitial edema.", "Edema", P, P),
    # ... negative + uncertain: uncertain in CheXpert, negative in NegBio
    ("Mild pulmonary vascular congestion. No pulmonary edema.", "Edema", U, N),
    # "X or Y": both are hedged, unless a "no" negates the list
    ("Atelectasis or pneumonia in the left lower lobe.", "Pneumonia", U, U),
    ("Left basilar atelectasis or consolidation.", "Consolidation", U, U),
    ("Right lower lobe pneumonia or aspiration.", "Pneumonia", U, U),
    ("No pleural effusion or pneumothorax.", "Pneumothorax", N, N),
    # aggregation: a positive beats a hedged mention of the same finding
    ("Left pleural effusion. Possible small right pleural effusion.", "Pleural Effusion", P, P),
]


@pytest.mark.parametrize(("text", "obs", "chexpert", "negbio"), CASES)
def test_original_uncertainty_both_modes(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    assert_modes(text, obs, chexpert, negbio)
