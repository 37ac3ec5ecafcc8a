"""Bad inputs: a defined output or one clear CxrdbError, never a traceback."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cxrdb.errors import CxrdbError
from cxrdb.labeling import OBSERVATIONS, Labeler, label_texts
from cxrdb.labeling.engine import get_labeler
from cxrdb.labeling.reports_csv import label_reports_csv


@pytest.fixture(scope="module")
def lab():
    return get_labeler("chexpert")


def test_empty_and_punctuation(lab) -> None:
    for text in ("", "   ", "...", "?!,;:", None):
        res = lab.label(text)  # type: ignore[arg-type]
        assert res.labels["No Finding"] == 1.0
        assert all(res.labels[o] is None for o in OBSERVATIONS if o != "No Finding")


def test_non_ascii(lab) -> None:
    res = lab.label("Épanchement pleural. No pneumothorax — ≥ 2 cm nodule ☃.")
    assert res.labels["Pneumothorax"] == 0.0
    assert res.labels["Lung Lesion"] == 1.0


def test_100kb_text(lab) -> None:
    big = ("Small left effusion. " * 5000)[:100_000]
    res = lab.label(big)
    assert res.labels["Pleural Effusion"] == 1.0
    no_stop = "effusion " * 12_000  # one 100 KB sentence: not parsed, fallback rules, counted
    res = lab.label(no_stop)
    assert res.parse_failures == 1 and res.labels["Pleural Effusion"] == 1.0
    assert lab.label("no effusion " * 300).labels["Pleural Effusion"] == 0.0


def test_unknown_labeler() -> None:
    with pytest.raises(CxrdbError, match="unknown labeler"):
        Labeler("chexbert", load_parser=False)


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_csv_missing_column(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", [["id", "report"], ["1", "No effusion."]])
    with pytest.raises(CxrdbError, match="no column 'study_id', 'text'"):
        label_reports_csv(src, tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    out = label_reports_csv(src, tmp_path / "out.csv", id_column="id", text_column="report", workers=1)
    assert out["rows"] == 1


def test_csv_unreadable(tmp_path: Path) -> None:
    with pytest.raises(CxrdbError, match="cannot read"):
        label_reports_csv(tmp_path / "missing.csv", tmp_path / "out.csv")
    bad = tmp_path / "bin.csv"
    bad.write_bytes(b"study_id,text\n1,\xff\xfe\x00bad\n")
    with pytest.raises(CxrdbError, match="not UTF-8"):
        label_reports_csv(bad, tmp_path / "out.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CxrdbError, match="empty"):
        label_reports_csv(empty, tmp_path / "out.csv")


def test_csv_rows_in_order_and_format(tmp_path: Path) -> None:
    rows = [["study_id", "text"], ["s3", "No pneumothorax."], ["s1", ""], ["s2", "Possible pneumonia.\nLine two."]]
    src = _write(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    summary = label_reports_csv(src, out, workers=1)
    text = out.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert lines[0] == "study_id," + ",".join(OBSERVATIONS)
    assert [ln.split(",")[0] for ln in lines[1:4]] == ["s3", "s1", "s2"]
    assert summary["rows"] == 3 and summary["written"] == 3
    # NegBio mode drops the empty report
    summary = label_reports_csv(src, out, labeler="negbio", workers=1)
    assert summary["written"] == 2 and summary["skipped"] == 1


def test_parallel_matches_inline() -> None:
    texts = ["No effusion.", "Possible pneumonia.", "Cardiomegaly.", ""] * 80
    inline = [r.labels for r in label_texts(texts, workers=1)]
    parallel = [r.labels for r in label_texts(texts, workers=2, chunk_size=64)]
    assert inline == parallel


def test_csv_evidence_explains_every_label(tmp_path: Path) -> None:
    rows = [["study_id", "text"], ["7", "No pneumothorax. Possible left lower lobe pneumonia."], ["8", ""]]
    src = _write(tmp_path / "in.csv", rows)
    out, ev = tmp_path / "out.csv", tmp_path / "ev.csv"
    label_reports_csv(src, out, workers=1, evidence_path=ev)
    with ev.open(newline="", encoding="utf-8") as fh:
        evidence = list(csv.DictReader(fh))
    assert [(e["study_id"], e["observation"], e["label"], e["rule"]) for e in evidence] == [
        ("7", "Pneumothorax", "0.0", "neg.no"), ("7", "Pneumonia", "-1.0", "unc.hedge_before_left")]
    for e in evidence:  # the span points at the phrase inside the (cleaned) sentence
        assert e["sentence"][int(e["start"]) : int(e["end"])] == e["phrase"]
    with out.open(newline="", encoding="utf-8") as fh:
        labels = {r["study_id"]: r for r in csv.DictReader(fh)}
    assert labels["7"]["Pneumothorax"] == "0.0" and labels["7"]["Pneumonia"] == "-1.0"


def test_csv_output_is_atomic(tmp_path: Path) -> None:
    src = _write(tmp_path / "in.csv", [["study_id", "text"], ["1", "No effusion."]])
    blocker = tmp_path / "out.csv"
    blocker.mkdir()  # the output name is taken by a directory: the rename fails
    with pytest.raises(CxrdbError, match="write error"):
        label_reports_csv(src, blocker, workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temp file left
