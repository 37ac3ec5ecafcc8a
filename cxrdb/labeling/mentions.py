"""Stage 1: mention extraction with mention and unmention phrases (substring regex semantics)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CxrdbError
from .config import RULES_DIR, LabelerConfig
from .vocabulary import read_lines


@dataclass(frozen=True, slots=True)
class Mention:
    """One phrase match: observation, span in the sentence, matched text, anatomy phrase or not."""

    observation: str
    start: int
    end: int
    text: str
    anatomical: bool = False


def observation_name(stem: str) -> str:
    """'pleural_effusion' -> 'Pleural Effusion'."""
    return stem.replace("_", " ").title()


class MentionExtractor:
    """Compiled mention and unmention phrases of every observation."""

    def __init__(self, config: LabelerConfig, rules_dir: Path = RULES_DIR) -> None:
        self.flags = re.IGNORECASE if config.loose_phrases else 0
        self.loose = config.loose_phrases
        self.mentions: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        self.anatomical: set[str] = set()  # phrases marked '@': anatomy, positive only when abnormal
        self.unmentions: dict[str, list[re.Pattern[str]]] = {}
        for path in sorted((rules_dir / "mention").glob("*.txt")):
            obs = observation_name(path.stem)
            phrases = []
            for p in read_lines(path):
                if p.startswith("@"):
                    p = p[1:]
                    self.anatomical.add(p)
                phrases.append((p, self._compile(p, path)))
            self.mentions[obs] = phrases
        for path in sorted((rules_dir / "unmention").glob("*.txt")):
            if path.stem != "positional":
                self.unmentions.setdefault(observation_name(path.stem), []).extend(
                    self._compile(p, path) for p in read_lines(path)
                )
        self._add_positional(
            [rules_dir / "unmention" / "positional.txt", *(rules_dir / p for p in config.extra_positional)]
        )
        # one alternation per observation: a cheap test before the per-phrase scans
        self.prefilter = {
            obs: re.compile("|".join(f"(?:{rx.pattern})" for _, rx in phrases), self.flags)
            for obs, phrases in self.mentions.items()
        }

    def _compile(self, phrase: str, path: Path) -> re.Pattern[str]:
        src = re.sub(r"(?<!\\) ", r"\\s+", phrase) if self.loose else phrase
        try:
            return re.compile(src, self.flags)
        except re.error as exc:
            raise CxrdbError(f"{path.name}: bad phrase {phrase!r}: {exc}") from None

    def _add_positional(self, paths: list[Path]) -> None:
        observations: list[str] = []
        excepted: set[str] = set()
        prefixes: list[str] = []
        sides: list[str] = []
        for path in paths:
            for line in read_lines(path):
                key, _, value = line.partition(":")
                value = value.strip()
                if key == "observation":
                    observations.append(value)
                elif key == "except":
                    excepted.add(value)
                elif key == "prefix":
                    prefixes.append(value)
                elif key == "side":
                    sides.append(value)
                else:
                    raise CxrdbError(f"{path.name}: unknown key {key!r}")
        if not observations or not prefixes:
            return
        prefix = "(?:" + "|".join(prefixes) + ")" + (f"(?: (?:{'|'.join(sides)}))?" if sides else "") + " "
        for obs in observations:
            for phrase, _ in self.mentions.get(obs, []):
                if phrase in excepted:
                    continue
                body = phrase[4:] if phrase.startswith("the ") else phrase
                self.unmentions.setdefault(obs, []).append(self._compile(prefix + f"(?:{body})", Path("positional")))

    def extract(self, sentence: str) -> list[Mention]:
        """All mentions in a sentence, in observation then phrase order, unmentioned ones dropped."""
        found: list[Mention] = []
        for obs, phrases in self.mentions.items():
            if not self.prefilter[obs].search(sentence):
                continue
            blocked = [(m.start(), m.end()) for rx in self.unmentions.get(obs, ()) for m in rx.finditer(sentence)]
            for phrase, rx in phrases:
                for m in rx.finditer(sentence):
                    s, e = m.start(), m.end()
                    if s == e or any(s < ue and e > us for us, ue in blocked):
                        continue
                    found.append(Mention(obs, s, e, m.group(), phrase in self.anatomical))
        return _drop_nested(found)


def _drop_nested(found: list[Mention]) -> list[Mention]:
    """Drop a mention lying inside a longer mention of the same observation ("heart" in "heart size")."""
    if len(found) < 2:
        return found
    by_obs: dict[str, list[Mention]] = {}
    for m in found:
        by_obs.setdefault(m.observation, []).append(m)
    dropped: set[int] = set()
    for group in by_obs.values():
        if len(group) < 2:
            continue
        # longest first at each start; a mention is nested if an earlier-starting or longer one covers it
        order = sorted(group, key=lambda m: (m.start, -(m.end - m.start)))
        reach_end, reach_len = -1, 0
        for m in order:
            if m.end <= reach_end and (m.end - m.start) < reach_len:
                dropped.add(id(m))
            elif m.end > reach_end:
                reach_end, reach_len = m.end, m.end - m.start
    return [m for m in found if id(m) not in dropped]
