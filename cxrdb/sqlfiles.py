"""Find the SQL files shipped in the package (``cxrdb/sql``) and apply them in order.

The files are package data read through :mod:`importlib.resources`: in a checkout or an editable install
``cxrdb/sql`` is a symlink to the top-level ``sql/`` (the source of truth), in a wheel a copy of it.

Views are made independent of the name the catalog file is opened under (:func:`portable`): DuckDB names
a database after its file, and inside a view ``release.metadata`` is ambiguous when the database itself is
called ``release`` (``release.duckdb``), so every schema-qualified table a view reads is looked up through
``query_table`` with the catalog spelled out in exactly that case.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from .errors import CxrdbError

_LAYER = re.compile(r"^\d\d_[a-z0-9_]+$")  # a layer folder: NN_name, applied in NN order
SCHEMAS = ("raw", "stg", "work", "plan", "release", "mimic_cxr", "analysis", "meta",
           "mimiciv_hosp", "mimiciv_icu", "mimiciv_ed", "mimic_core")


@cache
def sql_dir() -> Traversable:
    """The package's SQL folder (``cxrdb/sql``)."""
    root = files("cxrdb") / "sql"
    if not (root / "00_schema").is_dir():
        raise CxrdbError(f"cxrdb's SQL files are missing from the package ({root}); reinstall cxrdb")
    return root


def _sql_files(folder: Traversable) -> list[Traversable]:
    return sorted((p for p in folder.iterdir() if p.name.endswith(".sql") and p.is_file()), key=lambda p: p.name)


def layers() -> list[str]:
    """The layer folders (``NN_name``) in the order they are applied: 00_schema, 10_staging, ..."""
    return sorted(p.name for p in sql_dir().iterdir() if p.is_dir() and _LAYER.match(p.name))


def layer_files() -> list[Traversable]:
    """Every schema/view file, in the order they must run: layer by layer, inside a layer the files its
    ``_order.txt`` names first (views other views of the layer read), then the rest by name."""
    result: list[Traversable] = []
    for layer in layers():
        folder = sql_dir() / layer
        order = folder / "_order.txt"
        names = [line.strip() for line in order.read_text(encoding="utf-8").splitlines()
                 if line.strip() and not line.startswith("#")] if order.is_file() else []
        first = [folder / name for name in names]
        result.extend(first + [p for p in _sql_files(folder) if p.name not in names])
    return result


def label(path: Traversable) -> str:
    """A file's name for messages, with its folder: ``40_mimic_cxr/chexpert.sql``."""
    parent = getattr(path, "parent", None)
    return f"{parent.name}/{path.name}" if parent is not None else path.name


def read(relative: str) -> str:
    """The text of one SQL file, e.g. ``read('status/failures.sql')``."""
    path = sql_dir().joinpath(*relative.split("/"))
    if not path.is_file():
        raise CxrdbError(f"missing SQL file {relative} in {sql_dir()}")
    return path.read_text(encoding="utf-8")


def folder(relative: str) -> list[Traversable]:
    """The .sql files of one folder, sorted by name."""
    return _sql_files(sql_dir().joinpath(*relative.split("/")))


# -- views that work under any database name ----------------------------------------------------------------
# A view stores its query with the references to its own database unqualified (DuckDB drops the catalog), and
# binds them again on every use. `raw.images` inside a view then means "schema raw" only while no *database*
# is called raw; in raw.duckdb opened by plain DuckDB it is an "Ambiguous reference to catalog or schema" error.
# query_table() takes the name as a string evaluated when the view is bound: "raw".raw.images when the current
# database is called raw (the file opened directly, or after USE), the plain schema.table otherwise (cxrdb's
# own connection, or the file attached under another name, where schema.table binds in the view's database).
_TABLE_REF = re.compile(
    r"\b(?P<kw>FROM|JOIN)\s+(?P<schema>" + "|".join(SCHEMAS) + r")\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)\b"
    r"(?!\s*\()(?P<alias>\s+AS\s+[A-Za-z_][A-Za-z0-9_]*)?",
    re.IGNORECASE,
)
_VIEW = re.compile(r"CREATE\s+(OR\s+REPLACE\s+)?VIEW\b", re.IGNORECASE)


def _portable_ref(m: re.Match[str]) -> str:
    schema, name = m["schema"].lower(), m["name"]
    alias = m["alias"] or f" AS {name}"
    target = (f"CASE WHEN current_database() = '{schema}' THEN '\"{schema}\".{schema}.{name}' "
              f"ELSE '{schema}.{name}' END")
    return f"{m['kw']} query_table({target}){alias}"


def portable(sql: str) -> str:
    """``sql`` with the schema-qualified tables read by its views made independent of the database's name.

    Only statements that create a view are rewritten, and only outside ``--`` comments; schema and table
    DDL, and the status and check queries (run on cxrdb's own connection), are left as written.
    """
    lines, in_view = [], False
    for line in sql.split("\n"):
        code, sep, comment = line.partition("--")
        in_view = in_view or bool(_VIEW.search(code))
        if in_view:
            code = _TABLE_REF.sub(_portable_ref, code)
        if ";" in code:
            in_view = bool(_VIEW.search(code.rpartition(";")[2]))
        lines.append(code + sep + comment)
    return "\n".join(lines)


def text(path: Traversable) -> str:
    """The SQL of one layer file as it is applied to a catalog (see :func:`portable`)."""
    return portable(path.read_text(encoding="utf-8"))
