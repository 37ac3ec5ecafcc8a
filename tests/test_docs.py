"""The docs stay true: every command has help and is in the README; every SQL example runs on the demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxrdb.bigquery import to_duckdb
from cxrdb.check import verify_release
from cxrdb.cli import app
from cxrdb.contract import RELEASE_FILES, SUMS
from cxrdb.query import open_query

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
COMMANDS = sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.fixture(scope="module")
def demo(demo_run: tuple[Path, dict]) -> tuple[Path, dict]:
    return demo_run


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(COMMANDS) >= 12
    for name in COMMANDS:
        result = runner.invoke(app, [name.replace("_", "-"), "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, name
        assert f"cxrdb {name.replace('_', '-')}" in readme, name


def test_demo_builds_the_whole_release(demo) -> None:
    out, result = demo
    release = out / "release"
    for name in (*(f.batch_name(0) if f.batch_rows else f.name for f in RELEASE_FILES), SUMS, "README"):
        assert (release / name).is_file(), name
    assert not verify_release(release)["bad header"]
    assert result["jpgs"] == 51 and result["failed items"] == 1  # the one undecodable demo image


def test_every_sql_example_runs_on_the_demo_catalog(demo) -> None:
    out, _ = demo
    blocks = re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "analyses.md").read_text(), re.S)
    blocks += re.findall(r"```sql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 15
    with open_query(out / "catalog.duckdb") as conn:  # the way `cxrdb sql` runs them
        for block in blocks:
            for statement in filter(str.strip, block.split(";")):
                conn.query(to_duckdb(statement))
