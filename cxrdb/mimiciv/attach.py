"""``cxrdb attach mimic-iv DIR``: MIMIC-IV's linking tables imported into the catalog, every other table a view
over its file. Re-running with the same files changes nothing; a changed, new or removed file replaces just its
table. A file that cannot be read is recorded against its table (meta.mimic_iv_files.error) and the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import Catalog
from ..errors import CxrdbError
from ..progress import Progress, StageResult, no_progress
from .files import TableFile, detect_version, find_files, inspect_file
from .schema import MODULE_SCHEMAS, imported_tables

#: meta.settings keys
VERSION_KEY = "mimic_iv_version"
ROOT_KEY = "mimic_iv_root"
TOLERANCE_KEY = "link_admit_tolerance_minutes"

_RECORD = ("schema_name", "table_name", "kind", "path", "file_format", "file_size", "file_mtime_ns", "row_count",
           "error")


@dataclass(frozen=True)
class AttachResult(StageResult):
    """What one attach did, per table."""

    version: str = ""
    imported: int = 0
    views: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def mimic_iv_root(root: str | Path) -> Path:
    """``root`` resolved, refused unless it holds a MIMIC-IV module folder with table files."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise CxrdbError(f"{root}: no such folder (expected MIMIC-IV as PhysioNet ships it: hosp/, icu/, ed/)")
    path = path.resolve()
    if not find_files(path):
        raise CxrdbError(f"{root}: no MIMIC-IV tables found (expected hosp/*.csv.gz, icu/*.csv.gz, ed/*.csv.gz "
                         "or the same as .csv or .parquet)")
    return path


def _recorded(cat: Catalog) -> dict[tuple[str, str], dict[str, Any]]:
    columns, rows = cat.query(f"SELECT {', '.join(_RECORD)} FROM meta.mimic_iv_files")
    return {(r[0], r[1]): dict(zip(columns, r, strict=True)) for r in rows}


def _unchanged(info: TableFile, old: dict[str, Any] | None) -> bool:
    return (old is not None and old["error"] is None and info.error is None and old["path"] == info.path
            and old["file_size"] == info.file_size and old["file_mtime_ns"] == info.file_mtime_ns
            and old["kind"] == ("table" if info.imported else "view"))


def _apply(cat: Catalog, info: TableFile) -> tuple[int | None, str | None]:
    """Import or make the view for one file; (row count or None, one-line error or None)."""
    name = f"{info.schema}.{info.table}"
    if info.error is not None or info.select is None:
        if info.imported:
            cat.replace_from_select(name, f"SELECT * FROM {name} LIMIT 0")
        else:
            cat.drop_view(name)
        return None, info.error
    try:
        if info.imported:
            return cat.replace_from_select(name, info.select), None
        cat.create_view(name, info.select)
        if info.file_format == "parquet":
            return int(cat.scalar(f"SELECT count(*) FROM {name}")), None  # from the Parquet footer
        return None, None  # a CSV is not counted: that would read all of it
    except CxrdbError as exc:
        if info.imported:
            cat.replace_from_select(name, f"SELECT * FROM {name} LIMIT 0")
        return None, f"{info.module}/{Path(info.path).name}: {exc}"


def attach_mimic_iv(cat: Catalog, root: str | Path, *, version: str | None = None,
                    tolerance_minutes: int | None = None, progress: Progress = no_progress) -> AttachResult:
    """Attach the MIMIC-IV in ``root`` to the catalog (see the module docstring)."""
    root = mimic_iv_root(root)
    if version is not None and not version.replace(".", "").isdigit():
        raise CxrdbError(f"--version {version}: expected a MIMIC-IV version such as 3.1")
    if tolerance_minutes is not None and tolerance_minutes < 0:
        raise CxrdbError(f"--tolerance-minutes {tolerance_minutes}: must be 0 or more")
    version = version or detect_version(root)
    found = find_files(root)
    infos = [inspect_file(module, table, path) for module, table, path in found]
    recorded = _recorded(cat)
    counts = {"imported": 0, "views": 0, "unchanged": 0, "removed": 0, "failed": 0}
    errors: list[str] = []
    for info in infos:
        progress("attach", 1, len(infos))
        key = (info.schema, info.table)
        if _unchanged(info, recorded.get(key)):
            counts["unchanged"] += 1
            continue
        rows, error = _apply(cat, info)
        record = {"schema_name": info.schema, "table_name": info.table,
                  "kind": "table" if info.imported else "view", "path": info.path,
                  "file_format": info.file_format, "file_size": info.file_size,
                  "file_mtime_ns": info.file_mtime_ns, "row_count": rows, "error": error}
        with cat.transaction():
            cat.write_rows("meta.mimic_iv_files", [record], replace_on=("schema_name", "table_name"))
        if error:
            counts["failed"] += 1
            errors.append(error)
        else:
            counts["imported" if info.imported else "views"] += 1
    present = {(i.schema, i.table) for i in infos}
    for key, old in sorted(recorded.items()):
        if key in present:
            continue
        name = f"{key[0]}.{key[1]}"
        if old["kind"] == "table":
            cat.replace_from_select(name, f"SELECT * FROM {name} LIMIT 0")
        else:
            cat.drop_view(name)
        with cat.transaction():
            cat.delete_matching("meta.mimic_iv_files", [{"schema_name": key[0], "table_name": key[1]}],
                                ("schema_name", "table_name"))
        counts["removed"] += 1
    settings = {VERSION_KEY: version or "", ROOT_KEY: str(root)}
    if tolerance_minutes is not None:
        settings[TOLERANCE_KEY] = str(tolerance_minutes)
    for key, value in settings.items():
        if cat.get_setting(key) != value:
            cat.set_setting(key, value)
    return AttachResult(version=version or "unknown", errors=errors, **counts)


def attached(cat: Catalog) -> list[dict[str, Any]]:
    """One row per attached MIMIC-IV table (for ``cxrdb status``): schema, table, kind, rows, file, error."""
    columns, rows = cat.query(
        "SELECT schema_name, table_name, kind, row_count, file_format, path, error FROM meta.mimic_iv_files "
        "ORDER BY schema_name, table_name")
    return [dict(zip(columns, r, strict=True)) for r in rows]


def linking_tables() -> list[str]:
    """The imported tables, ``schema.table``."""
    return [t.qualified for t in imported_tables()]


__all__ = ["MODULE_SCHEMAS", "AttachResult", "attach_mimic_iv", "attached", "linking_tables", "mimic_iv_root"]
