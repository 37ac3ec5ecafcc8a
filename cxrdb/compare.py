"""The labelers side by side: agreement between CheXpert and NegBio, and each one's scores against gold
labels loaded into the catalog (the comparison table of the MIMIC-CXR-JPG paper)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalog import Catalog
from .errors import CxrdbError
from .evaluate import read_labels


def load_gold(cat: Catalog, path: str | Path) -> dict[str, int]:
    """Replace work.gold with the labels of a gold CSV (study_id + observation columns)."""
    cols, gold = read_labels(path)
    cols = [c for c in cols if any(g.get(c) is not None for g in gold.values())]
    rows = []
    for sid, labels in gold.items():
        if not sid.isdigit():
            raise CxrdbError(f"{path}: study_id {sid!r} is not a number")
        rows.extend({"study_id": int(sid), "observation": c, "label": labels.get(c)} for c in cols)
    with cat.transaction():
        cat.write_rows("work.gold", rows, replace_all=True)
    labeled = cat.scalar("SELECT count(DISTINCT g.study_id) FROM work.gold g JOIN work.labels l USING (study_id)")
    return {"gold studies": len(gold), "observations": len(cols), "gold studies with labels": labeled}


def compare(cat: Catalog) -> tuple[list[str], list[list[Any]]]:
    """One row per gold observation: agreement, then F1 per class for each labeler, then a macro row."""
    if not cat.scalar("SELECT count(*) FROM work.gold"):
        raise CxrdbError("no gold labels in the catalog: pass --gold FILE")
    binary = not cat.scalar("SELECT count(*) FROM work.gold WHERE label = -1")
    classes = ["positive"] if binary else ["positive", "negative", "uncertain"]
    labelers = [r[0] for r in cat.query("SELECT DISTINCT labeler FROM work.labels ORDER BY labeler")[1]]
    scores = {(lab, obs, cls): (f1, support) for lab, obs, cls, f1, support in cat.query(
        "SELECT labeler, observation, class, f1, support FROM analysis.gold_scores")[1]}
    agreement = dict(cat.query("SELECT observation, agreement FROM analysis.labeler_agreement")[1])
    observations = [r[0] for r in cat.query("SELECT DISTINCT observation FROM work.gold ORDER BY 1")[1]]
    columns = ["observation", "agreement"] + [f"{lab} F1 {cls}" for lab in labelers for cls in classes]
    columns.append("gold positives")
    rows: list[list[Any]] = []
    for obs in observations:
        row: list[Any] = [obs, agreement.get(obs)]
        for lab in labelers:
            for cls in classes:
                f1, support = scores.get((lab, obs, cls), (None, 0))
                row.append(round(f1, 3) if support else None)
        row.append(scores.get((labelers[0], obs, "positive"), (None, 0))[1] if labelers else 0)
        rows.append(row)
    macro: list[Any] = ["macro", None]
    for i in range(2, len(columns) - 1):
        values = [r[i] for r in rows if r[i] is not None]
        macro.append(round(sum(values) / len(values), 3) if values else None)
    macro.append(sum(r[-1] or 0 for r in rows))
    rows.append(macro)
    return columns, rows
