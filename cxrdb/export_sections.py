"""Write the report-section files of MIT-LCP/mimic-cxr's ``create_section_files.py`` into a release's ``sections/``
folder (``contract.SECTION_FILES``): ``mimic_cxr_sectioned.csv``, the headerless labeler-input batches
``mimic_cxr_NN.csv`` and all their rows as ``mimic_cxr_sections.csv``, byte for byte as its ``csv.writer`` wrote
them (excel dialect: minimal quoting, ``\\r\\n`` after each row, newlines inside a quoted field kept as they are;
UTF-8). Each file is written atomically and only when its content changed (a fingerprint computed in the catalog,
as export does for the tables)."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb

from . import atomic, contract
from .catalog import Catalog
from .convert.ondisk import sha256_file
from .errors import CxrdbError
from .manifest import ReleaseFolder

#: what the bytes depend on besides the rows: this module's code and the DuckDB version (its hash())
_WRITER = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16] + f":{duckdb.__version__}"
#: the rows' order follows the report paths, so the paths are part of every fingerprint (a report moved to
#: another patient folder keeps its row but may change its place)
_ORDER = "SELECT count(*), sum(hash(path)) FROM stg.reports"


def section_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]], header: bool) -> bytes:
    """CSV as the original's ``csv.writer(fp)`` wrote it on Linux (None is an empty field), as UTF-8 bytes."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    if header:
        writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _fingerprint(cat: Catalog, view: str, order: str) -> tuple[int, str]:
    """(rows, a fingerprint of the view's content and order), computed in the catalog."""
    columns = cat.query(f"SELECT * FROM {view} LIMIT 0")[0]
    n, total = cat.query(f"SELECT count(*), sum(hash(v)) FROM (SELECT * FROM {view}) AS v")[1][0]
    return n, f"{_WRITER}:{','.join(columns)}:{n}:{total}:{order}"


def _is_current(cat: Catalog, folder: ReleaseFolder, out: Path, name: str, fingerprint: str) -> bool:
    """Whether the file there is the one an earlier export wrote from the same content (and nobody changed it)."""
    recorded = cat.get_setting(f"export:{out / name}")
    if recorded is None or folder.stat(name) is None:
        return False
    fp, _, digest = recorded.rpartition("|")
    try:
        return fp == fingerprint and sha256_file(out / name) == digest
    except OSError:
        return False


def _write(cat: Catalog, folder: ReleaseFolder, out: Path, name: str, fingerprint: str, data: bytes) -> None:
    path = out / name
    try:
        atomic.write_atomic(str(path), data)
    except atomic.WriteError as exc:
        raise CxrdbError(f"cannot write {path}: {exc}") from None
    st = os.stat(path)
    folder.wrote(name, st.st_size, st.st_mtime_ns)
    cat.set_setting(f"export:{path}", f"{fingerprint}|{hashlib.sha256(data).hexdigest()}")


def export_sections(cat: Catalog, out: Path, folder: ReleaseFolder) -> dict[str, int]:
    """Write every sections file the catalog has rows for (none when it has no readable report); return
    {name: rows}. A file whose content did not change is left as it is."""
    written: dict[str, int] = {}
    order: str | None = None
    fetched: dict[str, tuple[list[str], list[tuple]]] = {}  # view -> (columns, rows), read once
    for spec in contract.SECTION_FILES:
        if spec.ready and not cat.scalar(spec.ready):
            continue
        if order is None:
            order = ":".join(str(v) for v in cat.query(_ORDER)[1][0])
        n, fingerprint = _fingerprint(cat, spec.view, order)
        if spec.batch_rows is None:
            parts = [(spec.name, fingerprint, 0, n)]
        else:
            size = spec.batch_rows
            parts = [(spec.batch_name(k), f"{fingerprint}:{size}:{k}", k * size, min(n, (k + 1) * size))
                     for k in range(math.ceil(n / size))]
        todo = [p for p in parts if not _is_current(cat, folder, out, p[0], p[1])]
        if todo:
            if spec.view not in fetched:
                fetched[spec.view] = cat.query(f"SELECT * FROM {spec.view}")
            columns, rows = fetched[spec.view]
            for name, fp, start, end in todo:
                _write(cat, folder, out, name, fp, section_csv(columns, rows[start:end], spec.has_header))
        written.update((name, end - start) for name, _, start, end in parts)
    return written


def stale_batches(folder: ReleaseFolder, written: dict[str, int]) -> list[str]:
    """Numbered batch files in the folder that this export did not write (an earlier export had more rows)."""
    batched = [f for f in contract.SECTION_FILES if f.batch_rows]
    return [n for n in folder.files() if n.startswith(f"{contract.SECTIONS_DIR}/") and n not in written
            and any(f.batch_number(n) is not None for f in batched)]


def remove_empty_folder(out: Path) -> None:
    """Remove ``sections/`` once export has emptied it."""
    with contextlib.suppress(OSError):  # absent, or holds other files
        (out / contract.SECTIONS_DIR).rmdir()
