"""The release contract: what a release holds, declared once.

Every release file -> the view it is exported from -> its exact columns -> the formats it is written in -> the
stage that must have run before it is written; plus the 14 observations and the labelers a release publishes.
Data only, read by export (what to write), check (exact headers), manifest (which names
a release may hold), build's README (the labelers), the README's "Release files" table (``markdown_table``, kept
equal by tests/test_contract.py) and the tests. The SQL keeps its column lists literal, so every file stays
runnable by hand; tests/test_contract.py parses each list of observations and labeler names in ``sql/`` and
asserts it is this one, and that every release view has exactly the columns declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

# The 14 CheXpert observations, alphabetically: the label columns of work.labels, of both label files, of
# analysis.labels_long and of label-reports' output. Declared beside the labeler configuration, because the
# labeler fingerprint hashes that code: a change to the list relabels every study (and nothing else does).
from .labeling.config import OBSERVATIONS

__all__ = ["EXTRAS", "IMAGE_FILENAMES", "IMAGE_LIST", "OBSERVATIONS", "RELEASE_FILES", "RELEASE_LABELERS",
           "SIZED_FILES", "SIZED_IMAGE_LIST", "SUMS", "TABLES", "TEST_SET", "ReleaseFile", "bigquery_name",
           "csv_headers", "markdown_table", "table_files"]
#: The labelers whose output a release publishes (one label file each); explicit variants are never published.
RELEASE_LABELERS: tuple[str, ...] = ("chexpert", "negbio")

SUMS = "SHA256SUMS.txt"
IMAGE_FILENAMES = "IMAGE_FILENAMES"
#: smaller copies (``--size N``): their folder and their list, N the longer side in pixels (see README)
SIZED_FILES = "files_{size}"
SIZED_IMAGE_LIST = IMAGE_FILENAMES + "_{size}"
TEST_SET = "mimic-cxr-2.1.0-test-set-labeled.csv"
#: build's own files beside the tables, listed in SHA256SUMS.txt when present
EXTRAS: tuple[str, ...] = ("README", "LICENSE.txt", TEST_SET)

#: export's -f choice -> the formats it writes of each table
FORMAT_CHOICES: dict[str, tuple[str, ...]] = {"csv": ("csv.gz",), "parquet": ("parquet",),
                                               "both": ("csv.gz", "parquet")}


def bigquery_name(column: str) -> str:
    """A column as BigQuery, Spark and the Parquet files name it (spaces become underscores)."""
    return column.replace(" ", "_")


@dataclass(frozen=True, slots=True)
class ReleaseFile:
    """One file of a release, as the views produce it."""

    #: the published name (of the .csv.gz, or the plain file)
    name: str
    #: the release view it is exported from
    view: str
    #: its exact columns, in order (the CSV header line)
    columns: tuple[str, ...]
    #: what it is written as: csv.gz and/or parquet (tables, by export's -f), or lines (one value a line)
    formats: tuple[str, ...]
    #: the stage that must have run before it is written (README table)
    stage: str
    #: SQL that is non-zero once that stage has run (None: written whenever it has rows to show)
    ready: str | None = None

    def file_name(self, fmt: str) -> str:
        """Its name in one format: the published name, or the same stem with .parquet."""
        if fmt == "parquet":
            return self.name.removesuffix(".csv.gz") + ".parquet"
        return self.name

    def file_names(self) -> list[str]:
        """Its name in every format it can be written in."""
        return [self.file_name(f) for f in self.formats]

    @property
    def header(self) -> str:
        """The exact header line of its CSV."""
        return ",".join(self.columns)


def _labels(labeler: str) -> ReleaseFile:
    return ReleaseFile(f"mimic-cxr-2.0.0-{labeler}.csv.gz", f"release.{labeler}",
                       ("subject_id", "study_id", *OBSERVATIONS), ("csv.gz", "parquet"), f"label ({labeler})",
                       f"SELECT count(*) FROM work.labels WHERE labeler = '{labeler}'")


#: The tables export writes, in export order.
TABLES: tuple[ReleaseFile, ...] = (
    ReleaseFile("mimic-cxr-2.0.0-metadata.csv.gz", "release.metadata",
                ("dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition", "Rows",
                 "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning",
                 "ViewCodeSequence_CodeMeaning", "PatientOrientationCodeSequence_CodeMeaning"),
                ("csv.gz", "parquet"), "ingest"),
    ReleaseFile("mimic-cxr-2.0.0-split.csv.gz", "release.split", ("dicom_id", "study_id", "subject_id", "split"),
                ("csv.gz", "parquet"), "split", "SELECT count(*) FROM work.split"),
    *(_labels(name) for name in RELEASE_LABELERS),
)
#: The list of intact JPGs (manifest.listed_jpgs keeps the view's rows whose JPG is in this folder and intact).
IMAGE_LIST = ReleaseFile(IMAGE_FILENAMES, "release.image_filenames", ("jpg_path",), ("lines",), "convert")
RELEASE_FILES: tuple[ReleaseFile, ...] = (*TABLES, IMAGE_LIST)


def table_files() -> list[str]:
    """Every file name export can write, in every format."""
    return [IMAGE_FILENAMES, *(n for t in TABLES for n in t.file_names())]


def csv_headers() -> dict[str, str]:
    """Published CSV file -> its exact header line."""
    return {t.name: t.header for t in TABLES if "csv.gz" in t.formats}


def markdown_table() -> str:
    """The README's "Release files" table."""
    rows = ["| file | view | columns | formats | written once |", "|---|---|---|---|---|"]
    for f in RELEASE_FILES:
        obs = f.columns[-len(OBSERVATIONS):] == OBSERVATIONS
        cols = ", ".join(f.columns[:-len(OBSERVATIONS)]) + ", the 14 observations" if obs else ", ".join(f.columns)
        formats = ", ".join("text, one value a line" if x == "lines" else x for x in f.formats)
        rows.append(f"| `{f.name}` | `{f.view}` | {cols} | {formats} | {f.stage} has run |")
    rows += ["", "The 14 observations, in this order: " + ", ".join(OBSERVATIONS) + ". Parquet (`-f parquet` or "
             "`both`) has the same columns with spaces replaced by underscores. Beside the tables build writes "
             + ", ".join(f"`{e}`" for e in EXTRAS) + " (the last two when given) and `" + SUMS + "` over every file."]
    return "\n".join(rows)
