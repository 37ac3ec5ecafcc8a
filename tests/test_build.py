"""`cxrdb build` on a source of real public files: every published file, checksums, rebuilds, loaders."""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_source

from cxrdb.build import build
from cxrdb.errors import CxrdbError

LABELS = ["Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Enlarged Cardiomediastinum", "Fracture",
          "Lung Lesion", "Lung Opacity", "No Finding", "Pleural Effusion", "Pleural Other", "Pneumonia",
          "Pneumothorax", "Support Devices"]
HEADERS = {
    "mimic-cxr-2.0.0-metadata.csv.gz": "dicom_id,subject_id,study_id,PerformedProcedureStepDescription,ViewPosition,"
    "Rows,Columns,StudyDate,StudyTime,ProcedureCodeSequence_CodeMeaning,ViewCodeSequence_CodeMeaning,"
    "PatientOrientationCodeSequence_CodeMeaning",
    "mimic-cxr-2.0.0-split.csv.gz": "dicom_id,study_id,subject_id,split",
    "mimic-cxr-2.0.0-chexpert.csv.gz": ",".join(["subject_id", "study_id", *LABELS]),
    "mimic-cxr-2.0.0-negbio.csv.gz": ",".join(["subject_id", "study_id", *LABELS]),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("build")
    source = work / "src"
    build_source(source, broken=True)
    license_file = work / "LICENSE"
    license_file.write_text("test license\n")
    test_set = work / "test-set.csv"
    test_set.write_text(",".join(["study_id", *LABELS]) + "\n" + "50000003,,1.0,,,,,,,,,,,,\n")
    outs = []
    for name in ("a", "b"):
        summary = build(source, work / name / "release", validate_patients=2, workers=2, license_file=license_file,
                        test_set=test_set)
        outs.append((work / name / "release", summary))
    return outs


def test_every_published_file_with_exact_names_and_headers(built) -> None:
    out, _ = built[0]
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([*HEADERS, "IMAGE_FILENAMES", "LICENSE.txt", "README", "SHA256SUMS.txt", "files",
                            "mimic-cxr-2.1.0-test-set-labeled.csv", "sections"])
    assert sorted(p.name for p in (out / "sections").iterdir()) == [
        "mimic_cxr_00.csv", "mimic_cxr_sectioned.csv", "mimic_cxr_sections.csv"]
    for name, header in HEADERS.items():
        with gzip.open(out / name, "rt", newline="") as fh:
            assert fh.readline() == header + "\n", name


def test_sha256sums_passes_and_covers_every_file(built) -> None:
    out, _ = built[0]
    proc = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS.txt"], cwd=out, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed = {line.split(" ", 1)[1] for line in (out / "SHA256SUMS.txt").read_text().splitlines()}
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} - {"SHA256SUMS.txt"}
    assert listed == on_disk


def test_two_builds_are_byte_identical(built) -> None:
    (a, _), (b, _) = built
    files_a = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert files_a == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_no_patient_crosses_splits_and_readme_reports_failures(built) -> None:
    out, _ = built[0]
    split = pd.read_csv(out / "mimic-cxr-2.0.0-split.csv.gz")
    assert split.groupby("subject_id")["split"].nunique().max() == 1
    test_patient = split.loc[split["study_id"] == 50000003, "subject_id"].iloc[0]
    assert set(split.loc[split["subject_id"] == test_patient, "split"]) == {"test"}  # the labeled test set's
    readme = (out / "README").read_text()
    assert "Failures (" in readme and "undecodable pixel data" in readme and "cxrdb: " in readme


def test_pandas_and_torchxrayvision_expectations(built) -> None:
    """What torchxrayvision's MIMIC_Dataset does with the files, without torch: join, views, paths."""
    out, _ = built[0]
    labels = pd.read_csv(out / "mimic-cxr-2.0.0-chexpert.csv.gz")
    meta = pd.read_csv(out / "mimic-cxr-2.0.0-metadata.csv.gz")
    assert list(labels.columns) == ["subject_id", "study_id", *LABELS]
    values = {v for v in labels[LABELS].to_numpy().ravel() if v == v}  # NaN (blank) is the fourth value
    assert values <= {1.0, 0.0, -1.0} and values
    joined = labels.set_index(["subject_id", "study_id"]).join(meta.set_index(["subject_id", "study_id"]),
                                                               how="inner").reset_index()
    assert len(joined) == len(meta)
    assert {"ViewPosition", "StudyDate", "dicom_id", "No Finding"} <= set(joined.columns)
    for _, row in joined.iterrows():
        subject, study = str(row["subject_id"]), str(row["study_id"])
        path = os.path.join(out / "files", "p" + subject[:2], "p" + subject, "s" + study, row["dicom_id"] + ".jpg")
        assert os.path.isfile(path), path
    listed = (out / "IMAGE_FILENAMES").read_text().splitlines()
    assert sorted(f"files/p{str(s)[:2]}/p{s}/s{st}/{d}.jpg" for s, st, d in
                  meta[["subject_id", "study_id", "dicom_id"]].itertuples(index=False)) == listed


def test_parquet_tables_match_the_csvs(tmp_path: Path, built) -> None:
    source = tmp_path / "src"
    build_source(source, broken=False)
    out = tmp_path / "release"
    build(source, out, fmt="both", workers=1)
    for name in HEADERS:
        csv_df = pd.read_csv(out / name)
        pq_df = pd.read_parquet(out / name.replace(".csv.gz", ".parquet"))
        assert list(pq_df.columns) == [c.replace(" ", "_") for c in csv_df.columns]
        assert len(pq_df) == len(csv_df)


def test_other_build_folder_is_refused_unless_forced(tmp_path: Path) -> None:
    source = tmp_path / "src"
    build_source(source, broken=False)
    out = tmp_path / "release"
    out.mkdir()
    (out / "somebody-elses.txt").write_text("x")
    with pytest.raises(CxrdbError, match="another build"):
        build(source, out, workers=1)
    forced = build(source, out, workers=1, force=True)
    assert forced["stray files (not listed)"] == 1
    assert "somebody-elses.txt" not in (out / "SHA256SUMS.txt").read_text()
    with pytest.raises(CxrdbError, match="did not write"):  # still there: still refused
        build(source, out, workers=1)
    (out / "somebody-elses.txt").unlink()
    again = build(source, out, workers=1)  # our own folder: resumes without --force
    assert again["converted now"] == 0 and again["labeled now"] == 0


def test_full_disk_leaves_no_half_written_release_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from cxrdb import atomic
    from cxrdb.catalog import Catalog
    from cxrdb.export import export
    from cxrdb.ingest import ingest

    source = tmp_path / "src"
    build_source(source, broken=False)
    out = tmp_path / "release"
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, source, workers=1)
        export(cat, out)
        before = (out / "mimic-cxr-2.0.0-metadata.csv.gz").read_bytes()

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(atomic.os, "write", full)
        with pytest.raises(CxrdbError, match="disk full"):
            export(cat, out)
    assert (out / "mimic-cxr-2.0.0-metadata.csv.gz").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS.txt", "mimic-cxr-2.0.0-metadata.csv.gz", "sections"]


def test_check_verifies_a_release_and_finds_tampering(built, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from cxrdb.check import verify_release
    from cxrdb.cli import app

    out, _ = built[0]
    assert all(not v for v in verify_release(out, workers=2).values())
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    jpgs = sorted(copy.rglob("*.jpg"))
    jpgs[0].write_bytes(jpgs[0].read_bytes()[:-1] + b"\x00")
    jpgs[1].unlink()
    (copy / "stray.txt").write_text("x")
    with gzip.open(copy / "mimic-cxr-2.0.0-split.csv.gz", "wt") as fh:
        fh.write("dicom_id,split\n")
    problems = verify_release(copy, workers=1)
    rel = [str(p.relative_to(copy)) for p in jpgs[:2]]
    assert problems["mismatch"] == sorted([rel[0], "mimic-cxr-2.0.0-split.csv.gz"])
    assert problems["missing"] == [rel[1]]
    assert problems["not listed"] == ["stray.txt"]
    assert problems["bad header"] == ["mimic-cxr-2.0.0-split.csv.gz"]
    result = CliRunner().invoke(app, ["check", "--release", str(copy)])
    assert result.exit_code == 1


def test_catalog_checks_catch_a_patient_in_two_splits(built) -> None:
    from cxrdb.catalog import Catalog
    from cxrdb.check import check_catalog

    _out, summary = built[0]
    with Catalog.open(summary["catalog"]) as cat:
        assert all(r["problems"] == 0 for r in check_catalog(cat))
        did, subject = cat.query("SELECT dicom_id, subject_id FROM work.split LIMIT 1")[1][0]
        other = "validate" if cat.scalar("SELECT split FROM work.split WHERE dicom_id = ?", [did]) == "train" \
            else "train"
        cat.query("INSERT INTO work.split VALUES ('extra-image', 1, ?, ?, 'hash')", [subject, other])
        results = {r["check"]: r for r in check_catalog(cat)}
        cat.query("DELETE FROM work.split WHERE dicom_id = 'extra-image'")
    assert results["patient_in_one_split"]["problems"] == 1
    assert results["patient_in_one_split"]["examples"][0]["subject_id"] == subject


def test_tables_stream_in_batches_to_the_bytes_of_one_whole_write(built, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """export writes a table a few rows at a time (full MIMIC's 377k rows never sit in memory at once): cut into
    batches of 2 rows, every table file is byte for byte the gzip of the whole CSV text written in one go."""
    import io

    from cxrdb import export
    from cxrdb.catalog import Catalog

    out, _ = built[0]
    monkeypatch.setattr(export, "FETCH_ROWS", 2)
    with Catalog.open(out.parent / "release.duckdb", read_only=True) as cat:
        for table in export.contract.TABLES:
            name = table.file_name("csv")
            if not (out / name).exists():
                continue
            n = export.export_table(cat, table.view, tmp_path / name)
            columns, rows = cat.query(f"SELECT * FROM {table.view}")
            assert n == len(rows) > 2, name
            whole = io.BytesIO()
            with gzip.GzipFile(filename="", mode="wb", fileobj=whole, mtime=0, compresslevel=9) as gz:
                gz.write(export.csv_bytes(columns, rows))
            assert (tmp_path / name).read_bytes() == whole.getvalue() == (out / name).read_bytes(), name
