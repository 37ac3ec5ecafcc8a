"""Stage 0: text cleaning, as the CheXpert labeler's loader does it."""

from __future__ import annotations

import re

_SLASH = re.compile(r"(?<=[a-zA-Z])/(?=[a-zA-Z])")
_PUNCT_SPACE = re.compile(r"([.,])")
_SPACES = re.compile(r"\s+")


def clean_chexpert(text: str) -> str:
    """Lowercase; 'and/or' -> 'or'; 'a/b' -> 'a or b'; '..' -> '.' (one pass, so '...' -> '..'); space
    after '.' and ','; collapse whitespace (newlines vanish)."""
    text = text.lower().replace("and/or", "or")
    text = _SLASH.sub(" or ", text)
    text = text.replace("..", ".")
    text = _PUNCT_SPACE.sub(r"\1 ", text)
    return _SPACES.sub(" ", text).strip()


def clean_text(text: str, chexpert: bool) -> str:
    """Cleaned text for a mode: CheXpert's cleaning, or NegBio's (none beyond stripping)."""
    if text is None:
        return ""
    return clean_chexpert(text) if chexpert else text.strip()
