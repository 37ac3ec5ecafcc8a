"""label-reports: malformed input rows are named and not labeled; '-' is standard input/output (and in evaluate)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxrdb.cli import app
from cxrdb.errors import CxrdbError
from cxrdb.labeling.config import OBSERVATIONS
from cxrdb.labeling.reports_csv import label_reports_csv, read_reports

runner = CliRunner()

INPUT = (
    "study_id,text\n"                       # line 1
    "1,No pneumothorax.\n"                  # 2
    "2\n"                                   # 3: no text field
    "3,Cardiomegaly.,extra\n"               # 4: too many fields
    ",Edema.\n"                             # 5: empty id
    "4,\"Possible pneumonia.\nLine two.\"\n"  # 6-7: one record over two lines
    "1,Effusion.\n"                         # 8: duplicate id
    "\n"                                    # 9: blank line, skipped
    "5,\n"                                  # 10: an empty report (a real row)
    "6,Atelectasis.\n"                      # 11
)
ERRORS = [
    (3, "1 fields where the header has 2: no 'text' field"),
    (4, "3 fields where the header has 2"),
    (5, "empty study_id"),
    (8, "duplicate study_id '1' (first on line 2)"),
]


def _labels(text: str) -> dict[str, dict[str, str]]:
    return {r["study_id"]: r for r in csv.DictReader(io.StringIO(text))}


def test_malformed_rows_are_named_counted_and_not_labeled(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(INPUT, encoding="utf-8")
    out = tmp_path / "out.csv"
    errors: list[tuple[int, str]] = []
    summary = label_reports_csv(src, out, workers=1, on_error=lambda line, why: errors.append((line, why)))
    assert errors == ERRORS
    assert summary["malformed"] == 4 and summary["rows"] == 4 and summary["written"] == 4
    labels = _labels(out.read_text(encoding="utf-8"))
    assert list(labels) == ["1", "4", "5", "6"]  # input order, malformed rows left out
    assert labels["1"]["Pneumothorax"] == "0.0"  # the first row 1, not the duplicate
    assert labels["5"]["No Finding"] == "1.0"  # an empty report: as the CheXpert labeler (No Finding 1)
    negbio = label_reports_csv(src, out, labeler="negbio", workers=1)
    assert negbio["malformed"] == 4 and negbio["skipped"] == 1  # NegBio drops the empty report
    assert list(_labels(out.read_text(encoding="utf-8"))) == ["1", "4", "6"]


def test_read_reports_without_a_callback_still_skips_malformed_rows(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(INPUT, encoding="utf-8")
    assert [sid for sid, _ in read_reports(src)] == ["1", "4", "5", "6"]


def _cxrdb(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_label_reports_stdin_to_stdout_keeps_stdout_for_the_labels(tmp_path: Path) -> None:
    rows = "".join(f",bad {i}\n" for i in range(23))  # 23 rows with an empty id
    proc = _cxrdb("label-reports", "-", "--out", "-", "-j", "1", stdin=INPUT + rows)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "study_id," + ",".join(OBSERVATIONS)
    assert list(_labels(proc.stdout)) == ["1", "4", "5", "6"]
    err = proc.stderr.splitlines()
    assert err[:4] == [f"line {n}: {why}" for n, why in ERRORS]
    assert err[4:20] == [f"line {12 + i}: empty study_id" for i in range(16)]
    assert err[20] == "... and 7 more malformed rows"
    assert err[21].startswith("label-reports (chexpert): rows 4, written 4, skipped 0, malformed 27")
    assert len(err) == 22
    # into a file from stdin: the file has the labels, stdout the summary
    out = tmp_path / "out.csv"
    proc = _cxrdb("label-reports", "-", "--out", str(out), "-j", "1", stdin="study_id,text\n9,No edema.\n")
    assert proc.returncode == 0 and proc.stderr == ""
    assert _labels(out.read_text(encoding="utf-8"))["9"]["Edema"] == "0.0"
    assert "malformed" in proc.stdout


def test_stdout_twice_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("study_id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(CxrdbError, match="cannot both be '-'"):
        label_reports_csv(src, "-", evidence_path="-")


GOLD = "study_id," + ",".join(OBSERVATIONS) + "\n" + "\n".join(
    f"{i}," + ",".join("1.0" if (i + k) % 3 == 0 else "0.0" if (i + k) % 3 == 1 else "" for k in range(14))
    for i in range(1, 7)) + "\n"
PRED = "study_id," + ",".join(OBSERVATIONS) + "\n" + "\n".join(
    f"{i}," + ",".join("1.0" if (i + k) % 2 == 0 else "" for k in range(14)) for i in range(1, 7)) + "\n"


def test_evaluate_reads_pred_or_gold_from_stdin(tmp_path: Path) -> None:
    pred, gold = tmp_path / "pred.csv", tmp_path / "gold.csv"
    pred.write_text(PRED, encoding="utf-8")
    gold.write_text(GOLD, encoding="utf-8")
    want = runner.invoke(app, ["evaluate", str(pred), str(gold), "-f", "csv"])
    assert want.exit_code == 0, want.output
    from_stdin = runner.invoke(app, ["evaluate", "-", str(gold), "-f", "csv"], input=PRED)
    assert from_stdin.exit_code == 0 and from_stdin.stdout == want.stdout
    gold_stdin = runner.invoke(app, ["evaluate", str(pred), "-", "-f", "csv"], input=GOLD)
    assert gold_stdin.exit_code == 0 and gold_stdin.stdout == want.stdout
    both = _cxrdb("evaluate", "-", "-", stdin=PRED)
    assert both.returncode == 1 and "only one of" in both.stderr and "Traceback" not in both.stderr


def test_label_reports_pipes_into_evaluate(tmp_path: Path) -> None:
    labeled = _cxrdb("label-reports", "-", "--out", "-", "-j", "1",
                     stdin="study_id,text\n1,No pneumothorax.\n2,Cardiomegaly.\n")
    gold = tmp_path / "gold.csv"
    gold.write_text("study_id,Cardiomegaly,Pneumothorax\n1,,0.0\n2,1.0,\n", encoding="utf-8")
    proc = _cxrdb("evaluate", "-", str(gold), "-f", "csv", stdin=labeled.stdout)
    assert proc.returncode == 0, proc.stderr
    scores = {(r["column"], r["class"]): r for r in csv.DictReader(io.StringIO(proc.stdout))}
    assert scores[("Cardiomegaly", "positive")]["f1"] == "1.0000"
