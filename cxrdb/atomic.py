"""Atomic file writes: a hidden temp file in the destination directory, then ``os.replace``."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from typing import IO, Any

TEMP_SUFFIX = ".cxrdb-tmp"  # temp files are ".<final name>.<pid>.<random>.cxrdb-tmp" next to the final file
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class WriteError(Exception):
    """The output could not be written; the message is one line (``disk full: ...``, ``write error: ...``)."""


def is_temp_name(name: str) -> bool:
    """True for a temp file name this module creates (for sweeping debris left by a killed process)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _temp_for(dest: str | os.PathLike[str]) -> tuple[str, str]:
    """(parent directory, hidden temp path) for writing ``dest``."""
    parent, name = os.path.split(os.path.abspath(dest))
    return parent, os.path.join(parent, f".{name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _write_error(exc: OSError, parent: str, dest: str | os.PathLike[str]) -> WriteError:
    if exc.errno in _DISK_FULL:
        return WriteError(f"disk full: {parent}")
    return WriteError(f"write error: {exc.strerror or exc}: {exc.filename or dest}")


def write_atomic(dest: str, data: bytes | memoryview) -> int:
    """Write ``data`` to ``dest`` so that ``dest`` is either absent/old or complete; never leave the temp.
    Returns the file's mtime_ns (read from the open file: the rename keeps it), so a caller needs no stat.

    Parent directories are created. Raises :class:`WriteError` with a one-line message.
    """
    parent, tmp = _temp_for(dest)
    created = False
    try:
        os.makedirs(parent, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        created = True
        try:
            _write_all(fd, memoryview(data).cast("B"))
            mtime_ns = os.fstat(fd).st_mtime_ns
        finally:
            os.close(fd)
        os.replace(tmp, dest)
        created = False
        return mtime_ns
    except OSError as exc:
        raise _write_error(exc, parent, dest) from None
    finally:
        if created:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_open(dest: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temp file beside ``dest`` for streaming writes; it becomes ``dest`` only when the block
    ends without an exception (otherwise it is removed). Raises :class:`WriteError` with a one-line
    message."""
    parent, tmp = _temp_for(dest)
    try:
        os.makedirs(parent, exist_ok=True)
        fh = open(tmp, mode, **kwargs)  # noqa: SIM115 - closed below, then renamed
    except OSError as exc:
        raise _write_error(exc, parent, dest) from None
    try:
        with fh:
            yield fh
        os.replace(tmp, dest)
    except OSError as exc:
        raise _write_error(exc, parent, dest) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
