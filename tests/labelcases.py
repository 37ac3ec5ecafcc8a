"""Shared helpers for the single-sentence labeler tests: the label values and one assertion per mode."""

from __future__ import annotations

from cxrdb.labeling.engine import get_labeler

P, N, U = 1.0, 0.0, -1.0


def assert_label(mode: str, text: str, obs: str, expected: float | None) -> None:
    """``text`` labeled by ``mode`` gives ``expected`` for ``obs``; the evidence is shown on failure."""
    res = get_labeler(mode).label(text)
    assert res.labels[obs] == expected, (mode, res.evidence)


def assert_modes(text: str, obs: str, chexpert: float | None, negbio: float | None) -> None:
    """The CheXpert-mode and NegBio-mode labels of one observation."""
    assert_label("chexpert", text, obs, chexpert)
    assert_label("negbio", text, obs, negbio)
