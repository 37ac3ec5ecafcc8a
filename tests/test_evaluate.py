"""evaluate: per-column, per-class precision/recall/F1 against a gold CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cxrdb.errors import CxrdbError
from cxrdb.evaluate import evaluate_files
from cxrdb.labeling import OBSERVATIONS

HEADER = "study_id," + ",".join(OBSERVATIONS)


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    lines = [HEADER] + [",".join([r["id"], *(r.get(o, "") for o in OBSERVATIONS)]) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_binary_gold_positive_vs_rest(tmp_path: Path) -> None:
    gold = _csv(tmp_path / "g.csv", [
        {"id": "1", "Edema": "1"}, {"id": "2", "Edema": "0"}, {"id": "3", "Edema": "1"}, {"id": "4", "Edema": "0"},
    ])
    pred = _csv(tmp_path / "p.csv", [
        {"id": "1", "Edema": "1.0"}, {"id": "2", "Edema": "1.0"}, {"id": "3", "Edema": "-1.0"},
        {"id": "4", "Edema": ""},
    ])
    ev = evaluate_files(pred, gold)
    assert ev.binary
    assert [r["column"] for r in ev.rows] == ["Edema"]  # all-blank gold columns skipped
    row = ev.rows[0]
    assert row["class"] == "positive" and row["support"] == 2
    assert row["precision"] == pytest.approx(0.5) and row["recall"] == pytest.approx(0.5)
    assert ev.macro["positive"]["f1"] == pytest.approx(0.5)


def test_three_class_gold_and_outputs(tmp_path: Path) -> None:
    gold = _csv(tmp_path / "g.csv", [
        {"id": "s1", "Edema": "1.0", "Atelectasis": "-1.0"}, {"id": "s2", "Edema": "0.0", "Atelectasis": "1.0"},
        {"id": "s3", "Edema": "-1.0"},
    ])
    pred = _csv(tmp_path / "p.csv", [
        {"id": "1", "Edema": "1.0", "Atelectasis": "-1.0"}, {"id": "2", "Edema": "0.0", "Atelectasis": "-1.0"},
    ])
    ev = evaluate_files(pred, gold)
    assert not ev.binary and ev.missing_predictions == 1
    classes = {(r["column"], r["class"]): r for r in ev.rows}
    assert classes[("Edema", "positive")]["f1"] == 1.0
    assert classes[("Edema", "uncertain")]["recall"] == 0.0
    assert classes[("Atelectasis", "uncertain")]["precision"] == 0.5
    assert {"positive", "negative", "uncertain", "all"} <= set(ev.macro)
    assert json.loads(ev.to_json())["rows"][0]["column"] == "Atelectasis"
    assert ev.to_csv().startswith("column,class,precision,recall,f1,support\n")
    assert "macro" in ev.to_table() and ev.render("csv") == ev.to_csv()
    with pytest.raises(CxrdbError):
        ev.render("xml")


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(CxrdbError, match="cannot read"):
        evaluate_files(tmp_path / "nope.csv", tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,foo\n1,2\n")
    with pytest.raises(CxrdbError, match="study_id"):
        evaluate_files(bad, bad)


def test_uncertain_policy_maps_predicted_uncertain(tmp_path: Path) -> None:
    pred = tmp_path / "pred.csv"
    gold = tmp_path / "gold.csv"
    pred.write_text("study_id,Atelectasis\n1,-1.0\n2,1.0\n3,\n")
    gold.write_text("study_id,Atelectasis\n1,1\n2,1\n3,0\n")
    assert evaluate_files(pred, gold).f1("Atelectasis") == pytest.approx(2 / 3)
    assert evaluate_files(pred, gold, uncertain_as="positive").f1("Atelectasis") == 1.0
    assert evaluate_files(pred, gold, uncertain_as="negative").f1("Atelectasis") == pytest.approx(2 / 3)
    with pytest.raises(CxrdbError):
        evaluate_files(pred, gold, uncertain_as="maybe")
