"""Find the SQL files in ``sql/`` and apply them in order (numbered layer folders, then file names)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from .errors import CxrdbError

LAYERS = ("00_schema", "10_staging", "20_plan", "30_release", "40_mimic_cxr", "50_analysis")


@cache
def sql_dir() -> Path:
    """The project's ``sql/`` folder (beside the package in a checkout or editable install)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "sql", here / "sql"):
        if (candidate / "00_schema").is_dir():
            return candidate
    raise CxrdbError(f"cannot find cxrdb's sql/ folder near {here}")


def layer_files() -> list[Path]:
    """Every schema/view file, in the order they must run."""
    files: list[Path] = []
    for layer in LAYERS:
        folder = sql_dir() / layer
        order = folder / "_order.txt"
        first = [folder / line.strip() for line in order.read_text().splitlines()
                 if line.strip() and not line.startswith("#")] if order.is_file() else []
        files.extend(first + [p for p in sorted(folder.glob("*.sql")) if p not in first])
    return files


def read(relative: str) -> str:
    """The text of one SQL file, e.g. ``read('status/failures.sql')``."""
    path = sql_dir() / relative
    if not path.is_file():
        raise CxrdbError(f"missing SQL file {path}")
    return path.read_text(encoding="utf-8")


def folder(relative: str) -> list[Path]:
    """The .sql files of one folder, sorted by name."""
    return sorted((sql_dir() / relative).glob("*.sql"))
