"""Subset builds: a selection converts, labels and exports only its images, with the full build's bytes and split."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import build_source

from cxrdb.build import build
from cxrdb.catalog import Catalog
from cxrdb.check import verify_release
from cxrdb.errors import CxrdbError
from cxrdb.selection import Selection, read_ids, selection_from_options


def cxrdb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, timeout=300)
TABLES = ("mimic-cxr-2.0.0-metadata.csv.gz", "mimic-cxr-2.0.0-split.csv.gz", "mimic-cxr-2.0.0-chexpert.csv.gz",
          "mimic-cxr-2.0.0-negbio.csv.gz")


def _table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(gzip.decompress((out / name).read_bytes())), dtype=str, keep_default_na=False)


def _listed(out: Path) -> list[str]:
    return (out / "IMAGE_FILENAMES").read_text().splitlines()


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("subset")
    source = work / "src"
    build_source(source, broken=True)
    full = build(source, work / "full" / "release", validate_patients=2, workers=2)
    # a careless user's list: a header, blank lines, a prefixed id, an id the catalog lacks
    ids = work / "subjects.txt"
    ids.write_text("subject_id\n\n10000001\np10000004\n  \n10999999\n")
    sub = build(source, work / "sub" / "release", validate_patients=2, workers=2,
                selection=Selection(subjects=read_ids(ids, "subject")))
    return work, source, full, sub


def test_subset_has_only_selected_images_with_the_full_builds_bytes_and_split(builds) -> None:
    work, _, _, sub = builds
    full_out, sub_out = work / "full" / "release", work / "sub" / "release"
    meta = _table(sub_out, TABLES[0])
    full_meta = _table(full_out, TABLES[0])
    expected = full_meta[full_meta["subject_id"].isin(["10000001", "10000004"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(meta, expected)
    assert len(meta) >= 4
    for name in TABLES:  # every row of the subset's table is the full build's row, byte for byte
        full_rows = (full_out / name).read_bytes()
        full_lines = set(gzip.decompress(full_rows).decode().splitlines())
        sub_lines = gzip.decompress((sub_out / name).read_bytes()).decode().splitlines()
        assert sub_lines[0] in full_lines  # header
        assert set(sub_lines) <= full_lines, name
    assert len(full_meta) > len(meta)
    listed = _listed(sub_out)
    assert listed == [r for r in _listed(full_out) if r.split("/")[2] in ("p10000001", "p10000004")]
    for rel in listed:
        assert (sub_out / rel).read_bytes() == (full_out / rel).read_bytes(), rel
    on_disk = sorted(str(p.relative_to(sub_out)) for p in (sub_out / "files").rglob("*.jpg"))
    assert on_disk == sorted(listed)  # nothing else was converted
    assert sub.converted_now == len(listed)


def test_split_is_assigned_over_the_whole_catalog(builds) -> None:
    work, _, _, _ = builds
    with Catalog.open(work / "sub" / "release.duckdb", read_only=True) as cat:
        n_split = cat.scalar("SELECT count(*) FROM work.split")
        n_images = cat.scalar("SELECT count(*) FROM stg.images")
        labeled = cat.scalar("SELECT count(DISTINCT study_id) FROM work.labels")
    assert n_split == n_images > 6
    assert labeled == 6  # only the selected studies were labeled


def test_readme_records_the_selection_and_missing_ids(builds) -> None:
    work, _, _, sub = builds
    readme = (work / "sub" / "release" / "README").read_text()
    assert "Selection\n---------" in readme
    assert "subject ids: 3 from subjects.txt" in readme
    assert "selected: 6 images, 6 studies, 2 patients" in readme
    n = len(_listed(work / "sub" / "release"))
    assert f"in the release: {n} images, {n} studies, 2 patients" in readme  # less the failed conversions
    assert "subject ids not in the catalog: 1 (p10999999)" in readme
    summary = sub.summary()
    assert summary["selected"] == "6 images, 6 studies, 2 patients"
    assert summary["subject ids not in the catalog"] == "1 (p10999999)"
    full_readme = (work / "full" / "release" / "README").read_text()
    assert "Selection" not in full_readme


def test_status_shows_the_selection_in_force(builds) -> None:
    work, _, _, _ = builds
    from cxrdb.status import status

    with Catalog.open(work / "sub" / "release.duckdb", read_only=True) as cat:
        rows = {s["stage"]: s for s in status(cat).stages}
        selected = cat.scalar("SELECT count(*) FROM stg.selected_images")
        convert = rows["convert: images"]
    assert rows["selection: images"]["ok"] == selected
    assert convert["ok"] + convert["failed"] + convert["pending"] == selected
    with Catalog.open(work / "full" / "release.duckdb", read_only=True) as cat:
        assert "selection: images" not in {s["stage"] for s in status(cat).stages}


def test_a_wider_selection_converts_only_what_is_new_and_a_narrower_one_lists_less(builds, tmp_path) -> None:
    work, source, _, _ = builds
    out = work / "sub" / "release"
    wider = tmp_path / "wider.csv"  # a CSV with a study_id column, as a user filters a published file
    wider.write_text("dicom_id,study_id,subject_id\nx,50000003,10000001\ny,50000004,10000001\n"
                     "z,50000012,10000004\nw,50000000,10000000\n")
    first = build(source, out, validate_patients=2, workers=2, selection=Selection(studies=read_ids(wider, "study")))
    assert first.converted_now == 1  # only s50000000 is new; the three others are current
    assert len(_listed(out)) == 4
    before = len(list(out.rglob("*.jpg")))
    narrow = tmp_path / "narrow.txt"
    narrow.write_text("s50000000\n")
    second = build(source, out, validate_patients=2, workers=2,
                   selection=Selection(studies=read_ids(narrow, "study")))
    assert second.converted_now == 0
    assert len(_listed(out)) == 1
    assert second.removed_outside == before - 1  # the folder holds exactly what it lists
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*.jpg"))
    assert on_disk == _listed(out)
    assert not any(d.is_dir() and not any(d.iterdir()) for d in (out / "files").rglob("*"))  # no empty folders
    sums = (out / "SHA256SUMS.txt").read_text()
    assert sums.count(".jpg") == 1
    assert verify_release(out) == {k: [] for k in verify_release(out)}
    everything = build(source, out, validate_patients=2, workers=2)
    assert everything.selected is None and everything.removed_outside == 0
    assert everything.converted_now == len(_listed(out)) - 1  # the removed ones are converted again
    assert "Selection" not in (out / "README").read_text()


def test_split_selection_equals_the_full_builds_split(builds, tmp_path) -> None:
    work, source, _, _ = builds
    out = tmp_path / "train" / "release"
    build(source, out, validate_patients=2, workers=2, selection=selection_from_options(splits=["train"]))
    full_split = _table(work / "full" / "release", TABLES[1])
    sub_split = _table(out, TABLES[1])
    assert set(sub_split["split"]) == {"train"}
    expected = full_split[full_split["split"] == "train"].reset_index(drop=True)
    pd.testing.assert_frame_equal(sub_split, expected)


@pytest.mark.parametrize(("text", "message"), [
    ("10000001\nabc\n", "subjects.txt:2: 'abc' is not a subject id"),
    ("subject_id\n\n", "names no subject id"),
    ("s10000001\n", "'s10000001' is not a subject id"),
    ("study_id,x\n50000001,1\n", "has no subject_id column"),
    ("", "names no subject id"),
])
def test_bad_selection_files_are_refused_in_one_line(tmp_path, text, message) -> None:
    path = tmp_path / "subjects.txt"
    path.write_text(text)
    with pytest.raises(CxrdbError, match=message):
        read_ids(path, "subject")


def test_selection_file_forms(tmp_path) -> None:
    tsv = tmp_path / "ids.tsv"
    tsv.write_text("study_id\tsubject_id\n50000001\t10000000\n\n50000002.0\t10000000\n")
    assert read_ids(tsv, "study").ids == {50000001, 50000002}
    gz = tmp_path / "split.csv.gz"
    gz.write_bytes(gzip.compress(b"dicom_id,study_id,subject_id,split\na,50000001,10000000,train\n"))
    assert read_ids(gz, "subject").ids == {10000000}
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf# my patients\r\n10000000\r\n")
    assert read_ids(bom, "subject").ids == {10000000}
    with pytest.raises(CxrdbError, match="is a folder"):
        read_ids(tmp_path, "subject")
    with pytest.raises(CxrdbError, match="cannot read selection file"):
        read_ids(tmp_path / "absent.txt", "subject")
    with pytest.raises(CxrdbError, match="unknown split 'dev'"):
        selection_from_options(splits=["train,dev"])


def test_cli_refuses_a_selection_that_picks_nothing(builds, tmp_path) -> None:
    work, _, _, _ = builds
    ids = tmp_path / "none.txt"
    ids.write_text("10999998\n10999999\n")
    out = tmp_path / "none"
    db = work / "full" / "release.duckdb"
    with Catalog.open(db, read_only=True) as cat:
        before = cat.query("SELECT * FROM meta.selection")[1]
    result = cxrdb("export", "--db", str(db), "--out", str(out), "--subjects", str(ids))
    assert result.returncode == 1
    assert "the selection picks nothing" in result.stderr
    assert "p10999998, p10999999" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with Catalog.open(db, read_only=True) as cat:
        assert cat.query("SELECT * FROM meta.selection")[1] == before  # the refused one was not kept
    result = cxrdb("build", str(work / "src"), "--out", str(out), "--subjects", str(tmp_path / "nope.txt"))
    assert result.returncode == 1 and "cannot read selection file" in result.stderr
    assert not out.exists()  # refused before any work



def test_views_select_by_the_inferred_view(builds, tmp_path) -> None:
    work, _, _, _ = builds
    import shutil

    db = tmp_path / "views.duckdb"
    shutil.copyfile(work / "full" / "release.duckdb", db)
    from cxrdb.selection import apply

    with Catalog.open(db) as cat:
        _, views = cat.query("SELECT view, count(*) FROM analysis.image_view GROUP BY view ORDER BY view")
        assert len(views) >= 2  # the real test headers hold more than one view
        view = views[0][0]
        applied = apply(cat, selection_from_options(views=[f" {view.lower()} ,"]))
        expected = {r[0] for r in cat.query("SELECT dicom_id FROM analysis.image_view WHERE view = ?", [view])[1]}
        picked = {r[0] for r in cat.query("SELECT dicom_id FROM stg.selected_images")[1]}
        assert picked == expected and applied.images == len(expected)
        with pytest.raises(CxrdbError, match="the selection picks nothing"):
            apply(cat, selection_from_options(views=["NO SUCH VIEW"]))
        assert {r[0] for r in cat.query("SELECT dicom_id FROM stg.selected_images")[1]} == expected  # kept


def test_reports_only_build_selects_by_subjects_and_refuses_image_kinds(tmp_path) -> None:
    demo = Path(__file__).parent.parent / "demo" / "source"
    ids = tmp_path / "one.txt"
    ids.write_text("10317308\n")
    out = tmp_path / "rel"
    result = build(demo, out, reports_only=True, workers=1, selection=Selection(subjects=read_ids(ids, "subject")))
    chexpert = _table(out, "mimic-cxr-2.0.0-chexpert.csv.gz")
    assert set(chexpert["subject_id"]) == {"10317308"} and len(chexpert) == 3
    import csv

    with open(out / "sections" / "mimic_cxr_sections.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert sorted(r[0] for r in rows) == ["s53247273", "s53918917", "s57984455"]
    assert result.selected is not None
    with pytest.raises(CxrdbError, match="a reports-only build has none"):
        build(demo, tmp_path / "rel2", reports_only=True, selection=selection_from_options(views=["PA"]))
    assert not (tmp_path / "rel2").exists()
