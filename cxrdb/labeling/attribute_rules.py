"""spaCy's attribute ruler, matched by table lookup: the same matches as its Matcher in a tenth of the time.

The English pipeline's ``attribute_ruler`` sets each token's universal tag, morphology and a few lemmas from
~180 rules over the token's lower-cased text, Penn tag, dependency label and whether it is a space. Its
Matcher tries every rule at every token: on the labelers' sentences that is ~30 % of all parsing time. Here each
rule's patterns are compiled into checks on the four attributes (string ids, as ``Doc.to_array`` gives them)
and indexed by a literal or listed value of one of their tokens, so a token meets only the rules that can
match around it; a pattern with no such value would be checked at every token. The matches come out as the ruler's own
``match`` returns them, sorted by rule, then start, and spaCy's own ``set_annotations`` applies them: the tokens
get exactly the attributes the stock pipeline gives (tests/test_label_attribute_rules.py compares the matches on
every sentence of the real test reports). A rule using anything else (another attribute or operator, a
wildcard) leaves the ruler as spaCy made it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from spacy.strings import get_string_id

#: the token attributes a rule may test, in a token's row (``Doc.to_array`` of them: string ids and a 0/1)
_FIELDS = ["LOWER", "TAG", "DEP", "IS_SPACE"]
_SPACE = _FIELDS.index("IS_SPACE")

Row = list[int]  # LOWER, TAG, DEP ids and IS_SPACE
Check = Callable[[Row], bool]
Compiled = tuple[int, int, tuple[Check, ...]]  # (rule, offset of the indexed token, one check per token)


class Unsupported(ValueError):
    """A rule this matcher cannot reproduce exactly."""


def _ident(at: int, value: Any) -> int:
    """A rule's value as it appears in a token's row: a string's id, IS_SPACE's 0/1."""
    if at == _SPACE:
        if not isinstance(value, bool):
            raise Unsupported(f"IS_SPACE value {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise Unsupported(f"{_FIELDS[at]} value {value!r}")
    return get_string_id(value)


def _check(attr: str, spec: Any, strings: Any) -> Check:
    """One attribute test on a token's row, as the Matcher reads it (strings compared by their ids)."""
    if attr not in _FIELDS:
        raise Unsupported(f"attribute {attr}")
    at = _FIELDS.index(attr)

    if not isinstance(spec, dict):
        want = _ident(at, spec)
        return lambda row: row[at] == want
    if len(spec) != 1:
        raise Unsupported(f"{attr} operators {sorted(spec)}")
    ((op, value),) = spec.items()
    if op in ("IN", "NOT_IN"):
        values = frozenset(_ident(at, v) for v in value)
        return (lambda row: row[at] in values) if op == "IN" else (lambda row: row[at] not in values)
    if op == "REGEX" and at != _SPACE:
        rx = re.compile(value)
        return lambda row: rx.search(strings[row[at]]) is not None
    raise Unsupported(f"{attr} operator {op}")


def _token_check(spec: Any, strings: Any) -> tuple[Check, tuple[int, frozenset[int]] | None]:
    """All of one pattern token's tests, and (field, values) it can be found by: a literal or listed value of
    its LOWER, else TAG, else DEP, else IS_SPACE; None when it has none (checked at every token)."""
    if not isinstance(spec, dict) or not spec or any(k.upper() == "OP" for k in spec):
        raise Unsupported("a wildcard or quantified token")
    upper = {k.upper(): v for k, v in spec.items()}
    checks = tuple(_check(k, v, strings) for k, v in upper.items())
    key = None
    for at, attr in enumerate(_FIELDS):
        value = upper.get(attr)
        if isinstance(value, (str, bool)):
            key = (at, frozenset({_ident(at, value)}))
        elif isinstance(value, dict) and list(value) == ["IN"] and at != _SPACE:
            key = (at, frozenset(_ident(at, v) for v in value["IN"]))
        if key:
            break
    check = checks[0] if len(checks) == 1 else (lambda row: all(c(row) for c in checks))
    return check, key


class AttributeMatcher:
    """The rules of one spaCy ``AttributeRuler``, indexed; :meth:`match` is a drop-in for the ruler's own."""

    def __init__(self, ruler: Any) -> None:
        strings = ruler.vocab.strings
        #: per field, value id -> the patterns one of whose tokens is found by it
        self._by: list[dict[int, list[Compiled]]] = [{} for _ in _FIELDS]
        self._everywhere: list[Compiled] = []
        self._ids: list[int] = []
        for rule, entry in enumerate(ruler.patterns):
            self._ids.append(strings[str(rule)])  # the match id the ruler gave the rule (its key, "0", "1", ...)
            for pattern in entry["patterns"]:
                if not isinstance(pattern, list) or not pattern:
                    raise Unsupported(f"rule {rule}: pattern {pattern!r}")
                tokens = [_token_check(t, strings) for t in pattern]
                checks = tuple(c for c, _ in tokens)
                at = next((k for k, (_, key) in enumerate(tokens) if key), None)
                if at is None:
                    self._everywhere.append((rule, 0, checks))
                    continue
                field, values = tokens[at][1]
                for value in values:
                    self._by[field].setdefault(value, []).append((rule, at, checks))

    def match(self, doc: Any) -> list[tuple[int, int, int, int]]:
        """Every (rule, match id, start, end) of ``doc``, sorted as the ruler sorts them (later rules win)."""
        rows: list[Row] = doc.to_array(_FIELDS).tolist() if len(doc) else []
        n = len(rows)
        by, everywhere = self._by, self._everywhere
        found: set[tuple[int, int, int]] = set()
        none: list[Compiled] = []
        for i, row in enumerate(rows):
            for group in (by[0].get(row[0], none), by[1].get(row[1], none), by[2].get(row[2], none),
                          by[3].get(row[3], none), everywhere):
                for rule, offset, checks in group:
                    if len(checks) == 1:  # most rules: one token
                        if checks[0](row):
                            found.add((rule, i, i + 1))
                        continue
                    start = i - offset
                    end = start + len(checks)
                    if start >= 0 and end <= n and all(c(rows[start + k]) for k, c in enumerate(checks)):
                        found.add((rule, start, end))
        ids = self._ids
        return [(rule, ids[rule], start, end) for rule, start, end in sorted(found)]


def speed_up(nlp: Any) -> bool:
    """Give ``nlp``'s attribute ruler the indexed matcher; False (the ruler untouched) when it has none or a rule
    is not one this matcher reproduces."""
    if "attribute_ruler" not in nlp.pipe_names:
        return False
    ruler = nlp.get_pipe("attribute_ruler")
    try:
        matcher = AttributeMatcher(ruler)
    except Unsupported:
        return False
    ruler.match = matcher.match
    return True
