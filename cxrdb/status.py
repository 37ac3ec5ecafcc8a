"""Counts per stage and every failed item, from the SQL files in sql/status/."""

from __future__ import annotations

from dataclasses import dataclass

from . import sqlfiles
from .catalog import Catalog


@dataclass
class Status:
    """What the catalog holds: per-stage counts and the failures."""

    stages: list[dict]
    failures: list[dict]

    @property
    def failed(self) -> int:
        """Total failed items over every stage."""
        return sum(s["failed"] for s in self.stages)


def status(cat: Catalog) -> Status:
    """Collect stage counts (sql/status/NN_*.sql) and failures (sql/status/failures.sql)."""
    stages: list[dict] = []
    for path in sqlfiles.folder("status"):
        if path.name == "failures.sql":
            continue
        columns, rows = cat.query(path.read_text(encoding="utf-8"))
        stages.extend(dict(zip(columns, r, strict=True)) for r in rows)
    columns, rows = cat.query(sqlfiles.read("status/failures.sql"))
    return Status(stages, [dict(zip(columns, r, strict=True)) for r in rows])
