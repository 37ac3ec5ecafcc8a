"""The pure per-image conversion: DICOM in, JPG written atomically, one result record out (never raises)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import cv2

from ..atomic import WriteError, write_atomic
from .decode import (
    SourceError,
    UndecodableError,
    UnsupportedImage,
    captured_warnings,
    decode,
    one_line,
    read_dataset,
    warnings_note,
)
from .pixels import convert_pixels
from .resize import DEFAULT_METHOD, encode, shrink


def _libjpeg_version() -> str:
    m = re.search(r"^\s*JPEG:\s*(.+)$", cv2.getBuildInformation(), re.M)
    if not m:  # pragma: no cover - depends on the OpenCV build
        return "libjpeg-?"
    text = m.group(1).strip()
    ver = re.search(r"ver ([\w.\-]+)", text)
    name = "libjpeg-turbo" if "turbo" in text else "libjpeg"
    return f"{name}-{ver.group(1)}" if ver else name


#: Output-affecting parameters and the library versions that decide the JPG bytes. A change means re-convert.
#: (The decoder, which matters only for lossy compressed sources, is recorded per image in ``decoder``.)
PARAMS_FINGERPRINT = f"jpg1:minmax-f64-trunc,inv-after,eqhist,q95;opencv-{cv2.__version__};{_libjpeg_version()}"


@dataclass(frozen=True)
class ConvertTask:
    """One image to convert: ``source`` DICOM path, ``dest`` absolute final .jpg path (written only when ``full``);
    ``derivatives``: (size, absolute .jpg path) of each smaller copy to write, at JPEG ``quality``."""

    dicom_id: str
    source: str
    dest: str
    full: bool = True
    derivatives: tuple[tuple[int, str], ...] = ()
    quality: int = 95
    resize: str = DEFAULT_METHOD  # how the copies are shrunk (cxrdb/convert/resize.py)


_tuned = False
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's maximum on 64-bit: image buffers stay in the heap
TRIM_THRESHOLD_BYTES = 512 * 1024 * 1024  # freed memory is kept for the next image up to this much


def tune_malloc() -> None:
    """Keep large freed blocks in the heap (glibc): no fresh mmap + page faults for every image's buffers.

    Raises the mmap threshold to glibc's maximum (32 MiB on 64-bit) and the trim threshold to 512 MiB. Pixel
    bytes are unaffected. Disable with ``CXRDB_MALLOC_TUNE=0``. Called once per process by ``convert_one``.
    """
    global _tuned
    if _tuned:
        return
    _tuned = True
    if os.environ.get("CXRDB_MALLOC_TUNE", "1") == "0":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # pragma: no cover - not glibc
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


def convert_one(task: ConvertTask) -> dict[str, Any]:
    """Convert one DICOM to its JPG; return the result record (see module docs). Never raises.

    Nothing is printed: what pydicom (or anything else) warns while converting goes to the record's ``note``.
    """
    with captured_warnings() as warned:
        res = _convert(task)
    extra = warnings_note(warned)
    if extra is not None:
        res["note"] = one_line(f"{res['note']}; {extra}") if res["note"] else extra
    return res


def lost_result(task: ConvertTask, reason: str) -> dict[str, Any]:
    """The failed result of a task that got none (its worker died): ``run_map``'s ``on_lost``."""
    res = _empty_result(task)
    res["error"] = reason
    res["derivatives"] = [_derivative_result(size, reason) for size, _ in getattr(task, "derivatives", ())]
    return res


def _derivative_result(size: int, error: str | None = None) -> dict[str, Any]:
    return {"size": size, "ok": False, "error": error, "jpg_bytes": None, "jpg_sha256": None, "rows": None,
            "columns": None, "note": None, "jpg_mtime_ns": None}


def _empty_result(task: ConvertTask) -> dict[str, Any]:
    return {
        "dicom_id": getattr(task, "dicom_id", None),
        "ok": False,
        "error": None,
        "jpg_bytes": None,
        "jpg_sha256": None,
        "rows": None,
        "columns": None,
        "decoder": "",
        "note": None,
        "jpg_mtime_ns": None,
        "t_read": 0.0,
        "t_pixels": 0.0,
        "t_encode": 0.0,
        "t_write": 0.0,
        "t_derive": 0.0,
        "derivatives": [],
    }


def _convert(task: ConvertTask) -> dict[str, Any]:
    res = _empty_result(task)
    syntax = "?"
    try:
        tune_malloc()
        t0 = perf_counter()
        ds = read_dataset(task.source)
        syntax = ds.file_meta.TransferSyntaxUID.name
        res["rows"], res["columns"] = ds.get("Rows"), ds.get("Columns")
        dec = decode(ds)
        res["decoder"] = dec.decoder
        t1 = perf_counter()
        res["t_read"] = t1 - t0
        img, note = convert_pixels(dec.array, dec.photometric, correct_bits=dec.correct_bits, reuse=True)
        res["rows"], res["columns"] = img.shape
        res["note"] = note
        del dec, ds  # drop the source bytes before encoding: lower peak memory
        t2 = perf_counter()
        res["t_pixels"] = t2 - t1
        if task.full:
            ok, buf = cv2.imencode(".jpg", img)
            if not ok:
                raise RuntimeError("cv2.imencode failed")
            t3 = perf_counter()
            res["t_encode"] = t3 - t2
            res["jpg_mtime_ns"] = write_atomic(task.dest, buf)  # read from the open file: the parent needs no stat
            res["t_write"] = perf_counter() - t3
            res["jpg_bytes"] = int(buf.size)
            res["jpg_sha256"] = hashlib.sha256(buf).hexdigest()
        res["ok"] = True
        t4 = perf_counter()
        res["derivatives"] = [_derive(img, size, dest, task.quality, task.resize) for size, dest in task.derivatives]
        res["t_derive"] = perf_counter() - t4
    except (SourceError, UnsupportedImage, WriteError) as exc:
        res["error"] = one_line(exc)
    except UndecodableError as exc:
        res["error"] = one_line(f"undecodable pixel data ({syntax}): {exc}")
    except MemoryError:
        res["error"] = "out of memory"
    except Exception as exc:
        res["error"] = one_line(f"conversion failed: {type(exc).__name__}: {exc}")
    if not res["ok"]:  # the image never got to its copies: each fails with its error
        res["derivatives"] = [_derivative_result(size, res["error"]) for size, _ in task.derivatives]
    return res


def _derive(img: Any, size: int, dest: str, quality: int, resize: str) -> dict[str, Any]:
    """Shrink, encode and write one copy of the equalized image; its result record (never raises)."""
    out = _derivative_result(size)
    try:
        small, out["note"] = shrink(img, size, resize)
        out["rows"], out["columns"] = small.shape
        buf = encode(small, quality)
        out["jpg_mtime_ns"] = write_atomic(dest, buf)
        out["jpg_bytes"] = int(buf.size)
        out["jpg_sha256"] = hashlib.sha256(buf).hexdigest()
        out["ok"] = True
    except WriteError as exc:
        out["error"] = one_line(exc)
    except MemoryError:
        out["error"] = "out of memory"
    except Exception as exc:
        out["error"] = one_line(f"conversion failed: {type(exc).__name__}: {exc}")
    return out
