"""The ``cxrdb`` command line: a thin typer skin over the Python API."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .errors import CxrdbError, Interrupted, interrupt_on_sigint

ENVIRONMENT = (
    "Environment: CXRDB_CATALOG sets --db; CXRDB_DEBUG=1 shows tracebacks instead of one red line; "
    "CXRDB_START_METHOD (forkserver, spawn or fork) sets how worker processes start (default forkserver); "
    "CXRDB_MALLOC_TUNE=0 keeps glibc's default malloc thresholds in conversion workers; "
    "CXRDB_MEMORY_LIMIT (e.g. 2GB) sets the most memory DuckDB keeps for the catalog (default 512MB)."
)

app = typer.Typer(
    rich_markup_mode="rich", no_args_is_help=True, add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Build, rebuild, check and query MIMIC-CXR-JPG-style datasets from a DuckDB catalog.",
    epilog=ENVIRONMENT,
)


class OutputFormat(StrEnum):
    """How a command prints rows."""

    table = "table"
    csv = "csv"
    json = "json"


class Dialect(StrEnum):
    """Which SQL dialect `cxrdb sql` reads."""

    auto = "auto"
    bigquery = "bigquery"
    duckdb = "duckdb"


class UncertainAs(StrEnum):
    """How `cxrdb evaluate` scores a predicted -1."""

    keep = "keep"
    positive = "positive"
    negative = "negative"
    blank = "blank"


class ReleaseFormat(StrEnum):
    """Which files export and build write for each release table."""

    csv = "csv"
    parquet = "parquet"
    both = "both"


CatalogOpt = Annotated[Path, typer.Option("--db", envvar="CXRDB_CATALOG", help="Catalog file (DuckDB).")]
VerifyOpt = Annotated[bool, typer.Option(
    help="Re-hash every finished JPG instead of trusting size + mtime (finds an edit that kept both).")]
ForceOpt = Annotated[bool, typer.Option(
    help="Write into a release folder that holds files this catalog did not write (they are never listed).")]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", "-j", min=1, help="Worker processes (default: one per core).")
]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
_SELECTION = "Selection (a subset; default everything)"
SubjectsOpt = Annotated[Path | None, typer.Option(
    "--subjects", rich_help_panel=_SELECTION,
    help="Only these patients: a file of subject ids, one a line, or a CSV with a subject_id column.")]
StudiesOpt = Annotated[Path | None, typer.Option(
    "--studies", rich_help_panel=_SELECTION,
    help="Only these studies: a file of study ids, one a line, or a CSV with a study_id column.")]
ViewsOpt = Annotated[list[str] | None, typer.Option(
    "--views", rich_help_panel=_SELECTION,
    help="Only images of these inferred views (analysis.image_view), e.g. PA,AP.")]
SplitOpt = Annotated[list[str] | None, typer.Option(
    "--split", rich_help_panel=_SELECTION, help="Only images in this split: train, validate or test (or a list).")]
SizeOpt = Annotated[list[str] | None, typer.Option(
    "--size", metavar="N", help="Also write a copy whose longer side is N px under OUT/files_N/ (no upscaling), "
    "listed in IMAGE_FILENAMES_N; repeatable: --size 512 --size 224.")]
QualityOpt = Annotated[str | None, typer.Option(
    "--quality", metavar="Q", help="JPEG quality of the --size copies (default 95; the full-size JPG is always 95).")]
ResizeOpt = Annotated[str | None, typer.Option(
    "--resize", metavar="METHOD", help="How the --size copies are shrunk: area (default: one OpenCV INTER_AREA) or "
    "fast (a whole-factor box average, then INTER_AREA: a third of the time, 0.3 grey levels from area at 512).")]
FullSizeOpt = Annotated[bool, typer.Option(
    "--full-size/--no-full-size", help="Write the published full-size JPGs (files/); off: only the --size copies.")]
ReleaseFormatOpt = Annotated[ReleaseFormat, typer.Option(
    "--format", "-f", help="csv (the published .csv.gz files), parquet, or both.")]


@contextmanager
def _tracked(db: Path, command: str) -> Iterator[Any]:
    """Progress bars plus CATALOG.run.json (what `cxrdb status` shows while this run holds the catalog)."""
    from . import _console
    from .runfile import RunFile

    with _console.progress_bars() as bar, RunFile(db, command) as run:

        def both(task: str, advance: int, total: int | None) -> None:
            bar(task, advance, total)
            run(task, advance, total)

        yield both


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cxrdb {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """cxrdb: MIMIC-CXR-JPG builds from a DuckDB catalog."""


@app.command()
def ingest(
    source: Annotated[Path, typer.Argument(help="Folder holding files/pNN/pNNNNNNNN/sNNNNNNNN/...")],
    db: CatalogOpt,
    reports: Annotated[
        Path | None, typer.Option(help="Separate root of the report files (files/.../sNNN.txt): a folder, "
                                       "or a .zip / .tar.gz of it (read in place).")
    ] = None,
    overrides: Annotated[Path | None, typer.Option(help="CSV of per-study section overrides.")] = None,
    prune: Annotated[bool, typer.Option(
        help="Remove images and reports that left the source (with their JPGs and labels).")] = False,
    workers: WorkersOpt = None,
) -> None:
    """Read DICOM headers and reports into the catalog; unchanged files are skipped.

    Example: cxrdb ingest /data/mimic-cxr --db cxr.duckdb
    """
    from . import _console
    from .catalog import Catalog
    from .ingest import ingest as run_ingest
    from .preflight import ingest_inputs

    ingest_inputs(source, reports, overrides)
    with Catalog.open(db) as cat, _tracked(db, "ingest") as bar:
        result = run_ingest(cat, source, reports=reports, overrides=overrides, workers=workers, prune=prune,
                            progress=bar)
    _console.summary("ingest", result.summary())


@app.command()
def export(
    db: CatalogOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Release folder to write into.")],
    fmt: ReleaseFormatOpt = ReleaseFormat.csv,
    force: ForceOpt = False,
    subjects: SubjectsOpt = None,
    studies: StudiesOpt = None,
    views: ViewsOpt = None,
    split_of: SplitOpt = None,
) -> None:
    """Write the release files (metadata, split, chexpert, negbio, IMAGE_FILENAMES, sections/) from the release views.

    Example: cxrdb export --db cxr.duckdb --out release/ --format both
    """
    from . import _console
    from .catalog import Catalog
    from .export import export as run_export
    from .locks import release_lock
    from .manifest import check_folder
    from .selection import apply, selection_from_options

    selection = selection_from_options(subjects, studies, views, split_of)
    out = out.expanduser().resolve()
    with release_lock(out), Catalog.open(db) as cat:
        stray, folder = check_folder(cat, out, force)
        selected = apply(cat, selection).summary()
        result = run_export(cat, out, fmt.value, folder)
    values: dict[str, Any] = {**selected, **{name: f"{n} rows" for name, n in result.files.items()}}
    values["files in SHA256SUMS.txt"] = result.listed
    if result.removed:
        values["removed (earlier export, not written now)"] = ", ".join(result.removed)
    if result.outside_removed:
        values["JPGs removed (outside the selection)"] = result.outside_removed
    _console.summary(f"export → {out}", values)
    if stray:
        _console.error(f"{len(stray)} file(s) in {out} are not part of the release and not listed (e.g. {stray[0]})")


@app.command()
def convert(
    db: CatalogOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Release folder: JPGs go to OUT/files/pNN/...")],
    workers: WorkersOpt = None,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address (tcp://host:port): convert on that cluster instead of locally.")] = None,
    source_url: Annotated[str | None, typer.Option(
        help="Where workers read the source instead: another mount point or an fsspec URL (s3://...).")] = None,
    strict: Annotated[bool, typer.Option(help="Exit with status 2 when any image failed.")] = False,
    retry_failed: Annotated[bool, typer.Option(help="Retry images that failed in an earlier run.")] = True,
    verify: VerifyOpt = False,
    force: ForceOpt = False,
    subjects: SubjectsOpt = None,
    studies: StudiesOpt = None,
    views: ViewsOpt = None,
    split_of: SplitOpt = None,
    size: SizeOpt = None,
    quality: QualityOpt = None,
    resize: ResizeOpt = None,
    full_size: FullSizeOpt = True,
) -> None:
    """Convert every ingested DICOM to the published JPG (byte-identical); resumable, skips finished images.

    Example: cxrdb convert --db cxr.duckdb --out release/ -j 8 --size 512 --size 224
    """
    from . import _console
    from .catalog import Catalog
    from .convert.derivatives import parse_outputs
    from .convert.run import convert as run_convert
    from .executor import check_scheduler
    from .locks import release_lock
    from .manifest import check_folder
    from .selection import apply, selection_from_options

    outputs = parse_outputs(size, quality, full_size, resize)
    if scheduler:
        check_scheduler(scheduler)
    selection = selection_from_options(subjects, studies, views, split_of)
    out = out.expanduser().resolve()
    with release_lock(out), Catalog.open(db) as cat, _tracked(db, "convert") as bar:
        _, folder = check_folder(cat, out, force)
        selected = apply(cat, selection).summary()
        result = run_convert(cat, out, workers=workers, scheduler=scheduler, retry_failed=retry_failed,
                             source_url=source_url, verify=verify, folder=folder, outputs=outputs, progress=bar)
    _console.summary(f"convert → {out}", {**selected, **result.summary()})
    failed = result["failed"] + (result.copies_failed or 0)
    if failed:
        copies = f" and {result.copies_failed} smaller copies" if result.copies_failed else ""
        _console.error(f"{result['failed']} image(s){copies} failed: see `cxrdb status --db {db}`")
        if strict:
            raise typer.Exit(2)


@app.command()
def label(
    db: CatalogOpt,
    labeler: Annotated[list[str] | None, typer.Option(
        "--labeler", "-l", help="chexpert and/or negbio (repeat the option); default both. A "
        "'+alternatives' variant (chexpert+alternatives) is stored as its own labeler.")] = None,
    workers: WorkersOpt = None,
    subjects: SubjectsOpt = None,
    studies: StudiesOpt = None,
    views: ViewsOpt = None,
    split_of: SplitOpt = None,
) -> None:
    """Label every study's chosen section with the CheXpert and NegBio labelers; keeps the evidence.

    Example: cxrdb label --db cxr.duckdb
    """
    from . import _console
    from .catalog import Catalog
    from .labeling.run import LABELERS
    from .labeling.run import label as run_label
    from .selection import apply, selection_from_options

    selection = selection_from_options(subjects, studies, views, split_of)
    with Catalog.open(db) as cat, _tracked(db, "label") as bar:
        selected = apply(cat, selection).summary()
        result = run_label(cat, labeler or LABELERS, workers=workers, progress=bar)
    _console.summary("label", {**selected, **result.summary()})


@app.command("label-reports")
def label_reports(
    input_csv: Annotated[Path, typer.Argument(
        help="CSV with a header holding an id column and a text column; - reads standard input.")],
    out: Annotated[Path, typer.Option("--out", "-o", help=(
        "Output CSV: study_id then the 14 observations; - writes standard output (the summary then goes to "
        "standard error)."))],
    labeler: Annotated[str, typer.Option("--labeler", "-l", help=(
        "chexpert or negbio (faithful); chexpert+alternatives or negbio+alternatives: explicit variants "
        "where 'X or Y' / 'X versus Y' name both as present."))] = "chexpert",
    id_column: Annotated[str, typer.Option(help="Name of the id column.")] = "study_id",
    text_column: Annotated[str, typer.Option(help="Name of the text column.")] = "text",
    evidence: Annotated[Path | None, typer.Option(
        help="Also write one row per mention: sentence, phrase, span, label and the deciding rule.")] = None,
    workers: WorkersOpt = None,
) -> None:
    """Label a CSV of report texts without a catalog; rows stay in input order.

    A malformed row (field count other than the header's, empty or repeated id) is not labeled and not in
    the output: it is counted ("malformed") and named on standard error as "line N: reason" (the first 20).

    Example: cxrdb label-reports reports.csv --out labels.csv --labeler chexpert
    """
    from . import _console
    from .labeling.reports_csv import STDIO, label_reports_csv

    shown_max, errors = 20, [0]

    def bad_row(line: int, reason: str) -> None:
        errors[0] += 1
        if errors[0] <= shown_max:
            typer.echo(f"line {line}: {reason}", err=True)

    with _console.progress_bars() as bar:
        seen = [0]

        def advance(rows: int) -> None:  # the labeler reports a running total
            bar("reports", rows - seen[0], None)
            seen[0] = rows

        result = label_reports_csv(input_csv, out, labeler=labeler, id_column=id_column, text_column=text_column,
                                   workers=workers, on_progress=advance, evidence_path=evidence, on_error=bad_row)
    if errors[0] > shown_max:
        typer.echo(f"... and {errors[0] - shown_max} more malformed rows", err=True)
    lost_ids = result.pop("lost_ids")
    if STDIO in (str(out), str(evidence)):  # standard output holds the labels: the summary goes to stderr
        typer.echo(f"label-reports ({labeler}): " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in
                                                              result.items()), err=True)
    else:
        _console.summary(f"label-reports ({labeler}) → {out}", dict(result))
    if lost_ids:
        raise CxrdbError(f"{result['lost']} report(s) were not labeled because their worker died (e.g. "
                         f"{', '.join(lost_ids[:3])}); they are not in {out}: run again")


@app.command()
def evaluate(
    pred: Annotated[Path, typer.Argument(
        help="Predicted labels CSV (study_id + observation columns); - reads standard input.")],
    gold: Annotated[Path, typer.Argument(
        help="Gold labels CSV (mimic-cxr-2.1.0-test-set-labeled.csv layout); - reads standard input.")],
    fmt: FormatOpt = OutputFormat.table,
    uncertain_as: Annotated[UncertainAs, typer.Option(
        help="Score predicted -1 as: keep (its own class), positive (U-Ones), negative (U-Zeros) or blank.")
    ] = UncertainAs.keep,
) -> None:
    """Precision, recall and F1 per observation and class against gold labels, with macro figures.

    Example: cxrdb evaluate labels.csv mimic-cxr-2.1.0-test-set-labeled.csv
    (or: cxrdb label-reports reports.csv --out - | cxrdb evaluate - gold.csv)
    """
    from . import _console
    from .evaluate import evaluate_files

    result = evaluate_files(pred, gold, uncertain_as=uncertain_as.value)
    if fmt == "table":
        _console.console.print(result.to_rich())
        for note in result.notes:
            _console.console.print(f"[dim]{note}[/]")
    else:
        typer.echo(result.render(fmt.value), nl=False)


@app.command()
def compare(
    db: CatalogOpt,
    gold: Annotated[Path | None, typer.Option(help="Gold labels CSV to load into the catalog first.")] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Both labelers side by side: their agreement and their F1 against gold labels, per observation.

    Example: cxrdb compare --db cxr.duckdb --gold mimic-cxr-2.1.0-test-set-labeled.csv
    """
    from . import _console
    from .catalog import Catalog
    from .compare import compare as run_compare
    from .compare import load_gold

    with Catalog.open(db) as cat:
        if gold is not None:
            loaded = load_gold(cat, gold)
            if fmt == "table":
                _console.summary("gold", loaded)
        columns, rows = run_compare(cat)
    _console.rows(columns, rows, fmt, title="labelers vs gold")


@app.command("diff")
def diff_releases(
    ours: Annotated[Path, typer.Argument(help="Our release folder (e.g. a cxrdb build's release).")],
    theirs: Annotated[Path, typer.Argument(help="The release to compare with (e.g. the published MIMIC-CXR-JPG).")],
    db: Annotated[Path | None, typer.Option(
        "--db", help="The catalog behind OURS: explains each disagreeing label by its evidence.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Folder for report.html, report.json and the CSVs behind them.")] = None,
    rehash: Annotated[bool, typer.Option(
        help="Hash every file instead of trusting both SHA256SUMS.txt where the files are older than it.")] = False,
    workers: WorkersOpt = None,
) -> None:
    """How close two releases are: files, JPG pixels, metadata, split and labels; exit 0 identical, 1 not, 2 error.

    Example: cxrdb diff build/release mimic-cxr-jpg-2.1.0 --db build/catalog.duckdb --out diff-report
    """
    import duckdb

    from . import _console, preflight
    from .atomic import WriteError
    from .diff import diff as run_diff
    from .diff.report import label_rows, summary_rows

    try:  # exit 1 means "the releases differ": any failure to compare is 2
        preflight.report_folder(out, (ours, theirs))
        with _console.progress_bars() as bar:
            result = run_diff(ours, theirs, db=db, rehash=rehash, workers=workers, progress=bar)
        written = result.write(out) if out is not None else []
    except CxrdbError as exc:
        _console.error(str(exc))
        raise typer.Exit(2) from None
    except (OSError, WriteError, duckdb.Error) as exc:
        _console.error(_describe_failure(exc))
        raise typer.Exit(2) from None
    _console.rows(*summary_rows(result.report), title=f"diff {ours} ↔ {theirs}")
    columns, rows = label_rows(result.report)
    if rows:
        _console.rows(columns, rows, title="labels: agreement, Cohen's kappa, disagreements")
    worst = result.report["jpgs"]["worst"][:5]
    if worst:
        _console.rows(["path", "max_abs", "mean_abs", "share_differ"],
                      [[w["path"], w["max_abs"], w["mean_abs"], w["share_differ"]] for w in worst],
                      title="JPGs that differ most")
    where = f"; report: {out / 'report.html'}" if written else ""
    _console.note(("identical" if result.identical else "the releases differ") + where, ok=result.identical)
    if not result.identical:
        raise typer.Exit(1)


@app.command()
def split(
    db: CatalogOpt,
    published: Annotated[Path | None, typer.Option(
        help="Published split file (mimic-cxr-2.0.0-split.csv.gz): its assignments are kept exactly.")] = None,
    test_set: Annotated[Path | None, typer.Option(
        help="Labeled test-set CSV (study_id, ...): those studies' patients go to test.")] = None,
    validate_patients: Annotated[int | None, typer.Option(
        help="Exactly this many new patients to validate (instead of --validate-fraction).")] = None,
    validate_fraction: Annotated[float | None, typer.Option(
        help="Share of new patients to validate (default: the published split's share).")] = None,
    test_fraction: Annotated[float | None, typer.Option(
        help="Share of new patients to test (default: the published split's share).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the patient hash.")] = 0,
) -> None:
    """Assign every image to train / validate / test by patient (no patient in two splits).

    Example: cxrdb split --db cxr.duckdb --published mimic-cxr-2.0.0-split.csv.gz
    """
    from . import _console
    from .catalog import Catalog
    from .split import TEST_FRACTION, VALIDATE_FRACTION
    from .split import split as run_split

    with Catalog.open(db) as cat:
        result = run_split(cat, published=published, test_set=test_set, seed=seed,
                           validate_fraction=VALIDATE_FRACTION if validate_fraction is None else validate_fraction,
                           test_fraction=TEST_FRACTION if test_fraction is None else test_fraction,
                           validate_patients=validate_patients)
    _console.summary("split", result.summary())


@app.command()
def check(
    db: Annotated[Path | None, typer.Option("--db", envvar="CXRDB_CATALOG", help="Catalog to check.")] = None,
    release: Annotated[Path | None, typer.Option(help="Release folder to verify against its SHA256SUMS.txt.")] = None,
    workers: WorkersOpt = None,
) -> None:
    """Check a catalog's consistency (sql/checks) and/or verify a release folder; exit 1 on any problem.

    Example: cxrdb check --release mimic-cxr-jpg/
    """
    from . import _console
    from .catalog import Catalog
    from .check import check_catalog, verify_release

    if db is None and release is None:
        raise CxrdbError("give --db CATALOG and/or --release DIR")
    failed = 0
    if db is not None:
        with Catalog.open(db, read_only=True) as cat:
            results = check_catalog(cat)
        _console.rows(["check", "problems", "examples"],
                      [[r["check"], r["problems"], r["examples"] or ""] for r in results], title="catalog checks")
        failed += sum(r["problems"] for r in results)
    if release is not None:
        with _console.progress_bars() as bar:
            problems = verify_release(release, workers=workers, progress=bar)
        _console.summary(f"verify {release}", {k: len(v) for k, v in problems.items()})
        for kind, paths in problems.items():
            for path in paths[:20]:
                _console.error(f"{kind}: {path}")
        failed += sum(len(v) for v in problems.values())
    if failed:
        raise CxrdbError(f"{failed} problem(s) found")


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One read-only SQL query (DuckDB or BigQuery SQL, see --dialect).")],
    db: CatalogOpt,
    fmt: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Output format (json keys are the column names; a repeated name gets _2, _3…).",
    )] = OutputFormat.table,
    dialect: Annotated[Dialect, typer.Option(
        "--dialect",
        help="SQL dialect: auto (BigQuery when the query has `backticks` or names physionet-data, else DuckDB), "
        "bigquery (translated to DuckDB) or duckdb (run as written).",
    )] = Dialect.auto,
    allow: Annotated[list[Path] | None, typer.Option(
        "--allow", metavar="PATH",
        help="A file or folder the query may also read (read_csv, read_parquet…); repeatable. "
        "Without it a query reads the catalog and nothing else.",
    )] = None,
) -> None:
    """Run one read-only SQL query on the catalog (nothing else on the machine is readable or writable).

    Only queries run: SELECT / WITH / VALUES / DESCRIBE / SHOW / SUMMARIZE / EXPLAIN and read-only PRAGMAs;
    COPY, ATTACH, INSTALL, SET, CREATE… are refused. BigQuery names (`physionet-data.mimic_cxr.x`) map to the
    local mimic_cxr schema and BigQuery functions are translated.

    Example: cxrdb sql --db cxr.duckdb "SELECT ViewPosition, count(*) FROM mimic_cxr.metadata GROUP BY 1"
    """
    from . import _console
    from .query import run_query

    columns, data = run_query(db, query, allow=allow or (), dialect=dialect.value)
    _console.rows(columns, data, fmt)


def _show_run(run: dict[str, Any], fmt: str) -> None:
    """What a run in progress reports about itself."""
    import json
    import time

    from . import _console

    if fmt == "json":
        typer.echo(json.dumps(run, indent=1))
        return
    rows = [[task, t["done"], t["total"] if t["total"] is not None else ""] for task, t in run["tasks"].items()]
    age = time.time() - run["started"]
    _console.rows(["task", "done", "total"], rows, fmt,
                  title=f"`cxrdb {run['command']}` in progress (pid {run['pid']}, {age / 60:.1f} min); "
                  "full status once it ends")


@app.command()
def status(db: CatalogOpt, fmt: FormatOpt = OutputFormat.table) -> None:
    """Counts per stage and every failed item with its one-line error.

    Example: cxrdb status --db cxr.duckdb
    """
    from . import _console
    from .catalog import Catalog
    from .errors import CatalogLocked
    from .runfile import read_run
    from .status import status as run_status

    try:
        with Catalog.open(db, read_only=True) as cat:
            result = run_status(cat)
    except CatalogLocked:
        run = read_run(db)
        if run is None:
            raise
        _show_run(run, fmt)
        return
    if fmt == "json":
        import json

        typer.echo(json.dumps({"stages": result.stages, "failures": result.failures,
                               "mimic_iv": result.mimic_iv}, indent=1, default=str))
        return
    from .status import FAILURE_COLUMNS, MIMIC_IV_COLUMNS, STAGE_COLUMNS

    stage_cols = list(STAGE_COLUMNS)
    _console.rows(stage_cols, [[s[c] for c in stage_cols] for s in result.stages], fmt, title="stages")
    if result.mimic_iv:
        cols = list(MIMIC_IV_COLUMNS)
        _console.rows(cols, [[t[c] for c in cols] for t in result.mimic_iv], fmt, title=result.mimic_iv_title)
    if result.failures:
        cols = list(FAILURE_COLUMNS)
        _console.rows(cols, [[f[c] for c in cols] for f in result.failures], fmt, title="failures")


@app.command()
def build(
    source: Annotated[Path, typer.Argument(help="Folder holding files/pNN/pNNNNNNNN/sNNNNNNNN/...")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Release folder to build.")],
    db: Annotated[Path | None, typer.Option(
        "--db", envvar="CXRDB_CATALOG", help="Catalog file (default: OUT.duckdb beside the release).")] = None,
    reports: Annotated[Path | None, typer.Option(
        help="Separate root of the report files: a folder, or a .zip / .tar.gz of it (read in place).")] = None,
    overrides: Annotated[Path | None, typer.Option(help="CSV of per-study section overrides.")] = None,
    published_split: Annotated[Path | None, typer.Option(
        "--published-split", help="Published split file whose assignments are kept.")] = None,
    test_set: Annotated[Path | None, typer.Option(help="Labeled test-set CSV: its patients go to test.")] = None,
    validate_patients: Annotated[int | None, typer.Option(help="Exactly this many new validate patients.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split's patient hash.")] = 0,
    license_file: Annotated[Path | None, typer.Option("--license", help="Copied to LICENSE.txt.")] = None,
    fmt: ReleaseFormatOpt = ReleaseFormat.csv,
    workers: WorkersOpt = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address for the conversion.")] = None,
    force: Annotated[bool, typer.Option(help="Build into a folder that holds other files.")] = False,
    verify: VerifyOpt = False,
    subjects: SubjectsOpt = None,
    studies: StudiesOpt = None,
    views: ViewsOpt = None,
    split_of: SplitOpt = None,
    reports_only: Annotated[bool, typer.Option(
        "--reports-only", help="SOURCE is a reports tree (files/pNN/pNNNNNNNN/sNNNNNNNN.txt), no DICOM: build the "
        "label files and sections/ only.")] = False,
    size: SizeOpt = None,
    quality: QualityOpt = None,
    resize: ResizeOpt = None,
    full_size: FullSizeOpt = True,
) -> None:
    """Build the whole release in one resumable run: ingest, split, convert, label, export, checksums.

    Example: cxrdb build /data/mimic-cxr --out mimic-cxr-jpg/ --published-split mimic-cxr-2.0.0-split.csv.gz
    (reports alone: cxrdb build /data/mimic-cxr-reports --reports-only --out labels/)
    """
    from . import _console
    from .build import build as run_build
    from .build import default_catalog
    from .convert.derivatives import parse_outputs
    from .selection import selection_from_options

    outputs = parse_outputs(size, quality, full_size, resize)

    selection = selection_from_options(subjects, studies, views, split_of)
    with _tracked(db or default_catalog(out.expanduser().resolve()), "build") as bar:
        result = run_build(source, out, db=db, reports=reports, overrides=overrides, published_split=published_split,
                           test_set=test_set, validate_patients=validate_patients, seed=seed,
                           license_file=license_file, fmt=fmt.value, workers=workers, scheduler=scheduler, force=force,
                           verify=verify, selection=selection, reports_only=reports_only, outputs=outputs,
                           progress=bar)
    _console.summary(f"build → {out}", result.summary())


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo catalog and release.")] = Path(
        "demo-out"),
    workers: WorkersOpt = None,
) -> None:
    """Run every step on the bundled demo source and show what it made.

    Example: cxrdb demo --out demo-out
    """
    from . import _console
    from .demo import demo_links, run_demo

    with _console.progress_bars() as bar:
        result = run_demo(out, workers=workers, progress=bar)
    _console.summary(f"demo → {out}", result)
    if (out / "catalog.duckdb").is_file():
        columns, rows = demo_links(out / "catalog.duckdb")
        _console.rows(columns, rows, title="studies linked to the generated MIMIC-IV (analysis.study_admission)")


attach_app = typer.Typer(no_args_is_help=True, help="Attach other datasets to the catalog (MIMIC-IV).")
app.add_typer(attach_app, name="attach")


@attach_app.command("mimic-iv")
def attach_mimic_iv(
    root: Annotated[Path, typer.Argument(
        metavar="DIR", help="MIMIC-IV as PhysioNet ships it: hosp/*.csv.gz, icu/*.csv.gz, optionally ed/*.csv.gz "
        "(MIMIC-IV-ED); or the same tables as .parquet.")],
    db: CatalogOpt,
    version: Annotated[str | None, typer.Option(
        help="The MIMIC-IV version (default: from DIR's name, mimic-iv-3.1 or .../mimiciv/3.1).")] = None,
    tolerance_minutes: Annotated[int | None, typer.Option(
        help="How long before admittime a study still links to that admission (default 360).")] = None,
) -> None:
    """Import MIMIC-IV's linking tables into the catalog and make every other table a view over its file.

    The tables answer to their BigQuery names in `cxrdb sql` (mimiciv_hosp, mimiciv_3_1_icu, mimic_core, ...);
    analysis.study_admission / study_icu_stay / study_patient link every study to them. Re-running with the
    same files changes nothing.

    Example: cxrdb attach mimic-iv physionet.org/files/mimiciv/3.1 --db cxr.duckdb
    """
    from . import _console
    from .catalog import Catalog
    from .mimiciv.attach import attach_mimic_iv as run_attach
    from .mimiciv.attach import mimic_iv_root

    mimic_iv_root(root)
    with Catalog.open(db) as cat, _tracked(db, "attach") as bar:
        result = run_attach(cat, root, version=version, tolerance_minutes=tolerance_minutes, progress=bar)
    summary = result.summary()
    errors = summary.pop("errors")
    _console.summary("attach mimic-iv", summary)
    for line in errors:
        _console.error(line)


def _describe_failure(exc: BaseException) -> str:
    """An unexpected I/O or catalog failure as one line: disk full, read-only file system, ..."""
    import errno

    if isinstance(exc, OSError):
        what = {errno.ENOSPC: "disk full", errno.EDQUOT: "disk quota exceeded",
                errno.EROFS: "read-only file system"}.get(exc.errno or 0, exc.strerror or str(exc))
        return f"{what}: {exc.filename}" if exc.filename else what
    text = " ".join(str(exc).split())
    for needle, what in (("No space left on device", "disk full"), ("Read-only file system", "read-only file system")):
        if needle in text:
            return f"{what}: {text[:300]}"
    return text[:300]


def main() -> None:
    """Entry point: run the app, turning CxrdbError, I/O and catalog failures into one red line (exit 1) and
    Ctrl-C into the note that finished work is saved (exit 130)."""
    from ._console import error

    interrupt_on_sigint()
    try:
        app(standalone_mode=True)
    except Interrupted:
        error("interrupted: finished work is saved; run the same command again to resume")
        raise SystemExit(130) from None
    except CxrdbError as exc:
        if os.environ.get("CXRDB_DEBUG"):
            raise
        error(str(exc))
        raise SystemExit(1) from None
    except Exception as exc:
        duckdb = sys.modules.get("duckdb")
        expected = isinstance(exc, OSError) or (duckdb is not None and isinstance(exc, duckdb.Error))
        if os.environ.get("CXRDB_DEBUG") or not expected:
            raise
        error(f"{_describe_failure(exc)} (nothing half-written is kept; run the same command again to resume)")
        raise SystemExit(1) from None
