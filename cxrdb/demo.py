"""``cxrdb demo``: every step that exists, on the bundled demo source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .catalog import Catalog
from .convert.run import convert
from .errors import CxrdbError
from .export import export
from .ingest import ingest
from .ingest.run import Progress, _noop
from .status import status as run_status


def demo_source() -> Path:
    """The bundled MIMIC-CXR-style demo source (demo/source in the checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "demo" / "source", here / "demo" / "source"):
        if (candidate / "files").is_dir():
            return candidate
    raise CxrdbError("cannot find the bundled demo source (demo/source)")


def run_demo(out: str | Path, *, workers: int | None = None, progress: Progress = _noop) -> dict[str, Any]:
    """Ingest the demo source into ``out/catalog.duckdb``, convert and export the release into ``out/release``."""
    out = Path(out)
    db = out / "catalog.duckdb"
    release = out / "release"
    with Catalog.open(db) as cat:
        summary = ingest(cat, demo_source(), workers=workers, progress=progress)
        converted = convert(cat, release, workers=workers, progress=progress)
        written = export(cat, release)
        failed = len(run_status(cat).failures)
    result: dict[str, Any] = {
        "catalog": str(db),
        "images": summary["images"],
        "reports": summary["reports"],
        "jpgs": converted["converted"] + converted["up_to_date"],
        "failed items": failed,
    }
    result.update({f"release/{name}": f"{rows} rows" for name, rows in written.items()})
    result["see failures"] = f"cxrdb status --db {db}"
    result["try"] = f'cxrdb sql --db {db} "SELECT * FROM mimic_cxr.metadata LIMIT 5"'
    return result
