"""MIMIC-CXR report sectioning, reproducing MIT-LCP/mimic-cxr's section parser and text choice.

``section_text`` splits a report at ``\\n NAME:`` headers exactly as the published parser does (including its
habit of resuming the header search only after the line following a header), normalises the names, drops
empty impression/findings sections and splits off a ``last_paragraph`` when neither exists.
``choose_text`` then picks what the labelers read: the last impression, else findings, else last_paragraph,
else comparison, stripped; or a per-study override (a section name, or a raw character range).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HEADER = re.compile(r"\n ([A-Z ()/,-]+):\s", re.DOTALL)
MAIN_SECTIONS = ("impression", "findings", "history", "comparison", "addendum")
VIEW_WORDS = re.compile(
    "|".join(
        [
            "chest", "portable", "pa and lateral", "lateral and pa", "ap and lateral", "lateral and ap",
            "frontal and", "two views", "frontal view", "pa view", "ap view", "one view", "lateral view",
            "bone window", "frontal upright", "frontal semi-upright", "ribs", "pa and lat",
        ]
    )
)
PRIORITY = ("impression", "findings", "last_paragraph", "comparison")
PARAGRAPH = "\n \n"


@dataclass(frozen=True)
class Section:
    """One section of a report: normalised name, text as sliced from the report, start offset."""

    name: str
    text: str
    start: int


@dataclass(frozen=True)
class Override:
    """A per-study replacement for the default choice: a section name, or a raw [start, end) slice."""

    section: str | None = None
    start: int | None = None
    end: int | None = None


@cache
def _name_map() -> dict[str, str]:
    path = Path(__file__).parent / "rules" / "section_names.tsv"
    mapping: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            raw, norm = line.split("\t")
            mapping[raw] = norm
    return mapping


def normalize_name(name: str) -> str:
    """Normalise one header name: exact map, then main-section substring, then view words."""
    name = name.lower().strip()
    mapped = _name_map().get(name)
    if mapped is not None:
        return mapped
    for main in MAIN_SECTIONS:
        if main in name:
            return main
    if VIEW_WORDS.search(name):
        return "findings"
    return name


def section_text(text: str) -> list[Section]:
    """Split a report into sections the way MIMIC-CXR's ``section_text`` does."""
    names: list[str] = []
    texts: list[str] = []
    starts: list[int] = []
    match = HEADER.search(text, 0)
    if match is None:
        names.append("full report")
        texts.append(text)
        starts.append(0)
    else:
        names.append("preamble")
        texts.append(text[: match.start(1)])
        starts.append(0)
        while match is not None:
            name = match.group(1).lower()
            start = match.end()
            skip = text[start:].find("\n")
            if skip == -1:
                skip = 0
            match = HEADER.search(text, start + skip)
            end = len(text) if match is None else match.start()
            names.append(name)
            texts.append(text[start:end])
            starts.append(start)
    names = [normalize_name(n) for n in names]
    for i in reversed(range(len(names))):
        if names[i] in ("impression", "findings") and texts[i].strip() == "":
            del names[i], texts[i], starts[i]
    if "impression" not in names and "findings" not in names and PARAGRAPH in texts[-1]:
        head, *rest = texts[-1].split(PARAGRAPH)
        texts[-1] = head
        names.append("last_paragraph")
        texts.append(PARAGRAPH.join(rest))
        starts.append(starts[-1] + len(head))
    return [Section(n, t, s) for n, t, s in zip(names, texts, starts, strict=True)]


def last_section(sections: list[Section], name: str) -> Section | None:
    """The last section with this name, as the original's ``list_rindex`` picks it."""
    for section in reversed(sections):
        if section.name == name:
            return section
    return None


def choose_text(text: str, sections: list[Section], override: Override | None = None) -> tuple[str, str]:
    """Return (chosen section name, labeler input text); ('', '') when nothing qualifies.

    Overrides follow the original's custom rules: a character range is used verbatim (not stripped), a
    section name takes that name's last section, stripped.
    """
    if override is not None:
        if override.section is not None:
            found = last_section(sections, override.section)
            return (f"override:{override.section}", found.text.strip() if found else "")
        return ("override:range", text[override.start : override.end])
    for name in PRIORITY:
        found = last_section(sections, name)
        if found is not None:
            return (name, found.text.strip())
    return ("", "")
