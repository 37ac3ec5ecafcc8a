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

import re
from dataclasses import dataclass

# The 14 CheXpert observations, alphabetically: the label columns of work.labels, of both label files, of
# analysis.labels_long and of label-reports' output. Declared beside the labeler configuration, because the
# labeler fingerprint hashes that code: a change to the list relabels every study (and nothing else does).
from .labeling.config import OBSERVATIONS

__all__ = ["EXTRAS", "IMAGE_FILENAMES", "IMAGE_LIST", "OBSERVATIONS", "RELEASE_FILES", "RELEASE_LABELERS",
           "SECTIONS_DIR", "SECTION_FILES", "SIZED_FILES", "SIZED_IMAGE_LIST", "SUMS", "TABLES", "TEST_SET",
           "ReleaseFile", "bigquery_name", "csv_headers", "is_release_file", "markdown_table", "table_files"]
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
    #: whether the file starts with its header line (the labeler-input batches have none)
    has_header: bool = True
    #: rows per file when the view is written as numbered files (``name`` holds ``{batch:02d}``), else None
    batch_rows: int | None = None

    def file_name(self, fmt: str) -> str:
        """Its name in one format: the published name, or the same stem with .parquet."""
        if fmt == "parquet":
            return self.name.removesuffix(".csv.gz") + ".parquet"
        return self.name

    def file_names(self) -> list[str]:
        """Its name in every format it can be written in (none for numbered files: see ``batch_name``)."""
        return [] if self.batch_rows else [self.file_name(f) for f in self.formats]

    def batch_name(self, batch: int) -> str:
        """The name of numbered file ``batch`` (rows ``batch * batch_rows`` on)."""
        return self.name.format(batch=batch)

    def batch_number(self, name: str) -> int | None:
        """The batch a file name is the numbered file of, None when it is not one of this file's names."""
        head, _, tail = self.name.partition("{batch:02d}")
        m = re.fullmatch(re.escape(head) + r"([0-9]{2,})" + re.escape(tail), name) if self.batch_rows else None
        return int(m[1]) if m and self.batch_name(int(m[1])) == name else None

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
                ("csv.gz", "parquet"), "ingest (images)", "SELECT count(*) FROM raw.images"),
    ReleaseFile("mimic-cxr-2.0.0-split.csv.gz", "release.split", ("dicom_id", "study_id", "subject_id", "split"),
                ("csv.gz", "parquet"), "split", "SELECT count(*) FROM work.split"),
    *(_labels(name) for name in RELEASE_LABELERS),
)
#: The list of intact JPGs (manifest.listed_jpgs keeps the view's rows whose JPG is in this folder and intact).
IMAGE_LIST = ReleaseFile(IMAGE_FILENAMES, "release.image_filenames", ("jpg_path",), ("lines",), "convert")

#: The folder of the report-section files of MIT-LCP/mimic-cxr's create_section_files.py (written whenever the
#: catalog has readable reports): plain CSV as its csv.writer wrote them (minimal quoting, \r\n line ends, UTF-8).
SECTIONS_DIR = "sections"
_HAS_REPORTS = "SELECT count(*) FROM stg.reports"
_SECTION_TEXT = ("study", "text")
SECTION_FILES: tuple[ReleaseFile, ...] = (
    ReleaseFile(f"{SECTIONS_DIR}/mimic_cxr_sectioned.csv", "release.sectioned",
                ("study", "impression", "findings", "last_paragraph", "comparison"), ("csv",), "ingest (reports)",
                _HAS_REPORTS),
    ReleaseFile(f"{SECTIONS_DIR}/mimic_cxr_{{batch:02d}}.csv", "release.section_texts", _SECTION_TEXT, ("csv",),
                "ingest (reports)", _HAS_REPORTS, has_header=False, batch_rows=10_000),
    ReleaseFile(f"{SECTIONS_DIR}/mimic_cxr_sections.csv", "release.section_texts", _SECTION_TEXT, ("csv",),
                "ingest (reports)", _HAS_REPORTS, has_header=False),
)
RELEASE_FILES: tuple[ReleaseFile, ...] = (*TABLES, IMAGE_LIST, *SECTION_FILES)


def table_files() -> list[str]:
    """Every fixed file name export can write, in every format (numbered files: ``is_release_file``)."""
    return [IMAGE_FILENAMES, *(n for t in (*TABLES, *SECTION_FILES) for n in t.file_names())]


def is_release_file(name: str) -> bool:
    """Whether export may write a file of this name (a fixed name, or one of the numbered batch files)."""
    return name in table_files() or any(f.batch_number(name) is not None for f in SECTION_FILES)


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
        if not f.has_header:
            formats += ", no header"
        if f.batch_rows:
            formats += f", {f.batch_rows:,} rows a file"
        name = f.name.replace("{batch:02d}", "NN")
        rows.append(f"| `{name}` | `{f.view}` | {cols} | {formats} | {f.stage} has run |")
    rows += ["", "The 14 observations, in this order: " + ", ".join(OBSERVATIONS) + ". Parquet (`-f parquet` or "
             "`both`) has the same columns with spaces replaced by underscores. Beside the tables build writes "
             + ", ".join(f"`{e}`" for e in EXTRAS) + " (the last two when given) and `" + SUMS
             + "` over every file. The `" + SECTIONS_DIR + "/` files are plain CSV as the original's csv.writer wrote "
             "them (minimal quoting, \\r\\n line ends, UTF-8); NN is the batch number (row // 10,000, at least two "
             "digits)."]
    return "\n".join(rows)
