"""Compare the release tables of two folders (metadata, split, chexpert, negbio) in an in-memory DuckDB.

Each table of each side is read from its published ``.csv.gz`` (gzip or not, by its bytes), else the plain
``.csv`` of that name, else the ``.parquet`` of the same stem (its BigQuery-style column names mapped back), every
value as text, and loaded as
``ours_all`` / ``theirs_all``; ``ours`` / ``theirs`` keep the first row of each key and the columns both files
have. The comparisons themselves are the SQL files in ``sql/diff/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from .. import contract, sqlfiles
from ..contract import OBSERVATIONS

VALUES = ("1.0", "0.0", "-1.0", "blank")  # the rows / columns of every confusion table, in this order
EXAMPLES = 5  # examples per column, per observation, per list in the JSON report (the CSVs hold every row)


@dataclass(frozen=True, slots=True)
class Table:
    """One release table: its file, the column that keys its rows, the file names it may have."""

    name: str
    key: str
    csv: str
    parquet: str


_LABEL_VIEWS = {f"release.{name}" for name in contract.RELEASE_LABELERS}
#: metadata, split, chexpert, negbio: as the release contract declares them
TABLES = {t.view.removeprefix("release."): Table(t.view.removeprefix("release."),
                                                  "study_id" if t.view in _LABEL_VIEWS else "dicom_id",
                                                  t.name, t.file_name("parquet")) for t in contract.TABLES}
#: the published test-set labels (one radiologist's): a label file without subject_id, plain CSV
TEST_SET = Table("test_set", "study_id", contract.TEST_SET, contract.TEST_SET.removesuffix(".csv") + ".parquet")
_PARQUET_NAMES = {contract.bigquery_name(c): c for t in contract.TABLES for c in t.columns}


@dataclass(slots=True)
class Loaded:
    """A side's table as read: its file, its columns, its row count, or why it could not be read."""

    file: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: int = 0
    error: str | None = None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect() -> duckdb.DuckDBPyConnection:
    """The in-memory database the comparisons run in, with the label_value macro."""
    con = duckdb.connect(":memory:")
    con.execute(sqlfiles.read("diff/label_value.sql"))
    return con


def _is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def load(con: duckdb.DuckDBPyConnection, side: str, root: Path, table: Table) -> Loaded:
    """Read one table of one release folder into ``<side>_all`` (every value text, ``key`` first, ``_row`` =
    the row's position in the file); a missing or unreadable file leaves an empty table and says why."""
    con.execute(f"DROP TABLE IF EXISTS {side}_all")
    plain = table.csv.removesuffix(".gz")  # a gunzipped file, or the published test set's plain .csv
    found = next((name for name in (table.csv, plain, table.parquet) if (root / name).is_file()), None)
    if found is None:
        con.execute(f"CREATE TEMP TABLE {side}_all (key VARCHAR, _row BIGINT)")
        return Loaded(error="missing")
    path = _literal(str(root / found))
    compression = "gzip" if _is_gzip(root / found) else "none"  # by its bytes: a .csv.gz may be plain text
    source = (f"read_csv({path}, header = true, all_varchar = true, delim = ',', quote = '\"', escape = '\"', "
              f"compression = '{compression}')"
              if not found.endswith(".parquet") else f"(SELECT COLUMNS(*)::VARCHAR FROM read_parquet({path}))")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {side}_read AS SELECT * FROM {source}")
        names = [row[0] for row in con.execute(f"DESCRIBE {side}_read").fetchall()]
        columns = [_PARQUET_NAMES.get(n, n) if found.endswith(".parquet") else n for n in names]
        if table.key not in columns:
            raise ValueError(f"no {table.key} column")
        select = ", ".join(f"{_quote(n)} AS {_quote(c)}" for n, c in zip(names, columns, strict=True))
        con.execute(f"CREATE TEMP TABLE {side}_all AS SELECT {_quote(names[columns.index(table.key)])} AS key, "
                    f"rowid AS _row, {select} FROM {side}_read")
        rows = con.execute(f"SELECT count(*) FROM {side}_all").fetchone()[0]
        return Loaded(found, columns, rows)
    except (duckdb.Error, ValueError) as exc:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {side}_all (key VARCHAR, _row BIGINT)")
        return Loaded(found, error=f"unreadable {found}: {' '.join(str(exc).split())[:200]}")
    finally:
        con.execute(f"DROP TABLE IF EXISTS {side}_read")


def compared(con: duckdb.DuckDBPyConnection, columns: list[str], subject: str | None = None) -> None:
    """Make ``ours`` / ``theirs``: the first row of each (non-null) key, with ``columns`` only (after
    ``subject``, a select expression for subject_id, when given)."""
    select = ", ".join(["key", *([subject] if subject else []), *(_quote(c) for c in columns)])
    for side in ("ours", "theirs"):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {side} AS SELECT {select} FROM {side}_all WHERE key IS NOT NULL "
                    "QUALIFY row_number() OVER (PARTITION BY key ORDER BY _row) = 1")


def run(con: duckdb.DuckDBPyConnection, name: str) -> list[dict[str, Any]]:
    """Rows of ``sql/diff/<name>.sql`` as dicts."""
    cursor = con.execute(sqlfiles.read(f"diff/{name}.sql"))
    if cursor.description is None:
        return []
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]


def _rows_part(con: duckdb.DuckDBPyConnection, ours: Loaded, theirs: Loaded, table: Table) -> dict[str, Any]:
    """The part every table shares: files, row counts, keys in one release only, duplicate keys."""
    only = run(con, "keys_only")
    dupes = run(con, "duplicate_keys")
    blank = {side: con.execute(f"SELECT count(*) FROM {side}_all WHERE key IS NULL").fetchone()[0]
             for side in ("ours", "theirs")}
    part: dict[str, Any] = {
        "file_ours": ours.file, "file_theirs": theirs.file, "key": [table.key],
        "rows_ours": ours.rows, "rows_theirs": theirs.rows,
        "only_ours": sum(r["side"] == "ours" for r in only), "only_theirs": sum(r["side"] == "theirs" for r in only),
        "examples_only_ours": [r["key"] for r in only if r["side"] == "ours"][:EXAMPLES],
        "examples_only_theirs": [r["key"] for r in only if r["side"] == "theirs"][:EXAMPLES],
        "duplicate_keys_ours": sum(r["side"] == "ours" for r in dupes),
        "duplicate_keys_theirs": sum(r["side"] == "theirs" for r in dupes),
        "rows_without_key_ours": blank["ours"], "rows_without_key_theirs": blank["theirs"],
        "rows_both": con.execute("SELECT count(*) FROM ours JOIN theirs USING (key)").fetchone()[0],
        "columns_only_ours": [c for c in ours.columns if c not in theirs.columns],
        "columns_only_theirs": [c for c in theirs.columns if c not in ours.columns],
    }
    for side, loaded in (("ours", ours), ("theirs", theirs)):
        if loaded.error:
            part[f"error_{side}"] = loaded.error
    part["_only"] = only
    return part


def compare_rows(con: duckdb.DuckDBPyConnection, roots: tuple[Path, Path], table: Table) -> dict[str, Any]:
    """Compare an image table (metadata, split): rows in one only, per column the differing values."""
    ours, theirs = (load(con, side, root, table) for side, root in zip(("ours", "theirs"), roots, strict=True))
    common = [c for c in ours.columns if c in theirs.columns and c != table.key]
    compared(con, common)
    part = _rows_part(con, ours, theirs, table)
    differences = run(con, "value_differences") if common else []
    by_column: dict[str, list[dict[str, Any]]] = {c: [] for c in common}
    for row in differences:
        by_column[row["column"]].append(row)
    part["columns"] = [{"column": c, "differ": len(rows), "examples": [
        {"key": r["key"], "ours": r["ours"], "theirs": r["theirs"]} for r in rows[:EXAMPLES]]}
        for c, rows in by_column.items()]
    part["values_differ"] = len(differences)
    part["rows_differ"] = len({r["key"] for r in differences})
    part["_differences"] = differences
    if table.name == "split" and "split" in ours.columns and "split" in theirs.columns:
        moved = by_column.get("split", [])
        moves: dict[tuple[str, str], int] = {}
        for r in moved:
            moves[r["ours"], r["theirs"]] = moves.get((r["ours"], r["theirs"]), 0) + 1
        part["moves"] = [{"ours": o, "theirs": t, "images": n} for (o, t), n in sorted(moves.items(), key=str)]
        part["moved"] = len(moved)
        part["moved_examples"] = [{"key": r["key"], "ours": r["ours"], "theirs": r["theirs"]} for r in moved[:EXAMPLES]]
        leaks = run(con, "patients_in_two_splits") if "subject_id" in common else []
        part["patients_in_two_splits"] = {
            side: sum(r["side"] == side for r in leaks) for side in ("ours", "theirs")} | {
            f"examples_{side}": [r["subject_id"] for r in leaks if r["side"] == side][:EXAMPLES]
            for side in ("ours", "theirs")}
        part["_leaks"] = leaks
    return part


def kappa(table: list[list[int]]) -> float | None:
    """Cohen's kappa of a square confusion table (None when chance agreement is total: kappa is undefined)."""
    n = sum(map(sum, table))
    if not n:
        return None
    observed = sum(table[i][i] for i in range(len(table))) / n
    chance = sum(sum(table[i]) * sum(row[i] for row in table) for i in range(len(table))) / (n * n)
    return None if chance == 1 else (observed - chance) / (1 - chance)


def compare_labels(con: duckdb.DuckDBPyConnection, roots: tuple[Path, Path], table: Table) -> dict[str, Any]:
    """Compare a label file: per observation the 4x4 table (ours x theirs), agreement, kappa; rows in one only."""
    ours, theirs = (load(con, side, root, table) for side, root in zip(("ours", "theirs"), roots, strict=True))
    if ours.error == "missing" or theirs.error == "missing":
        missing = "both" if ours.error == theirs.error else ("ours" if ours.error else "theirs")
        return {"file_ours": ours.file, "file_theirs": theirs.file, "missing": missing}
    skip = {table.key, "subject_id"}
    common = [c for c in ours.columns if c in theirs.columns and c not in skip]
    order = {name: i for i, name in enumerate(OBSERVATIONS)}
    observations = sorted(common, key=lambda c: (order.get(c, len(order)), c))
    has_subject = "subject_id" in ours.columns and "subject_id" in theirs.columns
    compared(con, ["subject_id"] if has_subject else [])
    part = _rows_part(con, ours, theirs, table)
    part["subject_differs"] = len(run(con, "value_differences")) if has_subject else 0
    if observations:  # none when a side is unreadable: nothing to pair
        compared_labels(con, observations, has_subject)
    confusion = run(con, "label_confusion") if observations else []
    disagreements = run(con, "label_disagreements") if observations else []
    part["values"] = list(VALUES)
    part["observations"] = []
    for obs in observations:
        cells = {(r["ours"], r["theirs"]): r["studies"] for r in confusion if r["observation"] == obs}
        grid = [[cells.get((o, t), 0) for t in VALUES] for o in VALUES]
        pairs = sum(cells.values())
        agree = sum(n for (o, t), n in cells.items() if o == t)
        rows = [r for r in disagreements if r["observation"] == obs]
        part["observations"].append({
            "observation": obs, "table": grid, "compared": pairs,
            "agreement": agree / pairs if pairs else None, "kappa": kappa(grid), "disagree": len(rows),
            "invalid_ours": sum(n for (o, _), n in cells.items() if o == "invalid"),
            "invalid_theirs": sum(n for (_, t), n in cells.items() if t == "invalid"),
            "examples": [{k: r[k] for k in ("subject_id", "study_id", "ours", "theirs")} for r in rows[:EXAMPLES]],
        })
    part["disagree"] = len(disagreements)
    part["_disagreements"] = disagreements
    return part


def compared_labels(con: duckdb.DuckDBPyConnection, observations: list[str], has_subject: bool) -> None:
    """``ours`` / ``theirs`` for label_pairs: key, subject_id (NULL when a file has none), the observations."""
    compared(con, observations, "subject_id" if has_subject else "NULL::VARCHAR AS subject_id")
    con.execute(sqlfiles.read("diff/label_pairs.sql"))
