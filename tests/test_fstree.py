"""fstree: a threaded listing equal to a plain walk, a prefetch that never loops, a read-ahead that changes
nothing but the page cache."""

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
    fstree.prefetch(top, threads=4)  # follows the loop once, never forever


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
