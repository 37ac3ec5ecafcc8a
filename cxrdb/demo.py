"""``cxrdb demo``: ``cxrdb build`` on the bundled demo source."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from .build import build
from .catalog import Catalog
from .compare import compare, load_gold
from .errors import CxrdbError
from .progress import Progress, no_progress


def demo_dir() -> Path:
    """The bundled demo (package data ``cxrdb/demo_data``: the top-level ``demo/`` of the checkout)."""
    root = files("cxrdb") / "demo_data"
    if not isinstance(root, Path):  # a zipped install: the source must be a real folder for the workers
        raise CxrdbError(f"the bundled demo source must be unpacked on disk to build it (found {root})")
    if not (root / "source" / "files").is_dir():
        raise CxrdbError(f"the bundled demo source is missing from the package ({root}); reinstall cxrdb")
    return root


def demo_source() -> Path:
    """The bundled MIMIC-CXR-style demo source (``demo/source`` in the checkout)."""
    return demo_dir() / "source"


def run_demo(out: str | Path, *, workers: int | None = None, progress: Progress = no_progress) -> dict[str, Any]:
    """Build the demo release into ``out/release`` with its catalog at ``out/catalog.duckdb``."""
    out = Path(out)
    result = dict(build(demo_source(), out / "release", db=out / "catalog.duckdb", validate_patients=2, seed=0,
                   fmt="both", workers=workers, progress=progress))
    gold = demo_dir() / "gold.csv"
    if gold.is_file():
        with Catalog.open(out / "catalog.duckdb") as cat:
            load_gold(cat, gold)
            columns, rows = compare(cat)
        macro = dict(zip(columns, rows[-1], strict=True))
        for key in (c for c in columns if " F1 " in c):
            result[f"{key} vs demo gold (macro)"] = macro[key]
        result["compare"] = f"cxrdb compare --db {out / 'catalog.duckdb'}"
    mimic_iv = demo_dir() / "mimic-iv-3.1"
    if mimic_iv.is_dir():
        from .mimiciv.attach import attach_mimic_iv

        with Catalog.open(out / "catalog.duckdb") as cat:
            attached = attach_mimic_iv(cat, mimic_iv, version="3.1")
        result["MIMIC-IV (generated) attached"] = f"{attached['imported']} tables, {attached['views']} views"
    result["see failures"] = f"cxrdb status --db {out / 'catalog.duckdb'}"
    result["try"] = f'cxrdb sql --db {out / "catalog.duckdb"} "SELECT * FROM mimic_cxr.chexpert LIMIT 5"'
    return result


#: what `cxrdb demo` shows of the studies linked to the generated MIMIC-IV: one study per linking rule
LINKED_ROWS = """
SELECT a.subject_id, a.study_id, a.study_datetime, p.gender, p.age_at_study, a.link_rule, a.hadm_id,
       a.ed_stay_id, i.stay_id AS icu_stay_id
FROM analysis.study_admission AS a
JOIN analysis.study_patient AS p USING (study_id)
JOIN analysis.study_icu_stay AS i USING (study_id)
QUALIFY row_number() OVER (PARTITION BY a.link_rule ORDER BY i.stay_id IS NULL, a.study_id) = 1
ORDER BY a.link_rule
"""


def demo_links(db: str | Path) -> tuple[list[str], list[tuple]]:
    """A few studies of the demo catalog with the admission, ED and ICU stay they link to (one per rule)."""
    with Catalog.open(db, read_only=True) as cat:
        return cat.query(LINKED_ROWS)
