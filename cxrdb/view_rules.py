"""The data files behind ``analysis.image_view`` (``cxrdb/rules/views/*.tsv``): read, check, fingerprint.

The view reads the rules from the catalog table ``meta.view_rules``, which :class:`cxrdb.catalog.Catalog`
reloads on a writable open whenever :func:`digest` changed, so the view also works from plain DuckDB on the
catalog file. Each file documents its format at its top; README "Inferred views" says what the view does.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from .errors import CxrdbError, one_line

RULES_DIR = Path(__file__).parent / "rules" / "views"
SETTING = "view_rules_sha256"  # meta.settings key holding the digest of the loaded files
#: file stem -> how its first field matches: "exact" (a normalised value) or "words" (words all in the text)
FILES = {"view_position": "exact", "view_code_meaning": "exact", "procedure": "words", "portable": "words"}
NO_VIEW = "-"  # procedure.tsv: the text names several views and decides nothing
_VIEW = re.compile(r"[A-Z][A-Z0-9]*(?: [A-Z0-9]+)*")  # a view: upper-case words, one space apart
_SPACE = re.compile(r"[\t\n\f\r ]+")  # what RE2's \s matches, as the view's SQL normalises
_WORD = re.compile(r"[A-Za-z0-9]+")  # a word of a procedure text (the view splits texts on anything else)


def normalise(value: str) -> str:
    """A header value as the view compares it: runs of whitespace made one space, trimmed, upper-cased."""
    return _SPACE.sub(" ", value).strip(" ").upper()


def _folder(folder: Path | None) -> Path:
    return RULES_DIR if folder is None else folder


def _read(folder: Path, stem: str) -> bytes:
    path = folder / f"{stem}.tsv"
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CxrdbError(f"cannot read view rules {path}: {one_line(exc)}") from None


def _contents(folder: Path | None) -> dict[str, bytes]:
    return {stem: _read(_folder(folder), stem) for stem in sorted(FILES)}


def _digest(contents: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for stem, data in contents.items():
        h.update(f"{stem}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def digest(folder: Path | None = None) -> str:
    """sha256 over the names and bytes of the rule files: what the catalog compares before reloading them."""
    return _digest(_contents(folder))


def _allowed(stem: str, result: str) -> bool:
    if stem == "portable":
        return result in ("yes", "no")
    return bool(_VIEW.fullmatch(result)) or (stem == "procedure" and result == NO_VIEW)


def _key(stem: str, pattern: str) -> str:
    """What makes two lines the same: the normalised value, or the set of words."""
    if FILES[stem] == "exact":
        return normalise(pattern)
    return " ".join(sorted({w.upper() for w in pattern.split()}))


def parse(stem: str, text: str) -> list[dict[str, Any]]:
    """The rule lines of one file as rows of meta.view_rules; a bad line raises a one-line CxrdbError."""
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"view rules {stem}.tsv line {number}"
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) != 2 or not all(fields):
            raise CxrdbError(f"{where}: expected '<{'words' if FILES[stem] == 'words' else 'value'}>"
                             f"<TAB><result>', got {line!r}")
        pattern, result = fields
        if not _allowed(stem, result):
            wanted = "yes or no" if stem == "portable" else "upper-case words (PA, AP LLD ...)" + (
                " or '-'" if stem == "procedure" else "")
            raise CxrdbError(f"{where}: result {result!r} must be {wanted}")
        if FILES[stem] == "words" and not all(_WORD.fullmatch(w) for w in pattern.split()):
            raise CxrdbError(f"{where}: {pattern!r} must be words of letters and digits, separated by spaces")
        key = _key(stem, pattern)
        if key in seen:
            raise CxrdbError(f"{where}: {pattern!r} is already listed on line {seen[key]}")
        seen[key] = number
        rows.append({"file": stem, "line": number, "pattern": pattern, "result": result})
    return rows


def load(folder: Path | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(digest, rows) of every rule file, checked: the content of meta.view_rules."""
    contents = _contents(folder)
    rows: list[dict[str, Any]] = []
    for stem, data in contents.items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CxrdbError(f"view rules {stem}.tsv is not UTF-8") from None
        rows.extend(parse(stem, text))
    return _digest(contents), rows
