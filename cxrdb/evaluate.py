"""Score predicted labels against a gold CSV (``mimic-cxr-2.1.0-test-set-labeled.csv`` layout).

Per column and class (positive 1, negative 0, uncertain -1): precision, recall, F1 and support, treating
that class against everything else (blank included). Columns blank in every gold row are skipped. A
binary gold file (no -1 anywhere) is scored positive-vs-rest only. Macro figures average F1 (and P, R)
over the scored rows with support, per class and overall.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CxrdbError
from .labeling.config import OBSERVATIONS

STDIN = "-"  # a file name meaning standard input
CLASSES = {"positive": 1.0, "negative": 0.0, "uncertain": -1.0}


def _value(raw: str | None) -> float | None:
    raw = (raw or "").strip()
    if not raw or raw.lower() == "nan":
        return None
    try:
        v = float(raw)
    except ValueError:
        return None
    return v if v in (1.0, 0.0, -1.0) else None


def _norm_id(raw: str) -> str:
    s = raw.strip()
    if s[:1] in ("s", "S") and s[1:].isdigit():
        s = s[1:]
    if s.isdigit():
        s = str(int(s))
    return s


def read_labels(path: str | Path, id_column: str = "study_id") -> tuple[list[str], dict[str, dict[str, float | None]]]:
    """(observation columns present, {normalised id: {column: value}}) of a label CSV (``-``: standard input)."""
    if str(path) == STDIN:
        path, data = "standard input", sys.stdin.buffer.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CxrdbError("standard input is not UTF-8 text") from None
        return _parse_labels(text, path, id_column)
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CxrdbError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CxrdbError(f"{path} is not UTF-8 text") from None
    return _parse_labels(text, path, id_column)


def _parse_labels(text: str, path: str | Path, id_column: str) -> tuple[list[str], dict[str, dict[str, float | None]]]:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise CxrdbError(f"{path}: malformed CSV: {exc}") from None
    if not rows:
        raise CxrdbError(f"{path} is empty")
    header = [h.strip() for h in rows[0]]
    if id_column not in header:
        raise CxrdbError(f"{path}: no {id_column!r} column")
    cols = [c for c in OBSERVATIONS if c in header]
    if not cols:
        raise CxrdbError(f"{path}: none of the 14 observation columns")
    idx = {c: header.index(c) for c in cols}
    i_id = header.index(id_column)
    out: dict[str, dict[str, float | None]] = {}
    for row in rows[1:]:
        if not row or i_id >= len(row):
            continue
        out[_norm_id(row[i_id])] = {c: _value(row[i] if i < len(row) else "") for c, i in idx.items()}
    return cols, out


@dataclass
class EvaluationResult:
    """Per (column, class) scores plus macro averages."""

    rows: list[dict[str, Any]]
    macro: dict[str, dict[str, float]]
    binary: bool
    n_reports: int
    missing_predictions: int = 0
    notes: list[str] = field(default_factory=list)

    def f1(self, column: str, klass: str = "positive") -> float | None:
        for r in self.rows:
            if r["column"] == column and r["class"] == klass:
                return r["f1"]
        return None

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["column", "class", "precision", "recall", "f1", "support"])
        for r in self.rows:
            w.writerow([r["column"], r["class"], *(f"{r[k]:.4f}" for k in ("precision", "recall", "f1")), r["support"]])
        for klass, m in self.macro.items():
            w.writerow(["macro", klass, *(f"{m[k]:.4f}" for k in ("precision", "recall", "f1")), int(m["support"])])
        return buf.getvalue()

    def to_json(self) -> str:
        return json.dumps(
            {"binary": self.binary, "reports": self.n_reports, "missing_predictions": self.missing_predictions,
             "rows": self.rows, "macro": self.macro, "notes": self.notes},
            indent=2,
        )

    def to_table(self) -> str:
        """Plain-text table."""
        lines = [f"{'column':<28}{'class':<11}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
        for r in self.rows:
            lines.append(
                f"{r['column']:<28}{r['class']:<11}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>8.3f}"
                f"{r['support']:>9}"
            )
        for klass, m in self.macro.items():
            lines.append(
                f"{'macro':<28}{klass:<11}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{int(m['support']):>9}"
            )
        return "\n".join(lines)

    def to_rich(self) -> Any:
        """A rich Table of the same figures."""
        from rich.table import Table

        t = Table(title=f"{self.n_reports} reports ({'binary: positive vs rest' if self.binary else '3-class'})")
        for name, just in (("column", "left"), ("class", "left"), ("precision", "right"), ("recall", "right"),
                           ("f1", "right"), ("support", "right")):
            t.add_column(name, justify=just)  # type: ignore[arg-type]
        for r in self.rows:
            t.add_row(r["column"], r["class"], f"{r['precision']:.3f}", f"{r['recall']:.3f}", f"{r['f1']:.3f}",
                      str(r["support"]))
        for klass, m in self.macro.items():
            t.add_row("macro", klass, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}",
                      str(int(m["support"])), style="bold")
        return t

    def render(self, fmt: str = "table") -> str:
        """'table', 'csv' or 'json'."""
        if fmt == "csv":
            return self.to_csv()
        if fmt == "json":
            return self.to_json()
        if fmt == "table":
            return self.to_table()
        raise CxrdbError(f"unknown format {fmt!r}: choose table, csv or json")


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def evaluate_labels(
    pred: dict[str, dict[str, float | None]], gold: dict[str, dict[str, float | None]], gold_cols: list[str]
) -> EvaluationResult:
    """Score prediction dicts against gold dicts (keyed by normalised study id)."""
    binary = not any(v == -1.0 for g in gold.values() for v in g.values())
    classes = {"positive": 1.0} if binary else CLASSES
    cols = [c for c in gold_cols if any(g.get(c) is not None for g in gold.values())]
    missing = sum(1 for sid in gold if sid not in pred)
    rows: list[dict[str, Any]] = []
    for col in cols:
        pairs = [(gold[sid].get(col), pred.get(sid, {}).get(col)) for sid in gold]
        for klass, v in classes.items():
            tp = sum(1 for g, p in pairs if g == v and p == v)
            fp = sum(1 for g, p in pairs if g != v and p == v)
            fn = sum(1 for g, p in pairs if g == v and p != v)
            support = tp + fn
            p, r, f = _prf(tp, fp, fn)
            rows.append({"column": col, "class": klass, "precision": p, "recall": r, "f1": f, "support": support})
    macro: dict[str, dict[str, float]] = {}
    for klass in [*classes, "all"]:
        sel = [r for r in rows if r["support"] > 0 and (klass == "all" or r["class"] == klass)]
        if not sel or (klass == "all" and len(classes) == 1):
            continue
        macro[klass] = {
            k: sum(r[k] for r in sel) / len(sel) for k in ("precision", "recall", "f1")
        } | {"support": float(sum(r["support"] for r in sel))}
    notes = [f"{missing} gold studies have no prediction (scored as blank)"] if missing else []
    return EvaluationResult(rows, macro, binary, len(gold), missing, notes)


UNCERTAIN_POLICIES = {"keep": None, "positive": 1.0, "negative": 0.0, "blank": None}


def evaluate_files(pred_path: str | Path, gold_path: str | Path, uncertain_as: str = "keep") -> EvaluationResult:
    """Score a predictions CSV (study_id + observation columns) against a gold CSV; either may be ``-``
    (standard input).

    ``uncertain_as`` maps predicted -1.0 before scoring: ``keep`` (default: uncertain is its own class, so
    not positive against binary gold), ``positive`` (the U-Ones policy), ``negative`` (U-Zeros) or ``blank``.
    """
    if uncertain_as not in UNCERTAIN_POLICIES:
        raise CxrdbError(f"unknown --uncertain-as {uncertain_as!r}: use keep, positive, negative or blank")
    if str(pred_path) == STDIN and str(gold_path) == STDIN:
        raise CxrdbError("only one of the predictions and the gold labels can be '-' (standard input)")
    _, pred = read_labels(pred_path)
    gold_cols, gold = read_labels(gold_path)
    if not gold:
        raise CxrdbError(f"{gold_path} has no rows")
    if uncertain_as != "keep":
        value = UNCERTAIN_POLICIES[uncertain_as]
        pred = {sid: {c: (value if v == -1.0 else v) for c, v in row.items()} for sid, row in pred.items()}
    result = evaluate_labels(pred, gold, gold_cols)
    if uncertain_as != "keep":
        result.notes.append(f"predicted uncertain (-1) scored as {uncertain_as}")
    return result
