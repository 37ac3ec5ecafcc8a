"""Run a pure per-item function over many items: inline, a local process pool, or a Dask cluster.

Every executor yields results as they complete (unordered); the caller, and only the caller, writes the
catalog. Functions and items must be picklable; the function must never raise (it returns an error record).

The local pool is supervised: each worker gets its batches over its own pipe, so when one dies (the OOM killer,
a crashing decoder, ``kill -9``) exactly the batch it was running is known. That batch comes back through the
caller's ``on_lost(item, reason)`` as error results, the batches queued behind it go to other workers, a
replacement starts and the run goes on. Workers die with the parent (``PR_SET_PDEATHSIG`` on Linux, plus a
thread that notices the parent gone) and never hold the parent's DuckDB files open.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import stat
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from queue import SimpleQueue
from typing import Any, TypeVar

from .errors import CxrdbError, MissingDependency, one_line

T = TypeVar("T")
R = TypeVar("R")
OnLost = Callable[[Any, str], Any]

DASK_PER_WORKER = 4  # tasks in flight per Dask worker thread: its queue never runs dry between round trips
PER_WORKER = 3  # batches in flight per local worker: one running, the next ones already in its pipe
_READY = "ready"
_PARENT_POLL_SECONDS = 1.0
_START_TRIES = 10  # a worker start that meets a fork server in the middle of dying waits for its restart
_NO_STATUS = 255  # the exit code multiprocessing gives a fork-server worker whose status its dead server never sent
_SERVER_EXIT_SECONDS = 2.0


#: what every kind of worker imports, loaded once by the fork server, so that a worker forked from it starts with
#: them (numpy, OpenCV, pydicom...) already imported and shares their pages with the other workers
PRELOAD = ("cxrdb.fstree", "cxrdb.check", "cxrdb.ingest.run", "cxrdb.convert.worker", "cxrdb.labeling.engine",
           "cxrdb.diff.report", "cxrdb.diff.files")


def start_method() -> str:
    """How worker processes start: CXRDB_START_METHOD, else forkserver where the platform has it, else spawn.

    Not fork: a forked worker keeps every page the parent held at the fork for as long as it lives, even those the
    parent frees right after (DuckDB's cache, the stage before's rows); at full MIMIC size a build's parent holds
    ~1 GB, and the parent plus two forked labeling workers peaked at 2.75 GiB. Workers forked from the fork server,
    a small process started once per run, hold only what they use."""
    env = os.environ.get("CXRDB_START_METHOD")
    if env:
        return env
    return "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"


def mp_context() -> Any:
    """The multiprocessing context of :func:`start_method` (the fork server preloading :data:`PRELOAD`)."""
    method = start_method()
    try:
        ctx = mp.get_context(method)
    except ValueError:
        raise CxrdbError(f"CXRDB_START_METHOD={method!r}: use one of {', '.join(mp.get_all_start_methods())}") from None
    if method == "forkserver":
        ctx.set_forkserver_preload(list(PRELOAD))  # read when the server starts (the first worker of this process)
    return ctx


def default_workers() -> int:
    """One worker per available core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _call_batch(fn: Callable[[T], R], batch: list[T]) -> list[R]:
    return [fn(item) for item in batch]


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _lost(batch: list[Any], reason: str, on_lost: OnLost | None) -> list[Any]:
    """Error results for a batch that produced none (its worker died, or the task failed)."""
    if on_lost is None:
        raise CxrdbError(f"{reason}: {len(batch)} item(s) got no result")
    return [on_lost(item, reason) for item in batch]


def run_map(
    fn: Callable[[T], R],
    items: Iterable[T],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int = 1,
    initializer: Callable[[], Any] | None = None,
    on_lost: OnLost | None = None,
) -> Iterator[R]:
    """Yield ``fn(item)`` for every item, in completion order.

    ``workers`` <= 1 runs inline (no pool start-up); otherwise a local process pool of that size, or,
    when ``scheduler`` is a Dask address (``tcp://host:port``), the workers of that cluster. ``batch_size``
    groups cheap items into one task to amortise scheduling.

    ``on_lost(item, reason)`` runs in this process and builds the result of an item that got none, in the
    shape ``fn`` returns: its worker died while running its batch (``reason`` like ``"worker died (killed by
    signal 9)"``; the pool replaces the worker and goes on), ``fn`` broke its contract and raised, or a Dask
    task failed (``KilledWorker`` included). Without ``on_lost`` such a loss raises :class:`CxrdbError`.
    Every item yields exactly one result. Closing the generator early stops and joins every worker.
    """
    if scheduler:
        yield from _run_dask(fn, items, scheduler=scheduler, batch_size=batch_size, on_lost=on_lost)
        return
    workers = default_workers() if workers is None else workers
    if workers <= 1:
        if initializer is not None:
            initializer()
        for item in items:
            yield fn(item)
        return
    yield from _run_local(fn, items, workers=workers, batch_size=batch_size, initializer=initializer,
                          on_lost=on_lost)


# --- local supervised pool: the worker side ------------------------------------------------------------------


def _die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, then make sure it has not died already."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - exotic libc
            pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def _drop_duckdb_files() -> None:
    """A forked worker inherits the parent's DuckDB file descriptors: point them at /dev/null (read-only),
    so the worker neither keeps the catalog or its WAL open nor could ever write to them. The numbers stay
    taken, so no file the worker opens later gets one of them."""
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:  # pragma: no cover - no /proc
        return
    paths: dict[int, str] = {}
    for fd in fds:
        try:
            paths[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
    databases = set()
    for fd, path in paths.items():
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and os.pread(fd, 4, 8) == b"DUCK":
                databases.add(path)
        except OSError:
            continue
    if not databases:
        return
    doomed = [fd for fd, path in paths.items()
              if any(path == db or path.startswith((db + ".wal", db + ".tmp")) for db in databases)]
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        for fd in doomed:
            os.dup2(null, fd)
    finally:
        os.close(null)


def _read_inbox(inbox: Connection, queue: SimpleQueue, parent: int) -> None:
    """Worker thread: move batches from the pipe into ``queue`` (so the parent's sends never wait on a worker
    busy sending results); exit the process when the parent is gone or has closed the pipe."""
    try:
        while True:
            if inbox.poll(_PARENT_POLL_SECONDS):
                batch = inbox.recv()
                queue.put(batch)
                if batch is None:
                    return
            elif os.getppid() != parent:
                os._exit(1)
    except (EOFError, OSError):
        pass
    os._exit(1)


def _worker_main(inbox: Connection, outbox: Connection, fn: Callable[[Any], Any],
                 initializer: Callable[[], Any] | None, parent_pid: int | None,
                 inherited: list[Connection]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business: no traceback per worker
    _die_with_parent(parent_pid)
    for conn in inherited:  # forked: the parent's ends of every pipe, ours included (EOF must mean EOF)
        conn.close()
    if inherited:
        _drop_duckdb_files()
    queue: SimpleQueue = SimpleQueue()
    threading.Thread(target=_read_inbox, args=(inbox, queue, os.getppid()), daemon=True).start()
    if initializer is not None:
        try:
            initializer()
        except BaseException as exc:  # reported to the parent as one line, no traceback
            outbox.send(("init-error", one_line(f"{type(exc).__name__}: {exc}")))
            os._exit(1)
    outbox.send(_READY)
    while True:
        batch = queue.get()
        if batch is None:
            return
        try:
            outbox.send([fn(item) for item in batch])
        except Exception as exc:  # fn broke its contract, or a result does not pickle
            outbox.send(("error", one_line(f"{type(exc).__name__}: {exc}")))


# --- local supervised pool: the parent side ------------------------------------------------------------------


class _Worker:
    __slots__ = ("dead", "inbox", "inflight", "outbox", "proc", "ready", "server")

    def __init__(self, proc: Any, inbox: Connection, outbox: Connection, server: int | None = None) -> None:
        self.proc = proc
        self.server = server  # the fork server it was forked from (forkserver only)
        self.inbox = inbox  # parent writes batches
        self.outbox = outbox  # parent reads results
        self.inflight: deque[list[Any]] = deque()  # sent batches, in the order the worker runs them
        self.ready = False  # initializer done: from here on, the first in-flight batch is running
        self.dead = False


@contextmanager
def _frozen() -> Iterator[None]:
    """Fork inside this: the parent's objects are moved to the collector's permanent generation for the moment of
    the fork. A forked worker shares the parent's memory until it writes to it, and a full collection in the
    child would touch the header of every object the parent holds (at full MIMIC size ~1 GB of catalog
    listings and report texts), copying those pages into every worker. The parent collects them again
    as soon as the child is started."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def without_main(*used: Any) -> Iterator[None]:
    """Start worker processes inside this: they do not re-run the caller's script.

    A worker started by spawn or the fork server first imports the parent's ``__main__`` file (as
    ``__mp_main__``): a script that calls cxrdb without an ``if __name__ == "__main__":`` guard would run again
    in every worker, side effects and all, and fail there. Workers run only cxrdb's functions, so for the moment
    of the start ``__main__`` is a bare module and they are told of no main file. Unless a function they run
    (``used``) is defined in ``__main__``: then the start is left as multiprocessing makes it."""
    main = sys.modules.get("__main__")
    if main is None or any(getattr(getattr(f, "func", f), "__module__", None) == "__main__" for f in used):
        yield
        return
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _server_pid() -> int | None:
    """The pid of this process's fork server (None before one started)."""
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)  # no public accessor


def _server_gone(pid: int | None) -> bool:
    """Whether the fork server ``pid`` has died (killed: its workers die with it, PR_SET_PDEATHSIG, and their exit
    status, which only it could read, comes back as 255). Read from /proc, never by reaping it: the next worker
    start does that, and starts a new server."""
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return os.path.isdir("/proc/self")  # no such process (where /proc can tell)


def _server_died(pid: int | None, code: int | None) -> bool:
    """Whether worker exit ``code`` came from the death of its fork server ``pid``. A worker dies with its server
    while the server is still exiting (not yet a zombie in /proc), so the 255 such workers report gives the
    server up to :data:`_SERVER_EXIT_SECONDS` to be seen gone."""
    if pid is None:
        return False
    deadline = time.monotonic() + (_SERVER_EXIT_SECONDS if code == _NO_STATUS else 0.0)
    while not _server_gone(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)
    return True


def _death(code: int | None) -> str:
    return f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"


def _run_local(fn: Callable[[T], R], items: Iterable[T], *, workers: int, batch_size: int,
               initializer: Callable[[], Any] | None, on_lost: OnLost | None) -> Iterator[R]:
    ctx = mp_context()
    method = ctx.get_start_method()
    fork = method == "fork"
    me = os.getpid()
    pool: list[_Worker] = []
    by_key: dict[Any, _Worker] = {}
    retry: deque[list[T]] = deque()  # batches a dead worker never started
    source = batched(items, batch_size)
    exhausted = False
    failed_starts = 0

    def start() -> None:
        in_r, in_w = ctx.Pipe(duplex=False)
        out_r, out_w = ctx.Pipe(duplex=False)
        inherited = [c for w in pool for c in (w.inbox, w.outbox)] + [in_w, out_r] if fork else []
        for attempt in range(_START_TRIES):
            proc = ctx.Process(target=_worker_main, args=(in_r, out_w, fn, initializer, me if method != "forkserver"
                                                          else None, inherited), daemon=True)
            try:
                if fork:  # the child's collector never walks (so never copies) the parent's objects: see _frozen
                    with _frozen():
                        proc.start()
                else:
                    with without_main(fn, initializer):
                        proc.start()
                break
            except (EOFError, OSError) as exc:  # the fork server is dying: in a moment it is seen dead and restarted
                if method != "forkserver" or attempt == _START_TRIES - 1:
                    raise CxrdbError(f"cannot start a worker process: {one_line(exc) or type(exc).__name__}") from None
                time.sleep(0.05 * (attempt + 1))
        in_r.close()
        out_w.close()
        w = _Worker(proc, in_w, out_r, _server_pid() if method == "forkserver" else None)
        pool.append(w)
        by_key[out_r] = by_key[proc.sentinel] = w

    def handle(w: _Worker, msg: Any) -> list[R]:
        nonlocal failed_starts
        if type(msg) is list:
            w.inflight.popleft()
            return msg
        if msg == _READY:
            w.ready = True
            failed_starts = 0
            return []
        kind, text = msg
        if kind == "init-error":
            raise CxrdbError(f"a worker process could not start: {text}")
        return _lost(w.inflight.popleft(), f"worker error: {text}", on_lost)

    def bury(w: _Worker) -> Iterator[R]:
        nonlocal failed_starts
        w.dead = True
        while True:  # what it sent before dying is still in the pipe
            try:
                if not w.outbox.poll():
                    break
                msg = w.outbox.recv()
            except (EOFError, OSError):
                break
            yield from handle(w, msg)
        w.proc.join()
        death = "its fork server died" if _server_died(w.server, w.proc.exitcode) else _death(w.proc.exitcode)
        pool.remove(w)
        del by_key[w.outbox], by_key[w.proc.sentinel]
        w.inbox.close()
        w.outbox.close()
        if not w.ready:  # it ran none of its batches: they all go to other workers
            failed_starts += 1
            if failed_starts >= max(3, workers):
                raise CxrdbError(f"worker processes keep dying at start-up ({death})")
        elif w.inflight:  # the first one was running: lost; the ones queued behind it go to other workers
            yield from _lost(w.inflight.popleft(), f"worker died ({death})", on_lost)
        retry.extendleft(reversed(w.inflight))
        w.inflight.clear()
        if retry or not exhausted:
            start()

    try:
        for _ in range(workers):
            start()
        while True:
            for w in pool:
                while len(w.inflight) < PER_WORKER:
                    if retry:
                        batch = retry.popleft()
                    elif exhausted:
                        break
                    else:
                        batch = next(source, None)
                        if batch is None:
                            exhausted = True
                            break
                    try:
                        w.inbox.send(batch)
                    except OSError:  # dead: its sentinel fires next; the batch goes to another worker
                        retry.appendleft(batch)
                        break
                    w.inflight.append(batch)
            if exhausted and not retry and not any(w.inflight for w in pool):
                return
            for key in wait(list(by_key)):
                w = by_key.get(key)
                if w is None or w.dead:
                    continue
                if key is w.outbox:
                    try:
                        msg = w.outbox.recv()
                    except (EOFError, OSError):
                        continue  # it died mid-message: its sentinel says so
                    yield from handle(w, msg)
                else:
                    yield from bury(w)
    finally:
        _stop(pool)


def _stop(pool: list[_Worker]) -> None:
    """Idle workers get the end-of-work message; busy ones (an early stop) are terminated; all are joined."""
    for w in pool:
        if w.inflight or not w.ready:
            w.proc.terminate()
        else:
            try:
                w.inbox.send(None)
            except OSError:
                w.proc.terminate()
    for w in pool:
        w.proc.join(timeout=5)
        if w.proc.exitcode is None:  # pragma: no cover - a worker ignoring SIGTERM
            w.proc.kill()
            w.proc.join()
        w.inbox.close()
        w.outbox.close()
    pool.clear()


# --- Dask -----------------------------------------------------------------------------------------------------


def check_scheduler(address: str) -> None:
    """Refuse, before any work, a Dask scheduler address that is malformed or does not answer (one line)."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency("--scheduler needs Dask distributed: pip install 'cxrdb[dask]'") from exc
    try:
        Client(address, timeout="5s").close()
    except (OSError, ValueError, TypeError) as exc:
        raise CxrdbError(f"cannot reach Dask scheduler {address}: {one_line(str(exc))}") from None


def _run_dask(fn: Callable[[T], R], items: Iterable[T], *, scheduler: str, batch_size: int,
              on_lost: OnLost | None) -> Iterator[R]:
    try:
        from distributed import Client, KilledWorker, as_completed
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise MissingDependency("--scheduler needs Dask distributed: pip install 'cxrdb[dask]'") from exc
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, ValueError, TypeError) as exc:
        raise CxrdbError(f"cannot reach Dask scheduler {scheduler}: {exc}") from None

    batches: dict[str, list[T]] = {}

    def one(fut: Any) -> list[Any]:
        """One task's results fetched on their own, or its items' error results when it failed."""
        batch = batches.pop(fut.key)
        try:
            return fut.result()
        except KilledWorker:  # distributed retried it on other workers; every one of them died
            return _lost(batch, "worker died (Dask: every worker that ran it died)", on_lost)
        except Exception as exc:
            return _lost(batch, f"worker error: {one_line(f'{type(exc).__name__}: {exc}')}", on_lost)
        finally:
            fut.release()

    def collect(done: list[Any]) -> Iterator[Any]:
        """Results of every task finished so far, fetched in one gather (one round trip, not one per task)."""
        ok = [f for f in done if f.status == "finished"]
        try:
            gathered = client.gather(ok) if ok else []
        except Exception:  # a result went missing (its worker died since): each task on its own, as it fails
            ok, gathered = [], []
        for fut, results in zip(ok, gathered, strict=True):
            del batches[fut.key]
            fut.release()
            yield from results
        for fut in done:
            if fut.key in batches:
                yield from one(fut)

    try:
        threads = sum(client.nthreads().values())  # over every worker: one task runs per thread
        limit = max(1, threads) * DASK_PER_WORKER
        stream = as_completed()
        pending = 0
        for batch in batched(items, batch_size):
            fut = client.submit(_call_batch, fn, batch, pure=False)
            batches[fut.key] = batch
            stream.add(fut)
            pending += 1
            if pending >= limit:
                done = stream.next_batch(block=True)
                pending -= len(done)
                yield from collect(done)
        while pending:
            done = stream.next_batch(block=True)
            pending -= len(done)
            yield from collect(done)
    finally:
        client.close()
