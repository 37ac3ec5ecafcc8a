"""`cxrdb diff` fed what a careless or unlucky user would feed it: each test is an attack that broke it once."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import cv2
import duckdb
import numpy as np
import pytest
from diffcases import METADATA, jpgs, perturb, read_table, write_table

from cxrdb.diff import diff
from cxrdb.diff.pixels import compare_pair

CHEXPERT = "mimic-cxr-2.0.0-chexpert.csv.gz"


def cxrdb(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cxrdb", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "200"})


def copy(release: Path, to: Path) -> Path:
    shutil.copytree(release, to)
    return to


# --- the --out folder -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("inside", ["ours", "theirs"])
def test_out_inside_a_release_is_refused_before_working(demo_build, tmp_path: Path, inside: str) -> None:
    """A report written into a release would be a difference of the next run: refused, nothing written."""
    release, _ = demo_build
    theirs = copy(release, tmp_path / "theirs")
    out = (release if inside == "ours" else theirs) / "diff-report"
    r = cxrdb("diff", release, theirs, "--out", out)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "inside" in r.stderr and not out.exists()
    assert r.stdout.strip() == ""  # refused before any comparison was printed


def test_out_that_is_a_file_is_refused_with_exit_2(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    out = tmp_path / "report.txt"
    out.write_text("keep me\n")
    r = cxrdb("diff", release, release, "--out", out)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "not a folder" in r.stderr and r.stdout.strip() == ""
    assert out.read_text() == "keep me\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder: nothing to refuse")
def test_an_unwritable_out_is_refused_before_working(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    r = cxrdb("diff", release, release, "--out", locked / "report")
    assert r.returncode == 2 and "not writable" in r.stderr and r.stdout.strip() == ""


# --- folders ----------------------------------------------------------------------------------------------------

def test_a_symlinked_files_folder_is_compared_not_skipped(demo_build, tmp_path: Path) -> None:
    """A release assembled with ``files -> /shared/files`` holds the same JPGs as one with a real folder."""
    release, _ = demo_build
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    for p in release.iterdir():
        if p.name == "files":
            (theirs / "files").symlink_to(p.resolve(), target_is_directory=True)
        elif p.is_file():
            shutil.copy2(p, theirs / p.name)
        else:
            shutil.copytree(p, theirs / p.name)
    result = diff(release, theirs, workers=1)
    assert result.identical, result.report["files"]
    assert result.report["summary"]["jpgs_compared"] == len(jpgs(release)) > 0


# --- SHA256SUMS.txt in the forms sha256sum writes -----------------------------------------------------------------

def _sums(root: Path, *, dot: bool) -> None:
    """SHA256SUMS.txt as ``sha256sum`` writes it: two spaces, names with a newline or a backslash escaped with a
    leading backslash; ``dot``: paths as ``find .`` lists them (``./files/...``)."""
    lines = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel != "SHA256SUMS.txt":
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            name = ("./" if dot else "") + rel
            escaped = name.replace("\\", "\\\\").replace("\n", "\\n")
            lines.append(("\\" if escaped != name else "") + f"{digest}  {escaped}\n")
    (root / "SHA256SUMS.txt").write_text("".join(lines), encoding="utf-8")


@pytest.mark.parametrize("dot", [False, True])
def test_sha256sum_output_with_escaped_names_and_dot_paths_is_trusted(demo_build, tmp_path: Path, dot: bool) -> None:
    release, _ = demo_build
    sides = []
    for name in ("a", "b"):
        side = copy(release, tmp_path / name)
        for odd in ("new\nline.txt", "back\\slash.txt", "with space.txt"):
            (side / odd).write_text("same\n")
        _sums(side, dot=dot)
        os.utime(side / "SHA256SUMS.txt")  # written after every file: every listed digest can be trusted
        sides.append(side)
    result = diff(*sides, workers=1)
    files = result.report["files"]
    assert result.identical, files
    listed = sum(1 for p in sides[0].rglob("*") if p.is_file()) - 1
    assert (files["by_checksums"], files["hashed"]) == (listed, 1)  # only SHA256SUMS.txt itself is hashed


# --- tables -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["empty file", "empty gzip", "truncated gzip", "ragged rows"])
def test_a_broken_label_file_is_reported_not_a_crash(demo_build, tmp_path: Path, damage: str) -> None:
    release, _ = demo_build
    theirs = copy(release, tmp_path / "theirs")
    path = theirs / CHEXPERT
    if damage == "empty file":
        path.write_bytes(b"")
    elif damage == "empty gzip":
        path.write_bytes(gzip.compress(b""))
    elif damage == "truncated gzip":
        path.write_bytes(path.read_bytes()[:-20])
    else:
        header, rows = read_table(path)
        write_table(path, header, [rows[0][:5], *rows[1:]])
    result = diff(release, theirs, workers=1)
    part = result.report["labels"]["chexpert"]
    assert part["error_theirs"].startswith("unreadable") and "error_ours" not in part
    assert part["observations"] == [] and part["disagree"] == 0
    assert result.report["labels"]["negbio"]["disagree"] == 0
    assert result.report["files"]["differ"] == [CHEXPERT]


def test_a_plain_csv_and_a_csv_gz_that_is_not_gzip_are_read(demo_build, tmp_path: Path) -> None:
    """The published test-set labels are a plain .csv; a gunzipped file keeping its name is still a table."""
    release, _ = demo_build
    theirs = copy(release, tmp_path / "theirs")
    header, rows = read_table(theirs / METADATA)
    rows[0][4] = "changed"
    plain = gzip.decompress((theirs / METADATA).read_bytes())
    write_table(theirs / METADATA, header, rows)
    (theirs / METADATA).write_bytes(gzip.decompress((theirs / METADATA).read_bytes()))  # .csv.gz, not gzip
    chexpert = gzip.decompress((theirs / CHEXPERT).read_bytes())
    (theirs / CHEXPERT).unlink()
    (theirs / CHEXPERT.removesuffix(".gz")).write_bytes(chexpert)
    (theirs / "mimic-cxr-2.0.0-chexpert.parquet").unlink()
    result = diff(release, theirs, workers=1)
    meta = result.report["tables"]["metadata"]
    assert "error_theirs" not in meta and meta["rows_theirs"] == plain.count(b"\n") - 1
    assert (meta["rows_differ"], meta["values_differ"], meta["only_ours"]) == (1, 1, 0)
    labels = result.report["labels"]["chexpert"]
    assert labels["file_theirs"] == CHEXPERT.removesuffix(".gz") and "missing" not in labels
    assert labels["disagree"] == 0 and labels["rows_theirs"] == labels["rows_ours"] > 0


def test_nan_label_cells_are_blank(demo_build, tmp_path: Path) -> None:
    """pandas writes a missing label as ``nan`` when told to: the same value as an empty cell."""
    release, _ = demo_build
    theirs = copy(release, tmp_path / "theirs")
    header, rows = read_table(theirs / CHEXPERT)
    blanks = sum(c == "" for r in rows for c in r[2:])
    write_table(theirs / CHEXPERT, header, [r[:2] + [c or ("nan" if i % 2 else "NaN") for i, c in enumerate(r[2:])]
                                            for r in rows])
    part = diff(release, theirs, workers=1).report["labels"]["chexpert"]
    assert blanks > 0 and part["disagree"] == 0
    assert sum(o["invalid_theirs"] for o in part["observations"]) == 0


# --- JPGs -------------------------------------------------------------------------------------------------------

def _with_size(jpg: bytes, rows: int, columns: int) -> bytes:
    """The JPG with its frame header (SOFn) claiming another size: a decompression bomb when large."""
    data, i = bytearray(jpg), 2
    while data[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    data[i + 5:i + 9] = struct.pack(">HH", rows, columns)
    return bytes(data)


def test_a_decompression_bomb_is_refused_before_decoding(demo_build, tmp_path: Path) -> None:
    """A header claiming 30000 x 30000 pixels (cv2 would allocate and 'decode' 900 Mpx, > MAX_PIXELS) is an
    error, not a decode; the side that holds it is named."""
    release, _ = demo_build
    rel = jpgs(release)[0]
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(_with_size((release / rel).read_bytes(), 30000, 30000))
    result = compare_pair((rel, str(release / rel), str(bomb)))
    assert result.error_side == "theirs" and "pixels" in (result.error or ""), result


def test_a_png_named_jpg_is_not_a_jpeg(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    rel = jpgs(release)[0]
    image = cv2.imread(str(release / rel), cv2.IMREAD_GRAYSCALE)
    png = tmp_path / "image.jpg"
    png.write_bytes(cv2.imencode(".png", image.astype(np.uint16) * 257)[1].tobytes())
    result = compare_pair((rel, str(png), str(release / rel)))
    assert result.error_side == "ours" and "not a JPEG" in (result.error or ""), result


# --- the catalog (--db) -----------------------------------------------------------------------------------------

def test_a_bad_catalog_is_refused_before_any_file_is_hashed(demo_build, tmp_path: Path) -> None:
    release, _ = demo_build
    junk = tmp_path / "junk.duckdb"
    junk.write_text("not a database\n")
    stages: list[str] = []
    from cxrdb.errors import CxrdbError
    with pytest.raises(CxrdbError, match="cannot read the label evidence"):
        diff(release, release, db=junk, rehash=True, workers=1, progress=lambda stage, *_: stages.append(stage))
    assert stages == []


def test_studies_missing_from_the_catalog_are_not_explained(demo_build, tmp_path: Path) -> None:
    """A catalog of another release (here: one whose labels were deleted) explains nothing, and says so."""
    release, db = demo_build
    case = perturb(release, tmp_path / "theirs")
    other = tmp_path / "other.duckdb"
    shutil.copy(db, other)
    with duckdb.connect(str(other)) as con:
        con.execute("DELETE FROM work.label_evidence")
        con.execute("DELETE FROM work.labels")
    result = diff(release, case.root, db=other, workers=1)
    columns, rows = result.csvs["label_disagreements.csv"]
    found = [dict(zip(columns, r, strict=True)) for r in rows]
    assert len(found) == len(case.flips) and any(r["ours"] == "blank" for r in found)
    assert all(r["explained"] is False and r["catalog_value"] is None for r in found)
    reasons = result.report["labels"]
    assert sum(e["explained"] for part in reasons.values() for e in part["reasons"].values()) == 0


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc (a folder nothing can be created in)")
def test_a_report_that_cannot_be_written_exits_2_not_1(demo_build) -> None:
    """Exit 1 means "the releases differ": a failure to write the report must not read as that."""
    release, _ = demo_build
    r = cxrdb("diff", release, release, "--out", "/proc/cxrdb-diff-report")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "/proc/cxrdb-diff-report" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_catalog_held_by_a_writer_is_one_red_line(demo_build, tmp_path: Path) -> None:
    release, db = demo_build
    held = tmp_path / "held.duckdb"
    shutil.copy(db, held)
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time\n"
                               f"con = duckdb.connect({str(held)!r}); print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "held"
        r = cxrdb("diff", release, release, "--db", held)
    finally:
        writer.kill()
        writer.wait()
    assert r.returncode == 2, r.stdout + r.stderr
    assert "cannot read the label evidence" in r.stderr and r.stdout.strip() == ""
