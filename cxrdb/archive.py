"""Read a reports archive in place: a zip (``mimic-cxr-reports.zip``) or a tar (.tar.gz, .tgz, .tar...).

Nothing is unpacked to disk. :func:`open_archive` refuses, in one line, a file that cannot be opened as an
archive at all; after that every member stands alone: a member that cannot be read (bad CRC-32, data that does
not inflate, a tar that ends early) gives a one-line error starting "cannot read member" (the next ingest tries
it again), one larger than :data:`MAX_MEMBER_BYTES` is not read; never an exception. A zip is listed from its
central directory and read member by member; a tar can only be read front to back, so listing it is one pass
over the stream and reading its members a second one.
"""

from __future__ import annotations

import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from .errors import CxrdbError, one_line

#: the most a report member may hold: MIMIC's reports are a few KB; anything this big is not a report (a bomb)
MAX_MEMBER_BYTES = 1 << 20
#: names taken as archives (any case); other files are recognised by their first bytes
SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
_TAR_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")  # gzip, bzip2, xz; a plain tar says "ustar" at 257
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
_LOCAL = struct.Struct("<4s5H3L2H")  # a zip's local file header: ... name length, extra length


@dataclass(frozen=True)
class Member:
    """One entry of an archive, as its directory (zip) or header (tar) describes it: nothing is read."""

    index: int  # position in the archive: members are read by it (a name may occur twice)
    name: str  # as the archive spells it
    kind: str  # "file", "folder", or what else it is ("a symbolic link", ...)
    size: int  # uncompressed bytes
    mtime_ns: int | None  # tar: the header's mtime; zip: None (local time, 2 s steps: not an identity)
    crc32: int | None  # zip: the directory's CRC-32; tar: None


class Archive(Protocol):
    """An opened archive: list its members, read some of them (bytes, or a one-line error each)."""

    path: Path
    format: str

    def members(self) -> tuple[list[Member], str | None]:
        """Every member in archive order, and a one-line problem when the listing stopped early."""
        ...

    def read(self, indices: Iterable[int]) -> Iterator[tuple[int, bytes | str]]:
        """(index, bytes or one-line error) of the members at ``indices``, in archive order."""
        ...


def kind(path: str | Path) -> str | None:
    """'zip' or 'tar' for a file named like an archive or starting like one; None for anything else."""
    p = Path(path)
    lower = p.name.lower()
    if lower.endswith(".zip"):
        return "zip"
    if lower.endswith(SUFFIXES):
        return "tar"
    try:
        with open(p, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    if head.startswith(_TAR_MAGIC) or head[257:262] == b"ustar":
        return "tar"
    return None


def open_archive(path: str | Path, what: str = "--reports archive") -> Archive:
    """Open a zip or tar archive for reading; refuse (one line) a file that is not one or cannot be opened."""
    p = Path(path).expanduser()
    fmt = kind(p)
    if fmt is None:
        raise CxrdbError(f"{what} {path} is not a .zip or .tar.gz archive")
    try:
        return ZipArchive(p) if fmt == "zip" else TarArchive(p)
    except CxrdbError:
        raise
    except Exception as exc:  # zipfile/tarfile raise many types for a damaged file; all mean the same here
        raise CxrdbError(f"{what} {path} cannot be opened as a {fmt} archive: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """An exception from zipfile, tarfile, zlib or the OS as one short line."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = one_line(exc, 200)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _too_big(size: int) -> str:
    return f"member is {size} bytes (a report may have at most {MAX_MEMBER_BYTES}): not read"


def _zip_kind(info: zipfile.ZipInfo) -> str:
    mode = info.external_attr >> 16
    if info.is_dir():
        return "folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "file"  # an encrypted member too: reading it fails, and that is its error


class ZipArchive:
    """A zip read through its central directory: members are read one at a time, in any order. The file stays
    open while the object lives (``ZipFile`` closes it when collected)."""

    format = "zip"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path)
        self._infos = self._zip.infolist()
        self._fh = open(path, "rb")  # noqa: SIM115 - kept open while the object lives, as ZipFile keeps its own

    def members(self) -> tuple[list[Member], str | None]:
        return [Member(i, z.filename, _zip_kind(z), z.file_size, None, z.CRC)
                for i, z in enumerate(self._infos)], None

    def read(self, indices: Iterable[int]) -> Iterator[tuple[int, bytes | str]]:
        for i in sorted(indices, key=lambda i: (self._infos[i].header_offset, i)):  # front to back on disk
            yield i, self._read_one(self._infos[i])

    def _read_one(self, info: zipfile.ZipInfo) -> bytes | str:
        if info.file_size > MAX_MEMBER_BYTES:
            return _too_big(info.file_size)
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return self._read_by_zipfile(info)  # encrypted, bzip2, lzma...: rare, and zipfile knows them
        try:  # the common case, 5x faster than ZipFile.open: the local header, the data, inflate, check
            self._fh.seek(info.header_offset)
            head = self._fh.read(_LOCAL.size)
            if len(head) != _LOCAL.size or head[:4] != b"PK\x03\x04":
                return "cannot read member from the zip: bad local header"
            name_len, extra_len = _LOCAL.unpack(head)[-2:]
            self._fh.seek(name_len + extra_len, os.SEEK_CUR)
            raw = self._fh.read(info.compress_size)
            if len(raw) != info.compress_size:
                return "cannot read member from the zip: the archive ends inside it"
            data = raw if info.compress_type == zipfile.ZIP_STORED else \
                zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, info.file_size + 1)  # never more than that
        except (OSError, zlib.error) as exc:
            return f"cannot read member from the zip: {_reason(exc)}"
        if len(data) != info.file_size:
            return (f"cannot read member from the zip: it does not inflate to the {info.file_size} bytes its "
                    "directory says")
        if zlib.crc32(data) != info.CRC:
            return "cannot read member from the zip: bad CRC-32"
        return data

    def _read_by_zipfile(self, info: zipfile.ZipInfo) -> bytes | str:
        try:
            with self._zip.open(info) as fh:  # reads at most file_size bytes and checks the CRC-32 at the end
                return fh.read()
        except Exception as exc:  # bad CRC, bad local header, decompression error, unsupported method, password
            return f"cannot read member from the zip: {_reason(exc)}"


def _tar_kind(info: tarfile.TarInfo) -> str:
    if info.isfile():
        return "file"
    if info.isdir():
        return "folder"
    for test, name in ((info.issym, "a symbolic link"), (info.islnk, "a hard link"), (info.isfifo, "a FIFO"),
                       (info.ischr, "a character device"), (info.isblk, "a block device")):
        if test():
            return name
    return "not a regular file"


class TarArchive:
    """A tar, compressed or not, read as a stream: one pass lists it, one more pass reads the wanted members."""

    format = "tar"

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._stream() as tf:  # opening reads the first header: a file that is not a tar fails here
            tf.next()
        self._listed: list[Member] | None = None

    def _stream(self) -> tarfile.TarFile:
        return tarfile.open(self.path, mode="r|*")

    def members(self) -> tuple[list[Member], str | None]:
        out: list[Member] = []
        problem = None
        try:
            with self._stream() as tf:
                for info in tf:
                    out.append(Member(len(out), info.name, _tar_kind(info), info.size,
                                      round(info.mtime * 1_000_000_000), None))
        except Exception as exc:  # truncated or corrupt stream: the members before it stand
            problem = f"archive is damaged after {len(out)} members: {_reason(exc)}"
        self._listed = out
        return out, problem

    def read(self, indices: Iterable[int]) -> Iterator[tuple[int, bytes | str]]:
        wanted = sorted(set(indices))
        if not wanted:
            return
        listed = self._listed if self._listed is not None else self.members()[0]
        pos = 0
        try:
            with self._stream() as tf:
                for i, info in enumerate(tf):
                    if i != wanted[pos]:
                        continue
                    if i >= len(listed) or (listed[i].name, listed[i].size) != (info.name, info.size):
                        break  # the archive was replaced since it was listed
                    yield i, self._read_one(tf, info)
                    pos += 1
                    if pos == len(wanted):
                        return
        except Exception as exc:
            reason = f"cannot read member from the tar: {_reason(exc)}"
        else:
            reason = "cannot read member: the archive changed since it was listed"
        for i in wanted[pos:]:
            yield i, reason

    @staticmethod
    def _read_one(tf: tarfile.TarFile, info: tarfile.TarInfo) -> bytes | str:
        if info.size > MAX_MEMBER_BYTES:
            return _too_big(info.size)
        try:
            fh: IO[bytes] | None = tf.extractfile(info)
            if fh is None:
                return "cannot read member: it has no data"
            data = fh.read()
        except Exception as exc:  # the stream ends or breaks inside this member
            return f"cannot read member from the tar: {_reason(exc)}"
        if len(data) != info.size:
            return f"cannot read member: it is truncated ({len(data)} of {info.size} bytes)"
        return data


def looks_like_archive(path: str | Path) -> bool:
    """True for an existing file that :func:`kind` takes for an archive (used to refuse it as a DICOM source)."""
    return os.path.isfile(path) and kind(path) is not None
