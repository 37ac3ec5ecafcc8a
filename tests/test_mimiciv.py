"""MIMIC-IV attached to a catalog: import and views, re-runs, bad files, the linking views on hand-computed cases,
BigQuery cohort queries run as written, and the sandbox of `cxrdb sql` over the attached files.

All MIMIC-IV data here is generated (demo/mimic-iv-3.1, made by scripts/make_mimiciv_demo.py), never real.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cxrdb.catalog import Catalog
from cxrdb.cli import app
from cxrdb.errors import CxrdbError
from cxrdb.ingest import ingest
from cxrdb.mimiciv.attach import attach_mimic_iv
from cxrdb.mimiciv.schema import imported_tables, tables
from cxrdb.query import run_query
from cxrdb.status import status

REPO = Path(__file__).resolve().parent.parent
DEMO_MIMIC = REPO / "demo" / "mimic-iv-3.1"
COHORTS = Path(__file__).parent / "cohorts"
runner = CliRunner()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo source ingested (no MIMIC-IV yet); copy it before changing it."""
    db = tmp_path_factory.mktemp("mimiciv") / "ingested.duckdb"
    with Catalog.open(db) as cat:
        ingest(cat, REPO / "demo" / "source", workers=1)
    return db


def fresh(ingested: Path, tmp_path: Path) -> Path:
    db = tmp_path / "cat.duckdb"
    shutil.copy(ingested, db)
    return db


@pytest.fixture(scope="module")
def linked(ingested: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ingested demo with the generated MIMIC-IV attached (read it, do not change it)."""
    db = tmp_path_factory.mktemp("linked") / "cat.duckdb"
    shutil.copy(ingested, db)
    with Catalog.open(db) as cat:
        result = attach_mimic_iv(cat, DEMO_MIMIC)
    assert (result["imported"], result["views"], result["failed"]) == (7, 3, 0)
    return db


def rows(db: Path, sql: str) -> list[tuple]:
    return run_query(db, sql)[1]


# -- the schema is data, and the SQL agrees with it -----------------------------------------------------
def test_imported_tables_in_the_sql_schema_match_tables_tsv(tmp_path: Path) -> None:
    with Catalog.open(tmp_path / "c.duckdb") as cat:
        for spec in imported_tables():
            _, got = cat.query("SELECT column_name, data_type FROM information_schema.columns "
                               "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                               [spec.schema, spec.name])
            assert got == [(c, t) for c, t in spec.columns], spec.qualified
    assert {t.name for t in imported_tables()} == {"patients", "admissions", "transfers", "diagnoses_icd",
                                                   "d_icd_diagnoses", "icustays", "edstays"}
    assert len(tables()) == 37  # 22 hosp + 9 icu + 6 ed


def test_linking_views_exist_and_are_empty_before_anything_is_attached(ingested: Path) -> None:
    got = rows(ingested, "SELECT link_rule, count(*) FROM analysis.study_admission GROUP BY 1 ORDER BY 1")
    assert got == [("no_time", 1), ("none", 23)]
    assert rows(ingested, "SELECT count(*) FROM analysis.study_icu_stay WHERE stay_id IS NOT NULL") == [(0,)]
    with pytest.raises(CxrdbError, match="no MIMIC-IV is attached"):
        run_query(ingested, "SELECT * FROM `physionet-data.mimiciv_3_1_hosp.patients`")


# -- the linking rules, hand-computed from scripts/make_mimiciv_demo.py's scenarios ------------------
EXPECTED_LINKS = {  # study_id: (link_rule, hadm_id, ed_stay_id, icu stay_id)
    53247273: ("admission", 20000001, None, 30000001),         # inside an admission and its ICU stay
    57984455: ("admission_early", 20000002, None, None),       # 1 minute before admittime, no ED stay
    52976453: ("admission", 20000004, None, None),             # two overlapping admissions: the later admittime
    54967781: ("ed_stay", 20000005, 31000001, None),           # in an ED stay that led to a later admission
    51502864: ("none", None, None, None),                      # a patient with no admissions
    54743245: ("admission", 20000006, None, None),             # exactly at dischtime: bounds are inclusive
    55871016: ("admission", 20000007, None, None),             # the admission ending in death
    54208596: ("none", None, None, None),                      # 3 days after death
    50551662: ("ed_stay", None, 31000002, None),               # an ED stay without admission
    58269417: ("admission", 20000008, None, 30000003),         # overlapping ICU stays: the later intime
    57958031: ("none", None, None, None),                      # 7 hours before admittime (beyond 6 h)
    53671658: ("none", None, None, None),                      # a patient not in MIMIC-IV
    58764119: ("no_time", None, None, None),                   # no image has a StudyDate
    52575060: ("admission", 20000011, 31000003, None),         # ED stay inside its admission: admission wins
}


def test_study_admission_and_icu_stay_give_the_hand_computed_links(linked: Path) -> None:
    got = {r[0]: r[1:] for r in rows(linked, """
        SELECT a.study_id, a.link_rule, a.hadm_id, a.ed_stay_id, i.stay_id
        FROM analysis.study_admission AS a JOIN analysis.study_icu_stay AS i USING (study_id)""")}
    assert len(got) == 24
    assert {k: got[k] for k in EXPECTED_LINKS} == EXPECTED_LINKS
    assert rows(linked, "SELECT n_admissions FROM analysis.study_admission WHERE study_id = 52976453") == [(2,)]
    assert rows(linked, "SELECT n_icu_stays FROM analysis.study_icu_stay WHERE study_id = 58269417") == [(2,)]


def test_study_patient_ages_sex_and_death(linked: Path) -> None:
    got = {r[0]: r[1:] for r in rows(linked, "SELECT study_id, in_mimic_iv, gender, age_at_study, "
                                             "died_before_study FROM analysis.study_patient")}
    assert got[57984455] == (True, "F", 63, False)   # anchor_age 60 in 2001, study in 2004
    assert got[54208596] == (True, "M", 87, True)    # after death
    assert got[50295510] == (True, "M", 90, False)   # anchor_age 91 anchored in 2002, study in 2001
    assert got[53671658] == (False, None, None, None)


def test_study_datetime_takes_the_earliest_image_and_says_when_images_disagree(linked: Path) -> None:
    got = rows(linked, "SELECT study_datetime, time_known, n_images, n_timed_images, n_datetimes, spread_seconds "
                       "FROM analysis.study_datetime WHERE study_id IN (57984455, 58764119) ORDER BY study_id")
    import datetime as dt
    assert got == [(dt.datetime(2004, 8, 26, 18, 50, 59), True, 2, 2, 2, 486402963),
                   (None, False, 1, 0, 0, None)]


def test_study_time_without_leading_zeros_and_a_date_without_time(tmp_path: Path) -> None:
    con = duckdb.connect()
    view = (REPO / "sql" / "50_analysis" / "study_datetime.sql").read_text()
    con.execute("CREATE SCHEMA raw; CREATE TABLE raw.images (subject_id BIGINT, study_id BIGINT, error VARCHAR, "
                "StudyDate VARCHAR, StudyTime VARCHAR)")
    con.execute("INSERT INTO raw.images VALUES (1, 1, NULL, '21800101', '3725.125'), (1, 1, NULL, '21800101', "
                "'093000'), (1, 2, NULL, '21800102', NULL), (1, 2, NULL, 'garbage', '120000'), "
                "(1, 3, 'unreadable', '21800101', '000000')")
    con.execute(view)
    got = con.execute("SELECT study_id, CAST(study_datetime AS VARCHAR), time_known, n_datetimes "
                      "FROM analysis.study_datetime ORDER BY 1").fetchall()
    assert got == [(1, "2180-01-01 00:37:25.125", True, 2), (2, "2180-01-02 00:00:00", False, 0)]


def test_the_tolerance_is_a_parameter(ingested: Path, tmp_path: Path) -> None:
    db = fresh(ingested, tmp_path)
    query = "SELECT study_id, link_rule FROM analysis.study_admission WHERE study_id IN (57984455, 57958031) " \
            "ORDER BY 1"
    with Catalog.open(db) as cat:
        attach_mimic_iv(cat, DEMO_MIMIC, tolerance_minutes=0)
    assert rows(db, query) == [(57958031, "none"), (57984455, "none")]
    with Catalog.open(db) as cat:
        result = attach_mimic_iv(cat, DEMO_MIMIC, tolerance_minutes=8 * 60)
    assert result["unchanged"] == 10
    assert rows(db, query) == [(57958031, "admission_early"), (57984455, "admission_early")]
    with Catalog.open(db) as cat, pytest.raises(CxrdbError, match="must be 0 or more"):
        attach_mimic_iv(cat, DEMO_MIMIC, tolerance_minutes=-5)


# -- BigQuery cohort queries, run as written -------------------------------------------------------------
def cohort(name: str) -> str:
    return (COHORTS / name).read_text(encoding="utf-8")


def test_cohort_v1_mimic_core_patients(linked: Path) -> None:
    columns, data = run_query(linked, cohort("v1_core_patients_age.sql"))
    assert columns == ["dicom", "subject_id", "StudyID", "ViewPosition", "gender", "age_at_study", "after_death"]
    assert len(data) == 19 and {r[1] for r in data} == {10317308, 10454721, 10918320, 13223662, 13453981,
                                                         17036212, 17828547}  # 13863128 is not in MIMIC-IV
    by_dicom = {r[0]: r for r in data}
    assert by_dicom["735b96f8-8311d3ae-ec6f74dc-f7e8ee35-07dee372"][4:] == ("F", 60, 0)  # its 2001 image
    assert by_dicom["8198d277-a098faee-41daa201-9530ca6d-81c9c03b"][4:] == ("F", 63, 0)  # its 2004 image


def test_cohort_v3_1_admissions_icu_and_diagnoses_by_time(linked: Path) -> None:
    columns, data = run_query(linked, cohort("v31_admission_icu_pneumonia.sql"))
    assert columns[:4] == ["subject_id", "study_id", "study_datetime", "hadm_id"]
    got = {(r[1], r[3]): (r[6], r[7], r[8]) for r in data}  # minutes from admit, ICU stay, pneumonia
    assert got[(57984455, 20000002)] == (-1, None, True)        # 1 minute before admittime, within 6 hours
    assert got[(53247273, 20000001)] == (240, 30000001, True)
    assert got[(52976453, 20000003)] == (2880, None, False)     # both overlapping admissions, as written
    assert got[(52976453, 20000004)] == (120, None, False)
    assert not any(r[1] == 54208596 for r in data)  # after death, in no admission


def test_cohort_unversioned_ed_first_study(linked: Path) -> None:
    _, data = run_query(linked, cohort("unversioned_ed_first_study.sql"))
    assert [(r[0], r[1], r[2], r[4]) for r in data] == [(10454721, 31000001, 20000005, 60),
                                                        (13453981, 31000002, None, 120),
                                                        (17828547, 31000003, 20000011, 120)]


@pytest.mark.parametrize("name", ["`physionet-data.mimiciv_hosp.admissions`", "`physionet-data.mimic_hosp.admissions`",
                                  "`physionet-data`.mimiciv_3_1_hosp.admissions", "`mimiciv_3_1_hosp.admissions`",
                                  "`physionet-data.mimic_core.admissions`"])
def test_every_bigquery_name_of_admissions(linked: Path, name: str) -> None:
    assert rows(linked, f"SELECT count(*) FROM {name}") == [(11,)]


def test_v1_names_keep_v1_columns_and_other_versions_are_refused(linked: Path) -> None:
    assert rows(linked, "SELECT DISTINCT ethnicity FROM `physionet-data.mimic_core.admissions`") == [("UNKNOWN",)]
    with pytest.raises(CxrdbError, match=r"MIMIC-IV 2\.2, but the catalog has MIMIC-IV 3\.1 attached"):
        run_query(linked, "SELECT * FROM `physionet-data.mimiciv_2_2_hosp.patients`")
    with pytest.raises(CxrdbError, match="is not in this catalog"):
        run_query(linked, "SELECT * FROM `physionet-data.mimiciv_note.discharge`")


# -- the sandbox: the attached files, and nothing else -----------------------------------------------------
def test_views_over_files_are_readable_but_other_files_are_not(linked: Path, tmp_path: Path) -> None:
    assert rows(linked, "SELECT count(*), max(valuenum) FROM mimiciv_hosp.labevents") == [(1, 14.2)]
    assert rows(linked, "SELECT count(*) FROM `physionet-data.mimiciv_ed.triage`") == [(3,)]
    other = DEMO_MIMIC / "README.md"
    for sql in (f"SELECT * FROM read_csv('{other}')", "SELECT * FROM read_csv('/etc/passwd')",
                f"SELECT * FROM glob('{DEMO_MIMIC}/*/*')"):
        with pytest.raises(CxrdbError, match="SQL error"):
            run_query(linked, sql)


# -- attach: re-runs, changes, bad input ----------------------------------------------------------------
def copy_demo(tmp_path: Path) -> Path:
    root = tmp_path / "mimic-iv-3.1"
    shutil.copytree(DEMO_MIMIC, root)
    return root


def snapshot(db: Path) -> list[tuple]:
    with Catalog.open(db, read_only=True) as cat:
        out = []
        for spec in imported_tables():
            out += [(spec.qualified, *r) for r in cat.query(f"SELECT * FROM {spec.qualified} ORDER BY ALL")[1]]
        return out + cat.query("SELECT * FROM meta.mimic_iv_files ORDER BY ALL")[1]


def test_rerun_is_a_noop_and_a_changed_file_replaces_only_its_table(ingested: Path, tmp_path: Path) -> None:
    db, root = fresh(ingested, tmp_path), copy_demo(tmp_path)
    with Catalog.open(db) as cat:
        attach_mimic_iv(cat, root)
    before = snapshot(db)
    with Catalog.open(db) as cat:
        again = attach_mimic_iv(cat, root)
    assert (again["imported"], again["views"], again["unchanged"]) == (0, 0, 10)
    assert snapshot(db) == before
    # a newer patients file (one patient fewer), a removed triage file, a new table as Parquet
    path = root / "hosp" / "patients.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().splitlines(keepends=True)
    path.write_bytes(gzip.compress("".join(lines[:-1]).encode()))
    (root / "ed" / "triage.csv.gz").unlink()
    duckdb.execute(f"COPY (SELECT 1 AS itemid, 'HR' AS label) TO '{root / 'icu' / 'd_items.parquet'}'")
    with Catalog.open(db) as cat:
        result = attach_mimic_iv(cat, root)
    assert (result["imported"], result["views"], result["removed"], result["unchanged"]) == (1, 1, 1, 8)
    assert rows(db, "SELECT count(*) FROM mimiciv_hosp.patients") == [(6,)]
    assert rows(db, "SELECT label FROM mimiciv_icu.d_items") == [("HR",)]
    with pytest.raises(CxrdbError, match="triage"):
        run_query(db, "SELECT * FROM mimiciv_ed.triage")


def test_bad_files_are_recorded_and_the_rest_attaches(ingested: Path, tmp_path: Path) -> None:
    db, root = fresh(ingested, tmp_path), copy_demo(tmp_path)
    (root / "ed" / "diagnosis.csv.gz").write_bytes(b"not gzip at all")       # first in the batch
    bad = root / "hosp" / "admissions.csv.gz"                                 # a value that is no timestamp
    text = gzip.decompress(bad.read_bytes()).decode().replace("2000-12-31 20:00:00", "yesterday", 1)
    bad.write_bytes(gzip.compress(text.encode()))
    (root / "icu" / "icustays.csv.gz").write_bytes(gzip.compress(b"stay_id,intime\n1,2180-01-01 00:00:00\n"))
    with Catalog.open(db) as cat:
        result = attach_mimic_iv(cat, root)
        st = status(cat)
    assert (result["failed"], result["imported"], result["views"]) == (3, 5, 3)
    errors = {r["table"]: r["error"] for r in st.mimic_iv if r["error"]}
    assert set(errors) == {"mimiciv_ed.diagnosis", "mimiciv_hosp.admissions", "mimiciv_icu.icustays"}
    assert "yesterday" in errors["mimiciv_hosp.admissions"] and "\n" not in errors["mimiciv_hosp.admissions"]
    assert "missing column(s) subject_id, hadm_id" in errors["mimiciv_icu.icustays"]
    assert rows(db, "SELECT count(*) FROM mimiciv_hosp.admissions") == [(0,)]
    assert rows(db, "SELECT count(*) FROM mimiciv_hosp.patients") == [(7,)]
    # fixed files are picked up on the next run even though nothing else changed
    shutil.copy(DEMO_MIMIC / "hosp" / "admissions.csv.gz", bad)
    with Catalog.open(db) as cat:
        assert attach_mimic_iv(cat, root)["imported"] == 1
    assert rows(db, "SELECT count(*) FROM mimiciv_hosp.admissions") == [(11,)]


def test_v1_file_with_ethnicity_attaches(ingested: Path, tmp_path: Path) -> None:
    db, root = fresh(ingested, tmp_path), copy_demo(tmp_path)
    path = root / "hosp" / "admissions.csv.gz"
    text = gzip.decompress(path.read_bytes()).decode()
    text = text.replace("admit_provider_id,", "", 1).replace(",race,", ",ethnicity,", 1)
    body = [",".join(f for i, f in enumerate(line.split(",")) if i != 6) for line in text.splitlines()[1:]]
    path.write_bytes(gzip.compress(("\n".join([text.splitlines()[0], *body]) + "\n").encode()))
    with Catalog.open(db) as cat:
        assert attach_mimic_iv(cat, root, version="1.0")["failed"] == 0
    assert rows(db, "SELECT count(*), count(admit_provider_id), min(race) FROM mimiciv_hosp.admissions") == \
        [(11, 0, "UNKNOWN")]


def test_parquet_tables_link_like_csv(ingested: Path, linked: Path, tmp_path: Path) -> None:
    db, root = fresh(ingested, tmp_path), tmp_path / "mimiciv" / "3.1"
    for src in DEMO_MIMIC.glob("*/*.csv.gz"):
        (root / src.parent.name).mkdir(parents=True, exist_ok=True)
        target = root / src.parent.name / src.name.replace(".csv.gz", ".parquet")
        duckdb.execute(f"COPY (SELECT * FROM read_csv('{src}', all_varchar = true)) TO '{target}'")
    with Catalog.open(db) as cat:
        result = attach_mimic_iv(cat, root)
    assert (result["version"], result["imported"], result["failed"]) == ("3.1", 7, 0)
    query = "SELECT * FROM analysis.study_admission ORDER BY study_id"
    assert rows(db, query) == rows(linked, query)


def test_cli_attach_status_and_careless_input(ingested: Path, tmp_path: Path) -> None:
    db = fresh(ingested, tmp_path)
    result = runner.invoke(app, ["attach", "mimic-iv", str(DEMO_MIMIC), "--db", str(db)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["status", "--db", str(db)])
    assert "MIMIC-IV 3.1 attached" in result.output and "mimiciv_hosp.admissions" in result.output
    for args, message in (([str(tmp_path / "nope")], "no such folder"), ([str(tmp_path)], "no MIMIC-IV tables"),
                          ([str(DEMO_MIMIC), "--version", "three"], "expected a MIMIC-IV version")):
        proc = subprocess.run([sys.executable, "-m", "cxrdb", "attach", "mimic-iv", *args, "--db", str(db)],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        assert proc.returncode == 1 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_generator_rebuilds_the_bundled_files_byte_identically(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_mimiciv_demo.py"), "--out", str(out)],
                   check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    bundled = sorted(p.relative_to(DEMO_MIMIC) for p in DEMO_MIMIC.rglob("*") if p.is_file())
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file()) == bundled
    for rel in bundled:
        assert (out / rel).read_bytes() == (DEMO_MIMIC / rel).read_bytes(), rel
