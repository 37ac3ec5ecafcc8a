"""Stage 0b: sentence splitting (a rule-based stand-in for NLTK punkt on report text).

A sentence ends at '.', '!' or '?' followed by whitespace or the end of the text, except after a known
abbreviation (``rules/words/abbreviations.txt``) or an initial, inside a decimal number ("2. 5 cm" after
cleaning), or after a list marker ("1."), which stays with the sentence it numbers. Newlines are not boundaries
(as with ``newline=False``).
"""

from __future__ import annotations

import re

from .vocabulary import Vocabulary, default_vocabulary

_END = re.compile(r"[.!?]+(?=\s|$)")
_PREV_WORD = re.compile(r"(\S+)$")


def split_sentences(text: str, vocabulary: Vocabulary | None = None) -> list[tuple[int, int, str]]:
    """(start, end, sentence) for every sentence of ``text``; spans index ``text``. The abbreviations and
    the single letters that are words come from ``rules/words/`` (``vocabulary``, default: installed)."""
    vocab = vocabulary or default_vocabulary()
    abbreviations, letter_words = vocab.abbreviations, vocab.single_letter_words
    out: list[tuple[int, int, str]] = []
    start = 0
    n = len(text)
    for m in _END.finditer(text):
        end = m.end()
        word_m = _PREV_WORD.search(text, start, m.start())
        word = word_m.group(1).lower() if word_m else ""
        nxt = text[end:].lstrip()[:1]
        if m.group() == "." and word:
            if word in abbreviations or (word.isalpha() and len(word) == 1 and word not in letter_words):
                continue
            if word.isdigit() and nxt.isdigit():
                continue  # decimal number split by the cleaning
            if word.isdigit() and len(word) <= 2 and not text[start : word_m.start()].strip():
                continue  # list marker "1." at the start of a sentence
        _emit(text, start, end, out)
        start = end
    if start < n:
        _emit(text, start, n, out)
    return out


def _emit(text: str, start: int, end: int, out: list[tuple[int, int, str]]) -> None:
    seg = text[start:end]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    if seg:
        out.append((start + lead, start + lead + len(seg), seg))
