"""The supervised pool of cxrdb.executor.run_map under faults: killed workers, poison items, a crashing
initializer, an early stop, a killed parent, a lost Dask worker. Real processes and real signals throughout."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from cxrdb.errors import CxrdbError
from cxrdb.executor import run_map

ROOT = Path(__file__).resolve().parents[1]
N = 40


def _kill_on(item: tuple[int, frozenset[int]]) -> tuple[str, int]:
    """Die by SIGKILL (like the OOM killer) on the chosen items, else a result."""
    i, chosen = item
    if i in chosen:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.002)
    return "ok", i


def _lost(item: tuple[int, frozenset[int]], reason: str) -> tuple[str, int, str]:
    return "lost", item[0], reason


def _gone(pid: int) -> bool:
    """No such process, or only a zombie left for init to reap."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pids: list[int], limit: float = 10.0) -> list[int]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if not _gone(p)]


def _results(chosen: set[int], batch_size: int = 1, workers: int = 2) -> list[tuple]:
    bad = frozenset(chosen)
    return list(run_map(_kill_on, [(i, bad) for i in range(N)], workers=workers, batch_size=batch_size,
                        on_lost=_lost))


@pytest.mark.parametrize("batch_size", [1, 3])
@pytest.mark.parametrize("where", [0, N // 2, N - 1], ids=["first", "middle", "last"])
def test_a_killed_worker_loses_only_its_batch(where: int, batch_size: int) -> None:
    out = _results({where}, batch_size=batch_size)
    assert Counter(r[1] for r in out) == Counter(range(N))  # every item exactly once
    start = where - where % batch_size
    batch = set(range(start, min(start + batch_size, N)))
    lost = {r[1] for r in out if r[0] == "lost"}
    assert lost == batch
    assert {r[2] for r in out if r[0] == "lost"} == {"worker died (killed by signal 9)"}
    assert not mp.active_children()


def test_poison_items_that_kill_every_worker_fail_only_themselves() -> None:
    poison = {0, 1, 5, 9, 17, 30, 39}  # more deaths than workers, back to back at the start
    out = _results(poison, workers=2)
    assert Counter(r[1] for r in out) == Counter(range(N))
    assert {r[1] for r in out if r[0] == "lost"} == poison
    assert not mp.active_children()


def test_without_on_lost_a_death_is_one_cxrdb_error() -> None:
    bad = frozenset({3})
    with pytest.raises(CxrdbError, match=r"worker died \(killed by signal 9\)"):
        list(run_map(_kill_on, [(i, bad) for i in range(10)], workers=2))
    assert not mp.active_children()


def _raise_on_three(i: int) -> int:
    if i == 3:
        raise ValueError("broken contract")
    return i


def test_a_raising_fn_comes_back_as_lost_not_a_traceback() -> None:
    out = list(run_map(_raise_on_three, range(10), workers=2, on_lost=lambda i, why: (i, why)))
    assert sorted(r for r in out if isinstance(r, int)) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert [r for r in out if isinstance(r, tuple)] == [(3, "worker error: ValueError: broken contract")]


def _init_raises() -> None:
    raise RuntimeError("no spaCy model")


def _init_dies() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_an_initializer_that_raises_stops_with_one_line() -> None:
    with pytest.raises(CxrdbError, match="could not start: RuntimeError: no spaCy model"):
        list(run_map(abs, range(10), workers=2, initializer=_init_raises, on_lost=_lost))
    assert not mp.active_children()


def test_workers_dying_at_start_up_stop_the_run_instead_of_looping() -> None:
    with pytest.raises(CxrdbError, match=r"keep dying at start-up \(killed by signal 9\)"):
        list(run_map(abs, range(10), workers=2, initializer=_init_dies, on_lost=_lost))
    assert not mp.active_children()


def _slow(i: int) -> int:
    time.sleep(0.05)
    return i


def test_closing_the_generator_early_leaves_no_child() -> None:
    gen = run_map(_slow, range(1000), workers=2)
    next(gen)
    pids = [p.pid for p in mp.active_children()]
    assert len(pids) == 2
    gen.close()
    assert not mp.active_children()
    assert all(_gone(p) for p in pids)


def test_an_exception_in_the_consumer_leaves_no_child() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        for _ in run_map(_slow, range(1000), workers=2):
            pids = [p.pid for p in mp.active_children()]
            raise KeyboardInterrupt
    assert pids and not mp.active_children()
    assert all(_gone(p) for p in pids)


def _open_files(_: int) -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_forked_workers_do_not_hold_the_catalog_files(tmp_path: Path) -> None:
    import duckdb

    db = tmp_path / "c.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    con.execute("INSERT INTO t VALUES (2)")
    assert str(db) in _open_files(0)
    seen = {p for files in run_map(_open_files, range(4), workers=2) for p in files}
    assert str(db) not in seen and f"{db}.wal" not in seen
    con.execute("INSERT INTO t VALUES (3)")  # the parent's connection is untouched
    assert con.execute("SELECT count(*) FROM t").fetchone() == (3,)
    con.close()


PARENT = """
import multiprocessing as mp, sys, time
import cxrdb.executor as ex
if sys.argv[1] == "fallback":
    ex._die_with_parent = lambda pid: None  # no PR_SET_PDEATHSIG: the thread watching the parent must do it
def slow(i):
    if i:
        time.sleep(60)
    return i
gen = ex.run_map(slow, range(100), workers=2)
next(gen)  # item 0: both workers are up
print(" ".join(str(p.pid) for p in mp.active_children()), flush=True)
next(gen)
"""


@pytest.mark.parametrize("how", ["pdeathsig", "fallback"])
def test_workers_die_with_a_killed_parent(how: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", PARENT, how], stdout=subprocess.PIPE, text=True, env=env)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2 and not any(_gone(p) for p in pids)
        proc.kill()
        proc.wait()
        assert _wait_gone(pids) == []
    finally:
        proc.kill()
        proc.wait()
