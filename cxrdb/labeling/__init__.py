"""Report labeling: the CheXpert labeler and NegBio re-implemented over spaCy (one engine, two modes)."""

from .config import OBSERVATIONS, LabelerConfig, get_config
from .engine import Labeler, ReportResult, label_texts

__all__ = ["OBSERVATIONS", "Labeler", "LabelerConfig", "ReportResult", "get_config", "label_texts"]
