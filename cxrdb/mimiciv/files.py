"""Find the MIMIC-IV files in a folder as PhysioNet ships it and say how to read each one (pure, never raises).

``DIR/hosp/*.csv.gz``, ``DIR/icu/*.csv.gz``, ``DIR/ed/*.csv.gz`` (MIMIC-IV-ED), or the same tables as ``.csv``
or ``.parquet``. Each file becomes a :class:`TableFile`: its table, format, size, mtime, header columns and the
DuckDB ``SELECT`` that reads it with the documented types (columns matched by name), or a one-line error.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import one_line
from .schema import MODULE_SCHEMAS, TableSpec, tables

#: file endings read, in order of preference when a table has several files
FORMATS: tuple[tuple[str, str], ...] = ((".parquet", "parquet"), (".csv.gz", "csv"), (".csv", "csv"))

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION = re.compile(r"^(?:mimic-?iv[-_]?v?)?(?P<v>\d+\.\d+)(?:\.\d+)?$", re.I)


@dataclass(frozen=True)
class TableFile:
    """One MIMIC-IV file and how to read it; ``error`` is one line when it cannot be attached."""

    module: str
    table: str
    path: str  # absolute
    file_format: str  # 'csv' or 'parquet'
    file_size: int | None
    file_mtime_ns: int | None
    imported: bool
    select: str | None  # the SELECT reading it with documented types; None on error
    error: str | None = None

    @property
    def schema(self) -> str:
        """The local schema of its table."""
        return MODULE_SCHEMAS[self.module]


def detect_version(root: Path) -> str | None:
    """The MIMIC-IV version a folder's name says ('mimic-iv-3.1', or PhysioNet's 'mimiciv/3.1'), else None."""
    match = _VERSION.match(root.name)
    return match["v"] if match else None


def find_files(root: Path) -> list[tuple[str, str, Path]]:
    """(module, table, path) of every table file under ``root``, one per table (Parquet before CSV), sorted."""
    found: dict[tuple[str, str], Path] = {}
    for module in MODULE_SCHEMAS:
        folder = root / module
        if not folder.is_dir():
            continue
        for ending, _ in reversed(FORMATS):  # later (preferred) endings overwrite earlier ones
            for path in folder.iterdir():
                name = path.name[: -len(ending)] if path.name.endswith(ending) else None
                if name and _NAME.match(name) and path.is_file():
                    found[(module, name)] = path
    return [(m, t, p) for (m, t), p in sorted(found.items())]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def header_columns(path: Path, file_format: str) -> list[str]:
    """The column names a file declares: the CSV header line, or the Parquet schema."""
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        first = fh.readline(1 << 20)
    if not first.strip():
        raise ValueError("empty file (no header line)")
    return next(csv.reader(io.StringIO(first.decode("utf-8-sig"))))


def select_sql(spec: TableSpec | None, path: Path, file_format: str, header: list[str]) -> str:
    """The SELECT reading ``path`` with the documented types by column name.

    An imported table lists every documented column (an optional one the file lacks is NULL; a v1 name is
    renamed); a view keeps the file's columns in the file's order. Raises ValueError on a missing column.
    """
    documented = {c.name: c for c in spec.specs} if spec else {}
    older = {c.older_name: c for c in spec.specs if c.older_name} if spec else {}
    if len(set(header)) != len(header):
        raise ValueError(f"repeated column names in the header: {', '.join(header)}")
    if file_format == "csv":
        known = {n: documented.get(n) or older.get(n) for n in header}
        types = {n: col.type if col else "VARCHAR" for n, col in known.items()}
        columns = "{" + ", ".join(f"{_quote(n)}: {_quote(t)}" for n, t in types.items()) + "}"
        source = (f"read_csv({_quote(str(path))}, header = true, auto_detect = false, delim = ',', quote = '\"', "
                  f"escape = '\"', columns = {columns})")
        cast = {n: _ident(n) for n in header}  # read_csv already types them
    else:
        source = f"read_parquet({_quote(str(path))})"
        cast = {}
        for name in header:
            col = documented.get(name) or older.get(name)
            cast[name] = f"CAST({_ident(name)} AS {col.type})" if col else _ident(name)
    if spec is None or not spec.imported:
        items = [f"{cast[n]} AS {_ident(n)}" for n in header]
        return f"SELECT {', '.join(items)} FROM {source}"
    items, missing = [], []
    for col in spec.specs:
        if col.name in cast:
            items.append(f"{cast[col.name]} AS {_ident(col.name)}")
        elif col.older_name and col.older_name in cast:
            items.append(f"{cast[col.older_name]} AS {_ident(col.name)}")
        elif col.optional:
            items.append(f"CAST(NULL AS {col.type}) AS {_ident(col.name)}")
        else:
            missing.append(col.name)
    if missing:
        raise ValueError(f"missing column(s) {', '.join(missing)} (the file has {', '.join(header)})")
    return f"SELECT {', '.join(items)} FROM {source}"


def inspect_file(module: str, table: str, path: Path) -> TableFile:
    """Everything attach needs to know about one file (pure: never raises; a problem is ``error``)."""
    file_format = next(fmt for ending, fmt in FORMATS if path.name.endswith(ending))
    spec = tables().get((module, table))
    imported = bool(spec and spec.imported)
    size = mtime = None
    try:
        stat = path.stat()
        size, mtime = stat.st_size, stat.st_mtime_ns
        select = select_sql(spec, path, file_format, header_columns(path, file_format))
        return TableFile(module, table, str(path), file_format, size, mtime, imported, select)
    except Exception as exc:  # an unreadable file is recorded against its table, never raised
        return TableFile(module, table, str(path), file_format, size, mtime, imported, None,
                         f"{module}/{path.name}: {one_line(exc, 300)}")
