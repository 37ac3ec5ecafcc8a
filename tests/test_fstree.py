"""fstree: a threaded listing equal to a plain walk, a threaded folder listing that lists each folder once and never
loops, a read-ahead that changes nothing but the page cache."""

from __future__ import annotations

import os
from pathlib import Path

from cxrdb import fstree


def test_list_tree_matches_a_plain_walk_with_links_and_unreadable_folders(tmp_path: Path) -> None:
    top = tmp_path / "t"
    for i in range(80):  # more folders than the frontier, so the threads share the tree
        d = top / f"p{i % 7}" / f"s{i}"
        d.mkdir(parents=True)
        (d / f"{i}.jpg").write_bytes(b"x" * i)
    (top / "p0" / "file-link.jpg").symlink_to(top / "p1" / "s1" / "1.jpg")
    (top / "p0" / "dir-link").symlink_to(top / "p2", target_is_directory=True)
    (top / "p0" / "dangling").symlink_to(top / "nowhere")
    (top / "p0" / "loop").symlink_to(top, target_is_directory=True)
    expected: dict[str, tuple[int, int] | None] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, top).replace(os.sep, "/")
            try:
                st = os.stat(path)
                expected[rel] = None if os.path.isdir(path) else (st.st_size, st.st_mtime_ns)
            except OSError:
                expected[rel] = None
    tree = fstree.list_tree(top, threads=4)
    assert tree == expected
    assert list(tree) == sorted(expected)


def test_list_folders_lists_every_folder_once_through_links_and_loops(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CXRDB_LIST_PROCESSES", "1")  # the threaded listing (the lister below counts its calls)
    top = tmp_path / "t"
    for i in range(80):
        (top / f"p{i % 7}" / f"s{i}").mkdir(parents=True)
    (top / "p0" / "dir-link").symlink_to(top / "p2", target_is_directory=True)  # p2 reached twice
    (top / "p0" / "loop").symlink_to(top, target_is_directory=True)
    (top / "p1" / "locked").mkdir()
    (top / "p1" / "locked").chmod(0)
    calls: list[str] = []

    def lister(path: str) -> tuple[list[str], list[tuple[tuple[int, int], str]]]:
        calls.append(path)
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            return ["unlistable"], []
        subs = []
        for e in entries:
            if e.is_dir():  # follows the links
                st = e.stat()
                subs.append(((st.st_dev, st.st_ino), e.path))
        return sorted(e.name for e in entries), subs

    try:
        listed = fstree.list_folders(top, lister, threads=4)
    finally:
        (top / "p1" / "locked").chmod(0o755)
    real = [top] + [Path(d) / n for d, dirs, _ in os.walk(top) for n in dirs  # every real folder once
                    if not os.path.islink(Path(d) / n)]
    assert len(calls) == len(set(calls)) == len(real) == len(listed)
    keys = {(p.stat().st_dev, p.stat().st_ino): p for p in real}
    assert set(listed) == set(keys)
    for key, names in listed.items():
        if os.access(keys[key], os.R_OK) or os.geteuid() == 0:
            assert names == sorted(os.listdir(keys[key]))
        else:
            assert names == ["unlistable"]


def test_read_ahead_yields_every_item_in_order_whatever_the_files(tmp_path: Path) -> None:
    paths = []
    for i in range(300):
        p = tmp_path / f"{i}.bin"
        if i % 7:  # some files are missing: asking for them is harmless
            p.write_bytes(os.urandom(100))
        paths.append(str(p))
    (tmp_path / "dir").mkdir()
    paths.append(str(tmp_path / "dir"))  # a folder where a file is expected
    items = [(n, p) for n, p in enumerate(paths)]
    assert list(fstree.read_ahead(items, lambda it: it[1], lead=16, threads=4)) == items
    assert list(fstree.read_ahead(items, lambda it: it[1], lead=0)) == items
    assert list(fstree.read_ahead([], str)) == []
    gen = fstree.read_ahead(iter(items), lambda it: it[1], lead=1000, head=10)
    assert next(gen) == items[0]  # a short lead or a long one: the first item comes once the window fills
    gen.close()


def _names(path: str) -> tuple[list[str], list[tuple[tuple[int, int], str]]]:
    """A picklable lister: a folder's names, and its subfolders (links followed)."""
    with os.scandir(path) as it:
        entries = sorted(it, key=lambda e: e.name)
    subs = [((e.stat().st_dev, e.stat().st_ino), e.path) for e in entries if e.is_dir()]
    return [e.name for e in entries], subs


def test_listing_processes_give_what_threads_give(tmp_path: Path, monkeypatch) -> None:
    top = tmp_path / "t"
    for i in range(150):  # a frontier large enough for the listing processes
        d = top / f"p{i % 3}" / f"s{i}"
        d.mkdir(parents=True)
        (d / f"{i}.jpg").write_bytes(b"x" * i)
    (top / "p0" / "s0" / "up").symlink_to(top / "p1", target_is_directory=True)  # another subtree, reached twice
    (top / "p2" / "s2" / "loop").symlink_to(top, target_is_directory=True)
    results = {}
    for processes in ("4", "1"):
        monkeypatch.setenv("CXRDB_LIST_PROCESSES", processes)
        results[processes] = (fstree.list_tree(top), fstree.list_folders(top, _names))
    assert results["4"][0] == results["1"][0] and list(results["4"][0]) == list(results["1"][0])
    assert results["4"][1] == results["1"][1]
    assert len(results["4"][0]) == 150 + 2
