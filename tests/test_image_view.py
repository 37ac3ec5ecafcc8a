"""analysis.image_view: the inferred view of every image, on real public headers and on headers made from them.

Real headers (tests/data/dicom) hold ViewPosition AP, PA, LL, '' and none at all, but no public chest file here has
a ViewCodeSequence or a procedure description. Those cases are made with pydicom from a real file by changing
only the element named in the case: highdicom's DX thorax (ViewPosition absent, PerformedProcedureStepDescription
'') for the rules after ViewPosition, pydicom's CR c-spine (ViewPosition 'LL') for ViewPosition's spellings.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pydicom
import pytest
from conftest import DATA, dicom_id
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cxrdb import view_rules
from cxrdb.catalog import Catalog
from cxrdb.errors import CxrdbError
from cxrdb.ingest import ingest

DX = DATA / "dicom" / "highdicom__dx_image.dcm"  # DX thorax: no ViewPosition, PerformedProcedureStepDescription ''
CR = DATA / "dicom" / "pydicom__dicomdirtests_CR1_6154.dcm"  # CR c-spine: ViewPosition 'LL'
COLUMNS = ["dicom_id", "subject_id", "study_id", "view", "rule", "source_column", "source_value", "portable"]


def code(meaning: str) -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "R-10214", "SRT", meaning
    return Sequence([item])


# name -> (base file, elements to set (None: delete), expected (view, rule, source_column, source_value, portable))
CASES: dict[str, tuple[Path, dict[str, Any], tuple[Any, ...]]] = {
    # real headers, unchanged
    "real AP": (DATA / "dicom" / "pydicom-data__RG3_J2KR.dcm", {}, ("AP", "view_position", "ViewPosition", "AP", None)),
    "real PA chest": (DATA / "dicom" / "pydicom-data__RG1_J2KI.dcm", {},
                      ("PA", "view_position", "ViewPosition", "PA", None)),
    "real LL": (CR, {}, ("LL", "view_position", "ViewPosition", "LL", None)),
    "real empty ViewPosition": (DATA / "dicom" / "dicom-test-files__RG2_J2KR.dcm", {},
                                ("UNKNOWN", "unknown", None, None, None)),
    "real no ViewPosition, empty procedure": (DX, {}, ("UNKNOWN", "unknown", None, None, None)),
    # ViewPosition spellings (CR with only ViewPosition changed)
    "lower case, padded": (CR, {"ViewPosition": " pa "}, ("PA", "view_position", "ViewPosition", "pa", None)),
    "synonym LAT": (CR, {"ViewPosition": "lat"}, ("LATERAL", "view_position", "ViewPosition", "lat", None)),
    "inner whitespace": (CR, {"ViewPosition": "AP   AXIAL"},
                         ("AP AXIAL", "view_position", "ViewPosition", "AP   AXIAL", None)),
    "not listed: kept, normalised": (CR, {"ViewPosition": "pa erect"},
                                     ("PA ERECT", "view_position", "ViewPosition", "pa erect", None)),
    "blank ViewPosition": (CR, {"ViewPosition": "  "}, ("UNKNOWN", "unknown", None, None, None)),
    # ViewCodeSequence (DX with only the sequence added)
    "code postero-anterior": (DX, {"ViewCodeSequence": code("postero-anterior")},
                              ("PA", "view_code", "ViewCodeSequence_CodeMeaning", "postero-anterior", None)),
    "code antero-posterior": (DX, {"ViewCodeSequence": code("antero-posterior")},
                              ("AP", "view_code", "ViewCodeSequence_CodeMeaning", "antero-posterior", None)),
    "code lateral": (DX, {"ViewCodeSequence": code("lateral")},
                     ("LATERAL", "view_code", "ViewCodeSequence_CodeMeaning", "lateral", None)),
    "code left lateral": (DX, {"ViewCodeSequence": code("left lateral")},
                          ("LL", "view_code", "ViewCodeSequence_CodeMeaning", "left lateral", None)),
    "code right lateral, odd case": (DX, {"ViewCodeSequence": code("Right  Lateral ")},
                                     ("RL", "view_code", "ViewCodeSequence_CodeMeaning", "Right  Lateral", None)),
    "code not a projection": (DX, {"ViewCodeSequence": code("Erect")}, ("UNKNOWN", "unknown", None, None, None)),
    # procedure descriptions (DX with only PerformedProcedureStepDescription set)
    "procedure portable AP": (DX, {"PerformedProcedureStepDescription": "CHEST (PORTABLE AP)"},
                              ("AP", "procedure", "PerformedProcedureStepDescription", "CHEST (PORTABLE AP)", True)),
    "procedure PA and LAT is ambiguous": (DX, {"PerformedProcedureStepDescription": "CHEST (PA AND LAT)"},
                                          ("UNKNOWN", "unknown", None, None, False)),
    "procedure pre-op PA & LAT": (DX, {"PerformedProcedureStepDescription": "CHEST (PRE-OP PA & LAT)"},
                                  ("UNKNOWN", "unknown", None, None, False)),
    "procedure port., no view named": (DX, {"PerformedProcedureStepDescription": "CHEST PORT. LINE PLACEMENT"},
                                       ("AP", "procedure", "PerformedProcedureStepDescription",
                                        "CHEST PORT. LINE PLACEMENT", True)),
    "procedure lower case, spaced": (DX, {"PerformedProcedureStepDescription": "chest  (portable   ap)"},
                                     ("AP", "procedure", "PerformedProcedureStepDescription",
                                      "chest  (portable   ap)", True)),
    "procedure single view": (DX, {"PerformedProcedureStepDescription": "CHEST (SINGLE VIEW)"},
                              ("UNKNOWN", "unknown", None, None, False)),
    "procedure words glued by punctuation": (DX, {"PerformedProcedureStepDescription": "CHEST(PA&LAT)"},
                                             ("UNKNOWN", "unknown", None, None, False)),
    "procedure several views": (DX, {"PerformedProcedureStepDescription": "CHEST 2 VIEWS"},
                                ("UNKNOWN", "unknown", None, None, False)),
    "procedure non-portable PA": (DX, {"PerformedProcedureStepDescription": "CHEST PA NON-PORTABLE"},
                                  ("PA", "procedure", "PerformedProcedureStepDescription", "CHEST PA NON-PORTABLE",
                                   False)),
    "procedure code meaning": (DX, {"ProcedureCodeSequence": code("CHEST (PA)")},
                               ("PA", "procedure", "ProcedureCodeSequence_CodeMeaning", "CHEST (PA)", False)),
    # precedence (several elements set, each case says which)
    "ViewPosition before view code and procedure": (
        CR, {"ViewCodeSequence": code("postero-anterior"), "PerformedProcedureStepDescription": "CHEST (PORTABLE AP)"},
        ("LL", "view_position", "ViewPosition", "LL", True)),
    "view code before procedure": (
        DX, {"ViewCodeSequence": code("postero-anterior"), "PerformedProcedureStepDescription": "CHEST (PORTABLE AP)"},
        ("PA", "view_code", "ViewCodeSequence_CodeMeaning", "postero-anterior", True)),
    "step description before procedure code": (
        DX, {"PerformedProcedureStepDescription": "CHEST (PA)", "ProcedureCodeSequence": code("CHEST (PORTABLE AP)")},
        ("PA", "procedure", "PerformedProcedureStepDescription", "CHEST (PA)", True)),  # portable: the code says so
    "ambiguous step description: procedure code decides": (
        DX, {"PerformedProcedureStepDescription": "CHEST (PA AND LAT)",
             "ProcedureCodeSequence": code("CHEST (PORTABLE AP)")},
        ("AP", "procedure", "ProcedureCodeSequence_CodeMeaning", "CHEST (PORTABLE AP)", True)),
    "unlisted view code: procedure decides": (
        DX, {"ViewCodeSequence": code("Erect"), "PerformedProcedureStepDescription": "CHEST (PORTABLE AP)"},
        ("AP", "procedure", "PerformedProcedureStepDescription", "CHEST (PORTABLE AP)", True)),
    "portable from the procedure code when the step says nothing": (
        DX, {"PerformedProcedureStepDescription": "CHEST", "ProcedureCodeSequence": code("PORTABLE CHEST")},
        ("AP", "procedure", "ProcedureCodeSequence_CodeMeaning", "PORTABLE CHEST", True)),
    "real AP with a portable procedure": (
        DATA / "dicom" / "pydicom-data__RG3_J2KR.dcm", {"PerformedProcedureStepDescription": "CHEST (PORTABLE AP)"},
        ("AP", "view_position", "ViewPosition", "AP", True)),
}
NAMES = list(CASES)


def make(base: Path, changes: dict[str, Any], dest: Path) -> None:
    """Copy ``base`` to ``dest``, the real file itself when nothing changes, else with only ``changes`` applied."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not changes:
        shutil.copyfile(base, dest)
        return
    ds = pydicom.dcmread(base)
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    ds.save_as(dest)


def layout(root: Path, n: int, subject: int | None = None) -> Path:
    subject = 10000000 + n if subject is None else subject
    return root / "files" / f"p{str(subject)[:2]}" / f"p{subject}" / f"s{50000000 + n}" / f"{dicom_id(n)}.dcm"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One study per case; a file that is no DICOM comes first (lowest ids), so bad input leads the batch."""
    root = tmp_path_factory.mktemp("views_src")
    bad = layout(root, 0)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not a dicom\n" * 50)
    for n, name in enumerate(NAMES, start=1):
        base, changes, _ = CASES[name]
        make(base, changes, layout(root, n))
    return root


@pytest.fixture(scope="module")
def catalog(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("views_cat") / "c.duckdb"
    with Catalog.open(db) as cat:
        ingest(cat, source, workers=1)
    return db


def rows_by_case(db: Path) -> dict[str, tuple[Any, ...]]:
    with Catalog.open(db, read_only=True) as cat:
        columns, rows = cat.query("SELECT * FROM analysis.image_view ORDER BY dicom_id")
    assert columns == COLUMNS
    by_id = {r[0]: r for r in rows}
    return {name: by_id[dicom_id(n)][3:] for n, name in enumerate(NAMES, start=1) if dicom_id(n) in by_id}


@pytest.mark.parametrize("name", NAMES)
def test_each_rule_path(catalog: Path, name: str) -> None:
    assert rows_by_case(catalog)[name] == CASES[name][2]


def test_one_row_per_readable_image_and_the_bad_file_is_left_out(catalog: Path) -> None:
    with Catalog.open(catalog, read_only=True) as cat:
        assert cat.scalar("SELECT count(*) FROM raw.images WHERE error IS NOT NULL") == 1
        assert cat.scalar("SELECT count(*) FROM analysis.image_view") == len(NAMES)
        assert cat.scalar("SELECT count(DISTINCT dicom_id) FROM analysis.image_view") == len(NAMES)
        assert cat.scalar("SELECT count(*) FROM stg.images JOIN analysis.image_view USING (dicom_id)") == len(NAMES)
        assert cat.scalar("SELECT count(*) FROM analysis.image_view WHERE view IS NULL OR rule IS NULL") == 0


def test_the_header_value_is_kept_as_it_was(catalog: Path) -> None:
    """The view infers; the metadata columns keep what the header says (the view-code image has no ViewPosition)."""
    n = NAMES.index("code postero-anterior") + 1
    with Catalog.open(catalog, read_only=True) as cat:
        _, rows = cat.query("SELECT s.ViewPosition, v.view FROM stg.images AS s JOIN analysis.image_view AS v "
                            "USING (dicom_id) WHERE dicom_id = ?", [dicom_id(n)])
    assert rows == [(None, "PA")]


@pytest.mark.parametrize("name", ["meta", "analysis", "stg", "catalog"])
def test_plain_duckdb_reads_the_view_under_any_file_name(catalog: Path, tmp_path: Path, name: str) -> None:
    copy = tmp_path / f"{name}.duckdb"
    shutil.copyfile(catalog, copy)
    con = duckdb.connect(str(copy), read_only=True)
    try:
        rows = con.execute(f'SELECT dicom_id, view, rule, portable FROM "{name}".analysis.image_view').fetchall()
    finally:
        con.close()
    expected = rows_by_case(catalog)
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == {
        dicom_id(n): (expected[c][0], expected[c][1], expected[c][4]) for n, c in enumerate(NAMES, start=1)}


def copy_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(view_rules.RULES_DIR, rules)
    monkeypatch.setattr(view_rules, "RULES_DIR", rules)
    return rules


def test_a_changed_data_file_changes_the_view_after_reopen(catalog: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "c.duckdb"
    shutil.copyfile(catalog, db)
    rules = copy_rules(tmp_path, monkeypatch)
    procedure = rules / "procedure.tsv"
    text = procedure.read_text(encoding="utf-8")
    procedure.write_text(text.replace("PORTABLE\tAP\nPORT\tAP\n", ""), encoding="utf-8")  # portable no longer says AP
    (rules / "view_position.tsv").write_text(
        (rules / "view_position.tsv").read_text(encoding="utf-8") + "PA ERECT\tPA\n", encoding="utf-8")
    assert rows_by_case(db)["procedure port., no view named"][0] == "AP"  # read-only opens do not reload
    with Catalog.open(db):
        pass
    after = rows_by_case(db)
    assert after["procedure port., no view named"] == ("UNKNOWN", "unknown", None, None, True)
    assert after["not listed: kept, normalised"][0] == "PA"
    assert after["procedure portable AP"][0] == "AP"  # the AP line still decides
    with Catalog.open(db, read_only=True) as cat:
        assert cat.get_setting(view_rules.SETTING) == view_rules.digest()


def test_unchanged_files_are_not_reloaded(catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "c.duckdb"
    shutil.copyfile(catalog, db)

    def refuse(*args: object) -> None:
        raise AssertionError("rules reloaded although unchanged")

    monkeypatch.setattr(view_rules, "load", refuse)
    with Catalog.open(db):
        pass
    assert rows_by_case(db) == {name: CASES[name][2] for name in NAMES}


BAD_FILES = {
    "no tab": ("view_position", "PA PA\n", "view_position.tsv line 1: expected '<value><TAB><result>'"),
    "empty result": ("procedure", "AP\t \n", "procedure.tsv line 1: expected '<words><TAB><result>'"),
    "three fields": ("portable", "a\tyes\tno\n", "portable.tsv line 1: expected"),
    "lower-case view": ("view_code_meaning", "# c\nlateral\tlat\n", "view_code_meaning.tsv line 2: result 'lat'"),
    "'-' outside procedure": ("view_position", "X\t-\n", "view_position.tsv line 1: result '-'"),
    "portable not yes/no": ("portable", "PORT\ttrue\n", "portable.tsv line 1: result 'true' must be yes or no"),
    "not words": ("procedure", "(AP)\tAP\n", "procedure.tsv line 1: '(AP)' must be words of letters and digits"),
    "same words twice": ("portable", "PORT\tyes\nBEDSIDE\tyes\nport  bedside\tno\nBedside Port\tyes\n",
                         "portable.tsv line 4: 'Bedside Port' is already listed on line 3"),
    "duplicate after normalising": ("view_position", "PA\tPA\n pa \tAP\n",
                                    "view_position.tsv line 2: 'pa' is already listed on line 1"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_rule_file_is_refused_in_one_line_and_the_old_rules_stay(catalog: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        case: str) -> None:
    db = tmp_path / "c.duckdb"
    shutil.copyfile(catalog, db)
    stem, content, message = BAD_FILES[case]
    rules = copy_rules(tmp_path, monkeypatch)
    (rules / f"{stem}.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(CxrdbError) as err:
        Catalog(db)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert rows_by_case(db) == {name: CASES[name][2] for name in NAMES}


def test_a_missing_or_undecodable_rule_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = copy_rules(tmp_path, monkeypatch)
    (rules / "portable.tsv").write_bytes(b"PORT\tyes \xe9\n")
    with pytest.raises(CxrdbError, match=r"portable\.tsv is not UTF-8"):
        view_rules.load()
    (rules / "portable.tsv").unlink()
    with pytest.raises(CxrdbError, match=r"cannot read view rules .*portable\.tsv"):
        view_rules.load()


def test_loading_rules_alone_leaves_no_catalog_behind(tmp_path: Path) -> None:
    """A command refused after opening a new catalog leaves nothing: loading the rules is not a write."""
    db = tmp_path / "new.duckdb"
    with Catalog.open(db) as cat:
        assert cat.scalar("SELECT count(*) FROM meta.view_rules") > 0
    assert not db.exists()


def test_every_rule_file_line_is_loaded_with_its_line_number() -> None:
    digest, rows = view_rules.load()
    assert digest == view_rules.digest()
    for stem in view_rules.FILES:
        lines = (view_rules.RULES_DIR / f"{stem}.tsv").read_text(encoding="utf-8").splitlines()
        mine = [r for r in rows if r["file"] == stem]
        assert mine and [r["line"] for r in mine] == [i for i, x in enumerate(lines, 1) if x and x[0] != "#"]
        assert all(lines[r["line"] - 1] == f"{r['pattern']}\t{r['result']}" for r in mine)
