"""The labeler fingerprint: one short string that changes exactly when something that decides a label does.

It hashes, for one labeler name:

* **the labeling code**: every ``.py`` module of ``cxrdb/labeling/`` except :data:`NOT_LABELING` (the
  package ``__init__`` that only re-exports, the catalog and CSV orchestration in ``run.py`` and
  ``reports_csv.py``, and this module). The list comes from the package folder, so a new module is covered
  without editing anything here;
* **the parser**: spaCy's version and the name and version of the English model the labeler loads (the first
  installed of :data:`cxrdb.labeling.parse.MODEL_NAMES`, as ``load_spacy`` picks it);
* **the rule files the labeler's configuration reads** (:func:`rule_files`): the mention and unmention lists,
  the shared graph and regex patterns, the word lists of ``rules/words/`` (:data:`cxrdb.labeling.vocabulary.FILES`),
  and the stage files the :class:`LabelerConfig` names. Not
  ``rules/README.md`` and not another mode's files (editing a NegBio-only file does not relabel CheXpert).

cxrdb's own version is deliberately not part of it: a release that changes no labeling code, rule or parser
keeps every label. ``tests/test_label_fingerprint.py`` checks :func:`rule_files` against the files the
labeler really opens.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import metadata, util
from pathlib import Path

from .config import RULES_DIR, LabelerConfig, get_config
from .vocabulary import FILES as WORD_FILES

PACKAGE_DIR = Path(__file__).parent
#: modules of cxrdb/labeling that do not take part in labeling a text
NOT_LABELING = frozenset({"__init__.py", "run.py", "reports_csv.py", "fingerprint.py"})


def code_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The labeling modules: every ``*.py`` of the package folder but :data:`NOT_LABELING`, sorted."""
    return sorted(p for p in package_dir.glob("*.py") if p.name not in NOT_LABELING)


def rule_files(config: LabelerConfig, rules_dir: Path = RULES_DIR) -> list[Path]:
    """The rule files a labeler with ``config`` reads (mirrors ``MentionExtractor``, ``Classifier``
    and ``load_vocabulary``)."""
    files = [*sorted((rules_dir / "mention").glob("*.txt")), *sorted((rules_dir / "unmention").glob("*.txt"))]
    named = [*config.extra_positional, *config.pre_negation, *config.negation, *config.post_negation,
             "patterns/abnormal_anatomy.txt", "patterns/negation_scope.txt", "patterns/sentence.txt",
             "patterns/fallback.txt", config.regex_negation, config.regex_uncertainty, *WORD_FILES]
    files += [rules_dir / f for f in named if f]
    return sorted(set(files))


def parser_versions() -> dict[str, str]:
    """spaCy's version and the English model's name and version (``missing`` when not installed)."""
    from .parse import MODEL_NAMES

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "missing"

    out = {"spacy": version("spacy")}
    model = next((n for n in MODEL_NAMES if util.find_spec(n) is not None), None)
    out["model"] = f"{model}-{version(model)}" if model else "missing"
    return out


def fingerprint(labeler: str | LabelerConfig, *, rules_dir: Path = RULES_DIR,
                package_dir: Path = PACKAGE_DIR) -> str:
    """``<name>:<16 hex digits>`` over the labeler's code, parser versions and rule files (uncached)."""
    config = get_config(labeler)
    digest = hashlib.sha256(f"labeler:{config.name}\n".encode())
    for key, value in sorted(parser_versions().items()):
        digest.update(f"{key}={value}\n".encode())
    for base, paths in ((package_dir, code_files(package_dir)), (rules_dir, rule_files(config, rules_dir))):
        for path in paths:
            data = path.read_bytes()
            digest.update(f"{path.relative_to(base).as_posix()}:{len(data)}\n".encode())
            digest.update(data)
    return f"{config.name}:{digest.hexdigest()[:16]}"


@cache
def rules_fingerprint(labeler: str) -> str:
    """The fingerprint of the installed labeler ``labeler`` (cached per process); see the module docs."""
    return fingerprint(labeler)
