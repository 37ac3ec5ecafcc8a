"""A run's progress beside its catalog (CATALOG.run.json), so `cxrdb status` can report a run in progress
while DuckDB's write lock keeps the catalog itself closed to other processes."""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from .atomic import WriteError, write_atomic

WRITE_EVERY = 2.0  # seconds between rewrites of the file


def run_path(catalog: str | Path) -> Path:
    """Where a run on this catalog reports its progress."""
    catalog = Path(catalog)
    return catalog.with_name(catalog.name + ".run.json")


class RunFile:
    """A ``(task, advance, total)`` progress callback that keeps CATALOG.run.json up to date; removed on exit.

    The file is first written at the first progress report, which a run makes only once it holds the catalog, and
    removed only by the run that wrote it: a run refused at the lock never touches the running one's file."""

    def __init__(self, catalog: str | Path, command: str) -> None:
        self.path = run_path(catalog)
        self.state: dict[str, Any] = {"command": command, "pid": os.getpid(), "started": time.time(), "tasks": {}}
        self._last = 0.0
        self._wrote = False

    def __enter__(self) -> RunFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._wrote:
            self.path.unlink(missing_ok=True)

    def __call__(self, task: str, advance: int, total: int | None) -> None:
        new = task not in self.state["tasks"]
        entry = self.state["tasks"].setdefault(task, {"done": 0, "total": total})
        entry["done"] += advance
        entry["total"] = total
        if new or time.monotonic() - self._last >= WRITE_EVERY:
            self._write()

    def _write(self) -> None:
        self._last = time.monotonic()
        self._wrote = True
        self.state["updated"] = time.time()
        with contextlib.suppress(WriteError):  # progress reporting must never stop the run
            write_atomic(str(self.path), json.dumps(self.state).encode())


def read_run(catalog: str | Path) -> dict[str, Any] | None:
    """The progress of a run in progress on this catalog, or None (no file, or its process is gone)."""
    path = run_path(catalog)
    try:
        state = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return state
