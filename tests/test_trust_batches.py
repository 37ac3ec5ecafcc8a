"""A batch is typed by the table it goes into: a failing first item never blanks the items after it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DICOMS, REPORT, dicom_id

from cxrdb.catalog import Catalog
from cxrdb.ingest import ingest

# table -> (a failed item: only what a failed worker returns, a complete item, the columns to check)
FAILED_FIRST = {
    "raw.images": (
        {"dicom_id": "a", "subject_id": 1, "study_id": 1, "path": "p/a.dcm", "error": "unreadable DICOM header"},
        {"dicom_id": "b", "subject_id": 1, "study_id": 1, "path": "p/b.dcm", "error": None, "Rows": 2048,
         "Columns": 1024, "ViewPosition": "PA", "StudyDate": "21800101", "header": '{"Modality": "CR"}'},
        ("Rows", "Columns", "ViewPosition", "StudyDate", "header"),
    ),
    "raw.reports": (
        {"study_id": 1, "subject_id": 1, "path": "p/s1.txt", "error": "empty report"},
        {"study_id": 2, "subject_id": 1, "path": "p/s2.txt", "error": None, "text": "x", "section": "impression",
         "labeler_text": "No effusion."},
        ("text", "section", "labeler_text"),
    ),
    "raw.report_sections": (
        {"study_id": 1, "idx": 0, "name": "", "start": 0, "text": ""},
        {"study_id": 2, "idx": 0, "name": "impression", "start": 7, "text": "No effusion."},
        ("name", "start", "text"),
    ),
    "work.jpg": (
        {"dicom_id": "a", "error": "worker died (killed by signal 9)"},
        {"dicom_id": "b", "jpg_path": "files/b.jpg", "jpg_bytes": 10, "jpg_sha256": "0" * 64, "error": None,
         "decoder": "pydicom", "source_size": 5, "source_mtime_ns": 6, "params": "jpg1", "out_root": "/r"},
        ("jpg_path", "jpg_bytes", "jpg_sha256", "decoder", "source_size", "params", "out_root"),
    ),
    "work.labels": (
        {"study_id": 1, "labeler": "chexpert", "text_sha256": "x", "rules": "r", "parse_failures": 0},
        {"study_id": 2, "labeler": "chexpert", "text_sha256": "y", "rules": "r", "parse_failures": 1,
         "Edema": 1.0, "No Finding": None, "Pleural Effusion": -1.0},
        ("parse_failures", "Edema", "Pleural Effusion"),
    ),
    "work.label_evidence": (
        {"study_id": 1, "labeler": "chexpert"},
        {"study_id": 2, "labeler": "chexpert", "sentence_index": 0, "sentence": "edema.", "start": 0, "end": 5,
         "phrase": "edema", "observation": "Edema", "label": 1.0, "rule": "mention"},
        ("sentence", "start", "end", "phrase", "label", "rule"),
    ),
    "work.split": (
        {"dicom_id": "a", "study_id": 1, "subject_id": 1, "split": "train", "origin": "hash"},
        {"dicom_id": "b", "study_id": 2, "subject_id": 1, "split": "test", "origin": "test-set"},
        ("split", "origin"),
    ),
}


@pytest.mark.parametrize("table", sorted(FAILED_FIRST))
def test_failed_first_row_keeps_the_rest_of_the_batch(tmp_path: Path, table: str) -> None:
    failed, good, check = FAILED_FIRST[table]
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        with cat.transaction():
            cat.write_rows(table, [failed, good])
        key = next(iter(good))
        cols = ", ".join(f'"{c}"' for c in check)
        _, rows = cat.query(f'SELECT {cols} FROM {table} WHERE "{key}" = ?', [good[key]])
        row = rows[0]
    want = tuple(good.get(c) for c in check)
    if "header" in check:  # JSON comes back as text
        row = tuple(str(v) if c == "header" else v for c, v in zip(check, row, strict=True))
    assert row == want


def test_every_batch_written_table_is_covered() -> None:
    """A new table written in batches gets its failed-first case here."""
    written = {"raw.images", "raw.reports", "raw.report_sections", "work.jpg", "work.labels", "work.label_evidence",
               "work.split"}
    assert written <= set(FAILED_FIRST)


def test_ingest_keeps_headers_when_the_first_file_of_a_batch_is_truncated(tmp_path: Path) -> None:
    """The hostile case: a study whose first .dcm in path order is cut inside its header."""
    study = tmp_path / "src" / "files" / "p10" / "p10000001" / "s50000001"
    study.mkdir(parents=True)
    (study.parent / "s50000001.txt").write_text(REPORT)
    good = [d for d in DICOMS if "JPEG" not in d.name.upper()][:1] or DICOMS[:1]
    (study / "00000000-00000000-00000000-00000000-00000000.dcm").write_bytes(good[0].read_bytes()[:130])
    for n in range(1, 23):
        shutil.copyfile(good[0], study / f"{dicom_id(n)}.dcm")
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        summary = ingest(cat, tmp_path / "src", workers=1)
        _, counts = cat.query('SELECT count(*), count(error), count("Rows") FROM raw.images')
        rows, failed, with_rows = counts[0]
        _, meta = cat.query('SELECT count("Rows"), count(ViewPosition) FROM release.metadata')
    assert summary["images_failed"] == 1
    assert (rows, failed, with_rows) == (23, 1, 22)
    assert meta[0][0] == 22
