"""The word lists that decide labels, read from ``rules/words/`` (one concept per file).

Every word that changes a label lives in a commented rule file, so a radiologist reviews them in one place.
A file holds one entry per line; ``#`` starts a comment line; blank lines are ignored. Entries are
lower-cased (they are compared with lower-cased token text, lemmas and mention text). A few files are
keyed (``key: value`` lines; ``alias: coordinator`` in ``coordinator_aliases.txt``).

:func:`load_vocabulary` reads them once per :class:`~cxrdb.labeling.engine.Labeler`; the functions that
use them (``build_graph``, ``split_sentences``, ``aggregate``, the classifier) take the loaded
:class:`Vocabulary`, falling back to :func:`default_vocabulary` when called on their own.
``fingerprint.rule_files`` lists :data:`FILES`, so editing one relabels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..errors import CxrdbError
from .config import RULES_DIR

#: the word files, relative to the rules directory (all shared by every mode)
FILES: tuple[str, ...] = tuple(f"words/{name}.txt" for name in (
    "abbreviations", "alternative_coordinators", "buried_negators", "chf", "contrast_coordinators",
    "coordinator_aliases", "differential", "head_negators", "ing_nouns", "lift_heads", "misparsed_sides",
    "negation_prepositions", "negation_vetoes", "negators", "shared_negation_coordinators",
    "single_letter_words", "versus",
))


def read_lines(path: Path) -> list[str]:
    """Non-blank, non-comment lines of a rule file (surrounding whitespace stripped)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CxrdbError(f"cannot read rule file {path}: {exc.strerror}") from None
    return [s.strip() for s in raw.splitlines() if s.strip() and not s.strip().startswith("#")]


def read_words(path: Path) -> frozenset[str]:
    """The entries of a one-word-per-line file, lower-cased."""
    return frozenset(line.lower() for line in read_lines(path))


def read_keyed(path: Path, keys: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """``key: value`` lines as key -> values in file order (lower-cased); ``keys`` limits the keys allowed."""
    out: dict[str, list[str]] = {}
    for line in read_lines(path):
        key, sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip().lower()
        if not sep or not key or not value or (keys is not None and key not in keys):
            raise CxrdbError(f"{path.name}: expected 'key: value'"
                             + (f" with key {'/'.join(keys)}" if keys else "") + f" in {line!r}")
        out.setdefault(key, []).append(value)
    return out


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The loaded word lists; each field names its file (``rules/words/<file>.txt``) in its comment."""

    abbreviations: frozenset[str]  # abbreviations
    single_letter_words: frozenset[str]  # single_letter_words
    lift_heads: frozenset[str]  # lift_heads
    negators: frozenset[str]  # negators
    head_negators: frozenset[str]  # head_negators
    negation_prepositions: frozenset[str]  # negation_prepositions
    buried_negators: frozenset[str]  # buried_negators
    differential_nouns: frozenset[str]  # differential (noun:)
    differential_verbs: frozenset[str]  # differential (verb:)
    versus: frozenset[str]  # versus
    coordinator_aliases: dict[str, str]  # coordinator_aliases
    alternative_coordinators: frozenset[str]  # alternative_coordinators
    ing_nouns: frozenset[str]  # ing_nouns
    misparsed_sides: frozenset[str]  # misparsed_sides
    contrast_coordinators: frozenset[str]  # contrast_coordinators
    shared_negation_coordinators: frozenset[str]  # shared_negation_coordinators
    negation_vetoes: frozenset[str]  # negation_vetoes
    chf_texts: frozenset[str]  # chf

    def coordinator(self, word: str) -> str:
        """The coordinator a word stands for ("vs." -> "versus", "and/or" -> "or"; others unchanged)."""
        return self.coordinator_aliases.get(word, word)


def load_vocabulary(rules_dir: Path = RULES_DIR) -> Vocabulary:
    """Read every file of :data:`FILES` under ``rules_dir``."""
    def words(name: str) -> frozenset[str]:
        return read_words(rules_dir / "words" / f"{name}.txt")

    differential = read_keyed(rules_dir / "words" / "differential.txt", ("noun", "verb"))
    aliases = read_keyed(rules_dir / "words" / "coordinator_aliases.txt")
    return Vocabulary(
        abbreviations=words("abbreviations"),
        single_letter_words=words("single_letter_words"),
        lift_heads=words("lift_heads"),
        negators=words("negators"),
        head_negators=words("head_negators"),
        negation_prepositions=words("negation_prepositions"),
        buried_negators=words("buried_negators"),
        differential_nouns=frozenset(differential.get("noun", ())),
        differential_verbs=frozenset(differential.get("verb", ())),
        versus=words("versus"),
        coordinator_aliases={alias: targets[-1] for alias, targets in aliases.items()},
        alternative_coordinators=words("alternative_coordinators"),
        ing_nouns=words("ing_nouns"),
        misparsed_sides=words("misparsed_sides"),
        contrast_coordinators=words("contrast_coordinators"),
        shared_negation_coordinators=words("shared_negation_coordinators"),
        negation_vetoes=words("negation_vetoes"),
        chf_texts=words("chf"),
    )


@cache
def default_vocabulary() -> Vocabulary:
    """The installed rules' vocabulary (read once per process), for functions called without one."""
    return load_vocabulary(RULES_DIR)
