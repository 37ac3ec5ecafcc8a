"""Label a CSV of reports: ``study_id,text`` in, ``study_id`` + the 14 observations out (and, on request,
the evidence behind every label)."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

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


STDIO = "-"  # a file name meaning standard input (the input CSV) or standard output (--out, --evidence)
OnError = Callable[[int, str], None]  # (line number, one-line reason) of a malformed row


def _is_stdio(path: str | Path | None) -> bool:
    return path is not None and str(path) == STDIO


@contextlib.contextmanager
def _open_input(path: str | Path) -> Iterator[tuple[TextIO, str]]:
    """(text stream, name for messages) of a CSV file, or of standard input for ``-`` (left open)."""
    if _is_stdio(path):
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
        try:
            yield stream, "standard input"
        finally:
            stream.detach()  # do not close the process's stdin
        return
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CxrdbError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        yield fh, str(path)


def _row_problem(row: list[str], header: list[str], i_id: int, i_text: int, id_column: str,
                 text_column: str) -> str | None:
    if len(row) != len(header):
        lost = [repr(c) for i, c in ((i_id, id_column), (i_text, text_column)) if i >= len(row)]
        return f"{len(row)} fields where the header has {len(header)}" + (f": no {' or '.join(lost)} field"
                                                                           if lost else "")
    if not row[i_id].strip():
        return f"empty {id_column}"
    return None


def read_reports(path: str | Path, id_column: str = "study_id", text_column: str = "text",
                 on_error: OnError | None = None) -> Iterator[tuple[str, str]]:
    """(id, text) of every well-formed row of a CSV with a header (``-``: standard input), in input order.

    A clear CxrdbError when the file or a column is missing. A malformed row (a field count other than the
    header's, an empty id, an id already seen) is not yielded: ``on_error(line, reason)`` gets it, with the
    line it starts on. Blank lines are skipped, as CSV readers do. An empty text field is a real (empty)
    report, not an error.
    """
    _raise_field_limit()
    with _open_input(path) as (fh, name):
        try:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise CxrdbError(f"{name} is empty: expected a header with {id_column!r} and {text_column!r}")
            header = [h.strip() for h in header]
            missing = [c for c in (id_column, text_column) if c not in header]
            if missing:
                raise CxrdbError(
                    f"{name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(header[:20])})"
                )
            i_id, i_text = header.index(id_column), header.index(text_column)
            seen: dict[str, int] = {}
            end = reader.line_num
            for row in reader:
                line, end = end + 1, reader.line_num
                if not row:
                    continue
                problem = _row_problem(row, header, i_id, i_text, id_column, text_column)
                if problem is None and row[i_id] in seen:
                    problem = f"duplicate {id_column} {row[i_id]!r} (first on line {seen[row[i_id]]})"
                if problem is not None:
                    if on_error is not None:
                        on_error(line, problem)
                    continue
                seen[row[i_id]] = line
                yield row[i_id], row[i_text]
        except UnicodeDecodeError:
            raise CxrdbError(f"{name} is not UTF-8 text") from None
        except csv.Error as exc:
            raise CxrdbError(f"{name}: malformed CSV: {exc}") from None


def _open_output(path: str | Path) -> contextlib.AbstractContextManager[TextIO]:
    """Standard output for ``-`` (flushed, left open), else the file, written atomically."""
    if _is_stdio(path):
        return contextlib.nullcontext(sys.stdout)
    return atomic_open(Path(path), "w", newline="", encoding="utf-8")


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
    on_error: OnError | None = None,
) -> dict[str, float | int]:
    """Label every report of ``input_path`` into ``output_path``; rows stay in input order.

    ``-`` is standard input (``input_path``) or standard output (``output_path`` or ``evidence_path``, not
    both); files are written atomically. Malformed input rows (see :func:`read_reports`) are not labeled and
    not in the output; each goes to ``on_error(line, reason)`` and they are counted as ``malformed``. An empty
    text is a report with nothing in it: the CheXpert mode labels it (No Finding 1.0, as the original does
    with an empty impression), the NegBio mode drops it (as NegBio did; counted as ``skipped``). With
    ``evidence_path``, one row per mention (``EVIDENCE_COLUMNS``: the sentence, the matched phrase and its
    span, the mention's label and the rule that decided it) goes there too. Returns rows (well-formed rows
    labeled), written, skipped, malformed, parse_failures and seconds.
    """
    t0 = time.perf_counter()
    name = get_config(labeler).name
    if _is_stdio(output_path) and _is_stdio(evidence_path):
        raise CxrdbError("--out and --evidence cannot both be '-' (standard output)")
    rows = written = failures = malformed = 0
    lost: list[str] = []  # ids whose worker died: not written

    def bad_row(line: int, reason: str) -> None:
        nonlocal malformed
        malformed += 1
        if on_error is not None:
            on_error(line, reason)

    reports = read_reports(input_path, id_column, text_column, on_error=bad_row)
    first = next(reports, None)  # validate the input before creating the output
    ids: deque[str] = deque()

    def texts() -> Iterator[str]:
        for sid, text in itertools.chain([first] if first else [], reports):
            ids.append(sid)
            yield text

    try:
        with contextlib.ExitStack() as stack:
            out = stack.enter_context(_open_output(output_path))
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["study_id", *OBSERVATIONS])
            ev_writer = None
            if evidence_path is not None:
                ev = stack.enter_context(_open_output(evidence_path))
                ev_writer = csv.writer(ev, lineterminator="\n")
                ev_writer.writerow(EVIDENCE_COLUMNS)
            for res in iter_labels(texts(), labeler=name, workers=workers):
                sid = ids.popleft()
                rows += 1
                failures += res.parse_failures
                if res.lost is not None:
                    lost.append(sid)
                elif not res.skipped:
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
    finally:
        if STDIO in (str(output_path), str(evidence_path)):
            sys.stdout.flush()
    if on_progress is not None:
        on_progress(rows)
    return {
        "rows": rows, "written": written, "skipped": rows - written - len(lost), "malformed": malformed,
        "lost": len(lost), "lost_ids": lost[:20],
        "parse_failures": failures, "seconds": round(time.perf_counter() - t0, 3),
    }
