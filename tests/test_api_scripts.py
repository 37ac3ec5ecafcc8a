"""The Python API from a user's own script: workers never re-run the script (no main guard needed)."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build_source

from cxrdb.build import build

ROOT = Path(__file__).resolve().parents[1]

UNGUARDED = """
import json, sys
from pathlib import Path
from cxrdb.build import build
from cxrdb.fstree import list_tree

marker, source, out, tree = (Path(a) for a in sys.argv[1:])
with marker.open("a") as f:  # a side effect the script must do exactly once
    f.write("ran\\n")
result = build(source, out, workers=2)
listed = list_tree(tree)
print(json.dumps({"jpgs": result.jpgs, "failed": result.failed_items, "listed": len(listed)}))
"""

GUARDED_MAIN_FN = """
from cxrdb.executor import run_map

def double(i):
    return 2 * i

if __name__ == "__main__":
    print(sorted(run_map(double, range(20), workers=2)))
"""


@pytest.mark.parametrize("method", ["forkserver", "spawn", "fork"])
def test_a_script_without_a_main_guard_builds_and_runs_once(tmp_path: Path, method: str) -> None:
    """A script calling ``build`` at top level (no ``if __name__ == "__main__":``) works with every start
    method, and its side effects happen once: the workers (the conversion's and the source listing's processes)
    do not import it again."""
    made = build_source(tmp_path / "src", broken=False)
    tree = tmp_path / "tree"
    for n in range(80):  # enough subtrees that the listing goes to processes (fstree._FRONTIER)
        (tree / f"d{n:02d}" / "x").mkdir(parents=True)
        (tree / f"d{n:02d}" / "x" / "f.txt").write_text("x")
    script = tmp_path / "my_build.py"
    script.write_text(UNGUARDED)
    marker = tmp_path / "ran.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CXRDB_START_METHOD": method, "CXRDB_LIST_PROCESSES": "2"}
    done = subprocess.run([sys.executable, str(script), str(marker), str(tmp_path / "src"), str(tmp_path / "rel"),
                           str(tree)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert marker.read_text() == "ran\n"
    inline = build(tmp_path / "src", tmp_path / "inline", workers=1)  # the same build, no worker processes
    assert inline.jpgs + inline.failed_items == len(made)
    last = done.stdout.strip().splitlines()[-1]
    assert json.loads(last) == {"jpgs": inline.jpgs, "failed": inline.failed_items, "listed": 80}


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_function_defined_in_the_script_still_reaches_the_workers(tmp_path: Path, method: str) -> None:
    """``run_map`` with a function of the caller's ``__main__`` (behind the guard): the workers import the script
    as multiprocessing does, so they can run it."""
    script = tmp_path / "mine.py"
    script.write_text(GUARDED_MAIN_FN)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CXRDB_START_METHOD": method}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str([2 * i for i in range(20)])


def test_the_readmes_python_example_runs_as_a_script(tmp_path: Path) -> None:
    """The README's "From Python" block, run as a plain script (no main guard) on a real source."""
    block = re.search(r"## From Python\n.*?```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README has a From Python example"
    made = build_source(tmp_path / "mimic-cxr", broken=False)
    code = block.group(1).replace("workers=8", "workers=2") + "print(rows)\n"
    (tmp_path / "example.py").write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "example.py"], capture_output=True, text=True, env=env, timeout=600,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    jpgs, failed, _ = done.stdout.splitlines()[0].split()
    assert int(jpgs) + int(failed) == len(made) and int(jpgs) > 0
    assert (tmp_path / "release" / "SHA256SUMS.txt").is_file()
    counts = ast.literal_eval(done.stdout.splitlines()[1])  # the script's print of run_query's rows
    assert sum(n for _, n in counts) == int(jpgs)  # the released images, by view
