"""Load per-study section-choice overrides (MIMIC's custom rules, supplied as data, not code).

CSV with a header: ``study_id,section`` or ``study_id,start,end`` (columns may all be present; one of
section or start/end per row). ``study_id`` may carry the ``s`` prefix. ``start``/``end`` slice the raw
report text [start, end) and are used verbatim; ``section`` takes the last section of that name, stripped.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from ..errors import CxrdbError
from ..sections import Override


def load_overrides(path: str | Path) -> tuple[dict[int, Override], str]:
    """Parse an overrides file; return ({study_id: Override}, content hash)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CxrdbError(f"cannot read overrides file {path}: {exc.strerror}") from None
    try:
        rows = list(csv.DictReader(data.decode("utf-8").splitlines()))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CxrdbError(f"overrides file {path} is not a UTF-8 CSV: {exc}") from None
    header = next(csv.reader(data.decode("utf-8").splitlines()), [])
    if "study_id" not in header or not ({"section"} <= set(header) or {"start", "end"} <= set(header)):
        raise CxrdbError(f"overrides file {path} needs the columns study_id and section (or start and end)")
    out: dict[int, Override] = {}
    for n, row in enumerate(rows, start=2):
        raw_id = (row.get("study_id") or "").strip().lstrip("s")
        section = (row.get("section") or "").strip() or None
        start, end = (row.get("start") or "").strip(), (row.get("end") or "").strip()
        try:
            study_id = int(raw_id)
            if section is None:
                if not (start and end):
                    raise ValueError("needs section, or start and end")
                out[study_id] = Override(start=int(start), end=int(end))
            else:
                out[study_id] = Override(section=section)
        except ValueError as exc:
            raise CxrdbError(f"{path}:{n}: bad override row ({exc})") from None
    return out, hashlib.sha256(data).hexdigest()
