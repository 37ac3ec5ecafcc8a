"""Ingest and metadata export on a source of real public DICOMs with broken files beside them."""

from __future__ import annotations

import csv
import gzip
import io
import os
import shutil
from pathlib import Path

import pydicom
import pytest
from conftest import REPORT, build_source

from cxrdb.catalog import Catalog
from cxrdb.errors import CatalogLocked
from cxrdb.export import export
from cxrdb.ingest import ingest

HEADER = [
    "dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition", "Rows",
    "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning", "ViewCodeSequence_CodeMeaning",
    "PatientOrientationCodeSequence_CodeMeaning",
]


@pytest.fixture(scope="module")
def ingested(real_source: tuple[Path, dict[str, Path]], tmp_path_factory: pytest.TempPathFactory):
    root, made = real_source
    db = tmp_path_factory.mktemp("cat") / "c.duckdb"
    with Catalog.open(db) as cat:
        summary = ingest(cat, root, workers=2)
    return db, root, made, summary


def read_metadata(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def expected_row(src: Path) -> dict[str, str]:
    """What the published metadata holds for this file, computed independently with pydicom."""
    ds = pydicom.dcmread(src, stop_before_pixels=True, force=True)

    def s(keyword: str) -> str:
        v = ds.get(keyword)
        return "" if v is None else str(v)

    def seq(keyword: str) -> str:
        items = ds.get(keyword)
        return str(items[0].CodeMeaning) if items and "CodeMeaning" in items[0] else ""

    return {
        "PerformedProcedureStepDescription": s("PerformedProcedureStepDescription"),
        "ViewPosition": s("ViewPosition"),
        "Rows": s("Rows"),
        "Columns": s("Columns"),
        "StudyDate": str(int(ds.StudyDate)) if ds.get("StudyDate") else "",
        "StudyTime": repr(float(ds.StudyTime)) if ds.get("StudyTime") else "",
        "ProcedureCodeSequence_CodeMeaning": seq("ProcedureCodeSequence"),
        "ViewCodeSequence_CodeMeaning": seq("ViewCodeSequence"),
        "PatientOrientationCodeSequence_CodeMeaning": seq("PatientOrientationCodeSequence"),
    }


def test_every_metadata_value_equals_the_header(ingested, tmp_path: Path) -> None:
    db, _root, made, _ = ingested
    with Catalog.open(db) as cat:
        export(cat, tmp_path)
    path = tmp_path / "mimic-cxr-2.0.0-metadata.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        assert fh.readline() == ",".join(HEADER) + "\n"
    rows = read_metadata(path)
    assert sorted(r["dicom_id"] for r in rows) == sorted(made)
    for row in rows:
        want = expected_row(made[row["dicom_id"]])
        assert {k: row[k] for k in want} == want, row["dicom_id"]
    keys = [(int(r["subject_id"]), int(r["study_id"]), r["dicom_id"]) for r in rows]
    assert keys == sorted(keys)


def test_no_file_meta_dicom_is_read(ingested) -> None:
    db, *_ = ingested
    with Catalog.open(db, read_only=True) as cat:
        rows = cat.query("SELECT has_file_meta, TransferSyntaxUID, PhotometricInterpretation, error "
                         "FROM raw.images WHERE has_file_meta = false")[1]
    assert rows == [(False, "1.2.840.10008.1.2", "MONOCHROME1", None)]


def test_broken_files_get_one_line_errors_and_the_rest_goes_on(ingested) -> None:
    db, _root, made, summary = ingested
    assert summary["images_failed"] == 3 and summary["reports_failed"] == 2
    with Catalog.open(db, read_only=True) as cat:
        errors = dict(cat.query("SELECT path, error FROM raw.images WHERE error IS NOT NULL")[1])
        report_errors = dict(cat.query("SELECT path, error FROM raw.reports WHERE error IS NOT NULL")[1])
        problems = dict(cat.query("SELECT path, error FROM raw.source_problems")[1])
        ok = cat.scalar("SELECT count(*) FROM raw.images WHERE error IS NULL")
    assert ok == len(made)
    assert set(errors) == {f"files/p19/p19999999/s59999999/{n}.dcm" for n in ("not-a-dicom", "truncated", "empty")}
    for message in list(errors.values()) + list(report_errors.values()) + list(problems.values()):
        assert "\n" not in message and "Traceback" not in message and message
    assert report_errors["files/p19/p19999999/s59999999.txt"] == "empty report"
    assert report_errors["files/p19/p19999999/s59999998.txt"].startswith("not valid UTF-8")
    assert problems == {"files/p19/stray.dcm": "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/..."}


def test_reports_are_sectioned_and_the_choice_stored(ingested) -> None:
    db, *_ = ingested
    with Catalog.open(db, read_only=True) as cat:
        section, text = cat.query("SELECT section, labeler_text FROM raw.reports WHERE study_id = 50000000")[1][0]
        names = [r[0] for r in cat.query(
            "SELECT name FROM raw.report_sections WHERE study_id = 50000000 ORDER BY idx")[1]]
        fallback = cat.query("SELECT section, labeler_text FROM raw.reports WHERE study_id = 59999997")[1][0]
    assert (section, text) == ("impression", "No acute cardiopulmonary process.")
    assert names == ["preamble", "examination", "indication", "comparison", "findings", "impression"]
    assert fallback == ("last_paragraph", "second para")  # no header at all: documented fallback


def test_two_exports_are_byte_identical(ingested, tmp_path: Path) -> None:
    db, *_ = ingested
    with Catalog.open(db) as cat:
        export(cat, tmp_path / "a")
        export(cat, tmp_path / "b")
    name = "mimic-cxr-2.0.0-metadata.csv.gz"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.endswith(".tmp")]


def test_rerun_skips_unchanged_and_updates_changed(tmp_path: Path) -> None:
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    db = tmp_path / "c.duckdb"
    with Catalog.open(db) as cat:
        first = ingest(cat, root, workers=1)
        before = cat.query("SELECT * FROM raw.images ORDER BY dicom_id")[1]
        again = ingest(cat, root, workers=1)
        assert again["images_read"] == 0 and again["reports_read"] == 0
        assert cat.query("SELECT * FROM raw.images ORDER BY dicom_id")[1] == before
        # replace one image with another real file, and edit one report
        did = sorted(made)[0]
        target = next(root.rglob(f"{did}.dcm"))
        shutil.copyfile(made[sorted(made)[1]], target)
        os.utime(target, ns=(1, 1))
        report = next(root.rglob("s50000001.txt"))
        report.write_text(REPORT.replace("No acute cardiopulmonary process.", "Small left effusion."))
        third = ingest(cat, root, workers=1)
        assert (third["images_read"], third["images_updated"], third["reports_updated"]) == (1, 1, 1)
        assert cat.scalar("SELECT labeler_text FROM raw.reports WHERE study_id = 50000001") == "Small left effusion."
        assert cat.scalar("SELECT count(*) FROM raw.images") == first["images"]


def test_rerun_reads_touched_and_spoiled_files_and_counts_the_gone_ones(tmp_path: Path) -> None:
    root = tmp_path / "src"
    made = build_source(root, broken=False)
    ids = sorted(made)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, root, workers=1)
        with cat.transaction():
            cat.update_columns("raw.images", [{"dicom_id": ids[0], "error": "worker died (killed by signal 9)"}],
                               on=("dicom_id",))
        touched = next(root.rglob(f"{ids[1]}.dcm"))
        os.utime(touched, ns=(1, 1))  # same bytes, another mtime: read again
        next(root.rglob(f"{ids[2]}.dcm")).unlink()
        next(root.rglob("s50000001.txt")).write_text(REPORT + "\n")  # another size
        again = ingest(cat, root, workers=1)
        assert (again["images_read"], again["images_new"], again["images_updated"]) == (2, 1, 1)
        assert again["images_missing"] == 1 and again["images_unchanged"] == again["images"] - 2
        assert (again["reports_read"], again["reports_updated"], again["reports_missing"]) == (1, 1, 0)
        assert cat.scalar("SELECT error FROM raw.images WHERE dicom_id = ?", [ids[0]]) is None
        assert cat.scalar("SELECT file_mtime_ns FROM raw.images WHERE dicom_id = ?", [ids[1]]) == 1


def test_overrides_file(tmp_path: Path) -> None:
    root = tmp_path / "src"
    build_source(root, broken=False)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("study_id,section,start,end\ns50000000,indication,,\n50000001,,0,0\n")
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, root, overrides=overrides, workers=1)
        got = dict((r[0], r[1:]) for r in cat.query(
            "SELECT study_id, section, labeler_text FROM raw.reports WHERE study_id IN (50000000, 50000001)")[1])
        assert got == {50000000: ("override:indication", "___ year old woman with cough."),
                       50000001: ("override:range", "")}
        overrides.write_text("study_id,section,start,end\n")  # removing overrides restores the default choice
        ingest(cat, root, overrides=overrides, workers=1)
        assert cat.scalar("SELECT section FROM raw.reports WHERE study_id = 50000000") == "impression"


def test_second_writer_gets_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    with Catalog.open(db):
        import subprocess
        import sys

        code = ("from cxrdb.catalog import Catalog\n"
                "from cxrdb.errors import CatalogLocked\n"
                f"try:\n    Catalog({str(db)!r})\nexcept CatalogLocked as e:\n    print('LOCKED', e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("LOCKED catalog"), out.stdout + out.stderr
    assert CatalogLocked  # the type the CLI turns into one red line


def test_metadata_csv_loads_with_pandas_style_types(ingested, tmp_path: Path) -> None:
    db, *_ = ingested
    with Catalog.open(db) as cat:
        export(cat, tmp_path)
    data = gzip.decompress((tmp_path / "mimic-cxr-2.0.0-metadata.csv.gz").read_bytes()).decode()
    rows = list(csv.reader(io.StringIO(data)))
    assert all(len(r) == 12 for r in rows)
    times = [r[8] for r in rows[1:] if r[8]]
    assert times and all("." in t for t in times)


def test_raw_header_decoding_equals_pydicom(tmp_path: Path) -> None:
    """The fast raw-bytes decoder gives what pydicom's converted values print, on every real file."""
    from pydicom.multival import MultiValue

    from cxrdb.ingest.headers import _header_values, _read

    checked = 0
    for src in sorted((Path(__file__).parent / "data" / "dicom").glob("*.dcm")):
        fast = _header_values(_read(str(src)))
        ds = pydicom.dcmread(src, stop_before_pixels=True, force=True)
        for keyword, value in fast.items():
            v = ds[keyword].value
            want = "\\".join(str(x) for x in v) if isinstance(v, MultiValue) else str(v)
            assert value == want, (src.name, keyword)
            checked += 1
    assert checked > 300


@pytest.mark.parametrize(("charset", "name", "desc"), [
    ("ISO_IR 192", "Gérard^Müller", "Thorax pä"),
    ("ISO_IR 100", "Gérard^Müller", "Thorax pä"),
    ("ISO 2022 IR 87", "Yamada^Tarou=山田^太郎", "胸部"),
    ("", "Plain^Name", "CHEST PA"),
])
def test_character_sets_decode_like_pydicom(tmp_path: Path, charset: str, name: str, desc: str) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    from cxrdb.ingest.headers import _header_values, _read

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = "1.2.3.4"
    if charset:
        ds.SpecificCharacterSet = charset if " 2022 " not in charset else ["", charset]
    ds.PatientName = name
    ds.StudyDescription = desc
    ds.Rows, ds.Columns = 2, 2
    path = tmp_path / "x.dcm"
    ds.save_as(path, enforce_file_format=True)
    fast = _header_values(_read(str(path)))
    ref = pydicom.dcmread(path)
    assert fast["PatientName"] == str(ref.PatientName)
    assert fast["StudyDescription"] == str(ref.StudyDescription)


def test_reports_under_a_separate_root(tmp_path: Path) -> None:
    images, reports = tmp_path / "images", tmp_path / "reports"
    build_source(images, broken=False)
    for txt in sorted(images.rglob("*.txt")):  # move the reports to their own archive, as MIMIC-CXR ships them
        dest = reports / txt.relative_to(images)
        dest.parent.mkdir(parents=True, exist_ok=True)
        txt.rename(dest)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        summary = ingest(cat, images, reports=reports / "files", workers=1)
        assert summary["reports"] == summary["images"] == len(list(images.rglob("*.dcm")))
        assert cat.scalar("SELECT count(*) FROM raw.reports WHERE section = 'impression'") == summary["reports"]
