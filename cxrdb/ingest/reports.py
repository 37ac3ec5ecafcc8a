"""Read one report (a file, or an archive member's bytes) and section it: pure functions for any executor."""

from __future__ import annotations

from typing import Any

from ..sections import Override, choose_text, section_text


def decode_report(data: bytes) -> tuple[str, str | None]:
    """Decode report bytes as the original read them (UTF-8 text mode, universal newlines).

    Returns (text, error). Invalid UTF-8 is an error; the text is kept with replacement characters.
    """
    error = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        error = f"not valid UTF-8 (byte {exc.start}: {data[exc.start:exc.start + 1]!r})"
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if error is None and not text.strip():
        error = "empty report"
    return text, error


def lost_report(reason: str) -> dict[str, Any]:
    """The row of a report read that got no result (its worker died): a failure, retried by the next ingest."""
    return {"error": reason, "sections": []}


def read_report(task: tuple[str, Override | None]) -> dict[str, Any]:
    """Read, decode and section one report file. Never raises."""
    path, override = task
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return {"error": "file vanished before it could be read", "sections": []}
    except OSError as exc:
        return {"error": f"cannot read report: {exc.strerror}", "sections": []}
    return report_row(data, override)


def report_row(data: bytes | str, override: Override | None) -> dict[str, Any]:
    """Decode and section one report's bytes (an archive member's, say); a str is the one-line error of bytes
    that could not be had, and becomes the row's error. Never raises."""
    if isinstance(data, str):
        return {"error": data, "sections": []}
    text, error = decode_report(data)
    if error is not None:
        return {"error": error, "text": text, "section": "", "labeler_text": "", "sections": []}
    sections = section_text(text)
    name, chosen = choose_text(text, sections, override)
    return {
        "error": None,
        "text": text,
        "section": name,
        "labeler_text": chosen,
        "sections": [(s.name, s.start, s.text) for s in sections],
    }
