"""Shared fixtures: MIMIC-CXR-style sources built from the real public files in tests/data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DICOMS = sorted((DATA / "dicom").glob("*.dcm"))

REPORT = (
    "                                 FINAL REPORT\n"
    " EXAMINATION:  CHEST (PA AND LAT)\n \n"
    " INDICATION:  ___ year old woman with cough.\n \n"
    " COMPARISON:  None.\n \n"
    " FINDINGS:\n \n"
    " The heart size is normal. There is no pleural effusion or pneumothorax.\n"
    " Lungs are clear.\n \n"
    " IMPRESSION:\n \n"
    " No acute cardiopulmonary process.\n"
)


def dicom_id(n: int) -> str:
    """A MIMIC-style dicom_id (5 groups of 8 hex digits) for test item n."""
    return "-".join(f"{n:04x}{k:04x}" for k in range(5))


def build_source(root: Path, broken: bool = True) -> dict[str, Path]:
    """Lay every real test DICOM out as MIMIC-CXR: one image per study, 3 studies per patient.

    Returns {dicom_id: source file it copies}. With ``broken``, adds bad files beside the good ones.
    """
    made: dict[str, Path] = {}
    for n, src in enumerate(DICOMS):
        subject = 10000000 + n // 3
        study = 50000000 + n
        folder = root / "files" / f"p{str(subject)[:2]}" / f"p{subject}" / f"s{study}"
        folder.mkdir(parents=True, exist_ok=True)
        did = dicom_id(n)
        shutil.copyfile(src, folder / f"{did}.dcm")
        (folder.parent / f"s{study}.txt").write_text(REPORT, encoding="utf-8")
        made[did] = src
    if broken:
        bad = root / "files" / "p19" / "p19999999" / "s59999999"
        bad.mkdir(parents=True)
        (bad / "not-a-dicom.dcm").write_bytes(b"this is a text file, not a DICOM\n" * 20)
        (bad / "truncated.dcm").write_bytes(DICOMS[0].read_bytes()[:300])
        (bad / "empty.dcm").write_bytes(b"")
        (bad.parent / "s59999999.txt").write_bytes(b"")
        (bad.parent / "s59999998.txt").write_bytes("caf\xe9 report".encode("latin-1"))
        (bad.parent / "s59999997.txt").write_text("no headers at all, just text\n \nsecond para\n")
        (root / "files" / "p19" / "stray.dcm").write_bytes(b"x")
    return made


@pytest.fixture(scope="session")
def real_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A source of every real test DICOM plus broken files (read-only use: copy before changing)."""
    root = tmp_path_factory.mktemp("source")
    return root, build_source(root)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(release, catalog) of one build of the bundled demo (read-only use: copy the release before changing it)."""
    from cxrdb.build import build
    from cxrdb.demo import demo_source

    out = tmp_path_factory.mktemp("demo-build")
    build(demo_source(), out / "release", db=out / "catalog.duckdb", validate_patients=2, seed=0, fmt="both",
          workers=2)
    return out / "release", out / "catalog.duckdb"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(folder, summary) of one ``run_demo`` (``release/`` and ``catalog.duckdb`` inside; read-only use)."""
    from cxrdb.demo import run_demo

    out = tmp_path_factory.mktemp("demo-run")
    return out, run_demo(out, workers=2)
