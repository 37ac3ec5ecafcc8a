"""Why labels differ: each disagreeing label of OURS joined to the evidence that decided it in OURS' catalog.

The catalog (``--db``) is attached read-only as ``cat``; ``sql/diff/evidence.sql`` finds, for each disagreement,
the mentions whose label is the value in OURS' file (a blank has none: "(no mention)"). ``catalog_value`` says
whether the catalog still holds that value: a catalog relabeled after OURS was exported cannot explain it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import CxrdbError
from . import tables

TOP = 10  # rules and sentences listed per observation
DISAGREEMENT_COLUMNS = ("labeler", "subject_id", "study_id", "observation", "ours", "theirs")


def attach(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Attach OURS' catalog read-only as ``cat``; one clear error when it is not a cxrdb catalog."""
    if not db.is_file():
        raise CxrdbError(f"no catalog at {db}")
    try:
        con.execute(f"ATTACH {tables._literal(str(db))} AS cat (READ_ONLY)")
        con.execute("SELECT 1 FROM cat.work.label_evidence LIMIT 0")
        con.execute("SELECT 1 FROM cat.work.labels LIMIT 0")
    except duckdb.Error as exc:
        raise CxrdbError(f"cannot read the label evidence of {db}: {' '.join(str(exc).split())[:200]}") from None


def explain(con: duckdb.DuckDBPyConnection, disagreements: dict[str, list[dict[str, Any]]],
            ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """({labeler: {observation: reasons}}, one row per disagreement with its first deciding evidence)."""
    flat = [{"labeler": labeler, **{k: r[k] for k in DISAGREEMENT_COLUMNS[1:]}}
            for labeler, rows in disagreements.items() for r in rows]
    schema = pa.schema([(c, pa.string()) for c in DISAGREEMENT_COLUMNS])
    con.register("disagreements_arrow", pa.Table.from_pylist(flat, schema=schema))
    con.execute("CREATE OR REPLACE TEMP TABLE disagreements AS SELECT * FROM disagreements_arrow")
    con.unregister("disagreements_arrow")
    evidence = tables.run(con, "evidence")
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in evidence:
        grouped[row["labeler"], row["observation"], row["study_id"]].append(row)
    reasons: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    for (labeler, obs, _), found in grouped.items():
        first = found[0]
        explained = bool(first["in_catalog"]) and first["catalog_value"] == first["ours"]
        rows.append({**{k: first[k] for k in DISAGREEMENT_COLUMNS}, "rule": first["rule"], "phrase": first["phrase"],
                     "sentence": first["sentence"], "rules": "; ".join(sorted({r["rule"] for r in found})),
                     "catalog_value": first["catalog_value"] if first["in_catalog"] else None,
                     "explained": explained})
        entry = reasons.setdefault(labeler, {}).setdefault(obs, {
            "disagree": 0, "explained": 0, "_rules": Counter(), "_sentences": Counter(), "examples": []})
        entry["disagree"] += 1
        entry["explained"] += explained
        for rule in {r["rule"] for r in found}:
            entry["_rules"][rule, first["ours"], first["theirs"]] += 1
        for sentence in {r["sentence"] for r in found if r["sentence"] is not None}:
            entry["_sentences"][sentence] += 1
        if len(entry["examples"]) < tables.EXAMPLES:
            entry["examples"].append({k: first[k] for k in ("study_id", "ours", "theirs", "rule", "phrase",
                                                             "sentence")})
    for by_obs in reasons.values():
        for entry in by_obs.values():
            entry["rules"] = [{"rule": r, "ours": o, "theirs": t, "n": n}
                              for (r, o, t), n in _top(entry.pop("_rules"))]
            entry["sentences"] = [{"sentence": s, "n": n} for s, n in _top(entry.pop("_sentences"))]
    return reasons, rows


def _top(counter: Counter) -> list[tuple[Any, int]]:
    """The TOP most frequent, ties broken by value (deterministic)."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:TOP]
