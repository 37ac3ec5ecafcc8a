"""``cxrdb sql``'s connection: read-only queries on the catalog, and nothing else on the machine.

Two layers, each enough alone for the common escapes:

1. DuckDB's own protections. The connection's primary database is an empty file opened read-only, so the
   whole instance is read-only (a re-ATTACH of the catalog, even after DETACH, is read-only too); the catalog
   is attached READ_ONLY under the fixed name ``cxrdb``; then external access is turned off (only the catalog
   and the paths the user passed with ``--allow`` stay readable), extension autoload/autoinstall are off and
   the configuration is locked.
2. A statement check before anything runs (DuckDB's own parser): only queries — SELECT, WITH … SELECT,
   VALUES, FROM-first, DESCRIBE, SHOW, SUMMARIZE, PIVOT … IN (…), EXPLAIN of those, a few read-only PRAGMAs —
   and no function with side effects or that runs SQL from a string. One statement per call.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from .errors import CatalogLocked, CxrdbError, one_line

#: PRAGMAs that only report (``PRAGMA table_info('mimic_cxr.metadata')``); every other PRAGMA is refused.
READ_ONLY_PRAGMAS = frozenset({
    "table_info", "show", "show_tables", "show_tables_expanded", "database_size", "version", "platform",
})

#: Table/scalar functions refused inside a query: they change state, or run SQL the check cannot see.
REFUSED_FUNCTIONS = frozenset({
    "query", "json_execute_serialized_sql",
    "checkpoint", "force_checkpoint",
    "enable_logging", "disable_logging", "truncate_duckdb_logs", "enable_profiling", "disable_profiling",
    "add_grammar_extension", "remove_grammar_extension",
    "register_external_resource", "register_external_resource_type", "create_external_resource",
    "destroy_external_resource", "deregister_external_resource",
    "duckdb_secrets", "which_secret",
})

_FIRST_WORD = re.compile(r"^\s*(FORCE\s+INSTALL|[A-Za-z]+)", re.I)
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(?:\(\s*[^)]*\)\s*)?(?:ANALY[SZ]E\s+)?", re.I)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)", re.I)


def refuse(what: str) -> CxrdbError:
    """The one-line error for a statement or function that is not a read-only query."""
    return CxrdbError(f"cxrdb sql runs read-only queries only: {what} is not allowed")


def _function_names(node: Any) -> Iterator[str]:
    """Every function name in a serialized DuckDB parse tree (json_serialize_sql output)."""
    if isinstance(node, dict):
        name = node.get("function_name")
        if isinstance(name, str):
            yield name.lower()
        for value in node.values():
            yield from _function_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _function_names(value)


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Return the one statement of ``sql`` if it is a read-only query, else raise a one-line CxrdbError."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise CxrdbError(f"SQL error: {one_line(exc, 500)}") from None
    except ValueError as exc:  # a statement type this duckdb build cannot name
        raise refuse(f"this statement ({exc})") from None
    if not statements:
        raise CxrdbError("no SQL statement given")
    for statement in statements:
        _check_one(con, statement)
    if len(statements) > 1:
        raise CxrdbError(f"cxrdb sql runs one query at a time (got {len(statements)} statements)")
    return statements[0].query


def _check_one(con: duckdb.DuckDBPyConnection, statement: Any) -> None:
    kind = statement.type.name
    text = statement.query
    if kind == "EXPLAIN":
        inner = _EXPLAIN.sub("", text, count=1)
        if inner == text:
            raise refuse("this EXPLAIN form")
        inner_statements = con.extract_statements(inner)
        if len(inner_statements) != 1:
            raise refuse("EXPLAIN of several statements")
        _check_one(con, inner_statements[0])
        return
    pragma = _PRAGMA.match(text)
    if kind == "PRAGMA" and pragma and pragma.group(1).lower() in READ_ONLY_PRAGMAS:
        return
    if kind == "MULTI":
        raise refuse("PIVOT without an IN (...) list")
    if kind != "SELECT":
        if pragma:
            raise refuse(f"PRAGMA {pragma.group(1).lower()}")
        word = _FIRST_WORD.match(text)
        keyword = " ".join(word.group(1).upper().split()) if word else ""
        raise refuse(keyword if keyword and keyword != "WITH" else kind)
    tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [text]).fetchone()[0])
    if tree.get("error"):
        raise CxrdbError(f"SQL error: {one_line(tree.get('error_message', 'cannot parse the query'), 500)}")
    for name in _function_names(tree):
        if name in REFUSED_FUNCTIONS:
            raise refuse(f"{name}()")


def _allowed(paths: Iterable[str | Path]) -> tuple[list[str], list[str]]:
    """(folders with a trailing separator, files) the user allowed, resolved; a missing path is an error."""
    folders: list[str] = []
    files: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise CxrdbError(f"--allow {raw}: no such file or folder")
        resolved = str(path.resolve())
        if path.is_dir():
            folders.append(resolved.rstrip(os.sep) + os.sep)
        else:
            files.append(resolved)
    return folders, files


def _list_literal(values: Sequence[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _mimic_iv(con: duckdb.DuckDBPyConnection) -> tuple[str | None, list[str]]:
    """(attached MIMIC-IV version: None when nothing is attached, '' when unknown; the files its views read)."""
    try:
        paths = [r[0] for r in con.execute(
            "SELECT path FROM meta.mimic_iv_files WHERE kind = 'view' AND error IS NULL ORDER BY path").fetchall()]
        attached = con.execute("SELECT count(*) FROM meta.mimic_iv_files").fetchone()[0] > 0
        row = con.execute("SELECT value FROM meta.settings WHERE key = 'mimic_iv_version'").fetchone()
    except duckdb.CatalogException:  # a catalog made before `cxrdb attach` existed
        return None, []
    return ((row[0] if row else "") if attached else None), paths


class QueryConnection:
    """A sandboxed, read-only connection to one catalog. Use :func:`open_query` as a context manager."""

    def __init__(self, db: str | Path, *, allow: Iterable[str | Path] = ()) -> None:
        self.path = Path(db)
        if not self.path.is_file():
            raise CxrdbError(f"catalog {self.path} does not exist (run `cxrdb ingest` first)")
        folders, files = _allowed(allow)
        self._tmp = tempfile.TemporaryDirectory(prefix="cxrdb-sql-")
        try:
            self.con = self._connect(folders, files)
        except BaseException:
            self._tmp.cleanup()
            raise

    def _connect(self, folders: list[str], files: list[str]) -> duckdb.DuckDBPyConnection:
        # An empty primary database opened read-only makes the whole DuckDB instance read-only.
        primary = Path(self._tmp.name) / "cxrdb_sql.duckdb"
        duckdb.connect(str(primary)).close()
        spill = Path(self._tmp.name) / "spill"
        spill.mkdir()
        con = duckdb.connect(str(primary), read_only=True, config={
            "autoinstall_known_extensions": False, "autoload_known_extensions": False,
            "allow_community_extensions": False, "allow_persistent_secrets": False,
            "temp_directory": str(spill),
        })
        try:
            quoted = str(self.path.resolve()).replace("'", "''")
            con.execute(f"ATTACH '{quoted}' AS cxrdb (READ_ONLY)")
            con.execute("USE cxrdb")
            self.mimic_iv_version, views = _mimic_iv(con)
            files = files + [p for p in views if p not in files]  # attached files its views read, and no others
            if folders:
                con.execute(f"SET allowed_directories = {_list_literal(folders)}")
            if files:
                con.execute(f"SET allowed_paths = {_list_literal(files)}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except duckdb.IOException as exc:
            con.close()
            msg = one_line(exc, 500)
            if "lock" in msg.lower():
                raise CatalogLocked(
                    f"catalog {self.path} is in use by another cxrdb process (a run in progress holds it until "
                    "it ends); wait for it to finish, or work on a copy of the file"
                ) from None
            raise CxrdbError(f"cannot open catalog {self.path}: {msg}") from None
        except duckdb.Error as exc:
            con.close()
            raise CxrdbError(f"cannot open catalog {self.path}: {one_line(exc, 500)}") from None
        return con

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Check then run one read-only DuckDB query; return (column names, rows). Errors are one line."""
        statement = check_statement(self.con, sql)
        try:
            cur = self.con.execute(statement)
            if cur.description is None:
                return [], []
            return [d[0] for d in cur.description], cur.fetchall()
        except duckdb.PermissionException as exc:
            raise CxrdbError(f"SQL error: {one_line(exc, 500)} (a query reads only the catalog; "
                             "`cxrdb sql --allow PATH` lets it read that file or folder too)") from None
        except duckdb.Error as exc:
            raise CxrdbError(f"SQL error: {one_line(exc, 500)}") from None

    def close(self) -> None:
        """Close the connection and remove its temporary folder."""
        try:
            self.con.close()
        finally:
            self._tmp.cleanup()


@contextmanager
def open_query(db: str | Path, *, allow: Iterable[str | Path] = ()) -> Iterator[QueryConnection]:
    """A :class:`QueryConnection` on ``db`` that is closed on exit; ``allow`` = files/folders queries may read."""
    conn = QueryConnection(db, allow=allow)
    try:
        yield conn
    finally:
        conn.close()


def run_query(db: str | Path, sql: str, *, allow: Iterable[str | Path] = (),
              dialect: str = "auto") -> tuple[list[str], list[tuple]]:
    """What ``cxrdb sql`` does: translate ``sql`` from ``dialect`` (see :mod:`cxrdb.bigquery`), run it sandboxed."""
    from .bigquery import detect_dialect, to_duckdb

    with open_query(db, allow=allow) as conn:
        duck = to_duckdb(sql, dialect, mimic_iv=conn.mimic_iv_version)
        try:
            return conn.query(duck)
        except CxrdbError as exc:
            if dialect == "auto" and detect_dialect(sql) == "duckdb" and str(exc).startswith("SQL error: Parser"):
                raise CxrdbError(f"{exc} (read as DuckDB SQL; for BigQuery SQL pass --dialect bigquery)") from None
            raise
