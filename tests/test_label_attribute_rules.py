"""The attribute ruler's indexed matcher gives exactly spaCy's matches, so the parse the labelers read is unchanged."""

from __future__ import annotations

import csv
import itertools
import random
import re
from pathlib import Path

import pytest
from spacy.pipeline.attributeruler import AttributeRuler
from spacy.tokens import Doc

from cxrdb.labeling.attribute_rules import AttributeMatcher, Unsupported, speed_up
from cxrdb.labeling.clean import clean_text
from cxrdb.labeling.parse import load_spacy
from cxrdb.labeling.sentences import split_sentences
from cxrdb.labeling.vocabulary import load_vocabulary

DATA = Path(__file__).parent / "data" / "reports"


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


@pytest.fixture(scope="module")
def ruler(nlp):
    return nlp.get_pipe("attribute_ruler")


def _stock(ruler, doc: Doc) -> list[tuple[int, int, int, int]]:
    return AttributeRuler.match(ruler, doc)  # the class's own method: spaCy's Matcher


def test_the_labelers_pipeline_uses_it(ruler) -> None:
    assert ruler.match.__self__.__class__ is AttributeMatcher


def _report_texts() -> list[str]:
    with (DATA / "iu_reports_dev.csv").open(newline="", encoding="utf-8") as fh:
        return [f"{r['findings']} {r['impression']}".strip() for r in csv.DictReader(fh)]


def test_same_matches_and_tokens_on_every_real_sentence_and_report(nlp, ruler) -> None:
    """Every sentence the labelers parse from the real Indiana reports, and the whole reports: the same matches
    as spaCy's Matcher, and the same universal tags, morphology and lemmas once the pipeline has run."""
    vocab = load_vocabulary()
    texts = _report_texts()
    sents = list(dict.fromkeys(s for t in texts for mode in (True, False)
                               for _, _, s in split_sentences(clean_text(t, mode), vocab)))
    assert len(sents) > 5000
    docs = list(nlp.pipe(sents + texts, disable=["attribute_ruler", "lemmatizer"]))
    fast = AttributeMatcher(ruler)
    differ = [d.text for d in docs if fast.match(d) != _stock(ruler, d)]
    assert not differ, differ[:5]
    sample = sents[::7]
    ours = [[(t.pos_, str(t.morph), t.lemma_, t.tag_) for t in d] for d in nlp.pipe(sample)]
    stock = load_spacy(indexed_rules=False)
    assert stock is not nlp and stock.get_pipe("attribute_ruler").match.__func__ is AttributeRuler.match
    theirs = [[(t.pos_, str(t.morph), t.lemma_, t.tag_) for t in d] for d in stock.pipe(sample)]
    assert ours == theirs


def _vocabulary(ruler) -> tuple[list[str], list[str], list[str]]:
    """Every LOWER, TAG and DEP value the rules name (their lists included), plus a few they do not."""
    lowers, tags, deps = {"effusion", "no", "the", "'"}, {"NN", "XX", ""}, {"nsubj", "amod", ""}
    for entry in ruler.patterns:
        for pattern in entry["patterns"]:
            for tok in pattern:
                for key, value in tok.items():
                    if isinstance(value, dict):  # IN / NOT_IN list, or a REGEX (sampled by _expand)
                        value = next(iter(value.values()), [])
                    values = [value] if isinstance(value, str) else list(value) if isinstance(value, list) else []
                    {"LOWER": lowers, "TAG": tags, "DEP": deps}.get(key.upper(), set()).update(
                        v for v in values if isinstance(v, str) and not v.startswith("^"))
    return sorted(lowers), sorted(tags), sorted(deps)


def _value(spec, pool: list[str], rng: random.Random) -> str:
    """A value meeting one attribute test (literal, IN, NOT_IN or REGEX), else any of ``pool``."""
    if spec is None:
        return rng.choice(pool)
    if isinstance(spec, str):
        return spec
    ((op, value),) = spec.items()
    if op == "IN":
        return rng.choice(list(value))
    if op == "NOT_IN":
        return rng.choice([v for v in pool if v not in value])
    samples = [v for v in [*pool, *_expand(value)] if re.search(value, v)]
    assert samples, value
    return rng.choice(samples)


def _expand(rx: str) -> list[str]:
    """The strings of a simple anchored regex (literals, ``[abc]``, ``x?``): enough for the ruler's REGEX tests."""
    parts: list[list[str]] = []
    for m in re.finditer(r"\[([^\]]+)\]|(\\?.)", rx.strip("^$")):
        if m.group(0) == "?":
            parts[-1] = [*parts[-1], ""]
        else:
            parts.append(list(m.group(1)) if m.group(1) else [m.group(2)[-1]])
    return ["".join(p) for p in itertools.product(*parts)]


def _random_token(lowers, tags, deps, rng: random.Random) -> tuple[str, str, str]:
    word = rng.choice((" ", "\n", "  ")) if rng.random() < 0.08 else rng.choice(lowers) or "x"
    return word, rng.choice(tags), rng.choice(deps)


def _pattern_tokens(pattern, lowers, tags, deps, rng: random.Random) -> list[tuple[str, str, str]]:
    """Tokens meeting every test of one pattern (the words of IS_SPACE tokens are spaces)."""
    out = []
    for tok in pattern:
        spec = {k.upper(): v for k, v in tok.items()}
        if spec.get("IS_SPACE") is True:
            word = rng.choice((" ", "\n"))
        else:
            word = _value(spec.get("LOWER"), [w for w in lowers if w.strip()], rng)
        out.append((word, _value(spec.get("TAG"), tags, rng), _value(spec.get("DEP"), deps, rng)))
    return out


def test_same_matches_on_random_tokens_over_every_value_the_rules_name(nlp, ruler) -> None:
    """Docs made of the rules' own values (and spaces, upper-cased words): each rule's pattern between random
    tokens, 20 times per rule, and 3,000 random docs. The same matches as spaCy's Matcher every time, and every
    rule fired: the two-token, REGEX, NOT_IN and IS_SPACE ones included."""
    lowers, tags, deps = _vocabulary(ruler)
    rng = random.Random(7)
    fast = AttributeMatcher(ruler)
    fired: set[int] = set()
    made: list[list[tuple[str, str, str]]] = []
    for entry in ruler.patterns:
        for pattern in entry["patterns"]:
            for _ in range(20):
                around = [_random_token(lowers, tags, deps, rng) for _ in range(rng.randint(0, 4))]
                at = rng.randint(0, len(around))
                made.append(around[:at] + _pattern_tokens(pattern, lowers, tags, deps, rng) + around[at:])
            if len(pattern) > 1:  # its tokens wrapped around the doc's ends: no match may start before the first
                tokens = _pattern_tokens(pattern, lowers, tags, deps, rng)
                made.append([*tokens[1:], _random_token(lowers, tags, deps, rng), *tokens[:1]])
    made += [[_random_token(lowers, tags, deps, rng) for _ in range(rng.randint(1, 6))] for _ in range(3000)]
    for tokens in made:
        words = [w.upper() if rng.random() < 0.2 else w for w, _, _ in tokens]
        n = len(tokens)
        doc = Doc(nlp.vocab, words=words, spaces=[False] * n, tags=[t for _, t, _ in tokens],
                  deps=[d for _, _, d in tokens], heads=[0] * n)
        stock = _stock(ruler, doc)
        assert fast.match(doc) == stock, tokens
        fired.update(r for r, *_ in stock)
    assert fired == set(range(len(ruler.patterns)))


def test_a_rule_it_cannot_reproduce_leaves_spacys_ruler(nlp) -> None:
    """A pattern with another attribute or operator: the ruler keeps spaCy's Matcher (never a different answer)."""
    import spacy

    blank = spacy.blank("en")
    ar = blank.add_pipe("attribute_ruler")
    ar.add([[{"ORTH": "x"}]], {"POS": "X"})
    with pytest.raises(Unsupported):
        AttributeMatcher(ar)
    assert speed_up(blank) is False
    assert ar.match.__func__ is AttributeRuler.match
    ar2 = spacy.blank("en").add_pipe("attribute_ruler")
    ar2.add([[{"LOWER": "x", "OP": "+"}]], {"POS": "X"})
    with pytest.raises(Unsupported):
        AttributeMatcher(ar2)
