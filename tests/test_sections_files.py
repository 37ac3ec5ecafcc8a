"""The sections/ files of a release against MIT-LCP/mimic-cxr's create_section_files.py, re-stated here from its
documented behaviour (docs: mimic-cxr-jpg-reference.md section 2), independently of cxrdb's section parser; on the
real demo reports plus generated ones with every quirk the original handles; byte-identical re-runs, a no-op
re-export, batch boundaries, stale files, bad input, and the reports-only build through the CLI."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxrdb import contract
from cxrdb.catalog import Catalog
from cxrdb.check import verify_release
from cxrdb.export import export
from cxrdb.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo" / "source"

# --- the original, re-stated from the reference (section_parser.section_text + create_section_files.main) --------
_HEADER = re.compile(r"\n ([A-Z ()/,-]+):\s", re.DOTALL)
# the exact-map entries that become one of the four names the files hold (every other name only has to stay
# something else)
_TO = {"impression": "impression", "conclusion": "impression", "findings and impression": "impression",
       "findings/impression": "impression", "ndication": "impression", "impresson": "impression",
       "imprression": "impression", "imoression": "impression", "impressoin": "impression", "imprssion": "impression",
       "impresion": "impression", "imperssion": "impression", "mpression": "impression", "impession": "impression",
       "findings/ impression": "impression", "findings": "findings", "chest, two views": "findings",
       "finding": "findings", "findins": "findings", "findindgs": "findings", "findgings": "findings",
       "findngs": "findings", "findnings": "findings", "finidngs": "findings", "reference findings": "findings",
       "comparison": "comparison", "comparisons": "comparison", "reference exam": "comparison",
       "comparison exam": "comparison", "comparison film": "comparison", "comparision": "comparison",
       "comparsion": "comparison", "comparrison": "comparison", "comparisions": "comparison",
       "preamble": "preamble", "indication": "indication", "examination": "examination",
       "technique": "technique", "history": "history", "clinical history": "history", "exam": "examination",
       "reason for exam": "indication", "reason for examination": "indication", "addendum": "addendum",
       "wet read": "wet read", "recommendation(s)": "recommendations", "note": "note"}
_VIEWS = re.compile("chest|portable|pa and lateral|lateral and pa|ap and lateral|lateral and ap|frontal and|two views|"
                    "frontal view|pa view|ap view|one view|lateral view|bone window|frontal upright|"
                    "frontal semi-upright|ribs|pa and lat")


def _name(raw: str) -> str:
    raw = raw.lower().strip()
    if raw in _TO:
        return _TO[raw]
    for main in ("impression", "findings", "history", "comparison", "addendum"):
        if main in raw:
            return main
    return "findings" if _VIEWS.search(raw) else raw


def original_sections(text: str) -> tuple[list[str], list[str]]:
    """(texts, names) as section_parser.section_text gives them."""
    found = _HEADER.search(text)
    texts, names = ([text[: found.start(1)]], ["preamble"]) if found else ([text], ["full report"])
    while found is not None:
        start = found.end()
        skip = max(text[start:].find("\n"), 0)
        names.append(found.group(1).lower())
        found = _HEADER.search(text, start + skip)
        texts.append(text[start: found.start() if found else len(text)])
    names = [_name(n) for n in names]
    keep = [i for i, n in enumerate(names) if not (n in ("impression", "findings") and not texts[i].strip())]
    texts, names = [texts[i] for i in keep], [names[i] for i in keep]
    if "impression" not in names and "findings" not in names and "\n \n" in texts[-1]:
        parts = texts[-1].split("\n \n")
        texts[-1] = parts[0]
        texts.append("\n \n".join(parts[1:]))
        names.append("last_paragraph")
    return texts, names


def run_original(reports_path: Path, out: Path, indices: dict[str, list[int]], names: dict[str, str]) -> None:
    """create_section_files.main, study files sorted (the original: os.listdir order), writing every output
    (batches and the --no_split file) the way it does: open(..., 'w') and csv.writer defaults."""
    patient_studies, study_sections = [], []
    for grp in sorted(p for p in os.listdir(reports_path) if p.startswith("p") and len(p) == 3):
        for patient in sorted(p for p in os.listdir(reports_path / grp) if p.startswith("p")):
            folder = reports_path / grp / patient
            for s in sorted(s for s in os.listdir(folder) if s.endswith(".txt") and s.startswith("s")):
                with open(folder / s, encoding="utf-8") as fp:
                    text = "".join(fp.readlines())
                stem = s[:-4]
                if stem in indices:
                    patient_studies.append([stem, text[indices[stem][0]:indices[stem][1]]])
                    continue
                texts, section_names = original_sections(text)

                def last(name: str, texts: list[str] = texts, section_names: list[str] = section_names) -> str:
                    return texts[len(section_names) - section_names[::-1].index(name) - 1].strip()

                if stem in names:
                    patient_studies.append([stem, last(names[stem])])
                    continue
                chosen = next((n for n in ("impression", "findings", "last_paragraph", "comparison")
                               if n in section_names), None)
                patient_studies.append([stem, last(chosen) if chosen else ""])
                study_sections.append([stem, *(last(n) if n in section_names else None
                                               for n in ("impression", "findings", "last_paragraph", "comparison"))])
    out.mkdir(parents=True)
    with open(out / "mimic_cxr_sectioned.csv", "w") as fp:
        writer = csv.writer(fp)
        writer.writerow(["study", "impression", "findings", "last_paragraph", "comparison"])
        writer.writerows(study_sections)
    with open(out / "mimic_cxr_sections.csv", "w") as fp:
        csv.writer(fp).writerows(patient_studies)
    for n in range(0, len(patient_studies), 10000):
        with open(out / f"mimic_cxr_{n // 10000:02d}.csv", "w") as fp:
            csv.writer(fp).writerows(patient_studies[n:n + 10000])


# --- generated reports with the quirks -------------------------------------------------------------------------
QUIRKS = {
    # (subject, study file stem): text
    (10000001, "s59999999"): " INDICATION: cough\n \n first paragraph, no header\n \n Heart normal.\n \n Lungs clear."
                             "\n",
    (10000001, "s50000020"): "x\n INDICATION: cough\n \n first paragraph\n \n Heart normal.\n \n Lungs clear.\n",
    (10000001, "s50000003"): "x\n IMPRESSION: first impression\n \n IMPRESSION:  second, the \"last\" one\n more\n",
    (10000001, "s50000004"): "x\n FINDINGS: Lungs clear.\n \n IMPRESSION: \n \n COMPARISON: 2101.\n",
    (10000002, "s50000001"): "x\n FINDINGS:\n \n IMPRESSION:\u3000 Größe normal; naïve — 肺 clear.\xa0\n",
    (10000002, "s50000002"): "no header at all, one paragraph\n \n and another\n",
    (10000002, "s50000005"): "x\n COMPARISON: prior, \"1/2\"\n film\n",
    (10000002, "s50000006"): "x\r\n EXAMINATION: CHEST\r\n \r\n CONCLUSION: windows line ends, \"quoted\"\r\n",
    (10000002, "s50000007"): "x\n FINDINGS: A\n \n FINDINGS: B, last\n \n WET READ: later\n",
    (10000003, "s50000008"): "x\n INDICATION: cough\n \n NOTE: the override's section\n",
    (10000003, "s50000009"): "x\n IMPRESSION: a range override takes chars\n",
    (10000003, "s50000010"): "x\n IMPRESSION: the [0,0] override gives nothing\n",
    (10000003, "s50000011"): "x\n NDICATION: the original maps this to impression\n \n IMPRESSION: \n",
    (10000003, "s05000012"): "x\n CHEST (PA AND LAT): a view header is findings\n\n PFI: history\n",
    (10000003, "s50000013"): "x\n IMPRESSION:\x1c\t \u2028\n \n FINDINGS: only exotic whitespace around\x85\x1f\n",
}
OVERRIDES = "study_id,section,start,end\ns50000008,note,,\n50000009,,2,12\ns50000010,,0,0\ns59000000,history,,\n"
INDICES = {"s50000009": [2, 12], "s50000010": [0, 0]}
NAMES = {"s50000008": "note"}


def write_report(root: Path, subject: int, stem: str, data: bytes) -> Path:
    folder = root / "files" / f"p{str(subject)[:2]}" / f"p{subject}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.txt").write_bytes(data)
    return folder / f"{stem}.txt"


def make_reports(root: Path, bad: bool = True) -> Path:
    """The demo's real reports plus the quirks; with ``bad``, an undecodable report first in path order, an empty
    one and a dangling symlink (the original would have stopped on each)."""
    shutil.copytree(DEMO / "files", root / "files", ignore=shutil.ignore_patterns("*.dcm"))
    for (subject, stem), text in QUIRKS.items():
        write_report(root, subject, stem, text.encode("utf-8"))
    if bad:
        write_report(root, 10000000, "s50000000", "caf\xe9".encode("latin-1"))
        write_report(root, 10000003, "s50000014", b"")
        (root / "files" / "p10" / "p10000003" / "s50000015.txt").symlink_to(root / "nowhere.txt")
    overrides = root.parent / f"{root.name}-overrides.csv"
    overrides.write_text(OVERRIDES)
    return overrides


def expected_files(root: Path, work: Path) -> dict[str, bytes]:
    """What the original writes for the readable reports of ``root``."""
    clean = work / "clean"
    shutil.copytree(root / "files", clean / "files", symlinks=True)
    for bad in ("p10/p10000000/s50000000.txt", "p10/p10000003/s50000014.txt", "p10/p10000003/s50000015.txt"):
        (clean / "files" / bad).unlink(missing_ok=True)
    run_original(clean / "files", work / "original", INDICES, NAMES)
    return {f"sections/{p.name}": p.read_bytes() for p in sorted((work / "original").iterdir())}


def release_files(out: Path) -> dict[str, bytes]:
    return {f"sections/{p.name}": p.read_bytes() for p in sorted((out / "sections").iterdir())}


def rows(data: bytes) -> list[list[str]]:
    import io

    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("sections")
    src = work / "src"
    overrides = make_reports(src)
    with Catalog.open(work / "c.duckdb") as cat:
        ingest(cat, src, overrides=overrides, workers=1)
        export(cat, work / "release")
    return work, src, expected_files(src, work)


def test_every_file_is_byte_for_byte_what_the_original_writes(exported) -> None:
    work, _, expected = exported
    got = release_files(work / "release")
    assert sorted(got) == ["sections/mimic_cxr_00.csv", "sections/mimic_cxr_sectioned.csv",
                           "sections/mimic_cxr_sections.csv"]
    for name, data in expected.items():
        assert rows(got[name]) == rows(data), name  # cell by cell first: a readable difference
        assert got[name] == data, name


def test_the_quirks_are_in_the_files_as_the_original_has_them(exported) -> None:
    work, _, _ = exported
    texts = dict(rows(release_files(work / "release")["sections/mimic_cxr_sections.csv"]))
    sectioned = {r[0]: r[1:] for r in rows(release_files(work / "release")["sections/mimic_cxr_sectioned.csv"])}
    # no header: the first line's INDICATION is not one (no newline before it); all but the first paragraph
    assert texts["s59999999"] == "first paragraph, no header\n \n Heart normal.\n \n Lungs clear."
    assert texts["s50000020"] == "first paragraph\n \n Heart normal.\n \n Lungs clear."  # after a real header
    assert sectioned["s50000020"] == ["", "", "first paragraph\n \n Heart normal.\n \n Lungs clear.", ""]
    assert texts["s50000003"] == 'second, the "last" one\n more'
    assert texts["s50000004"] == "Lungs clear." and sectioned["s50000004"] == ["", "Lungs clear.", "", "2101."]
    assert texts["s50000001"] == "Größe normal; naïve — 肺 clear."  # \u3000 and \xa0 stripped as str.strip()
    assert texts["s50000002"] == "and another"  # a full report is split into paragraphs too
    assert sectioned["s50000002"] == ["", "", "and another", ""]
    assert texts["s50000006"] == 'windows line ends, "quoted"'
    assert texts["s50000007"] == "B, last"
    assert texts["s50000008"] == "the override's section" and texts["s50000009"] == " IMPRESSIO"  # verbatim
    assert texts["s50000010"] == "" and texts["s05000012"] == "a view header is findings"
    assert texts["s50000011"] == "the original maps this to impression"
    assert texts["s50000013"] == "only exotic whitespace around"  # the impression was only whitespace: dropped
    assert sectioned["s50000013"] == ["", "only exotic whitespace around", "", ""]
    for overridden in ("s50000008", "s50000009", "s50000010"):  # in the batches, not in the sectioned file
        assert overridden not in sectioned
    assert {"s50000000", "s50000014", "s50000015"}.isdisjoint(texts)  # failed at ingest: in `cxrdb status`


def test_rows_follow_the_report_paths_and_lines_end_crlf(exported) -> None:
    work, src, _ = exported
    data = release_files(work / "release")["sections/mimic_cxr_sections.csv"]
    paths = sorted(p.relative_to(src).as_posix() for p in (src / "files").rglob("s*.txt")
                   if p.is_file() and p.stat().st_size and p.name != "s50000000.txt")
    assert [r[0] for r in rows(data)] == [Path(p).stem for p in paths]
    assert data.endswith(b"\r\n") and b'"Lungs clear."' not in data  # minimal quoting
    assert data.count(b"\r\n") == len(paths)  # one per row: newlines inside a field stay \n


def test_check_release_passes_and_the_files_are_listed(exported) -> None:
    work, _, _ = exported
    out = work / "release"
    assert all(not v for v in verify_release(out, workers=1).values())
    listed = (out / contract.SUMS).read_text().splitlines()
    assert {line.split(" ", 1)[1] for line in listed} >= set(release_files(out))


def test_check_release_finds_a_batch_that_disagrees(exported, tmp_path: Path) -> None:
    import hashlib

    work, _, _ = exported
    out = tmp_path / "release"
    shutil.copytree(work / "release", out)
    batch = out / "sections" / "mimic_cxr_00.csv"
    batch.write_bytes(b"study,text\r\n" + batch.read_bytes())  # a header the original never wrote
    sums = out / contract.SUMS
    sums.write_text("".join(f"{hashlib.sha256(batch.read_bytes()).hexdigest()} sections/mimic_cxr_00.csv\n"
                            if line.endswith("sections/mimic_cxr_00.csv") else line + "\n"
                            for line in sums.read_text().splitlines()))
    problems = verify_release(out, workers=1)
    assert problems["mismatch"] == [] and len(problems["inconsistent"]) == 2, problems
    assert any("row 1 is not" in p for p in problems["inconsistent"])


def _stats(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (out / "sections").iterdir()}


def test_a_no_op_export_rewrites_nothing_and_a_change_rewrites(exported, tmp_path: Path) -> None:
    work, src, _ = exported
    db, out = tmp_path / "c.duckdb", tmp_path / "release"
    shutil.copytree(src, tmp_path / "src", symlinks=True)
    src = tmp_path / "src"
    with Catalog.open(db) as cat:
        ingest(cat, src, overrides=work / "src-overrides.csv", workers=1)
        export(cat, out)
        before = _stats(out)
        export(cat, out)
        assert _stats(out) == before
        assert release_files(out) == release_files(work / "release")  # another catalog, the same bytes
        report = src / "files" / "p10" / "p10000002" / "s50000002.txt"
        report.write_text("x\n IMPRESSION: changed\n")
        ingest(cat, src, workers=1)
        export(cat, out)
        after = _stats(out)
        assert all(after[n] != before[n] for n in before)  # every file holds that study
        assert dict(rows((out / "sections" / "mimic_cxr_sections.csv").read_bytes()))["s50000002"] == "changed"


def test_batches_of_ten_thousand_and_stale_files_go(tmp_path: Path) -> None:
    """10,003 studies: batches 00 (10,000 rows) and 01 (3); then fewer studies: 01 is removed; then no report at
    all: sections/ goes and SHA256SUMS.txt no longer names it."""
    from conftest import DICOMS

    src = tmp_path / "src"
    folder = src / "files" / "p10" / "p10000000" / "s50000000"
    folder.mkdir(parents=True)
    shutil.copyfile(DICOMS[0], folder / "0000aaaa-0000bbbb-0000cccc-0000dddd-0000eeee.dcm")
    for n in range(10_003):
        subject = 10_000_000 + n // 7
        write_report(src, subject, f"s{50_000_000 + (n * 7919) % 10_003}",  # study ids out of path order
                     f"x\n FINDINGS: study {n}, \"quoted\"\n \n IMPRESSION: {n}\n".encode())
    work = tmp_path / "work"
    work.mkdir()
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, src, workers=1)
        export(cat, tmp_path / "release")
        run_original(src / "files", work / "original", {}, {})
        got = release_files(tmp_path / "release")
        want = {f"sections/{p.name}": p.read_bytes() for p in (work / "original").iterdir()}
        assert sorted(got) == sorted(want) == ["sections/mimic_cxr_00.csv", "sections/mimic_cxr_01.csv",
                                               "sections/mimic_cxr_sectioned.csv", "sections/mimic_cxr_sections.csv"]
        assert got == want
        assert len(rows(got["sections/mimic_cxr_00.csv"])) == 10_000
        assert len(rows(got["sections/mimic_cxr_01.csv"])) == 3
        for p in sorted((src / "files").rglob("*.txt"))[-3:]:
            p.unlink()
        ingest(cat, src, workers=1, prune=True)
        result = export(cat, tmp_path / "release")
        assert "sections/mimic_cxr_01.csv" in result.removed
        assert not (tmp_path / "release" / "sections" / "mimic_cxr_01.csv").exists()
        assert all(not v for v in verify_release(tmp_path / "release", workers=1).values())
        for p in (src / "files").rglob("*.txt"):
            p.unlink()
        ingest(cat, src, workers=1, prune=True)
        export(cat, tmp_path / "release")
    assert not (tmp_path / "release" / "sections").exists()
    assert "sections/" not in (tmp_path / "release" / contract.SUMS).read_text()


def test_the_views_have_the_declared_columns(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "fresh.duckdb") as cat:
        for spec in contract.SECTION_FILES:
            assert tuple(cat.query(f"SELECT * FROM {spec.view} LIMIT 0")[0]) == spec.columns
            assert cat.scalar(spec.ready) == 0


def test_batch_names() -> None:
    batched = contract.SECTION_FILES[1]
    assert batched.batch_name(0) == "sections/mimic_cxr_00.csv" and batched.batch_name(123).endswith("_123.csv")
    assert [batched.batch_number(n) for n in ("sections/mimic_cxr_07.csv", "sections/mimic_cxr_7.csv",
                                              "sections/mimic_cxr_007.csv", "mimic_cxr_07.csv",
                                              "sections/mimic_cxr_sections.csv")] == [7, None, None, None, None]


# --- reports-only build, through the CLI -----------------------------------------------------------------------
def cxrdb(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "cxrdb", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=ROOT)


def test_reports_only_build_end_to_end(exported, tmp_path: Path) -> None:
    import gzip

    work, src, expected = exported
    out = tmp_path / "labels"
    proc = cxrdb("build", src, "--reports-only", "--out", out, "--overrides", work / "src-overrides.csv", "-j", "1")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ["README", "SHA256SUMS.txt", "mimic-cxr-2.0.0-chexpert.csv.gz",
                                                     "mimic-cxr-2.0.0-negbio.csv.gz", "sections"]
    assert release_files(out) == expected
    texts = dict(rows(expected["sections/mimic_cxr_sections.csv"]))
    labeled = {int(s[1:]) for s, t in texts.items() if t}
    for labeler in ("chexpert", "negbio"):
        with gzip.open(out / f"mimic-cxr-2.0.0-{labeler}.csv.gz", "rt", newline="") as fh:
            table = list(csv.DictReader(fh))
        assert {int(r["study_id"]) for r in table} == labeled  # every labeled study, no image needed
        assert {r["subject_id"] for r in table if r["study_id"] == "5000012"} == {"10000003"}  # from the folder
    readme = (out / "README").read_text()
    assert "reports-only build" in readme and "not valid UTF-8" in readme and "empty report" in readme
    assert cxrdb("check", "--release", out, "--db", tmp_path / "labels.duckdb", "-j", "1").returncode == 0
    status = cxrdb("status", "--db", tmp_path / "labels.duckdb", "-f", "csv").stdout
    assert "reports only: no image ingested" in status and "s50000000.txt" in status
    first = {**release_files(out), "README": (out / "README").read_bytes(), "sums": (out / contract.SUMS).read_bytes()}
    again = cxrdb("build", src, "--reports-only", "--out", out, "--overrides", work / "src-overrides.csv", "-j", "1")
    assert again.returncode == 0 and "stray" not in again.stdout
    assert first == {**release_files(out), "README": (out / "README").read_bytes(),
                     "sums": (out / contract.SUMS).read_bytes()}


def test_reports_only_refuses_what_concerns_images(exported, tmp_path: Path) -> None:
    _, src, _ = exported
    proc = cxrdb("build", src, "--reports-only", "--out", tmp_path / "o", "--published-split", src / "x.csv")
    assert proc.returncode == 1 and "concerns images" in proc.stderr and not (tmp_path / "o").exists()
    proc = cxrdb("build", src, "--reports-only", "--out", tmp_path / "o", "--reports", src)
    assert proc.returncode == 1 and "leave out --reports" in proc.stderr
    proc = cxrdb("build", tmp_path, "--reports-only", "--out", tmp_path / "o")
    assert proc.returncode == 1 and "files/" in proc.stderr
