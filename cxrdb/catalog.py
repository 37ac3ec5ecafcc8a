"""The DuckDB catalog: open or create the file, apply the SQL layers, run queries.

The catalog is the one place state lives. Only the process that opened it for writing changes it; workers
return results to that process, which writes them in batches.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import sqlfiles, view_rules
from .errors import CatalogLocked, CxrdbError, one_line

# The on-disk format of new catalogs: DuckDB 1.0 and every later release (1.x and 2.x) open such a file.
# DuckDB 2's default (storage version 69) is unreadable by DuckDB 1.x ("can only read versions between 64
# and 68"). README "Which DuckDB opens a catalog" says which versions were verified.
STORAGE_VERSION = "v1.0.0"


LOCK_WAIT_SECONDS = 3.0  # how long an open waits for another process to let go of the file


#: write-ahead log size that triggers a checkpoint. DuckDB's default (16 MiB) checkpoints every ~14k header rows,
#: and each checkpoint writes the whole primary-key index again (duckdb/duckdb#24848): 160 ms at 14k rows, 670 ms at
#: 98k, so ingest's cost per row grew with the catalog. 256 MiB makes that one or two checkpoints at MIMIC's size
#: (plus the one on close); a kill -9 replays at most that much log on the next open.
CHECKPOINT_THRESHOLD = "256MiB"

#: the most memory DuckDB keeps for the catalog (its cache of the file's blocks, indexes, query state); past it,
#: it evicts blocks it can read again and spills the rest to OUT.duckdb.tmp/. DuckDB's own default, 80 % of RAM,
#: lets a full-MIMIC build's parent keep every block it ever wrote (~0.7 GB after ingest), which forked workers
#: then inherit. CXRDB_MEMORY_LIMIT overrides it (any DuckDB size: 512MB, 4GB).
MEMORY_LIMIT = "512MB"


def memory_limit() -> str:
    """The catalog connection's DuckDB memory_limit: CXRDB_MEMORY_LIMIT, else :data:`MEMORY_LIMIT`."""
    return os.environ.get("CXRDB_MEMORY_LIMIT") or MEMORY_LIMIT


def _sql_error(exc: duckdb.Error) -> CxrdbError:
    """A query's error as one line; running out of the memory limit says how to raise it."""
    hint = (f" (the catalog's DuckDB memory limit is {memory_limit()}: set CXRDB_MEMORY_LIMIT higher, e.g. 4GB)"
            if isinstance(exc, duckdb.OutOfMemoryException) else "")
    return CxrdbError(f"SQL error: {one_line(exc, 300)}{hint}")


class Catalog:
    """A cxrdb catalog file. Use ``Catalog.open(path)`` as a context manager."""

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._schemas: dict[str, pa.Schema] = {}
        self._new = not read_only and not self.path.exists()
        self._wrote = False  # a new catalog that nothing was written into is removed on close
        if read_only and not self.path.exists():
            raise CxrdbError(f"catalog {self.path} does not exist (run `cxrdb ingest` first)")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = self._attach()
        if not read_only:
            try:
                self.apply_sql()
                self.load_view_rules()
            except BaseException:
                self.close()  # let go of the file (and remove it if this open created it)
                raise

    def _attach(self) -> duckdb.DuckDBPyConnection:
        """Connect and attach the file, waiting out a short-lived reader (a `cxrdb status` holds its shared lock
        for a moment; a writer starting in that moment must not fail). A run that keeps the file is refused."""
        # Attach under a fixed name: DuckDB names a database after its file, and a file called release.duckdb or
        # raw.duckdb would clash with the schemas of the same names. A new file is written in STORAGE_VERSION,
        # which DuckDB 1.x reads too; an existing file keeps the format it has (one written by an older cxrdb in
        # DuckDB 2's own format opens as before).
        deadline = time.monotonic() + (0.0 if self.read_only else LOCK_WAIT_SECONDS)  # a reader never waits
        while True:
            try:
                con = duckdb.connect(config={"memory_limit": memory_limit(),  # spills go beside the file
                                             "temp_directory": str(self.path) + ".tmp"})
            except duckdb.Error as exc:
                raise CxrdbError(f"CXRDB_MEMORY_LIMIT={memory_limit()!r} is not a DuckDB memory size "
                                 f"(e.g. 512MB, 2GB): {str(exc).splitlines()[0]}") from None
            if self.read_only:
                options = " (READ_ONLY)"
            elif not self.path.exists():
                options = f" (STORAGE_VERSION '{STORAGE_VERSION}')"
            else:
                options = ""
            try:
                con.execute(f"ATTACH '{_quote(str(self.path))}' AS cxrdb{options}")
                con.execute("USE cxrdb")
                if not self.read_only:
                    con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
                return con
            except duckdb.IOException as exc:
                con.close()
                msg = str(exc).splitlines()[0]
                if "lock" not in msg.lower():
                    raise CxrdbError(f"cannot open catalog {self.path}: {msg}") from None
                if time.monotonic() >= deadline:
                    raise CatalogLocked(
                        f"catalog {self.path} is in use by another cxrdb process (a run in progress holds it until "
                        "it ends); wait for it to finish, or work on a copy of the file") from None
                time.sleep(0.1)
            except duckdb.Error as exc:
                con.close()
                raise CxrdbError(f"cannot open catalog {self.path}: {str(exc).splitlines()[0]}") from None

    @classmethod
    @contextmanager
    def open(cls, path: str | Path, *, read_only: bool = False) -> Iterator[Catalog]:
        """Open the catalog, closing it on exit."""
        catalog = cls(path, read_only=read_only)
        try:
            yield catalog
        finally:
            catalog.close()

    def close(self) -> None:
        """Close the connection (checkpointing the write-ahead log). A catalog this open created and nothing was
        written into (a refused command) is removed, so a refusal leaves nothing behind."""
        self._con.close()
        if self._new and not self._wrote:
            for path in (self.path, self.path.with_name(self.path.name + ".wal")):
                path.unlink(missing_ok=True)

    def apply_sql(self) -> None:
        """Create or refresh every schema, table and view from ``sql/`` (safe to repeat)."""
        for path in sqlfiles.layer_files():
            try:
                self._con.execute(sqlfiles.text(path))
            except duckdb.Error as exc:
                raise CxrdbError(f"{sqlfiles.label(path)}: {str(exc).splitlines()[0]}") from None

    def load_view_rules(self) -> None:
        """Load the data files of ``cxrdb/rules/views/`` into meta.view_rules (what analysis.image_view reads)
        when their digest differs from the one loaded last. Like apply_sql, not counted as a write: the new
        catalog of a refused command is still removed on close."""
        if self.get_setting(view_rules.SETTING) == view_rules.digest():
            return
        digest, rows = view_rules.load()
        self._con.execute("BEGIN")
        try:
            self.write_rows("meta.view_rules", rows, replace_all=True)
            self._con.execute("INSERT OR REPLACE INTO meta.settings VALUES (?, ?)", [view_rules.SETTING, digest])
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    # -- settings --------------------------------------------------------------------------------------
    def get_setting(self, key: str) -> str | None:
        """A value from meta.settings, or None."""
        row = self._con.execute("SELECT value FROM meta.settings WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def set_setting(self, key: str, value: str) -> None:
        """Store a value in meta.settings."""
        self._con.execute("INSERT OR REPLACE INTO meta.settings VALUES (?, ?)", [key, value])
        self._wrote = True

    # -- writes ----------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the body as one transaction: all of it lands, or none of it."""
        self._con.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")
        self._wrote = True

    def delete_matching(self, table: str, rows: Sequence[dict[str, Any]], on: Sequence[str]) -> None:
        """Delete the rows of ``table`` whose values in the ``on`` columns equal those of one of ``rows``."""
        if not rows:
            return
        schema = self.arrow_schema(table)
        key_schema = pa.schema([schema.field(c) for c in on])
        keys = pa.Table.from_pylist([{c: r[c] for c in on} for r in rows], schema=key_schema)
        self._con.register("_keys", keys)
        try:
            match = " AND ".join(f't."{c}" = k."{c}"' for c in on)
            self._con.execute(f"DELETE FROM {table} AS t USING _keys AS k WHERE {match}")
        finally:
            self._con.unregister("_keys")

    def write_rows(self, table: str, rows: Sequence[dict[str, Any]], *, replace_on: Sequence[str] = (),
                   replace_all: bool = False) -> None:
        """Insert rows (dicts keyed by column name) into ``table``, in batch through Arrow.

        The batch is typed by the target table (every column, with its type), never by the rows: a first row
        that lacks columns (a failed item) cannot blank the others. Keys that are not columns are ignored.
        ``replace_on`` first deletes the rows whose values in those columns match a new row's;
        ``replace_all`` first empties the table. Wrap in :meth:`transaction` to make it atomic.
        """
        if replace_all:
            self._con.execute(f"DELETE FROM {table}")
        if not rows:
            return
        if replace_on:
            self.delete_matching(table, rows, replace_on)
        try:
            batch = pa.Table.from_pylist(list(rows), schema=self.arrow_schema(table))
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise CxrdbError(f"cannot write {table}: {one_line(exc, 500)}") from None
        self._con.register("_rows", batch)
        try:
            self._con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
        finally:
            self._con.unregister("_rows")

    def update_columns(self, table: str, rows: Sequence[dict[str, Any]], *, on: Sequence[str]) -> None:
        """Set, in the rows of ``table`` matching each row's ``on`` columns, that row's other columns."""
        if not rows:
            return
        schema = self.arrow_schema(table)
        names = list(rows[0])
        batch = pa.Table.from_pylist(list(rows), schema=pa.schema([schema.field(c) for c in names]))
        sets = ", ".join(f'"{c}" = u."{c}"' for c in names if c not in on)
        match = " AND ".join(f't."{c}" = u."{c}"' for c in on)
        self._con.register("_updates", batch)
        try:
            self._con.execute(f"UPDATE {table} AS t SET {sets} FROM _updates AS u WHERE {match}")
        finally:
            self._con.unregister("_updates")

    def replace_all(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Make ``rows`` the whole content of ``table``, in one transaction."""
        with self.transaction():
            self.write_rows(table, rows, replace_all=True)

    def prune(self, dicom_ids: Sequence[str], study_ids: Sequence[int]) -> None:
        """Remove images and reports that left the source, with everything made from them (sql/writes/prune.sql),
        in one transaction."""
        self._con.register("_gone_images", pa.table({"dicom_id": pa.array(list(dicom_ids), pa.string())}))
        self._con.register("_gone_reports", pa.table({"study_id": pa.array(list(study_ids), pa.int64())}))
        try:
            with self.transaction():
                self._con.execute(sqlfiles.read("writes/prune.sql"))
        finally:
            self._con.unregister("_gone_images")
            self._con.unregister("_gone_reports")

    def drop_orphan_labels(self) -> None:
        """Remove labels of studies that no longer have labeler text (sql/writes/drop_orphan_labels.sql)."""
        with self.transaction():
            self._con.execute(sqlfiles.read("writes/drop_orphan_labels.sql"))

    def replace_from_select(self, table: str, select: str) -> int:
        """Make the rows of ``select`` (which may read files) the whole content of ``table``, in one transaction;
        return the row count. A failure leaves the table as it was and raises a one-line CxrdbError."""
        try:
            with self.transaction():
                self._con.execute(f"DELETE FROM {table}")
                self._con.execute(f"INSERT INTO {table} BY NAME {select}")
                return int(self._con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        except duckdb.Error as exc:
            raise CxrdbError(one_line(exc, 300)) from None

    def create_view(self, view: str, select: str) -> None:
        """``CREATE OR REPLACE VIEW view AS select``, checked by binding it once (a failure leaves no view)."""
        try:
            with self.transaction():
                self._con.execute(f"CREATE OR REPLACE VIEW {view} AS {select}")
                self._con.execute(f"SELECT * FROM {view} LIMIT 0")
        except duckdb.Error as exc:
            raise CxrdbError(one_line(exc, 300)) from None

    def drop_view(self, view: str) -> None:
        """Remove a view if it exists."""
        with self.transaction():
            self._con.execute(f"DROP VIEW IF EXISTS {view}")

    def arrow_schema(self, table: str) -> pa.Schema:
        """The Arrow schema of a catalog table: its columns, in order, with their types."""
        if table not in self._schemas:
            self._schemas[table] = self._con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema
        return self._schemas[table]

    # -- queries ---------------------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> tuple[list[str], list[tuple]]:
        """Run one query; return (column names, rows). Errors become one-line CxrdbErrors."""
        try:
            cur = self._con.execute(sql, params if params is not None else [])
            if cur.description is None:
                return [], []
            columns = [d[0] for d in cur.description]
            return columns, cur.fetchall()
        except duckdb.Error as exc:
            raise _sql_error(exc) from None

    def batches(self, sql: str, size: int = 20_000) -> tuple[list[str], Iterator[list[tuple]]]:
        """Run one query; return (column names, an iterator of row lists of at most ``size`` rows), so a caller
        writing a large result never holds all of its rows as Python objects. Consume it before the next query."""
        try:
            cur = self._con.execute(sql)
        except duckdb.Error as exc:
            raise _sql_error(exc) from None

        def chunks() -> Iterator[list[tuple]]:
            while rows := cur.fetchmany(size):
                yield rows

        return [d[0] for d in cur.description or []], chunks()

    def arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        """Run one query; return all its rows as an Arrow table (fully fetched: nothing left pending on the
        connection). Errors become one-line CxrdbErrors."""
        try:
            with warnings.catch_warnings():  # DuckDB warns that a DB-API result costs one copy; it is fetched once
                warnings.simplefilter("ignore")
                return self._con.execute(sql, params or []).to_arrow_table()
        except duckdb.Error as exc:
            raise _sql_error(exc) from None

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first value of the first row of a query."""
        row = self._con.execute(sql, params or []).fetchone()
        return None if row is None else row[0]

    def columns(self, table: str) -> list[str]:
        """Column names of a table, in order."""
        schema, name = table.split(".")
        rows = self._con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
        return [r[0] for r in rows]


def _quote(text: str) -> str:
    return text.replace("'", "''")
