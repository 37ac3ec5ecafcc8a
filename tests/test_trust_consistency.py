"""One definition of "current" (the plan.* views) for convert, label and status; a release that is consistent with
itself: every labeled study has a released image."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

from conftest import DICOMS, REPORT, build_source, dicom_id

from cxrdb.build import build
from cxrdb.catalog import Catalog
from cxrdb.check import check_catalog
from cxrdb.convert.run import convert, plan
from cxrdb.ingest import ingest
from cxrdb.labeling.run import label
from cxrdb.status import status


def _stage(cat: Catalog, name: str) -> dict:
    return next(s for s in status(cat).stages if s["stage"] == name)


def test_status_pending_is_what_convert_converts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build_source(src, broken=False)
    out = tmp_path / "out"
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, src, workers=1)
        assert _stage(cat, "convert: images")["pending"] == len(DICOMS)
        convert(cat, out, workers=1)
        assert _stage(cat, "convert: images")["pending"] == 0
        dcm = sorted(src.rglob("*.dcm"))[0]
        dcm.write_bytes(dcm.read_bytes() + b"\0\0")  # one DICOM changes
        ingest(cat, src, workers=1)
        stage = _stage(cat, "convert: images")
        todo = plan(cat, out.resolve()).todo  # failed images are retried by default; status counts them apart
        assert stage["pending"] == sum(t["state"] != "failed" for t in todo) == 1
        assert stage["failed"] == sum(t["state"] == "failed" for t in todo)
        assert convert(cat, out, workers=1)["converted"] == 1
        assert _stage(cat, "convert: images")["pending"] == 0


def test_status_pending_labels_is_what_label_labels(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build_source(src, broken=False)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, src, workers=1)
        label(cat, ("chexpert",), workers=1)
        assert _stage(cat, "label: chexpert")["pending"] == 0
        report = sorted(src.rglob("*.txt"))[0]
        report.write_text(REPORT.replace("No acute cardiopulmonary process.", "Small left effusion."))
        ingest(cat, src, workers=1)
        assert _stage(cat, "label: chexpert")["pending"] == 1
        assert label(cat, ("chexpert",), workers=1)["chexpert_labeled"] == 1
        assert _stage(cat, "label: chexpert")["pending"] == 0


def test_label_files_name_only_studies_with_a_released_image(tmp_path: Path) -> None:
    src = tmp_path / "src"
    build_source(src, broken=False)
    files = src / "files" / "p11" / "p11000000"
    (files / "s51000001").mkdir(parents=True)
    (files / "s51000001.txt").write_text(REPORT)  # a report with no images
    (files / "s51000002").mkdir()
    shutil.copyfile(DICOMS[0], files / "s51000002" / f"{dicom_id(900)}.dcm")  # images, no report
    (files / "s51000003").mkdir()
    (files / "s51000003.txt").write_text(REPORT)  # a report whose only image cannot be converted
    broken = DICOMS[0].read_bytes()
    (files / "s51000003" / f"{dicom_id(901)}.dcm").write_bytes(broken[: len(broken) - 4000])
    out = tmp_path / "release"
    build(src, out, workers=1)
    for name in ("chexpert", "negbio"):
        with gzip.open(out / f"mimic-cxr-2.0.0-{name}.csv.gz", "rt") as fh:
            studies = {int(line.split(",")[1]) for line in list(fh)[1:]}
        assert 51000001 not in studies and 51000002 not in studies
        with Catalog.open(out.parent / "release.duckdb", read_only=True) as cat:
            failed = cat.scalar("SELECT count(*) FROM work.jpg WHERE dicom_id = ?", [dicom_id(901)])
            converted_ok = cat.scalar("SELECT count(*) FROM work.jpg WHERE dicom_id = ? AND error IS NULL",
                                      [dicom_id(901)])
        if failed and not converted_ok:
            assert 51000003 not in studies
    with Catalog.open(out.parent / "release.duckdb", read_only=True) as cat:
        note = _stage(cat, "studies: image + report")["note"]
        assert note.startswith("1 studies without a report, ")
        assert "reports without images" in note and not note.endswith(" 0 reports without images")
        assert all(r["problems"] == 0 for r in check_catalog(cat))
    readme = (out / "README").read_text()
    assert "studies without a report" in readme
