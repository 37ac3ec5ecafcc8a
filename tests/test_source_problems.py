"""Source entries that cannot become a row are named problems; ids are validated from paths."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import DICOMS, REPORT, build_source, dicom_id
from typer.testing import CliRunner

from cxrdb.catalog import Catalog
from cxrdb.cli import app
from cxrdb.ingest.run import ingest
from cxrdb.source import MIMIC_DICOM_ID, SAFE_ID, _ids, _walk, scan

STUDY = Path("files/p10/p10000001/s50000001")
GOOD = dicom_id(1)


def _layout(root: Path) -> Path:
    """One good image and report; returns the study folder."""
    study = root / STUDY
    study.mkdir(parents=True)
    shutil.copyfile(DICOMS[0], study / f"{GOOD}.dcm")
    (study.parent / "s50000001.txt").write_text(REPORT, encoding="utf-8")
    return study


def _scan(root: Path):  # type: ignore[no-untyped-def]
    """scan() in a thread: a FIFO opened by mistake would block forever, so fail instead of hanging."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(scan(root)), daemon=True)
    t.start()
    t.join(30)
    assert out, "scan blocked (did it open a FIFO?)"
    return out[0]


def test_dangling_symlinks_fifos_and_folders_are_problems(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    (study / f"{dicom_id(2)}.dcm").symlink_to(tmp_path / "gone.dcm")
    os.mkfifo(study / f"{dicom_id(3)}.dcm")
    (study / f"{dicom_id(4)}.dcm").mkdir()
    os.mkfifo(study.parent / "s50000002.txt")
    (study.parent / "s50000003.txt").mkdir()
    (study.parent / "s50000004.txt").symlink_to("nowhere.txt")
    (study.parent / "s50000005").symlink_to(tmp_path / "no-such-folder")
    os.mkfifo(study / "unrelated-fifo")  # neither .dcm nor .txt: ignored, as other files are
    listing = _scan(tmp_path)
    problems = dict(listing.problems)
    rel = f"{STUDY}"
    assert problems == {
        f"{rel}/{dicom_id(2)}.dcm": f"dangling symlink: its target {tmp_path / 'gone.dcm'} does not exist",
        f"{rel}/{dicom_id(3)}.dcm": "a FIFO, not a regular file",
        f"{rel}/{dicom_id(4)}.dcm": "a folder, not a .dcm file",
        "files/p10/p10000001/s50000002.txt": "a FIFO, not a regular file",
        "files/p10/p10000001/s50000003.txt": "a folder, not a .txt file",
        "files/p10/p10000001/s50000004.txt": "dangling symlink: its target nowhere.txt does not exist",
        "files/p10/p10000001/s50000005": f"dangling symlink: its target {tmp_path / 'no-such-folder'} does not exist",
    }
    assert [f.dicom_id for f in listing.images] == [GOOD]
    assert [f.study_id for f in listing.reports] == [50000001]


def test_symlinks_to_real_files_and_folders_keep_working(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copyfile(DICOMS[1], elsewhere / "real.dcm")
    (study / f"{dicom_id(2)}.dcm").symlink_to(elsewhere / "real.dcm")
    (elsewhere / "s2").mkdir()
    shutil.copyfile(DICOMS[2], elsewhere / "s2" / f"{dicom_id(3)}.dcm")
    (study.parent / "s50000002").symlink_to(elsewhere / "s2")
    (study / "loop").symlink_to(tmp_path / "files")  # would walk forever
    listing = _scan(tmp_path)
    assert sorted(f.dicom_id for f in listing.images) == sorted([GOOD, dicom_id(2), dicom_id(3)])
    assert dict(listing.problems) == {f"{STUDY}/loop": "symlinked folder repeats files"}
    size = {f.dicom_id: f.size for f in listing.images}[dicom_id(2)]
    assert size == DICOMS[1].stat().st_size


def test_the_threaded_walk_is_the_walk_in_name_order_links_and_repeats_included(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    group = tmp_path / "files" / "p10"
    for n in range(2, 90):  # more folders than the listing threads' frontier
        other = group / f"p100000{n:02d}" / f"s500000{n:02d}"
        other.mkdir(parents=True)
        shutil.copyfile(DICOMS[n % 3], other / f"{dicom_id(n)}.dcm")
        (other.parent / f"s500000{n:02d}.txt").write_text(REPORT, encoding="utf-8")
    # a link met before the folder it names (name order): the link is walked, the real folder is the repeat
    (group / "p10000001" / "s50000000").symlink_to(group / "p10000050" / "s50000050", target_is_directory=True)
    (study / "loop").symlink_to(tmp_path / "files")
    os.mkfifo(study / f"{dicom_id(95)}.dcm")
    (group / "p10000003" / "s50000003" / f"{dicom_id(96)}.dcm").symlink_to(tmp_path / "gone.dcm")
    threaded: list[tuple[str, str]] = []
    serial: list[tuple[str, str]] = []
    walked = list(_walk(tmp_path, threaded, {"dcm", "txt"}, threads=4))
    assert walked == list(_walk(tmp_path, serial, {"dcm", "txt"}, threads=0))
    assert threaded == serial
    problems = dict(threaded)
    assert problems[f"{STUDY}/loop"] == "symlinked folder repeats files"
    assert problems["files/p10/p10000050/s50000050"] == "symlinked folder repeats files/p10/p10000001/s50000000"
    assert problems[f"{STUDY}/{dicom_id(95)}.dcm"] == "a FIFO, not a regular file"
    assert f"files/p10/p10000001/s50000000/{dicom_id(50)}.dcm" in {rel for rel, _, _ in walked}
    sizes = {rel: (size, mtime) for rel, size, mtime in walked}
    st = (group / "p10000002" / "s50000002" / f"{dicom_id(2)}.dcm").stat()
    assert sizes[f"files/p10/p10000002/s50000002/{dicom_id(2)}.dcm"] == (st.st_size, st.st_mtime_ns)


@pytest.mark.parametrize("name", ["not a valid id", 'a,b"c', "x'y", "._hidden", "-rf", "caf\u00e9", "tab\there",
                                  "x" * 129])
def test_unsafe_dicom_ids_are_problems(tmp_path: Path, name: str) -> None:
    study = _layout(tmp_path)
    shutil.copyfile(DICOMS[1], study / f"{name}.dcm")
    listing = _scan(tmp_path)
    assert [f.dicom_id for f in listing.images] == [GOOD]
    [(path, reason)] = listing.problems
    assert path.startswith(f"{STUDY}/") and "\t" not in path
    assert reason.startswith("dicom_id ") and "is not a safe file-name token" in reason
    assert listing.warnings == []


def test_undecodable_file_names_are_stored_escaped(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    raw = os.fsencode(study) + b"/bad\xff.dcm"
    with open(raw, "wb") as fh:
        fh.write(b"x")
    listing = _scan(tmp_path)
    [(path, reason)] = listing.problems
    assert path == f"{STUDY}/bad\\xff.dcm" and path.encode("utf-8")
    assert "not a safe file-name token" in reason


@pytest.mark.parametrize("name", ["not-a-dicom", "1.2.840.113619.2.55.3",
                                  "02AA804E-BDE0AFDD-112C0B34-7BC16630-4E384014", "img_001", "x" * 128])
def test_safe_ids_outside_mimic_form_are_kept_with_a_warning(tmp_path: Path, name: str) -> None:
    study = _layout(tmp_path)
    shutil.copyfile(DICOMS[1], study / f"{name}.dcm")
    listing = _scan(tmp_path)
    assert sorted(f.dicom_id for f in listing.images) == sorted([GOOD, name])
    assert listing.problems == []
    [(path, warning)] = listing.warnings
    assert path == f"{STUDY}/{name}.dcm" and "is not MIMIC's form" in warning


def test_id_forms() -> None:
    assert MIMIC_DICOM_ID.fullmatch("02aa804e-bde0afdd-112c0b34-7bc16630-4e384014")
    assert all(MIMIC_DICOM_ID.fullmatch(dicom_id(n)) for n in (0, 1, 255, 4095))
    assert SAFE_ID.fullmatch("not-a-dicom") and not SAFE_ID.fullmatch("a b")


def test_image_ids_parsed_once_per_folder_are_the_ids_of_each_path(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    files = tmp_path / "files"
    for rel in ["x.dcm", "p10/y.dcm", "p10/p10000001/.dcm", "p10/p10000001/s50000001/.dcm",
                f"p10/p10000001/s50000001/{dicom_id(7)}.dcm", f"p10/p20000001/s5/{dicom_id(8)}.dcm",
                f"p10/p10000002/s{'9' * 19}/{dicom_id(9)}.dcm", f"p10/p10000002/sx/{dicom_id(10)}.dcm",
                f"p10/p10000002/s60000001/deeper/{dicom_id(11)}.dcm", "p10/p10000002/s60000001/.dcm",
                f"p10/p10000002/s60000001/{dicom_id(12)}.dcm", "p1/p10000003/s60000002/a.dcm"]:
        (files / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DICOMS[0], files / rel)
    listing = _scan(tmp_path)
    expected_images, expected_problems = [], {}
    for rel, _, _ in _walk(tmp_path, [], {"dcm"}, threads=0):  # every path judged on its own
        ids = _ids(rel)
        if isinstance(ids, str):
            expected_problems[rel] = ids
        else:
            expected_images.append((rel, *ids))
    assert [(f.rel_path, f.subject_id, f.study_id, f.dicom_id) for f in listing.images] == expected_images
    assert {p: r for p, r in listing.problems if p.endswith(".dcm")} == expected_problems
    assert expected_problems["files/p10/p10000001/s50000001/.dcm"] == "empty dicom_id in file name"
    assert len(expected_images) == 3 and study.exists()


def test_too_long_numeric_ids_are_problems(tmp_path: Path) -> None:
    _layout(tmp_path)
    folder = tmp_path / "files/p10/p1000000000000000000001"
    folder.mkdir()
    (folder / "s1.txt").write_text(REPORT)
    listing = _scan(tmp_path)
    assert dict(listing.problems) == {f"{folder.relative_to(tmp_path)}/s1.txt": "subject id has 22 digits (at most 18)"}


def test_ingest_stores_counts_and_status_names_them(tmp_path: Path) -> None:
    study = _layout(tmp_path)
    (study / f"{dicom_id(2)}.dcm").symlink_to(tmp_path / "gone.dcm")
    os.mkfifo(study / f"{dicom_id(3)}.dcm")
    shutil.copyfile(DICOMS[1], study / 'a,b"c.dcm')
    shutil.copyfile(DICOMS[2], study / "img_001.dcm")
    db = tmp_path / "c.duckdb"
    done: list = []
    with Catalog.open(db) as cat:
        t = threading.Thread(target=lambda: done.append(ingest(cat, tmp_path, workers=1)), daemon=True)
        t.start()
        t.join(120)
        assert done, "ingest blocked"
        summary = done[0]
        ids = {r[0] for r in cat.query("SELECT dicom_id FROM raw.images")[1]}
    assert summary["other_problems"] == 3 and summary["source_warnings"] == 1
    assert ids == {GOOD, "img_001"}
    result = CliRunner().invoke(app, ["status", "--db", str(db), "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["ingest: other files"]["failed"] == 3
    assert stages["ingest: source warnings"]["ok"] == 1
    named = {f["item"]: (f["stage"], f["error"]) for f in data["failures"]}
    assert named[f"{STUDY}/{dicom_id(3)}.dcm"] == ("ingest", "a FIFO, not a regular file")
    assert named[f'{STUDY}/a,b"c.dcm'][1].startswith("dicom_id 'a,b\"c' is not a safe file-name token")
    assert named[f"{STUDY}/img_001.dcm"][0] == "ingest (warning)"


def test_the_test_source_warns_only_for_its_broken_names(tmp_path: Path) -> None:
    build_source(tmp_path)
    listing = scan(tmp_path)
    assert {p for p, _ in listing.warnings} == {
        f"files/p19/p19999999/s59999999/{n}.dcm" for n in ("not-a-dicom", "truncated", "empty")}
    assert [p for p, _ in listing.problems] == ["files/p19/stray.dcm"]


def test_the_demo_source_is_clean() -> None:
    from cxrdb.demo import demo_source

    listing = scan(demo_source())
    assert listing.problems == [] and listing.warnings == [] and listing.images
