"""Label a CSV of reports: ``study_id,text`` in, ``study_id`` + the 14 observations out (and, on request,
the evidence behind every label)."""

from __future__ import annotations

import contextlib
import csv
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from ..atomic import WriteError, atomic_open
from ..errors import CxrdbError
from .config import OBSERVATIONS, get_config
from .engine import iter_labels


def _raise_field_limit() -> None:
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # pragma: no cover - 32-bit C long
            limit //= 10


def format_label(value: float | None) -> str:
    """'1.0', '0.0', '-1.0' or '' (the CheXpert labeler's output format)."""
    return "" if value is None else f"{value:.1f}"


def read_reports(path: str | Path, id_column: str = "study_id", text_column: str = "text") -> Iterator[tuple[str, str]]:
    """(id, text) rows of a CSV with a header; a clear CxrdbError when the file or a column is missing."""
    _raise_field_limit()
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CxrdbError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise CxrdbError(f"{path} is empty: expected a header with {id_column!r} and {text_column!r}")
            header = [h.strip() for h in header]
            missing = [c for c in (id_column, text_column) if c not in header]
            if missing:
                raise CxrdbError(
                    f"{path}: no column {', '.join(map(repr, missing))} (columns: {', '.join(header[:20])})"
                )
            i_id, i_text = header.index(id_column), header.index(text_column)
            for row in reader:
                if not row:
                    continue
                yield (
                    row[i_id] if i_id < len(row) else "",
                    row[i_text] if i_text < len(row) else "",
                )
        except UnicodeDecodeError:
            raise CxrdbError(f"{path} is not UTF-8 text") from None
        except csv.Error as exc:
            raise CxrdbError(f"{path}: malformed CSV: {exc}") from None


EVIDENCE_COLUMNS = ("study_id", "sentence_index", "sentence", "start", "end", "phrase", "observation", "label",
                    "rule")


def label_reports_csv(
    input_path: str | Path,
    output_path: str | Path,
    labeler: str = "chexpert",
    id_column: str = "study_id",
    text_column: str = "text",
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    evidence_path: str | Path | None = None,
) -> dict[str, float | int]:
    """Label every report of ``input_path`` into ``output_path``; rows stay in input order.

    NegBio mode drops rows with empty text (as NegBio did). With ``evidence_path``, one row per mention
    (``EVIDENCE_COLUMNS``: the sentence, the matched phrase and its span, the mention's label and the rule
    that decided it) goes there too. Both files are written atomically. Returns rows, written, skipped,
    parse_failures and seconds.
    """
    t0 = time.perf_counter()
    name = get_config(labeler).name
    output_path = Path(output_path)
    rows = written = failures = 0
    reports = read_reports(input_path, id_column, text_column)
    first = next(reports, None)  # validate the input before creating the output
    ids: deque[str] = deque()

    def texts() -> Iterator[str]:
        for sid, text in itertools.chain([first] if first else [], reports):
            ids.append(sid)
            yield text

    try:
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(atomic_open(output_path, "w", newline="", encoding="utf-8"))
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["study_id", *OBSERVATIONS])
            ev_writer = None
            if evidence_path is not None:
                ev = stack.enter_context(atomic_open(evidence_path, "w", newline="", encoding="utf-8"))
                ev_writer = csv.writer(ev, lineterminator="\n")
                ev_writer.writerow(EVIDENCE_COLUMNS)
            for res in iter_labels(texts(), labeler=name, workers=workers):
                sid = ids.popleft()
                rows += 1
                failures += res.parse_failures
                if not res.skipped:
                    writer.writerow([sid, *(format_label(res.labels[o]) for o in OBSERVATIONS)])
                    written += 1
                    if ev_writer is not None:
                        ev_writer.writerows([sid, e["sentence_index"], e["sentence"], e["start"], e["end"], e["phrase"],
                                             e["observation"], format_label(e["label"]), e["rule"]]
                                            for e in res.evidence)
                if on_progress is not None and rows % 1000 == 0:
                    on_progress(rows)
    except WriteError as exc:
        raise CxrdbError(str(exc)) from None
    if on_progress is not None:
        on_progress(rows)
    return {
        "rows": rows, "written": written, "skipped": rows - written, "parse_failures": failures,
        "seconds": round(time.perf_counter() - t0, 3),
    }
