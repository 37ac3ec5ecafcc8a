"""Labelers side by side: agreement and gold scores from the SQL views equal an independent computation."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxrdb.catalog import Catalog
from cxrdb.compare import compare, load_gold
from cxrdb.errors import CxrdbError
from cxrdb.evaluate import evaluate_labels, read_labels

OBS = ["Atelectasis", "Cardiomegaly", "Edema", "No Finding"]


def put_labels(cat: Catalog, labeler: str, labels: dict[int, dict[str, float | None]]) -> None:
    for sid, row in labels.items():
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        cat.query(f"INSERT INTO work.labels (study_id, labeler, text_sha256, rules, parse_failures, {cols}) "
                  f"VALUES (?, ?, '', '', 0, {marks})", [sid, labeler, *row.values()])


CHEX = {1: {"Atelectasis": 1.0, "Cardiomegaly": -1.0, "Edema": None, "No Finding": None},
        2: {"Atelectasis": 0.0, "Cardiomegaly": 1.0, "Edema": 1.0, "No Finding": None},
        3: {"Atelectasis": None, "Cardiomegaly": None, "Edema": None, "No Finding": 1.0},
        4: {"Atelectasis": -1.0, "Cardiomegaly": None, "Edema": 0.0, "No Finding": None}}
NEG = {1: {"Atelectasis": 1.0, "Cardiomegaly": 0.0, "Edema": None, "No Finding": None},
       2: {"Atelectasis": 0.0, "Cardiomegaly": 1.0, "Edema": 1.0, "No Finding": None},
       3: {"Atelectasis": None, "Cardiomegaly": None, "Edema": None, "No Finding": 1.0},
       4: {"Atelectasis": 0.0, "Cardiomegaly": None, "Edema": 0.0, "No Finding": 1.0}}
GOLD = "study_id,Atelectasis,Cardiomegaly,Edema,No Finding,Fracture\n1,1,1,,,\n2,,1,1,,\n3,,,,1,\n4,-1,0,0,,\n"


def test_agreement_and_scores_match_an_independent_computation(tmp_path: Path) -> None:
    gold_file = tmp_path / "gold.csv"
    gold_file.write_text(GOLD)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        put_labels(cat, "chexpert", CHEX)
        put_labels(cat, "negbio", NEG)
        loaded = load_gold(cat, gold_file)
        assert loaded == {"gold studies": 4, "observations": 4, "gold studies with labels": 4}  # Fracture blank
        agreement = dict(cat.query("SELECT observation, agreement FROM analysis.labeler_agreement")[1])
        columns, rows = compare(cat)
    for obs in OBS:
        same = sum(1 for s in CHEX if CHEX[s][obs] == NEG[s][obs])
        assert agreement[obs] == round(same / 4, 4)
    gold_cols, gold = read_labels(gold_file)
    table = {r[0]: dict(zip(columns, r, strict=True)) for r in rows}
    for name, labels in (("chexpert", CHEX), ("negbio", NEG)):
        expected = evaluate_labels({str(k): v for k, v in labels.items()}, gold, gold_cols)
        for r in expected.rows:
            got = table[r["column"]][f"{name} F1 {r['class']}"]
            assert got == (round(r["f1"], 3) if r["support"] else None), (name, r)


def test_compare_without_gold_is_a_clear_error(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "c.duckdb") as cat, pytest.raises(CxrdbError, match="no gold labels"):
        compare(cat)
