"""Write release files from the release views: deterministic bytes (sorted rows, gzip without timestamp)."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from . import atomic, contract
from .catalog import Catalog
from .convert.derivatives import list_name
from .convert.ondisk import OnDisk, sha256_file
from .errors import CxrdbError
from .export_sections import export_sections, remove_empty_folder, stale_batches
from .manifest import ReleaseFolder, claim, folder_sizes, listed_derivatives, listed_jpgs, own_extras, write_checksums
from .selection import remove_outside

# what to write, under which names, once which stage has run: the release contract (cxrdb/contract.py)
FORMATS = tuple(contract.FORMAT_CHOICES)
IMAGE_FILENAMES = contract.IMAGE_FILENAMES
FETCH_ROWS = 20_000  # rows of a table formatted and compressed at a time
table_files = contract.table_files


def format_value(value: Any) -> str:
    """Format a cell as pandas' ``to_csv`` writes it: empty for NULL, repr for floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV text (minimal quoting, ``\\n`` line ends) as UTF-8 bytes."""
    return _csv_lines([columns]) + _csv_lines([format_value(v) for v in row] for row in rows)


def _csv_lines(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows of already formatted cells as CSV lines (minimal quoting, ``\\n`` line ends), UTF-8."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` through a temp file in the same folder and a rename; one-line CxrdbError."""
    try:
        atomic.write_atomic(str(path), data)
    except atomic.WriteError as exc:
        raise CxrdbError(f"cannot write {path}: {exc}") from None


def export_table(cat: Catalog, view: str, path: Path) -> int:
    """Export one release view to a .csv.gz file (a .csv when the name says so); return its row count.

    Rows are fetched, formatted and compressed a batch at a time (the metadata table of full MIMIC is 377k rows:
    held whole as Python objects, text and gzip it cost the parent ~1 GB); deflate's output does not depend on
    how its input is cut, so the bytes are those of compressing the whole text at once."""
    columns, chunks = cat.batches(f"SELECT * FROM {view}", FETCH_ROWS)
    n = 0
    try:
        with atomic.atomic_open(path, "wb") as fh:
            sink = (gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=9)
                    if path.suffix == ".gz" else fh)
            sink.write(_csv_lines([columns]))
            for rows in chunks:
                sink.write(_csv_lines([format_value(v) for v in row] for row in rows))
                n += len(rows)
            if sink is not fh:
                sink.close()  # the gzip trailer, before the file is renamed into place
    except atomic.WriteError as exc:
        raise CxrdbError(f"cannot write {path}: {exc}") from None
    return n


def export_parquet(cat: Catalog, view: str, path: Path) -> int:
    """Export one release view to Parquet (zstd), column names with underscores for Spark and BigQuery."""
    import pyarrow.parquet as pq

    table = cat.arrow(f"SELECT * FROM {view}")
    table = table.rename_columns([contract.bigquery_name(c) for c in table.column_names])
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, compression="zstd")
    write_atomic(path, buf.getvalue().to_pybytes())
    return table.num_rows


def export_image_filenames(out: Path, jpgs: OnDisk, name: str = IMAGE_FILENAMES) -> int:
    """Write IMAGE_FILENAMES (or one size's IMAGE_FILENAMES_N): the sorted relative paths of the intact JPGs."""
    paths = sorted(r["jpg_path"] for r in jpgs.current)
    write_atomic(out / name, "".join(f"{p}\n" for p in paths).encode("utf-8"))
    return len(paths)


#: what the bytes of a table file depend on besides its rows: this module's code and the libraries that write them
_WRITER = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16] + f":{pa.__version__}"


def _fingerprint(cat: Catalog, view: str, form: str) -> tuple[int, str]:
    """(rows, a fingerprint of the view's content as the file ``form`` would hold it): its columns and the sum of
    its rows' hashes, computed in the catalog. The rows' order is fixed by the view, so equal content means equal
    bytes; a catalog of another DuckDB version (another hash) only means one needless rewrite."""
    columns = cat.query(f"SELECT * FROM {view} LIMIT 0")[0]
    n, total = cat.query(f"SELECT count(*), sum(hash(v)) FROM (SELECT * FROM {view}) AS v")[1][0]
    return n, f"{_WRITER}:{duckdb.__version__}:{form}:{','.join(columns)}:{n}:{total}"


def _export_file(cat: Catalog, view: str, path: Path, form: str, folder: ReleaseFolder) -> int:
    """Write one table file unless the file there is the one an earlier export wrote from the same content (same
    fingerprint, same sha256: a few MB hashed instead of every row formatted and compressed); return its rows."""
    n, fingerprint = _fingerprint(cat, view, form)
    key = f"export:{path}"
    recorded = cat.get_setting(key)
    if recorded is not None and folder.stat(path.name) is not None:
        fp, _, digest = recorded.rpartition("|")
        try:
            if fp == fingerprint and sha256_file(path) == digest:
                return n
        except OSError:
            pass
    (export_parquet if form == "parquet" else export_table)(cat, view, path)
    st = os.stat(path)
    folder.wrote(path.name, st.st_size, st.st_mtime_ns)
    cat.set_setting(key, f"{fingerprint}|{sha256_file(path)}")
    return n


def check_format(fmt: str) -> None:
    """Refuse an unknown export format (before any work)."""
    if fmt not in FORMATS:
        raise CxrdbError(f"unknown format {fmt!r}: use {', '.join(FORMATS[:-1])} or {FORMATS[-1]}")


@dataclass
class Exported:
    """What export wrote: rows per file, the intact JPGs it listed, and the JPGs it left out (missing or changed
    on disk since they were converted); ``derived``: the same per size of smaller copies (``--size``)."""

    files: dict[str, int]
    jpgs: OnDisk
    removed: list[str]
    listed: int = 0  # lines of SHA256SUMS.txt, once export() wrote it
    derived: dict[int, OnDisk] = field(default_factory=dict)
    outside_removed: int = 0  # JPGs and copies removed: outside the selection in force (cxrdb/selection.py)


def export_tables(cat: Catalog, out: str | Path, fmt: str = "csv", folder: ReleaseFolder | None = None) -> Exported:
    """Write every release file the catalog can produce into ``out`` (not SHA256SUMS.txt).

    ``fmt``: csv (the published .csv.gz files), parquet (one .parquet per table instead) or both. Release files
    of an earlier export that this one does not write (another format, a stage since emptied) are removed, so the
    folder never holds a table that disagrees with the catalog. ``folder``: ``out`` as this run has read it (a
    build's one walk; read now when not given).
    """
    check_format(fmt)
    out = Path(out).expanduser().resolve()
    folder = folder or ReleaseFolder.read(out)
    jpgs = listed_jpgs(cat, out, folder)
    derived = listed_derivatives(cat, out, folder)
    stale = [*jpgs.stale, *(s for d in derived.values() for s in d.stale)]
    if stale:  # the tables would name images whose JPG is not there: write nothing
        raise CxrdbError(f"{len(stale)} JPG(s) under {out} are missing or changed since they were converted "
                         f"(e.g. {stale[0][0]['jpg_path']}): run `cxrdb convert` (or `build`) to write them "
                         "again; nothing was exported")
    claim(cat, out)
    outside = remove_outside(cat, out, folder)  # a narrower selection than the last export's
    written: dict[str, int] = {}
    for table in contract.TABLES:
        if table.ready and not cat.scalar(table.ready):
            continue  # that stage has not run
        for form in contract.FORMAT_CHOICES[fmt]:
            name = table.file_name(form)
            written[name] = _export_file(cat, table.view, out / name, form, folder)
    if jpgs.current:
        written[IMAGE_FILENAMES] = export_image_filenames(out, jpgs)
        st = os.stat(out / IMAGE_FILENAMES)
        folder.wrote(IMAGE_FILENAMES, st.st_size, st.st_mtime_ns)
    for size, disk in derived.items():
        if disk.current:
            name = list_name(size)
            written[name] = export_image_filenames(out, disk, name)
            st = os.stat(out / name)
            folder.wrote(name, st.st_size, st.st_mtime_ns)
    written.update(export_sections(cat, out, folder))
    lists = [list_name(n) for n in folder_sizes(cat, out)]  # a size whose copies all failed or went stale
    removed = [n for n in [*table_files(), *lists] if n not in written and (out / n).is_file()]
    removed += stale_batches(folder, written)
    for name in removed:
        (out / name).unlink()
        folder.wrote(name)
    remove_empty_folder(out)
    return Exported(written, jpgs, removed, derived=derived, outside_removed=outside)


def export(cat: Catalog, out: str | Path, fmt: str = "csv", folder: ReleaseFolder | None = None) -> Exported:
    """Write the release tables and SHA256SUMS.txt over exactly the files the release names."""
    out = Path(out).expanduser().resolve()
    result = export_tables(cat, out, fmt, folder)
    listed = write_checksums(out, result.jpgs, [*result.files, *own_extras(cat, out)], result.derived.values())
    return replace(result, listed=listed)
