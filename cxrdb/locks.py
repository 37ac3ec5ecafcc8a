"""One writer per release folder: a run that writes into a release holds an exclusive lock on the folder itself
(``flock`` on the directory, released by the kernel when the process ends, however it ends)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import CxrdbError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def release_lock(out: Path) -> Iterator[None]:
    """Hold the release folder ``out`` (created if missing; removed again if this run created it and a refusal or
    failure left it empty) for the duration of the block; a second run is refused with one line."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise CxrdbError(f"cannot create release folder {out}: {exc.strerror}") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                # never remove the folder here: the run holding the lock may have just created it
                raise CxrdbError(f"release folder {out} is in use by another cxrdb run; wait for it to finish, "
                                 "or write into another folder") from None
        try:
            yield
        except BaseException:
            if created:  # created and held by this run: remove it again if the run left it empty
                with contextlib.suppress(OSError):
                    out.rmdir()
            raise
    finally:
        os.close(fd)
