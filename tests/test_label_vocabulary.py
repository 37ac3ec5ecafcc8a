"""The word lists of rules/words/: every file is read, documented, and an edit to one reaches the labeler."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cxrdb.errors import CxrdbError
from cxrdb.labeling.classify import load_regex_rules
from cxrdb.labeling.config import RULES_DIR
from cxrdb.labeling.sentences import split_sentences
from cxrdb.labeling.vocabulary import FILES, load_vocabulary


def test_every_word_file_is_listed_and_starts_with_a_header_comment() -> None:
    on_disk = {p.relative_to(RULES_DIR).as_posix() for p in (RULES_DIR / "words").glob("*.txt")}
    assert on_disk == set(FILES)
    for name in FILES:
        assert (RULES_DIR / name).read_text(encoding="utf-8").startswith("# "), name


def test_an_edited_word_list_changes_what_the_stage_does(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    text = "seen by dr. smith. no effusion."
    assert len(split_sentences(text, load_vocabulary(rules))) == 2
    path = rules / "words" / "abbreviations.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("\ndr\n", "\n"), encoding="utf-8")
    assert len(split_sentences(text, load_vocabulary(rules))) == 3


def test_fallback_rules_need_a_known_label(tmp_path: Path) -> None:
    rules = load_regex_rules(RULES_DIR / "patterns" / "fallback.txt", labelled=True)
    assert {r.label for r in rules} == {"negative", "uncertain", "abnormal"}
    bad = tmp_path / "fallback.txt"
    bad.write_text("neg.x: negated: \\bno\\b\n", encoding="utf-8")
    with pytest.raises(CxrdbError, match="label must be one of"):
        load_regex_rules(bad, labelled=True)
