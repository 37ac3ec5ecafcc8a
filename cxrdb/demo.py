"""``cxrdb demo``: ``cxrdb build`` on the bundled demo source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import Progress, _noop, build
from .catalog import Catalog
from .compare import compare, load_gold
from .errors import CxrdbError


def demo_source() -> Path:
    """The bundled MIMIC-CXR-style demo source (demo/source in the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "demo" / "source", here / "demo" / "source"):
        if (candidate / "files").is_dir():
            return candidate
    raise CxrdbError("cannot find the bundled demo source (demo/source)")


def run_demo(out: str | Path, *, workers: int | None = None, progress: Progress = _noop) -> dict[str, Any]:
    """Build the demo release into ``out/release`` with its catalog at ``out/catalog.duckdb``."""
    out = Path(out)
    result = build(demo_source(), out / "release", db=out / "catalog.duckdb", validate_patients=2, seed=0,
                   fmt="both", workers=workers, progress=progress)
    gold = demo_source().parent / "gold.csv"
    if gold.is_file():
        with Catalog.open(out / "catalog.duckdb") as cat:
            load_gold(cat, gold)
            columns, rows = compare(cat)
        macro = dict(zip(columns, rows[-1], strict=True))
        for key in (c for c in columns if " F1 " in c):
            result[f"{key} vs demo gold (macro)"] = macro[key]
        result["compare"] = f"cxrdb compare --db {out / 'catalog.duckdb'}"
    result["see failures"] = f"cxrdb status --db {out / 'catalog.duckdb'}"
    result["try"] = f'cxrdb sql --db {out / "catalog.duckdb"} "SELECT * FROM mimic_cxr.chexpert LIMIT 5"'
    return result
