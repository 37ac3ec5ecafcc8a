"""The labeler fingerprint changes exactly when a label can: labeling code, parser versions, rule files read."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from cxrdb.labeling import fingerprint as fp
from cxrdb.labeling.config import CONFIGS, RULES_DIR, get_config
from cxrdb.labeling.engine import Labeler
from cxrdb.labeling.run import rules_fingerprint


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    """A copy of cxrdb/labeling (code and rules) to edit."""
    copy = tmp_path / "labeling"
    shutil.copytree(fp.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _fps(package: Path) -> dict[str, str]:
    return {name: fp.fingerprint(name, rules_dir=package / "rules", package_dir=package) for name in CONFIGS}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_the_copy_fingerprints_as_the_installed_package(package: Path) -> None:
    assert _fps(package) == {name: rules_fingerprint(name) for name in CONFIGS}
    assert len(set(_fps(package).values())) == len(CONFIGS)


@pytest.mark.parametrize("name", ["rules/README.md", "run.py", "reports_csv.py", "__init__.py",
                                  "rules/notes.txt"])
def test_files_that_decide_no_label_do_not_change_it(package: Path, name: str) -> None:
    before = _fps(package)
    target = package / name
    target.write_text((target.read_text(encoding="utf-8") if target.exists() else "") + "\n# edited\n",
                      encoding="utf-8")
    assert _fps(package) == before


@pytest.mark.parametrize("name", ["parse.py", "classify.py", "engine.py", "config.py", "patterns.py",
                                  "rules/patterns/negation.txt", "rules/mention/edema.txt",
                                  "rules/unmention/positional.txt", "rules/patterns/sentence.txt",
                                  "rules/patterns/fallback.txt", "rules/words/lift_heads.txt",
                                  "rules/words/abbreviations.txt", "rules/words/chf.txt", "vocabulary.py"])
def test_code_and_shared_rules_change_every_labeler(package: Path, name: str) -> None:
    before = _fps(package)
    _append(package / name, "\n# edited\n")
    after = _fps(package)
    assert all(after[n] != before[n] for n in CONFIGS), name


def test_a_negbio_rule_file_changes_negbio_only(package: Path) -> None:
    before = _fps(package)
    _append(package / "rules/negbio/regex_negation.txt", "\n# edited\n")
    after = _fps(package)
    assert after["chexpert"] == before["chexpert"] and after["negbio"] != before["negbio"]


def test_a_new_labeling_module_is_covered(package: Path) -> None:
    before = _fps(package)
    (package / "newstage.py").write_text("X = 1\n", encoding="utf-8")
    assert _fps(package)["chexpert"] != before["chexpert"]


def test_parser_versions_are_part_of_it(package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _fps(package)
    versions = fp.parser_versions()
    assert versions["spacy"] != "missing"
    monkeypatch.setattr(fp, "parser_versions", lambda: {**versions, "model": "en_core_web_sm-9.9.9"})
    assert _fps(package)["chexpert"] != before["chexpert"]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_rule_files_are_exactly_what_the_labeler_reads(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    read: set[Path] = set()
    original = Path.read_text

    def tracing(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.add(Path(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", tracing)
    config = get_config(name)
    Labeler(config, load_parser=False)  # mentions, classifier rules and the word lists of rules/words/
    monkeypatch.undo()
    files = set(fp.rule_files(config))
    assert files == {p for p in read if RULES_DIR in p.parents}
    assert RULES_DIR / "README.md" not in files
    negbio_only = {p for p in RULES_DIR.joinpath("negbio").glob("*.txt")}
    assert (files & negbio_only == set()) == name.startswith("chexpert")


def _package_imports(module: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names.add(node.module.split(".")[0] + ".py")
    return names


def test_every_module_the_engine_uses_is_fingerprinted() -> None:
    covered = {p.name for p in fp.code_files()}
    todo, seen = ["engine.py"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_package_imports(fp.PACKAGE_DIR / name))
    assert seen <= covered, seen - covered
    assert not covered & fp.NOT_LABELING
