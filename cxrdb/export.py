"""Write release files from the release views: deterministic bytes (sorted rows, gzip without timestamp)."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import atomic
from .catalog import Catalog
from .errors import CxrdbError

# release view -> published file name
TABLES = {
    "release.metadata": "mimic-cxr-2.0.0-metadata.csv.gz",
    "release.split": "mimic-cxr-2.0.0-split.csv.gz",
    "release.chexpert": "mimic-cxr-2.0.0-chexpert.csv.gz",
    "release.negbio": "mimic-cxr-2.0.0-negbio.csv.gz",
}
# views exported only once their stage has run: view -> query that is non-zero when it has
STAGE_DONE = {
    "release.split": "SELECT count(*) FROM work.split",
    "release.chexpert": "SELECT count(*) FROM work.labels WHERE labeler = 'chexpert'",
    "release.negbio": "SELECT count(*) FROM work.labels WHERE labeler = 'negbio'",
}


def format_value(value: Any) -> str:
    """Format a cell as pandas' ``to_csv`` writes it: empty for NULL, repr for floats."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV text (minimal quoting, ``\\n`` line ends) as UTF-8 bytes."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    writer.writerows([format_value(v) for v in row] for row in rows)
    return buf.getvalue().encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    """Gzip with no file name and mtime 0, so equal input gives equal bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def write_atomic(path: Path, data: bytes) -> None:
    """Write bytes to ``path`` through a temp file in the same folder and a rename; one-line CxrdbError."""
    try:
        atomic.write_atomic(str(path), data)
    except atomic.WriteError as exc:
        raise CxrdbError(f"cannot write {path}: {exc}") from None


def export_table(cat: Catalog, view: str, path: Path) -> int:
    """Export one release view to a .csv.gz file; return its row count."""
    columns, rows = cat.query(f"SELECT * FROM {view}")
    data = csv_bytes(columns, rows)
    write_atomic(path, gzip_bytes(data) if path.suffix == ".gz" else data)
    return len(rows)


def export_parquet(cat: Catalog, view: str, path: Path) -> int:
    """Export one release view to Parquet (zstd), column names with underscores for Spark and BigQuery."""
    import pyarrow.parquet as pq

    try:
        table = cat.con.sql(f"SELECT * FROM {view}").to_arrow_table()
    except Exception as exc:  # duckdb.Error, pyarrow errors
        raise CxrdbError(f"cannot export {view}: {exc}") from None
    table = table.rename_columns([c.replace(" ", "_") for c in table.column_names])
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, compression="zstd")
    write_atomic(path, buf.getvalue().to_pybytes())
    return table.num_rows


def export_image_filenames(cat: Catalog, out: Path) -> int | None:
    """Write IMAGE_FILENAMES: sorted relative paths of the JPGs that exist under ``out``; None if none were
    converted into ``out``."""
    _, rows = cat.query("SELECT jpg_path FROM release.image_filenames WHERE out_root = ?", [str(out)])
    if not rows:
        return None
    paths = [p for (p,) in rows if (out / p).is_file()]
    write_atomic(out / "IMAGE_FILENAMES", "".join(f"{p}\n" for p in paths).encode("utf-8"))
    return len(paths)


FORMATS = ("csv", "parquet", "both")


def export(cat: Catalog, out: str | Path, fmt: str = "csv") -> dict[str, int]:
    """Write every release file the catalog can produce into ``out``; return {file name: rows}.

    ``fmt``: csv (the published .csv.gz files), parquet (one .parquet per table instead) or both.
    """
    if fmt not in FORMATS:
        raise CxrdbError(f"unknown format {fmt!r}: use csv, parquet or both")
    out = Path(out).expanduser().resolve()
    written: dict[str, int] = {}
    for view, name in TABLES.items():
        if view in STAGE_DONE and not cat.scalar(STAGE_DONE[view]):
            continue  # that stage has not run
        if fmt in ("csv", "both"):
            written[name] = export_table(cat, view, out / name)
        if fmt in ("parquet", "both"):
            pq_name = name.removesuffix(".csv.gz") + ".parquet"
            written[pq_name] = export_parquet(cat, view, out / pq_name)
    images = export_image_filenames(cat, out)
    if images is not None:
        written["IMAGE_FILENAMES"] = images
    return written
