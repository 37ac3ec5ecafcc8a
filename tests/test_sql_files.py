"""The SQL files tested like code: every file under sql/ applies (twice), says in its header what it is, its grain
and what it reads, creates the one object it is named after, reads exactly what its header names, and the status
and check queries return the columns their consumers read."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from cxrdb import sqlfiles
from cxrdb.catalog import Catalog
from cxrdb.status import FAILURE_COLUMNS, STAGE_COLUMNS, _params

ROOT = Path(__file__).resolve().parents[1] / "sql"
LAYER_FILES = [Path(str(p)).resolve() for p in sqlfiles.layer_files()]
SCHEMA_FILES = sorted((ROOT / "00_schema").glob("*.sql"))
VIEW_FILES = [p for p in LAYER_FILES if p.parent.name != "00_schema"]
STATUS_FILES = sorted((ROOT / "status").glob("*.sql"))
CHECK_FILES = sorted((ROOT / "checks").glob("*.sql"))
ALL_FILES = sorted(ROOT.rglob("*.sql"))

_CREATE = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(?P<kind>VIEW|TABLE|MACRO|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                     r"(?P<name>[a-z_]+(?:\.[a-z_]+)?)", re.IGNORECASE)
_READ = re.compile(r"(?<!DISTINCT )\b(?:FROM|JOIN)\s+(?P<name>(?:" + "|".join(sqlfiles.SCHEMAS) + r")\.[a-z_]+)\b",
                   re.IGNORECASE)
_QUALIFIED = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def header(path: Path) -> str:
    """The leading comment block, as one line of text."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    return " ".join(lines)


def code(path: Path) -> str:
    """The SQL without its ``--`` comments."""
    return "\n".join(line.partition("--")[0] for line in path.read_text(encoding="utf-8").splitlines())


def created(path: Path) -> list[tuple[str, str]]:
    return [(m["kind"].upper(), m["name"].lower()) for m in _CREATE.finditer(code(path))]


def header_reads(path: Path) -> set[str]:
    """The inputs the header names: the qualified names after 'reads', up to the end of that sentence."""
    m = re.search(r"\breads\s+(.*?)(?:[.;](?:\s|$)|$)", header(path), re.IGNORECASE)
    assert m, f"{rel(path)}: its header does not say what it reads ('reads schema.name, ...')"
    return set(_QUALIFIED.findall(m[1]))


def header_grain(path: Path) -> list[str]:
    m = re.search(r"\bgrain\s+(\([^)]*\)|[a-z_]+)", header(path))
    assert m, f"{rel(path)}: its header does not name its grain ('grain key' or 'grain (key, key)')"
    return [c.strip() for c in m[1].strip("()").split(",")]


def own_object(path: Path) -> str:
    """The one object a layer file creates: schema.name."""
    objects = [name for kind, name in created(path) if kind != "SCHEMA"]
    assert len(objects) == 1, f"{rel(path)} creates {objects}: one object per file"
    return objects[0]


def test_layers_are_the_numbered_folders() -> None:
    folders = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and re.match(r"\d\d_", p.name))
    assert sqlfiles.layers() == folders and folders[0] == "00_schema"
    assert {p.parent.name for p in LAYER_FILES} == set(folders)
    assert sorted(LAYER_FILES) == sorted(p for f in folders for p in (ROOT / f).glob("*.sql"))


@pytest.mark.parametrize("as_written", [False, True], ids=["as applied", "as written"])
def test_every_file_applies_twice_on_a_fresh_catalog(as_written: bool) -> None:
    """In apply order, each file twice: everything is re-runnable. As written, too: the files run by hand."""
    con = duckdb.connect()
    for path in LAYER_FILES:
        sql = path.read_text(encoding="utf-8") if as_written else sqlfiles.text(path)
        for _ in range(2):
            try:
                con.execute(sql)
            except duckdb.Error as exc:
                pytest.fail(f"{rel(path)}: {exc}")


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=rel)
def test_schema_files_hold_one_schema_each_table_with_its_grain(path: Path) -> None:
    """00_schema/<schema>.sql: the schema and its tables (the file's object is the schema); each table says
    its grain in the comment right above it."""
    schema = path.stem
    assert header(path).startswith(f"{schema}: "), rel(path)
    objects = created(path)
    assert ("SCHEMA", schema) in objects
    assert all(name.startswith(f"{schema}.") for kind, name in objects if kind != "SCHEMA"), objects
    assert not _READ.findall(code(path)), f"{rel(path)} reads tables: a schema file only declares them"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = _CREATE.search(line)
        if m and m["kind"].upper() == "TABLE":
            j = i
            while j > 0 and lines[j - 1].startswith("--"):
                j -= 1
            comment = " ".join(x.removeprefix("--").strip() for x in lines[j:i])
            assert comment.startswith(f"{m['name']}: ") and " grain " in f" {comment} ", \
                f"{rel(path)}: {m['name']} needs a comment '-- {m['name']}: ... grain ...' above it"


@pytest.mark.parametrize("path", VIEW_FILES, ids=rel)
def test_layer_file_creates_the_object_it_is_named_after(path: Path) -> None:
    """One object per file; the file stem is its name (or <schema>_<name>, the staging prefix); the header starts
    with it and says grain and inputs; the file creates its schema so it runs alone."""
    obj = own_object(path)
    schema, name = obj.split(".")
    assert path.stem in (name, f"{schema}_{name}"), f"{rel(path)} creates {obj}"
    assert re.match(rf"{re.escape(obj)}[:(]", header(path)), f"{rel(path)}: header must start '-- {obj}: ...'"
    header_grain(path)
    header_reads(path)
    assert ("SCHEMA", schema) in created(path), f"{rel(path)}: CREATE SCHEMA IF NOT EXISTS {schema}"


def test_a_layer_holds_one_schema() -> None:
    for layer in sqlfiles.layers()[1:]:
        schemas = {own_object(p).split(".")[0] for p in VIEW_FILES if p.parent.name == layer}
        assert len(schemas) == 1, (layer, schemas)


def test_every_object_has_one_file() -> None:
    objects = [own_object(p) for p in VIEW_FILES]
    assert len(objects) == len(set(objects))


def _defined_in() -> dict[str, int]:
    """schema.name -> index in apply order of the file that creates it."""
    return {name: i for i, p in enumerate(LAYER_FILES) for kind, name in created(p) if kind != "SCHEMA"}


@pytest.mark.parametrize("path", VIEW_FILES + STATUS_FILES + CHECK_FILES, ids=rel)
def test_header_names_exactly_the_inputs_the_sql_reads(path: Path) -> None:
    """'reads a.b, c.d' in the header is the set of schema-qualified FROM/JOIN names in the SQL, and each of them
    is created by a file applied earlier (what _order.txt is for inside a layer)."""
    reads = {m["name"].lower() for m in _READ.finditer(code(path))}
    assert header_reads(path) == reads, f"{rel(path)}: the header names {sorted(header_reads(path))}, the SQL " \
        f"reads {sorted(reads)}"
    defined = _defined_in()
    position = LAYER_FILES.index(path) if path in LAYER_FILES else len(LAYER_FILES)
    for name in reads:
        assert name in defined, f"{rel(path)} reads {name}, which no file creates"
        assert defined[name] < position, f"{rel(path)} reads {name}, created later: list it in _order.txt"


def test_order_files_name_files_of_their_layer() -> None:
    for order in ROOT.glob("*/_order.txt"):
        names = [x.strip() for x in order.read_text().splitlines() if x.strip() and not x.startswith("#")]
        assert all((order.parent / n).is_file() for n in names), rel(order)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory):
    with Catalog.open(tmp_path_factory.mktemp("sql") / "fresh.duckdb") as cat:
        yield cat


@pytest.mark.parametrize("path", STATUS_FILES, ids=rel)
def test_status_files_return_the_columns_status_shows(fresh: Catalog, path: Path) -> None:
    assert header(path).startswith(("status: ", "status failures: ")), rel(path)
    expected = FAILURE_COLUMNS if path.name == "failures.sql" else STAGE_COLUMNS
    assert header_grain(path) == (["stage", "item"] if path.name == "failures.sql" else ["stage"])
    for params in _params(fresh, path.name):
        columns, _ = fresh.query(path.read_text(encoding="utf-8"), params or None)
        assert tuple(columns) == expected, rel(path)


@pytest.mark.parametrize("path", CHECK_FILES, ids=rel)
def test_check_files_run_and_return_rows_keyed_by_their_grain(fresh: Catalog, path: Path) -> None:
    """A check returns its offending rows (none on an empty catalog), their key columns first."""
    assert header(path).startswith("check: "), rel(path)
    columns, rows = fresh.query(path.read_text(encoding="utf-8"))
    grain = header_grain(path)
    assert columns[:len(grain)] == grain, rel(path)
    assert rows == [], rel(path)


WRITE_FILES = sorted((ROOT / "writes").glob("*.sql"))


@pytest.mark.parametrize("path", WRITE_FILES, ids=rel)
def test_write_files_say_what_they_do_and_belong_to_a_catalog_method(path: Path) -> None:
    assert header(path).startswith("writes: "), rel(path)
    catalog_code = (Path(__file__).resolve().parents[1] / "cxrdb" / "catalog.py").read_text()
    assert f'"writes/{path.name}"' in catalog_code, f"no Catalog method runs {rel(path)}"


def test_write_files_run_twice_on_a_fresh_catalog(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "w.duckdb") as cat:
        for _ in range(2):
            cat.prune([], [])
            cat.drop_orphan_labels()
            cat.prune(["no-such-image"], [1])
