"""Stage 3: aggregate mention labels into the 14 report labels."""

from __future__ import annotations

from collections.abc import Iterable

from .config import NO_FINDING, OBSERVATIONS, SUPPORT_DEVICES, LabelerConfig
from .vocabulary import Vocabulary, default_vocabulary


def resolve(labels: list[float], negative_and_uncertain: float) -> float:
    """One label from several: a negative beside an uncertain gives ``negative_and_uncertain`` (CheXpert:
    -1 even beside a positive; NegBio: 0); otherwise positive > uncertain > negative."""
    s = set(labels)
    if len(s) == 1:
        return labels[0]
    if 0.0 in s and -1.0 in s:
        return negative_and_uncertain
    if 1.0 in s:
        return 1.0
    return labels[0]  # pragma: no cover - unreachable with three values


def aggregate(mentions: Iterable[tuple[str, str, float]], config: LabelerConfig,
              vocabulary: Vocabulary | None = None) -> dict[str, float | None]:
    """Report labels from (observation, matched text, label) triples.

    No Finding is 1.0 unless some mention that is not a support device is positive or uncertain (in
    CheXpert mode this includes the 'other abnormality' mentions); it is never 0 or -1. A positive or
    uncertain mention whose text is in ``rules/words/chf.txt`` ('chf', 'heart failure') also adds an
    uncertain Cardiomegaly.
    """
    chf_texts = (vocabulary or default_vocabulary()).chf_texts
    per: dict[str, list[float]] = {}
    no_finding = True
    for obs, text, label in mentions:
        if obs == NO_FINDING:
            if config.other_abnormalities_block and label in (1.0, -1.0):
                no_finding = False
            continue
        if obs != SUPPORT_DEVICES and label in (1.0, -1.0):
            no_finding = False
        per.setdefault(obs, []).append(label)
        if text.lower() in chf_texts and label in (1.0, -1.0):
            per.setdefault("Cardiomegaly", []).append(-1.0)
    out: dict[str, float | None] = {obs: None for obs in OBSERVATIONS}
    for obs, labels in per.items():
        out[obs] = resolve(labels, config.negative_and_uncertain)
    out[NO_FINDING] = 1.0 if no_finding else None
    return out
