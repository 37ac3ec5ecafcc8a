"""Counts per stage and every failed item, from the SQL files in sql/status/ (which read the plan.* views, the
same definitions of "current" and "pending" that convert and label use)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import sqlfiles
from .catalog import Catalog
from .contract import RELEASE_LABELERS  # always shown; an explicit variant shows once it has run

#: the columns of every sql/status/NN_*.sql row (one row per stage) and of sql/status/failures.sql
STAGE_COLUMNS = ("stage", "ok", "failed", "pending", "note")
FAILURE_COLUMNS = ("stage", "item", "error")
#: the columns of the attached MIMIC-IV tables (sql/status/mimic_iv/attached.sql), shown when any is attached
MIMIC_IV_COLUMNS = ("table", "kind", "rows", "file", "error")


@dataclass
class Status:
    """What the catalog holds: per-stage counts and the failures."""

    stages: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    mimic_iv: list[dict[str, Any]] = field(default_factory=list)
    mimic_iv_version: str | None = None

    @property
    def mimic_iv_title(self) -> str:
        """The heading of the attached MIMIC-IV table."""
        return f"MIMIC-IV {self.mimic_iv_version or '(version unknown)'} attached"


def _params(cat: Catalog, path_name: str) -> list[dict[str, Any]]:
    """The parameter sets a status file runs with (one per labeler for the label file)."""
    if path_name == "20_convert.sql":
        from .convert.worker import PARAMS_FINGERPRINT

        if not _last_outputs(cat).get("full_size", True):  # the last conversion made only smaller copies
            return []
        return [{"params": PARAMS_FINGERPRINT, "out_root": cat.get_setting("jpg_root")}]
    if path_name == "25_derivatives.sql":
        last = _last_outputs(cat)
        if not last.get("sizes"):
            return []
        return [{"sizes": last["sizes"], "params": last["params"], "out_root": last["out_root"]}]
    if path_name == "30_label.sql":
        from .labeling.run import rules_fingerprint

        _, ran = cat.query("SELECT DISTINCT labeler FROM work.labels ORDER BY labeler")
        names = list(RELEASE_LABELERS) + sorted({r[0] for r in ran} - set(RELEASE_LABELERS))
        return [{"labeler": n, "rules": rules_fingerprint(n)} for n in names]
    return [{}]


def _last_outputs(cat: Catalog) -> dict[str, Any]:
    """What the last conversion wrote (full_size, sizes, params, out_root; empty before any)."""
    recorded = cat.get_setting("convert_outputs")
    return json.loads(recorded) if recorded else {}


def status(cat: Catalog) -> Status:
    """Collect stage counts (sql/status/NN_*.sql) and failures (sql/status/failures.sql)."""
    stages: list[dict[str, Any]] = []
    for path in sqlfiles.folder("status"):
        if path.name == "failures.sql":
            continue
        text = path.read_text(encoding="utf-8")
        for params in _params(cat, path.name):
            columns, rows = cat.query(text, params or None)
            stages.extend(dict(zip(columns, r, strict=True)) for r in rows)
    columns, rows = cat.query(sqlfiles.read("status/failures.sql"))
    failures = [dict(zip(columns, r, strict=True)) for r in rows]
    mimic_iv: list[dict[str, Any]] = []
    if cat.scalar("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' "
                  "AND table_name = 'mimic_iv_files'"):  # a catalog made before attach existed has none
        columns, rows = cat.query(sqlfiles.read("status/mimic_iv/attached.sql"))
        mimic_iv = [dict(zip(columns, r, strict=True)) for r in rows]
    version = cat.get_setting("mimic_iv_version") if mimic_iv else None
    return Status(stages, failures, mimic_iv, version or None)
