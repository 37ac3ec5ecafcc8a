"""Stage 2: classify each mention as negative, uncertain or positive.

Per mention and per token of the mention (CheXpert's order): pre-negation uncertainty patterns, then
negation patterns, then post-negation uncertainty patterns; no match leaves it positive. If different
tokens of one mention disagree, negation wins, then uncertainty. NegBio mode first tries its regex rules
on the sentence with the mention replaced by ``$X$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import CxrdbError
from .config import RULES_DIR, LabelerConfig
from .mentions import Mention
from .parse import Graph
from .patterns import Rule, load_rules
from .vocabulary import Vocabulary, default_vocabulary, read_lines

POSITIVE, NEGATIVE, UNCERTAIN = 1.0, 0.0, -1.0
#: rule id of an anatomy mention ("heart size") neither negated, hedged nor called abnormal: no label
NEUTRAL_ANATOMY = "anatomy.not_abnormal"
#: the edge of an unmarked list ("no a, b is seen"), which always shares its negation
_LIST_CONJ = "conj_list"
#: labels of the fallback rules (``patterns/fallback.txt``); ``abnormal`` is positive for an anatomy mention
#: and skipped for any other
FALLBACK_LABELS = {"negative": NEGATIVE, "uncertain": UNCERTAIN, "abnormal": POSITIVE}


@dataclass(frozen=True, slots=True)
class RegexRule:
    """A sentence-level regex over the sentence with the mention replaced by ``$X$``."""

    rule_id: str
    regex: re.Pattern[str]
    #: the label column of a labelled file (``fallback.txt``): a key of :data:`FALLBACK_LABELS`
    label: str | None = None


def load_regex_rules(path: Path, labelled: bool = False) -> list[RegexRule]:
    """``rule_id: regex`` lines (case-insensitive); ``rule_id: label: regex`` when ``labelled``."""
    rules = []
    for line in read_lines(path):
        rule_id, sep, rx = line.partition(":")
        label = None
        if labelled and sep:
            label, sep, rx = rx.partition(":")
            label = label.strip()
            if label not in FALLBACK_LABELS:
                raise CxrdbError(f"{path.name}: label must be one of {', '.join(FALLBACK_LABELS)} in {line!r}")
        if not sep:
            form = "rule_id: label: regex" if labelled else "rule_id: regex"
            raise CxrdbError(f"{path.name}: expected '{form}' in {line!r}")
        try:
            rules.append(RegexRule(rule_id.strip(), re.compile(rx.strip(), re.IGNORECASE), label))
        except re.error as exc:
            raise CxrdbError(f"{path.name}: bad regex {rx!r}: {exc}") from None
    return rules


@dataclass(frozen=True, slots=True)
class NegationScope:
    """Noun-phrase negation scope (``patterns/negation_scope.txt``): a cue ("no") before the mention with
    only noun-phrase and list words in between negates it, whatever tree the parser built."""

    cues: frozenset[str]
    tags: frozenset[str]
    participles: frozenset[str]
    ccs: frozenset[str]
    of_after: frozenset[str]
    stops: frozenset[str]
    window: int

    @classmethod
    def load(cls, path: Path) -> NegationScope:
        vals: dict[str, set[str]] = {}
        for line in read_lines(path):
            key, sep, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if not sep or key not in ("cue", "tag", "participle", "cc", "of_after", "stop", "window"):
                raise CxrdbError(f"{path.name}: expected 'key: value' with a known key in {line!r}")
            vals.setdefault(key, set()).add(value if key in ("tag", "participle") else value.lower())
        get = lambda k: frozenset(vals.get(k, ()))  # noqa: E731
        return cls(get("cue"), get("tag"), get("participle"), get("cc"), get("of_after"), get("stop"),
                   int(next(iter(vals.get("window", {"8"})))))

    def negates(self, g: Graph, i: int) -> bool:
        nodes = g.nodes
        for k in range(i - 1, max(-1, i - self.window - 2), -1):
            n = nodes[k]
            if n.lemma in self.cues:
                return True
            if n.lemma in self.stops:
                return False
            if n.tag == "CC":
                if n.lemma not in self.ccs:
                    return False
            elif n.tag in self.participles:
                prev = nodes[k - 1] if k else None
                if prev is None or not (prev.lemma in self.cues or prev.tag.startswith(("JJ", "RB"))):
                    return False
            elif n.text == "of":
                if not k or nodes[k - 1].lemma not in self.of_after:
                    return False
            elif n.tag not in self.tags:
                return False
        return False


class Classifier:
    """The rule sets of one mode and the cascade that applies them."""

    def __init__(self, config: LabelerConfig, rules_dir: Path = RULES_DIR,
                 vocabulary: Vocabulary | None = None) -> None:
        self.config = config
        vocab = vocabulary or default_vocabulary()
        self.shared_conj = frozenset({_LIST_CONJ, *(f"conj_{w}" for w in vocab.shared_negation_coordinators)})
        self.negation_vetoes = vocab.negation_vetoes
        def rules(files: tuple[str, ...]) -> list[Rule]:
            return [r for f in files for r in load_rules(rules_dir / f) if r.rule_id not in config.disabled_rules]

        self.pre = rules(config.pre_negation)
        self.neg = rules(config.negation)
        self.post = rules(config.post_negation)
        self.anatomy: list[Rule] = load_rules(rules_dir / "patterns" / "abnormal_anatomy.txt")
        self.scope = NegationScope.load(rules_dir / "patterns" / "negation_scope.txt")
        self.sentence_neg = load_regex_rules(rules_dir / "patterns" / "sentence.txt")
        self.fallback = load_regex_rules(rules_dir / "patterns" / "fallback.txt", labelled=True)
        self.regex_neg = load_regex_rules(rules_dir / config.regex_negation) if config.regex_negation else []
        self.regex_unc = (
            load_regex_rules(rules_dir / config.regex_uncertainty) if config.regex_uncertainty else []
        )

    # -------------------------------------------------------------- regex stages
    def sentence_shortcut(self, sentence: str) -> str | None:
        """Rule id when the whole sentence negates all its mentions ('impression: no ...')."""
        for r in self.sentence_neg:
            if r.regex.search(sentence):
                return r.rule_id
        return None

    @staticmethod
    def _with_x(sentence: str, m: Mention, window: int = 0) -> str:
        if window:
            return sentence[max(0, m.start - window) : m.start] + "$X$" + sentence[m.end : m.end + window]
        return sentence[: m.start] + "$X$" + sentence[m.end :]

    def regex_stage(self, sentence: str, m: Mention) -> tuple[float, str] | None:
        """NegBio's regex rules: negation first, then uncertainty."""
        if not self.regex_neg and not self.regex_unc:
            return None
        text = self._with_x(sentence, m)
        for label, rules in ((NEGATIVE, self.regex_neg), (UNCERTAIN, self.regex_unc)):
            for r in rules:
                if r.regex.search(text):
                    return label, r.rule_id
        return None

    def fallback_stage(self, sentence: str, m: Mention) -> tuple[float | None, str]:
        """Regex rules for a sentence the parser could not handle (never silently positive); they look
        at most 200 characters either side of the mention."""
        text = self._with_x(sentence, m, 200)
        for r in self.fallback:
            if r.regex.search(text):
                if r.label == "abnormal" and not m.anatomical:
                    continue
                return FALLBACK_LABELS[r.label or ""], r.rule_id
        return (None, NEUTRAL_ANATOMY) if m.anatomical else (POSITIVE, "fallback.mention")

    # -------------------------------------------------------------- graph stages
    def _negation(self, g: Graph, i: int, depth: int = 0) -> str | None:
        rule = self._negation_direct(g, i)
        if rule or depth >= 3 or not g.nodes[i].tag.startswith(("NN", "JJ")):
            return rule
        # a list shares its negation: "no focal consolidation, effusion or pneumothorax" negates every
        # member, however the parser attached the negator to the first one
        for lab, f in g.in_edges[i]:
            if f < i and lab in self.shared_conj and g.nodes[f].tag.startswith(("NN", "VBZ", "VBP")):
                rule = self._negation(g, f, depth + 1)
                # a verb-tagged first member only when it is a misparsed noun ("no infiltrates or masses")
                if rule and (g.nodes[f].tag.startswith("NN") or rule.startswith("neg.no_subject_misparse")):
                    return rule if rule.endswith(".list") else rule + ".list"
        if self.scope.negates(g, i):
            return "neg.no_scope"
        return None

    def _negation_direct(self, g: Graph, i: int) -> str | None:
        labels = g.labels(i)
        for r in self.neg:
            if r.pattern.ruled_out(labels):
                continue
            b = r.pattern.match(g, i)
            if b is None:
                continue
            key = b.get("key")
            if key is not None and any(lab == "neg" for lab, _ in g.out_edges[key]):
                continue  # double negation: "not excluded"
            if any(lab == "amod" and g.nodes[c].lemma in self.negation_vetoes for lab, c in g.out_edges[i]):
                continue  # "no new X" is left to the uncertainty rules (rules/words/negation_vetoes.txt)
            return r.rule_id
        return None

    def graph_stage(self, g: Graph, m: Mention) -> tuple[float | None, str] | None:
        """Label and rule id from the dependency patterns; None when no token of the mention is found.

        An anatomy mention ("heart size") that is neither negated nor hedged is positive only when an
        abnormal-anatomy pattern matches ("the heart is enlarged"); otherwise its label is None.
        """
        nodes = g.nodes_in_span(m.start, m.end)
        if not nodes:
            return None
        neg_rule = unc_rule = None
        for i in nodes:
            rule = _first(self.pre, g, i)
            if rule:
                unc_rule = unc_rule or rule
                continue
            rule = self._negation(g, i)
            if rule:
                neg_rule = neg_rule or rule
                continue
            rule = _first(self.post, g, i)
            if rule:
                unc_rule = unc_rule or rule
        if neg_rule:
            return NEGATIVE, neg_rule
        if unc_rule:
            return UNCERTAIN, unc_rule
        if m.anatomical:
            for i in nodes:
                rule = _first(self.anatomy, g, i)
                if rule:
                    return POSITIVE, rule
            return None, NEUTRAL_ANATOMY
        return POSITIVE, "mention"


def _first(rules: list[Rule], g: Graph, i: int) -> str | None:
    labels = g.labels(i)
    for r in rules:
        if not r.pattern.ruled_out(labels) and r.pattern.match(g, i) is not None:
            return r.rule_id
    return None
