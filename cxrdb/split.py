"""Patient-level train / validate / test assignment.

Rules, in order: an image listed in a published split file keeps its published split exactly; a new image
of a patient the published file knows takes that patient's split; patients of the studies in a labeled
test-set file go to test; every other patient is assigned from a hash of (seed, subject_id) — stable as the
data grows — into validate / test / train by the given fractions, or, with ``validate_patients``, exactly
that many validate patients (the smallest hashes).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sqlfiles
from .catalog import Catalog
from .errors import CxrdbError
from .progress import StageResult

SPLITS = ("train", "validate", "test")

# The published split's shares of patients (MIMIC-CXR-JPG 2.0.0: 500 validate and 293 test patients of 65,379),
# used for patients that no published or test-set file places.
VALIDATE_FRACTION = 0.0076
TEST_FRACTION = 0.0045


@dataclass(frozen=True)
class SplitResult(StageResult):
    """Images, studies and patients per split (``splits``), and how the published file was used."""

    splits: dict[str, str]
    published_assignments_kept: int
    published_not_in_catalog: int

    def summary(self) -> dict[str, Any]:
        return {**self.splits, "published_assignments_kept": self.published_assignments_kept,
                "published_not_in_catalog": self.published_not_in_catalog}


def split_counts(cat: Catalog) -> dict[str, str]:
    """Images, studies and patients per split, as the release lists them (the selection in force)."""
    _, counts = cat.query(
        "SELECT split, count(*), count(DISTINCT study_id), count(DISTINCT subject_id) FROM release.split "
        "GROUP BY split ORDER BY split")
    return {s: f"{i} images, {st} studies, {p} patients" for s, i, st, p in counts}


def patient_hash(seed: int, subject_id: int) -> float:
    """A uniform number in [0, 1) fixed by (seed, subject_id)."""
    digest = hashlib.sha256(f"{seed}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _open_text(path: Path):
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rt", encoding="utf-8", newline="")
        return open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise CxrdbError(f"cannot read {path}: {exc.strerror}") from None


def read_published(path: str | Path) -> dict[str, str]:
    """{dicom_id: split} from a published split file (dicom_id, study_id, subject_id, split)."""
    path = Path(path)
    out: dict[str, str] = {}
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"dicom_id", "split"} <= set(reader.fieldnames):
                raise CxrdbError(f"{path}: needs the columns dicom_id and split")
            for n, row in enumerate(reader, start=2):
                if row["split"] not in SPLITS:
                    raise CxrdbError(f"{path}:{n}: unknown split {row['split']!r}")
                out[row["dicom_id"]] = row["split"]
    except (UnicodeDecodeError, csv.Error, EOFError, gzip.BadGzipFile) as exc:
        raise CxrdbError(f"{path}: not a readable CSV ({exc})") from None
    return out


def read_test_studies(path: str | Path) -> set[int]:
    """Study ids of a labeled test-set file (mimic-cxr-2.1.0-test-set-labeled.csv layout)."""
    path = Path(path)
    try:
        with _open_text(path) as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "study_id" not in reader.fieldnames:
                raise CxrdbError(f"{path}: needs a study_id column")
            return {int(str(r["study_id"]).lstrip("s")) for r in reader if r["study_id"]}
    except (UnicodeDecodeError, csv.Error, ValueError) as exc:
        raise CxrdbError(f"{path}: not a readable test-set CSV ({exc})") from None


def assign(
    images: list[tuple[str, int, int]],
    *,
    published: dict[str, str] | None = None,
    test_studies: set[int] | None = None,
    seed: int = 0,
    validate_fraction: float = VALIDATE_FRACTION,
    test_fraction: float = TEST_FRACTION,
    validate_patients: int | None = None,
) -> list[dict[str, Any]]:
    """Assign every (dicom_id, study_id, subject_id) image a split; a pure function of its inputs."""
    if not (validate_fraction >= 0 and test_fraction >= 0 and validate_fraction + test_fraction <= 1):
        raise CxrdbError("split fractions must be between 0 and 1 and sum to at most 1")
    published = published or {}
    test_studies = test_studies or set()
    patient: dict[int, tuple[str, str]] = {}  # subject -> (split, origin)
    for did, _study, subject in images:
        if did in published:
            patient.setdefault(subject, (published[did], "patient"))
    for _did, study, subject in images:
        if study in test_studies and subject not in patient:
            patient[subject] = ("test", "test-set")
    new = sorted({s for _d, _st, s in images} - set(patient), key=lambda s: (patient_hash(seed, s), s))
    if validate_patients is not None:
        if validate_patients < 0:
            raise CxrdbError("--validate-patients must be >= 0")
        for rank, subject in enumerate(new):
            patient[subject] = ("validate" if rank < validate_patients else "train", "hash")
    else:
        for subject in new:
            h = patient_hash(seed, subject)
            cut = "validate" if h < validate_fraction else "test" if h < validate_fraction + test_fraction else "train"
            patient[subject] = (cut, "hash")
    rows = []
    for did, study, subject in images:
        split_name, origin = (published[did], "published") if did in published else patient[subject]
        rows.append({"dicom_id": did, "study_id": study, "subject_id": subject, "split": split_name,
                     "origin": origin})
    return rows


def split(
    cat: Catalog,
    *,
    published: str | Path | None = None,
    test_set: str | Path | None = None,
    seed: int = 0,
    validate_fraction: float = VALIDATE_FRACTION,
    test_fraction: float = TEST_FRACTION,
    validate_patients: int | None = None,
) -> SplitResult:
    """Compute and store the split of every readable image; return counts per split."""
    _, images = cat.query("SELECT dicom_id, study_id, subject_id FROM stg.images ORDER BY dicom_id")
    pub = read_published(published) if published else {}
    rows = assign(
        [tuple(r) for r in images], published=pub, test_studies=read_test_studies(test_set) if test_set else None,
        seed=seed, validate_fraction=validate_fraction, test_fraction=test_fraction,
        validate_patients=validate_patients,
    )
    digest = hashlib.sha256("".join(f"{r['dicom_id']},{r['study_id']},{r['subject_id']},{r['split']},{r['origin']}\n"
                                    for r in rows).encode()).hexdigest()
    if cat.get_setting("split_rows") != digest or cat.scalar("SELECT count(*) FROM work.split") != len(rows):
        with cat.transaction():  # the same rows as the last split are not written again (a no-op rebuild)
            cat.write_rows("work.split", rows, replace_all=True)
            cat.set_setting("split_rows", digest)
    bad = cat.query(sqlfiles.read("checks/patient_in_one_split.sql"))[1]
    if bad:
        raise CxrdbError(f"{len(bad)} patient(s) fall in two splits in the published file, e.g. {bad[0][0]}")
    cat.set_setting("split_params", f"seed={seed} validate_fraction={validate_fraction} "
                    f"test_fraction={test_fraction} validate_patients={validate_patients} "
                    f"published={'yes' if published else 'no'} test_set={'yes' if test_set else 'no'}")
    return SplitResult(
        splits=split_counts(cat),
        published_assignments_kept=sum(1 for r in rows if r["origin"] == "published"),
        published_not_in_catalog=len(set(pub) - {r["dicom_id"] for r in rows}))
