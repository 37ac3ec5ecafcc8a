"""A release means what its SHA256SUMS.txt says: tampering is repaired or refused, never blessed; one writer per
release folder; a refused command leaves nothing behind; export, build and check agree."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import build_source
from typer.testing import CliRunner

from cxrdb.build import build
from cxrdb.catalog import Catalog
from cxrdb.check import verify_release
from cxrdb.cli import app
from cxrdb.errors import CxrdbError

runner = CliRunner()


def _sums(out: Path) -> dict[str, str]:
    lines = (out / "SHA256SUMS.txt").read_text().splitlines()
    return {rel: digest for digest, rel in (line.split(" ", 1) for line in lines)}


def _sha256sum_ok(out: Path) -> bool:
    return subprocess.run(["sha256sum", "-c", "--strict", "--quiet", "SHA256SUMS.txt"], cwd=out,
                          capture_output=True).returncode == 0


def _clean(problems: dict[str, list[str]]) -> bool:
    return not any(problems.values())


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    """A finished release of real files, and the bytes of every file in it."""
    work = tmp_path_factory.mktemp("trust")
    build_source(work / "src", broken=False)
    out = work / "release"
    build(work / "src", out, workers=1)
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    return work / "src", out, files


def _copy(release: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the release and its catalog (paths inside the catalog point at the original folder, so
    the copy is rebuilt under the original's name)."""
    src, out, files = release
    for rel, data in files.items():  # restore the shared release to its finished state
        path = out / rel
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for path in list(out.rglob("*")):
        if path.is_file() and str(path.relative_to(out)) not in files:
            path.unlink()
    return src, out


def _jpgs(out: Path) -> list[Path]:
    return sorted(out.glob("files/**/*.jpg"))


@pytest.mark.parametrize("damage", ["truncate", "ten bytes", "same size other bytes"])
def test_rebuild_repairs_a_damaged_jpg_and_never_lists_a_stray(release, tmp_path: Path, damage: str) -> None:
    src, out = _copy(release, tmp_path)
    files = release[2]
    jpg = _jpgs(out)[0]
    rel = str(jpg.relative_to(out))
    good = jpg.read_bytes()
    if damage == "truncate":
        jpg.write_bytes(good[: len(good) // 2])
    elif damage == "ten bytes":
        jpg.write_bytes(b"0123456789")
    else:
        jpg.write_bytes(bytes(b ^ 0xFF for b in good))
    (out / "stray.txt").write_text("not part of the release\n")
    assert not _clean(verify_release(out, workers=1))  # the damage is visible before the rebuild
    with pytest.raises(CxrdbError, match=r"did not write \(stray.txt\)"):
        build(src, out, workers=1)
    (out / "stray.txt").unlink()
    summary = build(src, out, workers=1)
    assert summary["converted now"] == 1
    assert jpg.read_bytes() == good
    assert _sums(out)[rel] == _sums_of(files)[rel]
    assert _sha256sum_ok(out)
    assert _clean(verify_release(out, workers=1))
    assert {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def _sums_of(files: dict[str, bytes]) -> dict[str, str]:
    lines = files["SHA256SUMS.txt"].decode().splitlines()
    return {rel: digest for digest, rel in (line.split(" ", 1) for line in lines)}


def test_forced_build_beside_a_stray_never_lists_it_and_check_names_it(release, tmp_path: Path) -> None:
    src, out = _copy(release, tmp_path)
    (out / "files" / "notes.txt").write_text("mine\n")
    summary = build(src, out, workers=1, force=True)
    assert summary["stray files (not listed)"] == 1
    assert "files/notes.txt" not in _sums(out)
    assert verify_release(out, workers=1)["not listed"] == ["files/notes.txt"]
    (out / "files" / "notes.txt").unlink()


def test_a_touched_but_intact_jpg_is_rehashed_not_reconverted(release, tmp_path: Path) -> None:
    src, out = _copy(release, tmp_path)
    jpg = _jpgs(out)[0]
    os.utime(jpg, ns=(1_000_000_000, 1_000_000_000))
    assert build(src, out, workers=1)["converted now"] == 0
    assert _clean(verify_release(out, workers=1))


@pytest.mark.parametrize("damage", ["replace", "delete"])
def test_export_after_tampering_refuses_and_check_fails(release, tmp_path: Path, damage: str) -> None:
    src, out = _copy(release, tmp_path)
    jpg = _jpgs(out)[0]
    if damage == "delete":
        jpg.unlink()
    else:
        jpg.write_bytes(b"0123456789")
    before = {p: p.read_bytes() for p in out.iterdir() if p.is_file()}
    result = runner.invoke(app, ["export", "--db", str(out.parent / "release.duckdb"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "missing or changed since they were converted" in str(result.exception)
    assert {p: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # nothing exported
    assert not _clean(verify_release(out, workers=1))
    assert build(src, out, workers=1)["converted now"] == 1  # and the next build repairs it
    assert _clean(verify_release(out, workers=1))


def test_check_finds_a_metadata_row_without_its_jpg(release, tmp_path: Path) -> None:
    _, out = _copy(release, tmp_path)
    jpg = _jpgs(out)[0]
    rel = str(jpg.relative_to(out))
    jpg.unlink()  # and a careless user rewrites the listings to match
    (out / "IMAGE_FILENAMES").write_text("".join(f"{p}\n" for p in (out / "IMAGE_FILENAMES").read_text().split()
                                                 if p != rel))
    lines = [line for line in (out / "SHA256SUMS.txt").read_text().splitlines()
             if not line.endswith((rel, " IMAGE_FILENAMES"))]
    lines.append(f"{hashlib.sha256((out / 'IMAGE_FILENAMES').read_bytes()).hexdigest()} IMAGE_FILENAMES")
    (out / "SHA256SUMS.txt").write_text("".join(f"{line}\n" for line in sorted(lines, key=lambda x: x[65:])))
    assert _sha256sum_ok(out)  # sha256sum alone is satisfied ...
    problems = verify_release(out, workers=1)
    assert any(jpg.stem in p and "no JPG" in p for p in problems["inconsistent"])  # ... check is not


def test_export_or_convert_with_another_catalog_is_refused(release, tmp_path: Path) -> None:
    src, out = _copy(release, tmp_path)
    other = tmp_path / "other.duckdb"
    assert runner.invoke(app, ["ingest", str(src), "--db", str(other), "-j", "1"]).exit_code == 0
    for command in (["export"], ["convert", "-j", "1"]):
        before = {str(p): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
        result = runner.invoke(app, [*command, "--db", str(other), "--out", str(out)])
        assert result.exit_code == 1, result.output
        assert "another build" in str(result.exception)
        assert {str(p): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_stranger_extras_and_symlinked_folders_are_never_listed(release, tmp_path: Path) -> None:
    src, out = _copy(release, tmp_path)
    (out / "LICENSE.txt").write_text("not ours\n")
    (tmp_path / "elsewhere").mkdir()
    (out / "files" / "linked").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CxrdbError, match="did not write"):
        build(src, out, workers=1)
    summary = build(src, out, workers=1, force=True)
    assert summary["stray files (not listed)"] == 2
    assert "LICENSE.txt" not in _sums(out) and "files/linked" not in _sums(out)
    assert sorted(verify_release(out, workers=1)["not listed"]) == ["LICENSE.txt", "files/linked"]
    (out / "LICENSE.txt").unlink()
    (out / "files" / "linked").unlink()


def test_verify_finds_an_edit_that_kept_size_and_mtime(release, tmp_path: Path) -> None:
    src, out = _copy(release, tmp_path)
    build(src, out, workers=1)  # the catalog records the mtimes of files _copy restored (whatever ran before)
    jpg = _jpgs(out)[0]
    good = jpg.read_bytes()
    st = jpg.stat()
    jpg.write_bytes(good[:-3] + b"\0\0\0")
    os.utime(jpg, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert build(src, out, workers=1)["converted now"] == 0  # size + mtime trusted by default ...
    assert verify_release(out, workers=1)["mismatch"] == [str(jpg.relative_to(out))]  # ... check sees it
    assert build(src, out, workers=1, verify=True)["converted now"] == 1
    assert jpg.read_bytes() == good
    assert _clean(verify_release(out, workers=1))


def test_check_reports_temp_leftovers(release, tmp_path: Path) -> None:
    _, out = _copy(release, tmp_path)
    folder = _jpgs(out)[0].parent
    (folder / ".x.jpg.1.abcd.cxrdb-tmp").write_bytes(b"half")
    (out / ".x.tmp").write_bytes(b"half")
    problems = verify_release(out, workers=1)
    assert sorted(problems["temp file"]) == sorted([str((folder / ".x.jpg.1.abcd.cxrdb-tmp").relative_to(out)),
                                                    ".x.tmp"])
    result = runner.invoke(app, ["check", "--release", str(out)])
    assert result.exit_code == 1
    for path in (out / ".x.tmp", folder / ".x.jpg.1.abcd.cxrdb-tmp"):
        path.unlink()


def test_two_builds_into_one_folder_one_is_refused(tmp_path: Path) -> None:
    build_source(tmp_path / "src", broken=False)
    out = tmp_path / "release"
    cmd = [sys.executable, "-m", "cxrdb", "build", str(tmp_path / "src"), "--out", str(out), "-j", "1"]
    procs = [subprocess.Popen([*cmd, "--db", str(tmp_path / f"{n}.duckdb")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in ("a", "b")]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    refused = next(err for code, err in results if code == 1)
    assert "Traceback" not in refused
    assert "in use by another cxrdb run" in refused or "another build" in refused
    assert _sha256sum_ok(out)
    assert _clean(verify_release(out, workers=1))
    listed = (out / "IMAGE_FILENAMES").read_text().splitlines()
    assert sorted(str(p.relative_to(out)) for p in _jpgs(out)) == listed


def test_folder_written_by_the_same_catalogs_convert_and_export_builds_without_force(tmp_path: Path) -> None:
    build_source(tmp_path / "src", broken=False)
    db, out = tmp_path / "c.duckdb", tmp_path / "release"
    for args in (["ingest", str(tmp_path / "src"), "--db", str(db), "-j", "1"],
                 ["convert", "--db", str(db), "--out", str(out), "-j", "1"],
                 ["export", "--db", str(db), "--out", str(out)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["check", "--release", str(out)])  # export writes SHA256SUMS.txt too
    assert result.exit_code == 0, result.output
    summary = build(tmp_path / "src", out, db=db, workers=1)
    assert summary["converted now"] == 0
    assert _clean(verify_release(out, workers=1))


@pytest.mark.parametrize("case", ["bad format", "missing license", "missing test set", "unwritable out",
                                  "no source", "empty folder", "no files/", "empty files/", "bad published split",
                                  "bad test set", "bad overrides", "bad scheduler"])
def test_a_refused_build_leaves_no_catalog_and_no_release(tmp_path: Path, case: str) -> None:
    src = tmp_path / "src"
    build_source(src, broken=False)
    out = tmp_path / "release"
    args: dict = {"workers": 1}
    if case == "bad format":
        args["fmt"] = "bogus"
    elif case == "missing license":
        args["license_file"] = tmp_path / "LICENSE-missing"
    elif case == "missing test set":
        args["test_set"] = tmp_path / "missing.csv"
    elif case == "unwritable out":
        (tmp_path / "a-file").write_text("x")
        out = tmp_path / "a-file" / "release"
    elif case in ("bad published split", "bad test set", "bad overrides"):
        (tmp_path / "garbage.csv").write_text("this,is\nnot,it\n")
        key = {"bad published split": "published_split", "bad test set": "test_set"}.get(case, "overrides")
        args[key] = tmp_path / "garbage.csv"
    elif case == "bad scheduler":
        args["scheduler"] = "not a scheduler address"
    elif case == "no source":
        src = tmp_path / "nonexistent"
    elif case == "empty folder":
        src = tmp_path / "empty"
        src.mkdir()
    elif case == "no files/":
        src = tmp_path / "nofiles"
        (src / "other").mkdir(parents=True)
    else:
        src = tmp_path / "emptyfiles"
        (src / "files" / "p10").mkdir(parents=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(CxrdbError):
        build(src, out, **args)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no release folder, no catalog


def test_ingest_of_a_missing_source_leaves_no_catalog(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", str(tmp_path / "nonexistent"), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert not (tmp_path / "x.duckdb").exists()


def test_cli_format_is_checked_before_any_work(tmp_path: Path) -> None:
    build_source(tmp_path / "src", broken=False)
    result = runner.invoke(app, ["build", str(tmp_path / "src"), "--out", str(tmp_path / "r"), "-f", "bogus"])
    assert result.exit_code == 2
    assert "csv" in result.output and "parquet" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_a_refused_second_run_keeps_the_running_ones_progress_file(tmp_path: Path) -> None:
    build_source(tmp_path / "src", broken=False)
    db = tmp_path / "c.duckdb"
    holder = Catalog(db)  # a run in progress holds the catalog ...
    progress = db.with_name(db.name + ".run.json")
    progress.write_text(json.dumps({"command": "build", "pid": os.getpid(), "started": 0, "tasks": {}}))
    try:
        result = runner.invoke(app, ["build", str(tmp_path / "src"), "--out", str(tmp_path / "r"), "--db", str(db)])
        assert result.exit_code == 1
        assert progress.exists()  # ... and the refused run left its progress file alone
    finally:
        holder.close()
    shutil.rmtree(tmp_path / "r", ignore_errors=True)


def _hold(out: str, ready, results) -> None:
    from cxrdb.locks import release_lock

    ready.wait()
    try:
        with release_lock(Path(out)):
            time.sleep(0.3)
            results.put(("held", Path(out).is_dir()))
    except CxrdbError:
        results.put(("refused", None))


def test_a_refused_lock_never_removes_the_folder_the_winner_holds(tmp_path: Path) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    for n in range(10):
        out = str(tmp_path / f"r{n}")
        ready, results = ctx.Event(), ctx.Queue()
        procs = [ctx.Process(target=_hold, args=(out, ready, results)) for _ in range(2)]
        for p in procs:
            p.start()
        ready.set()
        for p in procs:
            p.join(10)
        outcomes = sorted(results.get(timeout=5) for _ in procs)
        assert ("held", True) in outcomes, outcomes  # the winner's folder was there all along


def test_values_and_names_are_never_read_as_markup(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    build_source(tmp_path / "src", broken=False)
    assert runner.invoke(app, ["ingest", str(tmp_path / "src"), "--db", str(db), "-j", "1"]).exit_code == 0
    result = runner.invoke(app, ["sql", "--db", str(db), "SELECT '[/x]' AS \"[b]col\", '[link=y]z' AS b"])
    assert result.exit_code == 0, result.output
    assert "[/x]" in result.output and "[b]col" in result.output and "[link=y]z" in result.output


def test_zero_workers_is_a_usage_error(tmp_path: Path) -> None:
    build_source(tmp_path / "src", broken=False)
    for jobs in ("0", "-3"):
        result = runner.invoke(app, ["build", str(tmp_path / "src"), "--out", str(tmp_path / "r"), "-j", jobs])
        assert result.exit_code == 2
