"""A rebuild with nothing changed does one walk of the release folder, formats no table again, and still repairs
whatever was changed: the shortcuts a no-op build takes are decided by the files and the catalog, never assumed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import build_source

from cxrdb.build import build
from cxrdb.check import verify_release
from cxrdb.manifest import walk_release

TABLES = ("mimic-cxr-2.0.0-metadata.csv.gz", "mimic-cxr-2.0.0-split.csv.gz", "mimic-cxr-2.0.0-chexpert.csv.gz",
          "mimic-cxr-2.0.0-negbio.csv.gz")


def _snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    build_source(tmp_path / "src", broken=False)
    out = tmp_path / "release"
    build(tmp_path / "src", out, workers=1)
    return tmp_path / "src", out


def test_a_noop_rebuild_rewrites_no_table_and_gives_the_same_bytes(built: tuple[Path, Path]) -> None:
    src, out = built
    before = _snapshot(out)
    summary = build(src, out, workers=1)
    assert summary["converted now"] == 0 and summary["labeled now"] == 0
    after = _snapshot(out)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    for name in TABLES:  # not formatted and compressed again: the very same file
        assert after[name][1] == before[name][1], name


def test_a_table_edited_in_place_is_written_again(built: tuple[Path, Path]) -> None:
    src, out = built
    path = out / TABLES[0]
    good = path.read_bytes()
    st = path.stat()
    path.write_bytes(good[:-8] + bytes(b ^ 0xFF for b in good[-8:]))  # same size, then the same mtime
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    build(src, out, workers=1)
    assert path.read_bytes() == good
    assert not any(verify_release(out, workers=1).values())


def test_a_table_whose_rows_changed_is_written_again(built: tuple[Path, Path]) -> None:
    src, out = built
    chexpert = out / TABLES[2]
    before = chexpert.read_bytes()
    report = sorted((src / "files").glob("p*/p*/s*.txt"))[0]
    text = report.read_text()
    report.write_text(text.replace("No acute cardiopulmonary process.", "Large left pleural effusion."))
    summary = build(src, out, workers=1)
    assert summary["labeled now"] == 2  # that study, by both labelers
    assert chexpert.read_bytes() != before
    assert not any(verify_release(out, workers=1).values())


def test_a_noop_build_walks_the_release_once_and_stats_no_jpg_again(
        built: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    src, out = built
    listed: list[str] = []
    stats: list[str] = []
    real_scandir, real_stat = os.scandir, os.stat

    def scandir(path: str | os.PathLike[str] = ".") -> os.ScandirIterator[str]:  # type: ignore[type-var]
        listed.append(os.fspath(path))
        return real_scandir(path)

    def stat(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        stats.append(os.fspath(path))
        return real_stat(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)
    build(src, out, workers=1)
    root = str(out.resolve())
    release_folders = [p for p in listed if p == root or p.startswith(root + os.sep)]
    assert release_folders and len(release_folders) == len(set(release_folders))  # each folder listed once
    assert not [p for p in stats if p.endswith(".jpg")]  # the walk's figures judge every JPG


def test_walk_release_leaves_out_the_sums_and_separates_temp_files(tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "SHA256SUMS.txt").write_text("")
    (tmp_path / "files" / "a.jpg").write_bytes(b"a")
    (tmp_path / "files" / ".a.jpg.1.abcd.cxrdb-tmp").write_bytes(b"")
    (tmp_path / "files" / ".x.tmp").write_bytes(b"")
    assert walk_release(tmp_path) == (["files/a.jpg"], ["files/.a.jpg.1.abcd.cxrdb-tmp", "files/.x.tmp"])
