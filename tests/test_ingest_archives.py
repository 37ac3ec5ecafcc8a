"""Reports read straight from a zip or tar archive (as MIMIC-CXR ships them), on the demo's real public reports."""

from __future__ import annotations

import io
import pickle
import shutil
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest
from conftest import DICOMS, dicom_id

from cxrdb.archive import MAX_MEMBER_BYTES, open_archive
from cxrdb.catalog import Catalog
from cxrdb.errors import CxrdbError
from cxrdb.ingest import ingest
from cxrdb.ingest.reports import decode_report, report_row
from cxrdb.ingest.run import _report_bytes_item
from cxrdb.labeling.run import label
from cxrdb.preflight import ingest_inputs

DEMO = Path(__file__).parents[1] / "demo" / "source"
REPORTS = sorted(DEMO.rglob("*.txt"))  # 24 real public reports in MIMIC's layout
ENTRIES = [(p.relative_to(DEMO).as_posix(), p.read_bytes()) for p in REPORTS]
STUDY = "files/p10/p10000001/s50000001.txt"  # a study the demo does not hold: the bad members go here
ROWS = "SELECT study_id, subject_id, path, error, text, section, labeler_text FROM raw.reports ORDER BY study_id"
SECTIONS = "SELECT * FROM raw.report_sections ORDER BY study_id, idx"
LABELS = "SELECT * EXCLUDE (rules) FROM work.labels ORDER BY study_id, labeler"


def write_zip(path: Path, entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": the tests write one on purpose
        for name, data in entries:
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, data)
    return path


class _Unseekable(io.RawIOBase):
    """A file that cannot seek: zipfile then writes each member's sizes and CRC after it (a data descriptor)."""

    def __init__(self, fh: io.BufferedWriter) -> None:
        self._fh = fh

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._fh.write(data)


def write_streamed_zip(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    with open(path, "wb") as fh, zipfile.ZipFile(_Unseekable(fh), "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    with zipfile.ZipFile(path) as zf:
        assert all(i.flag_bits & 0x08 for i in zf.infolist())  # the sizes are not in the local headers
    return path


def write_tar(path: Path, entries: list[tuple[str, bytes]], mode: str = "w:gz", mtime: int = 1_600_000_000) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            tf.addfile(info, io.BytesIO(data))
    return path


def images_root(tmp: Path) -> Path:
    """A source of one real DICOM (the reports come from elsewhere)."""
    study = tmp / "images" / "files" / "p10" / "p10000001" / "s50000001"
    study.mkdir(parents=True)
    shutil.copyfile(DICOMS[0], study / f"{dicom_id(1)}.dcm")
    return tmp / "images"


def query(cat: Catalog, sql: str) -> list[tuple]:
    return cat.query(sql)[1]


@pytest.fixture(scope="module")
def from_tree(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """Every report row, section and label, read from the unpacked demo tree."""
    with Catalog.open(tmp_path_factory.mktemp("tree") / "c.duckdb") as cat:
        ingest(cat, DEMO, workers=1)
        label(cat, workers=1)
        return {"rows": query(cat, ROWS), "sections": query(cat, SECTIONS), "labels": query(cat, LABELS)}


ARCHIVES = {
    "zip": lambda d: write_zip(d / "mimic-cxr-reports.zip", ENTRIES),
    "zip-stored-one-folder": lambda d: write_zip(d / "r.zip", [(f"mimic-cxr-reports/{n}", b) for n, b in ENTRIES],
                                                 zipfile.ZIP_STORED),
    "zip-streamed": lambda d: write_streamed_zip(d / "r.zip", ENTRIES),
    "zip-bzip2": lambda d: write_zip(d / "r.zip", ENTRIES, zipfile.ZIP_BZIP2),  # read through zipfile itself
    "tar.gz": lambda d: write_tar(d / "r.tar.gz", ENTRIES),
    "tgz-dot-slash": lambda d: write_tar(d / "r.tgz", [(f"./{n}", b) for n, b in ENTRIES]),
    "tar.xz": lambda d: write_tar(d / "r.tar.xz", ENTRIES, "w:xz"),
}


@pytest.mark.parametrize("fmt", ARCHIVES)
def test_an_archive_gives_the_rows_sections_and_labels_of_the_tree(fmt: str, from_tree, tmp_path: Path) -> None:
    archive = ARCHIVES[fmt](tmp_path)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, DEMO, reports=archive, workers=2)
        assert (got.reports, got["reports_read"], got.reports_failed, got.other_problems) == (24, 24, 0, 0)
        assert query(cat, ROWS) == from_tree["rows"]
        assert query(cat, SECTIONS) == from_tree["sections"]
        label(cat, workers=1)
        assert query(cat, LABELS) == from_tree["labels"]
        sizes = dict(query(cat, "SELECT path, file_size FROM raw.reports"))
        assert sizes == {n: len(b) for n, b in ENTRIES}
        ident = query(cat, "SELECT count(file_crc32), count(file_mtime_ns) FROM raw.reports")[0]
        assert ident == ((24, 0) if fmt.startswith("zip") else (0, 24))


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_a_rerun_on_the_unchanged_archive_reads_nothing(fmt: str, tmp_path: Path) -> None:
    archive = ARCHIVES[fmt](tmp_path)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, images_root(tmp_path), reports=archive, workers=1)
        before = query(cat, "SELECT * FROM raw.reports ORDER BY study_id"), query(cat, SECTIONS)
        again = ingest(cat, images_root(tmp_path / "x"), reports=archive, workers=1)
        assert (again["reports_read"], again["reports_unchanged"]) == (0, 24)
        assert (query(cat, "SELECT * FROM raw.reports ORDER BY study_id"), query(cat, SECTIONS)) == before


def _edit(data: bytes) -> bytes:
    """The same report with one word changed and the same length: only the CRC-32 (or mtime) tells."""
    assert b"heart" in data.lower()
    i = data.lower().index(b"heart")
    return data[:i] + b"HEART" + data[i + 5:]


def test_one_changed_zip_member_of_the_same_size_is_reread_and_only_it(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "r.zip", ENTRIES)
    images = images_root(tmp_path)
    target = next(n for n, b in ENTRIES if b"heart" in b.lower())
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, images, reports=archive, workers=1)
        others = query(cat, f"SELECT * FROM raw.reports WHERE path <> '{target}' ORDER BY study_id")
        write_zip(archive, [(n, _edit(b) if n == target else b) for n, b in ENTRIES])
        got = ingest(cat, images, reports=archive, workers=1)
        assert (got["reports_read"], got["reports_updated"], got["reports_unchanged"]) == (1, 1, 23)
        text = cat.scalar(f"SELECT text FROM raw.reports WHERE path = '{target}'")
        assert "HEART" in text
        assert query(cat, f"SELECT * FROM raw.reports WHERE path <> '{target}' ORDER BY study_id") == others


def test_one_tar_member_with_a_new_mtime_is_reread_and_only_it(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "r.tgz", ENTRIES)
    images = images_root(tmp_path)
    target = ENTRIES[5][0]
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, images, reports=archive, workers=1)
        with tarfile.open(archive, "w:gz") as tf:  # the same bytes; one member stamped later
            for name, data in ENTRIES:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 1_600_000_000 + (60 if name == target else 0)
                tf.addfile(info, io.BytesIO(data))
        got = ingest(cat, images, reports=archive, workers=1)
        assert (got["reports_read"], got["reports_updated"], got["reports_unchanged"]) == (1, 1, 23)


def test_tree_to_zip_rereads_everything_and_ends_with_the_same_rows_and_current_labels(tmp_path: Path,
                                                                                       from_tree) -> None:
    archive = write_zip(tmp_path / "r.zip", ENTRIES)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, DEMO, workers=1)
        label(cat, workers=1)
        got = ingest(cat, DEMO, reports=archive, workers=1)
        assert (got["reports_read"], got["reports_updated"]) == (24, 24)  # another identity: read again
        assert query(cat, ROWS) == from_tree["rows"]
        assert query(cat, SECTIONS) == from_tree["sections"]
        assert query(cat, "SELECT DISTINCT state FROM plan.labels('chexpert', (SELECT max(rules) FROM work.labels "
                          "WHERE labeler = 'chexpert'))") == [("current",)]
        back = ingest(cat, DEMO, workers=1)  # and back to the tree
        assert back["reports_read"] == 24 and query(cat, ROWS) == from_tree["rows"]


# --- bad input: the bad member first, the run goes on ----------------------------------------------------------

def _corrupt_member(path: Path, name: str) -> None:
    """Flip one byte of a member's data (stored, so the bytes are its text): its CRC-32 fails."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    raw = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start + 10] ^= 0x20
    path.write_bytes(bytes(raw))


def test_bad_members_first_each_get_one_line_and_the_rest_is_read(tmp_path: Path) -> None:
    good = ENTRIES
    bad_first = [
        ("__MACOSX/files/p10/p10000001/._s50000001.txt", b"\x00\x05\x16\x07"),  # macOS's metadata: ignored
        ("files/p10/p10000001/s50000001.txt", ENTRIES[0][1]),  # its byte is flipped below: bad CRC-32
        ("files/p10/p10000002/s50000002.txt", "caf\xe9 report".encode("latin-1")),  # not UTF-8
        ("files/p10/p10000003/s50000003.txt", b"x" * (MAX_MEMBER_BYTES + 1)),  # deflates to a few KB
        ("files/p10/p10000004/s50000004.txt", b""),  # empty
        ("files/p10/stray.txt", b"outside the layout"),
        ("other/files/p10/p10000005/s50000005.txt", b"a second files/ folder"),
        ("files/p10/p10000006/s50000006/notes.txt", b"too deep"),
        ("files/p10/p10000007/S50000007.TXT", b"upper case"),
        ("files/p10/p10000008/s50000008.txt/", b""),  # a folder named like a report
        ("files/p10/p10000009/", b""),  # a plain folder: ignored
        ("README.txt", b"beside files/: ignored"),
        (good[1][0], good[1][1]),  # a real report, then the same name again (the first is read)
        (good[1][0], b"a second copy"),
        ("files/p11/p11000000/" + good[2][0].rsplit("/", 1)[1], b"the same study under another patient"),
    ]
    archive = write_zip(tmp_path / "r.zip", bad_first + [e for e in good if e[0] != good[1][0]],
                        zipfile.ZIP_STORED)
    _corrupt_member(archive, STUDY)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, images_root(tmp_path), reports=archive, workers=2)
        errors = dict(query(cat, "SELECT study_id, error FROM raw.reports WHERE error IS NOT NULL"))
        assert errors.keys() == {50000001, 50000002, 50000003, 50000004}
        assert errors[50000001] == "cannot read member from the zip: bad CRC-32"
        assert errors[50000002] == decode_report("caf\xe9 report".encode("latin-1"))[1]
        assert cat.scalar("SELECT text FROM raw.reports WHERE study_id = 50000002") == "caf\ufffd report"
        assert errors[50000003] == f"member is {MAX_MEMBER_BYTES + 1} bytes (a report may have at most " \
                                   f"{MAX_MEMBER_BYTES}): not read"
        assert errors[50000004] == "empty report"
        assert all("\n" not in e for e in errors.values())
        problems = dict(query(cat, "SELECT path, error FROM raw.source_problems"))
        study2 = good[2][0].rsplit("/", 1)[1][1:-4]
        assert problems == {
            "files/p10/stray.txt": "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/...",
            "other/files/p10/p10000005/s50000005.txt":
                "member outside files/ (expected files/pNN/pNNNNNNNN/sNNNNNNNN.txt)",
            "files/p10/p10000006/s50000006/notes.txt": "path does not follow files/pNN/pNNNNNNNN/sNNNNNNNN/...",
            "files/p10/p10000007/S50000007.TXT": "extension must be lower-case .txt",
            "files/p10/p10000008/s50000008.txt/": "a folder, not a .txt file",
            good[1][0]: "duplicate member: the archive holds this name more than once (the first is read)",
            f"files/p11/p11000000/s{study2}.txt": f"duplicate study_id {study2} (also {good[2][0]})",
        }
        assert got.reports == 24 + 4 and got.reports_failed == 4 and got.other_problems == len(problems)
        by_path = dict(query(cat, "SELECT path, text FROM raw.reports WHERE error IS NULL"))
        assert by_path == {n: decode_report(b)[0] for n, b in good}  # the first copy, every good report


def test_a_deflated_member_that_does_not_inflate_is_an_error_of_its_study(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "r.zip", [(STUDY, ENTRIES[0][1] * 3), *ENTRIES])
    with zipfile.ZipFile(archive) as zf:
        info = zf.infolist()[0]
    raw = bytearray(archive.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[start:start + 16] = b"\xff" * 16  # garbage at the start of the deflate stream
    archive.write_bytes(bytes(raw))
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, images_root(tmp_path), reports=archive, workers=1)
        error = cat.scalar("SELECT error FROM raw.reports WHERE study_id = 50000001")
        assert error.startswith("cannot read member from the zip: error: Error -3 while decompressing data: ")
        assert (got.reports, got.reports_failed) == (25, 1)


def _set_size_in_directory(path: Path, size: int) -> None:
    """Make the first member's central-directory entry claim ``size`` uncompressed bytes (a lying zip bomb)."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    raw[at + 24:at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def test_a_member_that_inflates_past_what_its_directory_says_is_cut_off(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "r.zip", [(STUDY, b"x" * (50 * MAX_MEMBER_BYTES)), *ENTRIES])
    _set_size_in_directory(archive, 100)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, images_root(tmp_path), reports=archive, workers=1)
        assert (got.reports, got.reports_failed) == (25, 1)
        assert cat.scalar("SELECT error FROM raw.reports WHERE study_id = 50000001") == \
            "cannot read member from the zip: it does not inflate to the 100 bytes its directory says"


def test_a_truncated_tar_keeps_the_members_before_the_cut_prunes_nothing_and_is_retried(tmp_path: Path) -> None:
    images = images_root(tmp_path)
    archive = write_tar(tmp_path / "r.tar", ENTRIES, "w")
    whole = archive.read_bytes()
    first = (len(ENTRIES[0][1]) + 511) // 512 * 512
    cut = whole[: 512 + first + 512 + 200]  # 200 bytes into the second member's data
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        assert ingest(cat, images, reports=archive, workers=1).reports == 24
        archive.write_bytes(cut)
        got = ingest(cat, images, reports=archive, workers=1, prune=True)
        assert (got.reports, got["reports_read"], got["reports_missing"]) == (2, 0, 22)  # its header is unchanged
        assert cat.scalar("SELECT count(*) FROM raw.reports WHERE error IS NULL") == 24  # and nothing is pruned
        assert dict(query(cat, "SELECT path, error FROM raw.source_problems")) == {
            "r.tar": "archive is damaged after 2 members: ReadError: unexpected end of data"}
    with Catalog.open(tmp_path / "d.duckdb") as cat:
        got = ingest(cat, images, reports=archive, workers=1)
        assert (got.reports, got.reports_failed) == (2, 1)
        assert cat.scalar(f"SELECT error FROM raw.reports WHERE path = '{ENTRIES[1][0]}'") == \
            "cannot read member from the tar: ReadError: unexpected end of data"
        archive.write_bytes(whole)  # the whole archive again: the member that could not be read is read again
        again = ingest(cat, images, reports=archive, workers=1)
        assert (again["reports_read"], again.reports_failed) == (23, 0)
        assert cat.scalar("SELECT count(*) FROM raw.reports WHERE error IS NULL") == 24


def test_a_zip_member_that_failed_its_crc_is_read_again_once_the_zip_is_whole(tmp_path: Path) -> None:
    images = images_root(tmp_path)
    archive = write_zip(tmp_path / "r.zip", ENTRIES, zipfile.ZIP_STORED)
    whole = archive.read_bytes()
    _corrupt_member(archive, ENTRIES[0][0])
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        assert ingest(cat, images, reports=archive, workers=1).reports_failed == 1
        archive.write_bytes(whole)  # same size and CRC-32 in the directory: only the error says to read it
        again = ingest(cat, images, reports=archive, workers=1)
        assert (again["reports_read"], again.reports_failed) == (1, 0)


def test_links_and_devices_in_a_tar_are_problems(tmp_path: Path) -> None:
    archive = tmp_path / "r.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        link = tarfile.TarInfo("files/p10/p10000001/s50000001.txt")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(link)
        fifo = tarfile.TarInfo("files/p10/p10000002/s50000002.txt")
        fifo.type = tarfile.FIFOTYPE
        tf.addfile(fifo)
        for name, data in ENTRIES:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, images_root(tmp_path), reports=archive, workers=1)
        assert (got.reports, got.reports_failed) == (24, 0)
        assert dict(query(cat, "SELECT path, error FROM raw.source_problems")) == {
            "files/p10/p10000001/s50000001.txt": "a symbolic link, not a regular file",
            "files/p10/p10000002/s50000002.txt": "a FIFO, not a regular file"}


def test_unopenable_archives_and_misused_paths_are_refused_in_one_line(tmp_path: Path) -> None:
    images = images_root(tmp_path)
    whole = write_zip(tmp_path / "whole.zip", ENTRIES).read_bytes()
    (tmp_path / "truncated.zip").write_bytes(whole[: len(whole) // 2])  # the central directory is gone
    (tmp_path / "text.tar.gz").write_bytes(b"\x1f\x8b" + b"not really gzip" * 10)
    (tmp_path / "notes.csv").write_text("study_id,text\n")
    (tmp_path / "folder.zip").mkdir()
    refused = {
        "truncated.zip": "cannot be opened as a zip archive: BadZipFile: File is not a zip file",
        "text.tar.gz": "cannot be opened as a tar archive: ",
        "notes.csv": "is not a .zip or .tar.gz archive",
        "folder.zip": "is a folder named like an archive, and has no files/ folder",
        "missing.zip": "does not exist",
    }
    for name, message in refused.items():
        with pytest.raises(CxrdbError) as exc:
            ingest_inputs(images, tmp_path / name, None)
        assert message in str(exc.value) and "\n" not in str(exc.value), name
    with pytest.raises(CxrdbError) as exc:
        ingest_inputs(tmp_path / "whole.zip", None, None)
    assert str(exc.value).startswith(f"source {tmp_path / 'whole.zip'} is an archive: DICOMs are read from a folder")


def test_a_folder_named_zip_holding_files_is_read_as_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "reports.zip"
    for name, data in ENTRIES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        got = ingest(cat, images_root(tmp_path), reports=folder, workers=1)
        assert (got.reports, got.reports_failed) == (24, 0)
        assert cat.scalar("SELECT count(file_mtime_ns) FROM raw.reports") == 24


def test_the_cli_reads_a_zip_and_refuses_a_broken_one_before_any_catalog(tmp_path: Path) -> None:
    images = images_root(tmp_path)
    archive = write_zip(tmp_path / "mimic-cxr-reports.zip", ENTRIES)
    run = [sys.executable, "-m", "cxrdb", "ingest", str(images), "-j", "1", "--db"]
    ok = subprocess.run([*run, str(tmp_path / "c.duckdb"), "--reports", str(archive)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    with Catalog.open(tmp_path / "c.duckdb", read_only=True) as cat:
        assert cat.scalar("SELECT count(*) FROM raw.reports WHERE error IS NULL AND file_crc32 IS NOT NULL") == 24
    broken = tmp_path / "broken.zip"
    broken.write_bytes(archive.read_bytes()[:-30])
    bad = subprocess.run([*run, str(tmp_path / "d.duckdb"), "--reports", str(broken)], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr + bad.stdout
    assert (bad.stderr + bad.stdout).strip().count("\n") == 0
    assert "cannot be opened as a zip archive" in bad.stderr + bad.stdout
    assert not (tmp_path / "d.duckdb").exists()


def test_the_per_report_function_is_picklable_and_never_raises() -> None:
    fn = pickle.loads(pickle.dumps(_report_bytes_item))
    for data in (b"", b"\xff\xfe", "cannot read member from the zip: x", ENTRIES[0][1], b"\x00" * 100):
        rel, row = fn(("files/p10/p10000001/s50000001.txt", data, None))
        assert rel.endswith(".txt") and isinstance(row, dict) and "error" in row
    assert report_row("one line", None) == {"error": "one line", "sections": []}


def test_a_tar_replaced_between_listing_and_reading_gives_errors_not_wrong_text(tmp_path: Path) -> None:
    archive = write_tar(tmp_path / "r.tgz", ENTRIES)
    opened = open_archive(archive)
    members, problem = opened.members()
    assert problem is None and [m.name for m in members] == [n for n, _ in ENTRIES]
    assert dict(opened.read([3, 1])) == {1: ENTRIES[1][1], 3: ENTRIES[3][1]}
    write_tar(archive, ENTRIES[:2] + list(reversed(ENTRIES[2:])))  # other members from the third on
    assert dict(opened.read([0, 5, 9])) == {0: ENTRIES[0][1], 5: "cannot read member: the archive changed since "
                                            "it was listed", 9: "cannot read member: the archive changed since it "
                                            "was listed"}


def test_reports_only_build_from_the_zip_equals_the_one_from_the_tree(tmp_path) -> None:
    import zipfile

    from cxrdb.build import build

    demo = Path(__file__).parent.parent / "demo" / "source"
    archive = tmp_path / "mimic-cxr-reports.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(demo.rglob("*.txt"), reverse=True):  # archive order is not the tree's
            zf.write(path, str(path.relative_to(demo)))
    from_tree = build(demo, tmp_path / "tree" / "rel", reports_only=True, workers=1)
    from_zip = build(archive, tmp_path / "zip" / "rel", reports_only=True, workers=1)
    assert from_zip.reports == from_tree.reports > 0
    a, b = tmp_path / "tree" / "rel", tmp_path / "zip" / "rel"
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    for rel in names:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
