"""The release contract (cxrdb/contract.py) is the one declaration: the views have exactly its columns, every
list of observations and every labeler name in sql/ is its own, and the README's table is rendered from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cxrdb import check, contract, export, manifest
from cxrdb.catalog import Catalog
from cxrdb.contract import OBSERVATIONS, RELEASE_LABELERS, bigquery_name
from cxrdb.labeling import config

ROOT = Path(__file__).resolve().parents[1]
SQL_FILES = sorted((ROOT / "sql").rglob("*.sql"))


def code(path: Path) -> str:
    return "\n".join(line.partition("--")[0] for line in path.read_text(encoding="utf-8").splitlines())


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory):
    with Catalog.open(tmp_path_factory.mktemp("contract") / "fresh.duckdb") as cat:
        yield cat


def columns(cat: Catalog, view: str) -> tuple[str, ...]:
    return tuple(cat.query(f"SELECT * FROM {view} LIMIT 0")[0])


@pytest.mark.parametrize("table", contract.TABLES, ids=lambda t: t.name)
def test_each_release_view_has_exactly_the_declared_columns(fresh: Catalog, table: contract.ReleaseFile) -> None:
    assert columns(fresh, table.view) == table.columns
    assert table.name.startswith("mimic-cxr-2.0.0-") and table.formats == ("csv.gz", "parquet")
    if table.ready:
        assert fresh.scalar(table.ready) == 0  # runs; nothing has run on a fresh catalog


def test_image_list_comes_from_its_view(fresh: Catalog) -> None:
    assert set(contract.IMAGE_LIST.columns) <= set(columns(fresh, contract.IMAGE_LIST.view))


@pytest.mark.parametrize("table", contract.TABLES, ids=lambda t: t.name)
def test_bigquery_views_have_the_bigquery_names(fresh: Catalog, table: contract.ReleaseFile) -> None:
    view = table.view.replace("release.", "mimic_cxr.")
    assert columns(fresh, view) == tuple(bigquery_name(c) for c in table.columns)


def test_one_label_file_per_release_labeler() -> None:
    labels = [t for t in contract.TABLES if t.columns[2:] == OBSERVATIONS]
    assert [t.view for t in labels] == [f"release.{name}" for name in RELEASE_LABELERS]
    for name in RELEASE_LABELERS:
        for folder in ("30_release", "40_mimic_cxr"):
            assert f"labeler = '{name}'" in code(ROOT / "sql" / folder / f"{name}.sql")


def test_release_labelers_are_the_faithful_labeler_modes() -> None:
    assert config.LABELER_NAMES[:len(RELEASE_LABELERS)] == RELEASE_LABELERS
    assert all(config.get_config(n).name == n and not config.get_config(n).disabled_rules for n in RELEASE_LABELERS)


def test_every_labeler_name_in_the_sql_is_a_release_labeler() -> None:
    known = set(config.LABELER_NAMES)
    found = {m for p in SQL_FILES for m in re.findall(r"'([a-z+]+)'", code(p)) if m in known or "chex" in m
             or "negbio" in m}
    assert found and found <= set(RELEASE_LABELERS), found


def observation_lists(text: str) -> list[list[str]]:
    """Each run of quoted identifiers from "Atelectasis" to "Support Devices"."""
    runs = re.findall(r'"Atelectasis".*?"Support Devices"', text, re.S)
    return [re.findall(r'"([^"]+)"', run) for run in runs]


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.relative_to(ROOT / "sql").as_posix())
def test_every_list_of_observations_in_the_sql_is_the_contracts(path: Path) -> None:
    """The SQL spells the 14 columns out (so it reads and runs by hand); each spelling is checked here: every
    run from the first observation to the last is exactly OBSERVATIONS, and no observation is named outside one."""
    text = code(path)
    for found in observation_lists(text):
        assert found == list(OBSERVATIONS), path.name
    outside = re.sub(r'"Atelectasis".*?"Support Devices"(?:\s+AS\s+\w+)?', "", text, flags=re.S)
    named = {o for o in OBSERVATIONS if f'"{o}"' in outside or (" " in o and bigquery_name(o) in outside)}
    assert not named, f"{path.name} names {named} outside a full list"
    for quoted, alias in re.findall(r'"([^"]+)" AS ([A-Za-z_]+)', text):  # the BigQuery renames
        if quoted in OBSERVATIONS:
            assert alias == bigquery_name(quoted), path.name


def test_the_observation_lists_are_where_expected() -> None:
    """The files that spell the observations out (a new one is checked above; this says where they are)."""
    spelled = {p.relative_to(ROOT / "sql").as_posix() for p in SQL_FILES if observation_lists(code(p))}
    assert spelled == {"00_schema/work.sql", "10_staging/stg_labels.sql", "10_staging/stg_labels_bq.sql",
                       "50_analysis/labels_long.sql"}


def test_readers_take_the_contract() -> None:
    assert contract.csv_headers() == check.HEADERS
    assert manifest.EXTRAS == contract.EXTRAS and manifest.SUMS == contract.SUMS
    assert export.table_files() == contract.table_files()
    assert set(export.FORMATS) == set(contract.FORMAT_CHOICES)
    assert len(set(contract.table_files())) == len(contract.table_files())


def test_the_readme_table_is_the_contract() -> None:
    """README.md's "Release files" table is contract.markdown_table(); regenerate it with
    ``python -c 'from cxrdb.contract import markdown_table; print(markdown_table())'``."""
    assert contract.markdown_table() in (ROOT / "README.md").read_text(encoding="utf-8")


def test_check_release_reads_the_parquet_columns_from_the_contract(tmp_path: Path) -> None:
    import hashlib

    import pyarrow as pa
    import pyarrow.parquet as pq

    split = contract.TABLES[1]
    good = [bigquery_name(c) for c in split.columns]
    pq.write_table(pa.table({c: [1] for c in good}), tmp_path / split.file_name("parquet"))
    pq.write_table(pa.table({c: [1] for c in reversed(good)}), tmp_path / contract.TABLES[0].file_name("parquet"))
    sums = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()} {p.name}\n" for p in sorted(tmp_path.iterdir()))
    (tmp_path / contract.SUMS).write_text(sums)
    assert check.verify_release(tmp_path, workers=1)["bad header"] == [contract.TABLES[0].file_name("parquet")]
