"""`cxrdb diff` on two real builds of the demo, one of them perturbed: every difference found and counted exactly."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest
from diffcases import METADATA, SPLIT, VALUES, expected_table, jpgs, perturb, pixel_stats, read_table, write_table

from cxrdb.build import build
from cxrdb.demo import demo_source
from cxrdb.diff import diff
from cxrdb.diff.tables import kappa


@pytest.fixture(scope="module")
def perturbed(demo_build: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory):
    release, db = demo_build
    theirs = tmp_path_factory.mktemp("diff-theirs") / "release"
    case = perturb(release, theirs)
    return case, diff(release, theirs, db=db, workers=2)


def cxrdb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})


def test_a_release_against_itself_and_against_a_second_build_is_identical(demo_build, tmp_path: Path) -> None:
    release, db = demo_build
    other = tmp_path / "b"
    build(demo_source(), other / "release", db=other / "catalog.duckdb", validate_patients=2, seed=0, fmt="both",
          workers=1)
    result = diff(release, other / "release", db=db)
    assert result.identical, result.report["files"]
    s = result.report["summary"]
    assert s["files_same"] == len([p for p in release.rglob("*") if p.is_file()])
    assert s["jpgs_compared"] == len(jpgs(release)) > 0
    assert all(v in (0, None) for k, v in s.items() if k not in ("files_same", "jpgs_compared"))
    # a fresh build's files are newer than nothing in their folder: all but SHA256SUMS.txt decided by checksums
    assert result.report["files"]["by_checksums"] == s["files_same"] - 1
    for part in result.report["labels"].values():
        assert all(o["agreement"] == 1.0 and o["disagree"] == 0 for o in part["observations"])


def test_files_only_in_one_and_differing_bytes(perturbed) -> None:
    case, result = perturbed
    files = result.report["files"]
    assert files["only_ours"] == [case.removed]
    assert files["only_theirs"] == [case.added]
    assert set(files["differ"]) == case.differing_files
    assert result.report["summary"]["files_differ"] == len(case.differing_files)
    assert not result.identical


def test_changed_and_reencoded_jpgs_are_measured_in_pixels(perturbed, demo_build) -> None:
    case, result = perturbed
    release, _ = demo_build
    j = result.report["jpgs"]
    assert (j["compared"], j["differ"], j["identical"]) == (len(jpgs(release)), 2, len(jpgs(release)) - 2)
    assert j["undecodable"] == [] and j["shape_differs"] == 0
    worst = {w["path"]: w for w in j["worst"]}
    assert set(worst) == {case.changed_jpg, case.reencoded_jpg}
    total = np.zeros(256, dtype=np.int64)
    for rel in (case.changed_jpg, case.reencoded_jpg):
        top, mean, share, hist = pixel_stats(release / rel, case.root / rel)
        assert worst[rel]["max_abs"] == top
        assert worst[rel]["mean_abs"] == pytest.approx(mean, abs=1e-6)
        assert worst[rel]["share_differ"] == pytest.approx(share, abs=1e-6)
        total += hist
    assert j["histogram"] == total.tolist()
    # the painted square makes the changed image the worst one
    assert j["worst"][0]["path"] == case.changed_jpg and j["worst"][0]["max_abs"] > 100


def test_dropped_metadata_row(perturbed, demo_build) -> None:
    case, result = perturbed
    _, rows = read_table(demo_build[0] / METADATA)
    m = result.report["tables"]["metadata"]
    assert (m["rows_ours"], m["rows_theirs"]) == (len(rows), len(rows) - 1)
    assert (m["only_ours"], m["only_theirs"]) == (1, 0)
    assert m["examples_only_ours"] == [case.dropped_dicom_id]
    assert m["values_differ"] == 0 and all(c["differ"] == 0 for c in m["columns"])
    assert [c["column"] for c in m["columns"]] == read_table(demo_build[0] / METADATA)[0][1:]


def test_moved_split_and_the_patient_it_leaks(perturbed) -> None:
    case, result = perturbed
    dicom_id, subject, was, now = case.moved
    s = result.report["tables"]["split"]
    assert s["moved"] == 1
    assert s["moves"] == [{"ours": was, "theirs": now, "images": 1}]
    assert [c for c in s["columns"] if c["differ"]] == [
        {"column": "split", "differ": 1, "examples": [{"key": dicom_id, "ours": was, "theirs": now}]}]
    assert s["patients_in_two_splits"]["ours"] == 0
    assert s["patients_in_two_splits"]["theirs"] == 1
    assert s["patients_in_two_splits"]["examples_theirs"] == [subject]


def test_flipped_labels_tables_agreement_and_kappa(perturbed, demo_build) -> None:
    case, result = perturbed
    release, _ = demo_build
    for labeler in ("chexpert", "negbio"):
        part = result.report["labels"][labeler]
        flips = [f for f in case.flips if f[0] == labeler]
        assert part["disagree"] == len(flips)
        assert (part["only_ours"], part["only_theirs"]) == (0, 0)
        for obs in part["observations"]:
            grid = expected_table(release, labeler, obs["observation"], case.flips)
            assert obs["table"] == grid, (labeler, obs["observation"])
            n = sum(map(sum, grid))
            assert obs["compared"] == n
            assert obs["agreement"] == pytest.approx(sum(grid[i][i] for i in range(4)) / n)
            assert obs["disagree"] == sum(f[2] == obs["observation"] for f in flips)
        found = {(labeler, r["study_id"], r["observation"], r["ours"], r["theirs"])
                 for r in result.csvs["label_disagreements.csv"][1]
                 for r in [dict(zip(result.csvs["label_disagreements.csv"][0], r, strict=True))]
                 if r["labeler"] == labeler}
        assert found == set(flips)


def test_kappa_matches_the_textbook_formula() -> None:
    assert kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)  # po 0.7, pe 0.5
    assert kappa([[3, 0], [0, 0]]) is None  # one value only: chance agreement is total
    assert kappa([[0, 4], [4, 0]]) == pytest.approx(-1.0)
    assert kappa([[0] * 4] * 4) is None


def test_disagreements_are_explained_by_their_evidence(perturbed, demo_build) -> None:
    case, result = perturbed
    _, db = demo_build
    header, rows = result.csvs["label_disagreements.csv"]
    by_key = {(r[0], r[2], r[3]): dict(zip(header, r, strict=True)) for r in rows}
    con = duckdb.connect(str(db), read_only=True)
    for labeler, study, obs, ours, _theirs in case.flips:
        row = by_key[labeler, study, obs]
        rules = {r for (r,) in con.execute(
            "SELECT DISTINCT rule FROM work.label_evidence WHERE labeler = ? AND study_id = ? AND observation = ? "
            "AND label = TRY_CAST(? AS DOUBLE)", [labeler, int(study), obs, ours]).fetchall()}
        if ours == "blank":
            assert row["rule"] == "(no mention)" and row["sentence"] is None
        elif obs != "No Finding":
            assert rules and row["rule"] in rules and set(row["rules"].split("; ")) == rules
            assert row["sentence"]
        assert row["catalog_value"] == ours and row["explained"] is True
    con.close()
    reasons = result.report["labels"]["chexpert"]["reasons"]
    flips = [f for f in case.flips if f[0] == "chexpert"]
    assert set(reasons) == {obs for _, _, obs, _, _ in flips}
    for obs, entry in reasons.items():
        mine = [f for f in flips if f[2] == obs]
        assert entry["disagree"] == entry["explained"] == len(mine)
        assert sum(r["n"] for r in entry["rules"]) >= len(mine)
        assert {(e["study_id"], e["ours"], e["theirs"]) for e in entry["examples"]} == {
            (study, ours, theirs) for _, study, _, ours, theirs in mine}


def test_updated_checksums_find_the_same_differences(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    case = perturb(release, tmp_path / "theirs", update_sums=True)
    result = diff(release, case.root)
    assert set(result.report["files"]["differ"]) == case.differing_files
    assert result.report["summary"]["jpgs_differ"] == 2


def test_an_edit_that_keeps_size_and_mtime_is_found_by_rehash(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs)
    rel = jpgs(theirs)[5]
    path = theirs / rel
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit inside the entropy-coded data: same size
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert diff(release, theirs).identical  # both SHA256SUMS.txt vouch for it, the file is older than them
    rehashed = diff(release, theirs, rehash=True)
    assert rehashed.report["files"]["differ"] == [rel]
    assert rehashed.report["jpgs"]["differ"] == 1


def test_a_copy_with_fresh_mtimes_is_hashed_not_trusted(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs, copy_function=shutil.copyfile)  # cp -r: every mtime is now
    os.utime(theirs / "SHA256SUMS.txt", ns=(0, 0))
    rel = jpgs(theirs)[7]
    data = bytearray((theirs / rel).read_bytes())
    data[len(data) // 2] ^= 0x01
    (theirs / rel).write_bytes(bytes(data))
    result = diff(release, theirs)
    assert result.report["files"]["differ"] == [rel]
    assert result.report["files"]["by_checksums"] == 0


def test_undecodable_and_resized_jpgs(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs)
    images = jpgs(theirs)
    (theirs / images[2]).write_bytes(b"not a jpeg at all")
    img = cv2.imread(str(theirs / images[3]), cv2.IMREAD_GRAYSCALE)
    small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    (theirs / images[3]).write_bytes(cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    j = diff(release, theirs).report["jpgs"]
    assert j["differ"] == 2
    assert [(u["path"], u["side"]) for u in j["undecodable"]] == [(images[2], "theirs")]
    assert j["shape_differs"] == 1
    assert j["shape_examples"] == [{"path": images[3], "shape_ours": list(img.shape),
                                    "shape_theirs": list(small.shape)}]
    assert j["worst"] == [] and sum(j["histogram"]) == 0


def test_a_side_without_a_label_file_or_with_a_broken_one(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs)
    for name in ("mimic-cxr-2.0.0-negbio.csv.gz", "mimic-cxr-2.0.0-negbio.parquet"):
        (theirs / name).unlink()
    (theirs / METADATA).write_bytes(b"\x1f\x8bnot really gzip")
    report = diff(release, theirs).report
    assert report["labels"]["negbio"]["missing"] == "theirs"
    assert report["summary"]["negbio_missing"] == "theirs"
    assert report["tables"]["metadata"]["error_theirs"].startswith("unreadable " + METADATA)
    assert report["labels"]["chexpert"]["disagree"] == 0


def test_parquet_only_side_compares_equal_to_the_csv(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs)
    for labeler in ("chexpert", "negbio"):
        (theirs / f"mimic-cxr-2.0.0-{labeler}.csv.gz").unlink()
    report = diff(release, theirs).report
    for labeler in ("chexpert", "negbio"):
        part = report["labels"][labeler]
        assert part["file_theirs"] == f"mimic-cxr-2.0.0-{labeler}.parquet"
        assert part["disagree"] == 0 and part["only_ours"] == part["only_theirs"] == 0
        assert [o["observation"] for o in part["observations"]][:2] == ["Atelectasis", "Cardiomegaly"]


def test_duplicate_and_invalid_rows_are_counted_not_trusted(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    shutil.copytree(release, theirs)
    header, rows = read_table(theirs / SPLIT)
    write_table(theirs / SPLIT, header, [*rows, [rows[0][0], rows[0][1], rows[0][2], "validate"]])
    path = theirs / "mimic-cxr-2.0.0-chexpert.csv.gz"
    header, rows = read_table(path)
    rows[0][2] = "2.0"
    write_table(path, header, rows)
    report = diff(release, theirs).report
    split = report["tables"]["split"]
    assert split["duplicate_keys_theirs"] == 1 and split["moved"] == 0  # the first row of the key is compared
    atelectasis = report["labels"]["chexpert"]["observations"][0]
    assert atelectasis["observation"] == header[2] and atelectasis["invalid_theirs"] == 1
    assert sum(map(sum, atelectasis["table"])) == atelectasis["compared"] - 1


def test_cli_exit_codes_report_files_and_determinism(perturbed, demo_build, tmp_path: Path) -> None:
    case, _ = perturbed
    release, db = demo_build
    same = cxrdb("diff", str(release), str(release), "--out", str(tmp_path / "same"))
    assert same.returncode == 0, same.stderr
    assert "identical" in same.stdout
    runs = []
    for name in ("r1", "r2"):
        r = cxrdb("diff", str(release), str(case.root), "--db", str(db), "--out", str(tmp_path / name), "-j", "2")
        assert r.returncode == 1, r.stderr
        assert "the releases differ" in r.stdout and "chexpert labels" in r.stdout
        runs.append(tmp_path / name)
    names = sorted(p.name for p in runs[0].iterdir())
    assert names == sorted(["report.json", "report.html", "files.csv", "jpg_differences.csv",
                            "pixel_histogram.csv", "rows_only.csv", "value_differences.csv",
                            "patients_in_two_splits.csv", "label_confusion.csv", "label_agreement.csv",
                            "label_disagreements.csv"])
    for name in names:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name
    report = json.loads((runs[0] / "report.json").read_text(encoding="utf-8"))
    assert report["identical"] is False and report["evidence"] is True
    with open(runs[0] / "value_differences.csv", encoding="utf-8", newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert [(c["table"], c["column"], c["key"]) for c in cells] == [("split", "split", case.moved[0])]
    with open(runs[0] / "label_confusion.csv", encoding="utf-8", newline="") as fh:
        confusion = list(csv.DictReader(fh))
    assert len(confusion) == 2 * 14 * len(VALUES) ** 2
    missing = cxrdb("diff", str(release), str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr
    bad_db = cxrdb("diff", str(release), str(release), "--db", str(tmp_path / "none.duckdb"))
    assert bad_db.returncode == 2 and "no catalog" in bad_db.stderr


@pytest.mark.browser
def test_the_real_report_renders_in_chromium(perturbed, demo_build, tmp_path: Path) -> None:
    from _browser import dump_dom, find_chromium, screenshot

    browser = find_chromium()
    if browser is None:
        pytest.skip("no chromium / chromium-browser / google-chrome on PATH (apt-get install chromium)")
    case, result = perturbed
    result.write(tmp_path / "report")
    page = tmp_path / "report" / "report.html"
    source = page.read_text(encoding="utf-8")
    dom = dump_dom(browser, page, tmp_path / "dom")
    assert dom.count("<table") == source.count("<table") > 2 * 14  # every heat map and table rendered
    assert dom.count('class="hm"') == 2 * 14
    assert case.changed_jpg in dom and case.dropped_dicom_id in dom and case.moved[0] in dom
    png = tmp_path / "shot.png"
    screenshot(browser, page, png, size=(1280, 2400))
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (2400, 1280, 3)
    grey = int((np.abs(img.astype(int) - 0xEE).max(axis=2) <= 2).sum())  # table header cells (#eeeeee)
    assert grey > 5000 and (img != 255).any(axis=2).mean() > 0.02


def test_image_list_lines_and_test_set_labels(demo_build, tmp_path: Path) -> None:
    release = shutil.copytree(demo_build[0], tmp_path / "ours")
    theirs = shutil.copytree(release, tmp_path / "theirs")
    lines = (theirs / "IMAGE_FILENAMES").read_text(encoding="utf-8").splitlines()
    (theirs / "IMAGE_FILENAMES").write_text("\n".join([*lines[1:], lines[2]]) + "\n", encoding="utf-8")
    header, rows = read_table(release / "mimic-cxr-2.0.0-chexpert.csv.gz")
    test_set = [["study_id", *header[2:]], *([r[1], *r[2:]] for r in rows[:6])]
    for root in (release, theirs):
        copy = [list(r) for r in test_set]
        if root == theirs:
            copy[3][header.index("Edema") - 1] = "-1.0" if copy[3][header.index("Edema") - 1] != "-1.0" else ""
        with open(root / "mimic-cxr-2.1.0-test-set-labeled.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows(copy)
    report = diff(release, theirs).report
    image_list = report["lists"]["IMAGE_FILENAMES"]
    assert (image_list["only_ours"], image_list["only_theirs"], image_list["repeated_theirs"]) == (1, 0, 1)
    assert image_list["examples_only_ours"] == [lines[0]]
    part = report["labels"]["test_set"]
    assert (part["rows_ours"], part["disagree"], part["subject_differs"]) == (6, 1, 0)
    edema = next(o for o in part["observations"] if o["observation"] == "Edema")
    assert edema["disagree"] == 1 and edema["examples"][0]["study_id"] == test_set[3][0]
    assert report["summary"]["test_set_labels_differ"] == 1


def test_counts_stay_exact_past_the_capped_lists_of_report_json(demo_build, tmp_path: Path) -> None:
    from cxrdb.diff.html import CAP, render
    from cxrdb.diff.report import LIST_CAP, summary_rows

    release, _ = demo_build
    theirs = shutil.copytree(release, tmp_path / "theirs")
    extra = LIST_CAP + 7
    jpg = (release / jpgs(release)[0]).read_bytes()
    for i in range(extra):
        (theirs / "files" / "p99" / f"x{i:05d}.jpg").parent.mkdir(parents=True, exist_ok=True)
        (theirs / "files" / "p99" / f"x{i:05d}.jpg").write_bytes(jpg)
    report = diff(release, theirs).report
    assert len(report["files"]["only_theirs"]) == LIST_CAP  # the list is capped, the counts are not
    assert report["summary"]["files_only_theirs"] == report["summary"]["jpgs_only_theirs"] == extra
    rows = {r[0]: r for r in summary_rows(report)[1]}
    assert rows["files"][2] == rows["JPGs (bytes)"][2] == extra
    assert f"… and {extra - CAP:,} more" in render(report)
