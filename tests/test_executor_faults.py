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
from slow_items import slow
gen = ex.run_map(slow, range(100), workers=2)
next(gen)  # item 0: both workers are up
print(" ".join(str(p.pid) for p in mp.active_children()), flush=True)
next(gen)
"""
SLOW = """
import time
def slow(i):
    if i:
        time.sleep(60)
    return i
"""


@pytest.mark.parametrize("method", ["forkserver", "fork", "spawn"])
@pytest.mark.parametrize("how", ["pdeathsig", "fallback"])
def test_workers_die_with_a_killed_parent(how: str, method: str, tmp_path: Path) -> None:
    """kill -9 of the parent: its workers go too, however they were started (forked from the fork server, from
    the parent, or spawned), with PR_SET_PDEATHSIG and without (the thread watching the parent)."""
    (tmp_path / "slow_items.py").write_text(SLOW)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path}", "CXRDB_START_METHOD": method}
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


# --- a real `cxrdb convert` whose worker is killed from outside ----------------------------------------------


def _files(root: Path) -> dict[str, str]:
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "files").rglob("*")) if p.is_file()}


@pytest.mark.parametrize("victim", ["worker", "fork server"])
def test_cli_convert_survives_a_killed_worker_and_the_rerun_completes(tmp_path: Path, victim: str) -> None:
    """kill -9 of one worker, or of the fork server the workers come from (taking every worker with it): the run
    goes on (the server is started again), the images being converted are recorded as lost, a re-run makes them."""
    import json
    import shutil

    psutil = pytest.importorskip("psutil")
    from conftest import DICOMS, dicom_id

    from cxrdb.catalog import Catalog
    from cxrdb.convert.run import convert
    from cxrdb.ingest import ingest

    root = tmp_path / "src"
    picks = [p for p in DICOMS if p.stat().st_size > 500_000 and "undecodable" not in p.name]
    n = 24
    for k in range(n):
        folder = root / "files" / "p10" / f"p100000{k // 10:02d}" / f"s5000{k:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(picks[k % len(picks)], folder / f"{dicom_id(2000 + k)}.dcm")
    for name in ("ref", "hit"):
        with Catalog.open(tmp_path / f"{name}.duckdb") as cat:
            ingest(cat, root, workers=1)
    with Catalog.open(tmp_path / "ref.duckdb") as cat:
        convert(cat, tmp_path / "ref", workers=2)
    db, out = tmp_path / "hit.duckdb", tmp_path / "hit"
    cxrdb = [sys.executable, "-m", "cxrdb"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([*cxrdb, "convert", "--db", str(db), "--out", str(out), "-j", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.rglob("*.jpg"))) < 3:
            time.sleep(0.01)
        # the workers are the children of the fork server, the run's one child that has any (the other is
        # multiprocessing's resource tracker)
        servers = [k for k in psutil.Process(proc.pid).children() if k.children()]
        assert len(servers) == 1
        workers = servers[0].children()
        assert len(workers) == 2
        os.kill((servers[0] if victim == "fork server" else workers[0]).pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert len(list(out.rglob("*.jpg"))) < n, "the run went on: all but the lost image(s) converted"
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert "image(s) failed" in stderr + stdout
    status = subprocess.run([*cxrdb, "status", "--db", str(db), "-f", "json"], env=env, capture_output=True,
                            text=True, check=True)
    failures = [f for f in json.loads(status.stdout)["failures"] if f["stage"] == "convert"]
    why = "its fork server died" if victim == "fork server" else "killed by signal 9"
    assert failures and {f["error"] for f in failures} == {f"worker died ({why})"}
    assert len(list(out.rglob("*.jpg"))) == n - len(failures)
    again = subprocess.run([*cxrdb, "convert", "--db", str(db), "--out", str(out), "-j", "2"], env=env,
                           capture_output=True, text=True)
    assert again.returncode == 0 and "failed" not in again.stderr, again.stderr
    assert _files(out) == _files(tmp_path / "ref")


# --- Dask: a worker lost mid-run, a task that kills every worker it runs on ----------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    import dask

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster  # no Client of its own here: a second client in one process confuses distributed's loops
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def _dask_lost(item: tuple[int, frozenset[int]], reason: str) -> tuple[str, int, str]:
    return "lost", item[0], reason


def _slow_kill_on(item: tuple[int, frozenset[int]]) -> tuple[str, int]:
    time.sleep(0.02)
    return _kill_on(item)


def test_dask_a_worker_killed_mid_run_loses_no_item_and_duplicates_none(dask_cluster) -> None:
    dask_cluster.wait_for_workers(2, timeout=30)
    pids = [nanny.pid for nanny in dask_cluster.workers.values()]
    assert all(pids)
    items = [(i, frozenset()) for i in range(60)]
    out = []
    for res in run_map(_slow_kill_on, items, scheduler=dask_cluster.scheduler_address, batch_size=2,
                       on_lost=_dask_lost):
        out.append(res)
        if len(out) == 10:
            os.kill(pids[0], signal.SIGKILL)
    assert Counter(r[1] for r in out) == Counter(range(60))
    assert {r[2] for r in out if r[0] == "lost"} <= {"worker died (Dask: every worker that ran it died)"}


def test_dask_a_task_that_kills_its_workers_comes_back_as_lost(dask_cluster) -> None:
    dask_cluster.wait_for_workers(2, timeout=30)
    items = [(i, frozenset({7})) for i in range(30)]
    out = list(run_map(_slow_kill_on, items, scheduler=dask_cluster.scheduler_address, batch_size=2,
                       on_lost=_dask_lost))
    assert Counter(r[1] for r in out) == Counter(range(30))
    lost = {r[1]: r[2] for r in out if r[0] == "lost"}
    assert {6, 7} <= set(lost)
    assert set(lost.values()) == {"worker died (Dask: every worker that ran it died)"}
