"""Patient-level split: published assignments kept, known patients follow, test-set patients, hash."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest
from conftest import build_source

from cxrdb import sqlfiles
from cxrdb.catalog import Catalog
from cxrdb.errors import CxrdbError
from cxrdb.export import export
from cxrdb.ingest import ingest
from cxrdb.split import assign, patient_hash, split

# 40 patients with 1-3 images each
IMAGES = [(f"d{p}-{k}", 50000000 + p * 10 + k // 2, 10000000 + p) for p in range(40) for k in range(1 + p % 3)]


def by_patient(rows: list[dict]) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for r in rows:
        out.setdefault(r["subject_id"], set()).add(r["split"])
    return out


def test_no_patient_in_two_splits_and_deterministic() -> None:
    rows = assign(IMAGES, seed=7, validate_fraction=0.2, test_fraction=0.2)
    assert all(len(s) == 1 for s in by_patient(rows).values())
    assert rows == assign(IMAGES, seed=7, validate_fraction=0.2, test_fraction=0.2)
    assert {r["split"] for r in rows} == {"train", "validate", "test"}
    assert rows != assign(IMAGES, seed=8, validate_fraction=0.2, test_fraction=0.2)


def test_hash_assignment_is_stable_as_data_grows() -> None:
    small = {r["subject_id"]: r["split"] for r in assign(IMAGES[:30], seed=1, validate_fraction=0.3)}
    big = {r["subject_id"]: r["split"] for r in assign(IMAGES, seed=1, validate_fraction=0.3)}
    assert all(big[s] == small[s] for s in small)


def test_published_split_is_kept_exactly_and_new_images_follow_their_patient() -> None:
    published = {did: ("test" if p % 2 else "validate") for did, _s, p in IMAGES[:20]}
    rows = assign(IMAGES, published=published, seed=0)
    got = {r["dicom_id"]: r for r in rows}
    assert all(got[d]["split"] == s and got[d]["origin"] == "published" for d, s in published.items())
    known = {p for d, _s, p in IMAGES if d in published}
    for did, _study, subject in IMAGES:
        if subject in known and did not in published:
            assert got[did]["origin"] == "patient"
            assert got[did]["split"] == next(published[d] for d, _s, p in IMAGES if p == subject and d in published)


def test_test_set_patients_go_to_test_and_validate_count_is_exact() -> None:
    test_studies = {IMAGES[0][1], IMAGES[-1][1]}
    rows = assign(IMAGES, test_studies=test_studies, validate_patients=5, seed=3)
    splits = {p: s.pop() for p, s in by_patient(rows).items()}
    assert splits[IMAGES[0][2]] == "test" and splits[IMAGES[-1][2]] == "test"
    assert sum(1 for s in splits.values() if s == "validate") == 5
    assert sum(1 for s in splits.values() if s == "test") == 2


def test_patient_hash_is_uniform_enough() -> None:
    values = [patient_hash(0, s) for s in range(20000)]
    assert 0.45 < sum(values) / len(values) < 0.55
    assert min(values) >= 0 and max(values) < 1


def test_split_in_catalog_export_and_published_roundtrip(tmp_path: Path) -> None:
    root = tmp_path / "src"
    build_source(root, broken=False)
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        ingest(cat, root, workers=1)
        split(cat, validate_patients=2, seed=5)
        export(cat, tmp_path / "a")
        assert cat.query(sqlfiles.read("checks/patient_in_one_split.sql"))[1] == []
        # feed the exported split back as the published one: every assignment is kept
        summary = split(cat, published=tmp_path / "a" / "mimic-cxr-2.0.0-split.csv.gz", seed=99)
        export(cat, tmp_path / "b")
    name = "mimic-cxr-2.0.0-split.csv.gz"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with gzip.open(tmp_path / "a" / name, "rt", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["dicom_id", "study_id", "subject_id", "split"]
    assert summary["published_assignments_kept"] == len(rows) - 1


def test_bad_published_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "split.csv"
    bad.write_text("dicom_id,split\nabc,holdout\n")
    with Catalog.open(tmp_path / "c.duckdb") as cat, pytest.raises(CxrdbError, match="unknown split"):
        split(cat, published=bad)
    bad.write_text("foo,bar\n1,2\n")
    with Catalog.open(tmp_path / "c.duckdb") as cat, pytest.raises(CxrdbError, match="needs the columns"):
        split(cat, published=bad)
