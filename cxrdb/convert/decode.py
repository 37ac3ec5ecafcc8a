"""Read a DICOM file and get its pixel values, with the fastest pixel-identical decoder per transfer syntax.

The reference is pydicom 3's ``pixel_array`` with the pylibjpeg plugins. Uncompressed little-endian data is
not copied at all: a view of the PixelData bytes is returned together with ``correct_bits`` (BitsStored), and
pydicom's unused-bit correction is folded into the conversion table (see :mod:`cxrdb.convert.pixels`).
Compressed data goes through pydicom's decoders with an explicit plugin order per syntax, chosen from
measurements on the real test files (docs/conversion.md); tests prove each choice pixel-identical to
pylibjpeg's output. If the preferred plugin fails the next one is tried, as pydicom itself would.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import pydicom
import pydicom.uid as uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import get_decoder, pixel_array

# Preferred decoding plugins per compressed transfer syntax, fastest first (measured, docs/conversion.md).
PLUGIN_ORDER: dict[str, tuple[str, ...]] = {
    uid.JPEGBaseline8Bit: ("pylibjpeg", "gdcm", "pillow"),
    uid.JPEGExtended12Bit: ("pylibjpeg", "gdcm", "pillow"),
    uid.JPEGLossless: ("gdcm", "pylibjpeg"),
    uid.JPEGLosslessSV1: ("gdcm", "pylibjpeg"),
    uid.JPEGLSLossless: ("gdcm", "pylibjpeg", "pyjpegls"),
    uid.JPEGLSNearLossless: ("gdcm", "pylibjpeg", "pyjpegls"),
    uid.JPEG2000Lossless: ("pylibjpeg", "gdcm", "pillow"),
    uid.JPEG2000: ("pylibjpeg", "gdcm", "pillow"),
    uid.RLELossless: ("pylibjpeg", "pydicom", "gdcm"),
}
_NATIVE_LE = {uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian, uid.DeflatedExplicitVRLittleEndian}
_PLUGIN_DIST = {"pylibjpeg": None, "gdcm": "python-gdcm", "pydicom": "pydicom", "pillow": "pillow"}
_PYLIBJPEG_DIST = {
    uid.RLELossless: "pylibjpeg-rle",
    uid.JPEG2000Lossless: "pylibjpeg-openjpeg",
    uid.JPEG2000: "pylibjpeg-openjpeg",
}


_ALL_FAILED = "Unable to decode as exceptions were raised by all available plugins:"


class SourceError(Exception):
    """The file is missing or is not readable as DICOM."""


class UnsupportedImage(Exception):
    """Pixel data cxrdb deliberately does not convert (colour, multi-frame, no pixel data)."""


class UndecodableError(Exception):
    """No available plugin could decode the (compressed) pixel data."""


@dataclass
class Decoded:
    """Pixel values of one image: a 2-D array plus what the conversion needs to know about it."""

    array: np.ndarray
    photometric: str
    correct_bits: int | None  # BitsStored to apply pydicom's unused-bit correction with (native views only)
    decoder: str


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace/newlines so an error message is one line, cut to ``limit`` characters."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover - depends on environment
        return "?"


def decoder_label(plugin: str, syntax: str) -> str:
    """Human-readable decoder name with version, e.g. ``gdcm 3.2.6`` or ``pylibjpeg-openjpeg 2.6.0``."""
    if plugin == "native":
        return "native"
    dist = _PLUGIN_DIST.get(plugin) or _PYLIBJPEG_DIST.get(syntax, "pylibjpeg-libjpeg")
    return f"{dist} {_version(dist)}"


def _open_url(url: str) -> io.BytesIO:
    """The bytes behind an fsspec URL (s3://, gs://, file://, ...), for workers that read remote sources."""
    try:
        import fsspec
    except ImportError:
        raise SourceError("reading URLs needs fsspec: pip install 'cxrdb[dask]'") from None
    with fsspec.open(url, "rb") as fh:
        return io.BytesIO(fh.read())


class _Collect(logging.Handler):
    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """Collect what is warned inside (``warnings.warn`` and the ``pydicom`` logger, WARNING and up) instead of
    printing it; the list is complete when the block ends. Use :func:`warnings_note` for the item's note.

    Swaps process-global state (warning filters, the logger's handlers), as per-item work in a worker process
    may; not for threads converting at the same time.
    """
    messages: list[str] = []
    logger = logging.getLogger("pydicom")
    handlers, propagate = logger.handlers[:], logger.propagate
    logger.handlers, logger.propagate = [_Collect(messages)], False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield messages
            finally:
                messages.extend(str(w.message) for w in caught)
    finally:
        logger.handlers, logger.propagate = handlers, propagate


def warnings_note(messages: list[str], limit: int = 300) -> str | None:
    """Distinct warnings in order as one line (``warning: ...; ...``), or None when there were none."""
    distinct = list(dict.fromkeys(one_line(m) for m in messages if str(m).strip()))
    return one_line("warning: " + "; ".join(distinct), limit) if distinct else None


_UNDEFINED = 0xFFFFFFFF
_ITEM, _DELIMITER = b"\xfe\xff\x00\xe0", b"\xfe\xff\xdd\xe0"
_PIXEL_TAG = b"\xe0\x7f\x10\x00"  # (7FE0,0010) little endian


def pixel_data_problem(data: bytes, start: int) -> str | None:
    """What is wrong with a (little-endian) Pixel Data element at ``start`` of a file's bytes, or None.

    pydicom drops a Pixel Data element it cannot read to the end (with a warning), so "no pixel data" would be
    reported for a file that has it, truncated; this says where it ends.
    """
    size = len(data)
    if size - start < 4 or data[start:start + 4] != _PIXEL_TAG:
        return None
    explicit = data[start + 4:start + 6] in (b"OB", b"OW")
    header = 12 if explicit else 8
    if size - start < header:
        return f"pixel data truncated: the Pixel Data element header at byte {start} is cut off by the end of the file"
    (length,) = struct.unpack_from("<I", data, start + header - 4)
    pos = start + header
    if length != _UNDEFINED:
        if pos + length > size:
            return (f"pixel data truncated: the value at byte {pos} runs past the end of the file "
                    f"(declares {length} bytes, {size - pos} left)")
        return None
    index = 0
    while True:
        name = "the basic offset table" if index == 0 else f"fragment {index}"
        if pos == size:
            after = ("the Pixel Data element header" if index == 0 else
                     "the basic offset table" if index == 1 else f"fragment {index - 1}")
            return f"pixel data truncated: the file ends after {after}, without the sequence delimiter"
        if size - pos < 8:
            return f"pixel data truncated: the header of {name} at byte {pos} is cut off by the end of the file"
        tag, (length,) = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)
        if tag == _DELIMITER:
            return None
        if tag != _ITEM:
            return f"pixel data malformed: {name} at byte {pos} has tag {tag.hex()} where an item was expected"
        if pos + 8 + length > size:
            return (f"pixel data truncated: {name} at byte {pos} runs past the end of the file "
                    f"(declares {length} bytes, {size - pos - 8} left)")
        pos += 8 + length
        index += 1


def _pixel_data_problem(source: str) -> str | None:
    """:func:`pixel_data_problem` for a file pydicom read without pixel data or could not read (None: no
    Pixel Data element found, or nothing wrong with it)."""
    try:
        with (_open_url(source) if "://" in source else open(source, "rb")) as fh:
            data = fh.read()
    except Exception:
        return None
    start: int | None
    try:
        buf = io.BytesIO(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pydicom.dcmread(buf, stop_before_pixels=True, force=True)
        start = buf.tell()  # pydicom stops at the start of the Pixel Data element
    except Exception:
        start = None
    if start is None or start > len(data) - 12:  # an element header cut off at the end: pydicom read past it
        tail = data.rfind(_PIXEL_TAG, max(0, len(data) - 12))
        start = tail if tail >= 0 else start
    return None if start is None else pixel_data_problem(data, start)


def read_dataset(source: str) -> Dataset:
    """``dcmread(force=True)``; a file without File Meta gets the transfer syntax pydicom detected in it.

    A file whose Pixel Data pydicom could not read (it drops a truncated element) is a :class:`SourceError`
    saying where the pixel data ends.
    """
    try:
        ds = pydicom.dcmread(_open_url(source) if "://" in source else source, force=True)
    except FileNotFoundError:
        raise SourceError(f"source not found: {source}") from None
    except IsADirectoryError:
        raise SourceError(f"source is a directory: {source}") from None
    except OSError as exc:
        raise SourceError(f"read error: {one_line(exc.strerror or exc)}") from None
    except Exception as exc:
        raise SourceError(_pixel_data_problem(source) or f"unreadable DICOM: {one_line(exc)}") from None
    if "PixelData" not in ds and "FloatPixelData" not in ds:
        problem = _pixel_data_problem(source)
        if problem is not None:
            raise SourceError(problem)
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = getattr(ds, "original_encoding", (True, True))
        if implicit is None:
            implicit, little = True, True
        meta.TransferSyntaxUID = (
            uid.ImplicitVRLittleEndian
            if implicit
            else (uid.ExplicitVRLittleEndian if little else uid.ExplicitVRBigEndian)
        )
    return ds


def _check_supported(ds: Dataset) -> None:
    if "PixelData" not in ds:
        raise UnsupportedImage("no pixel data" + (" (float pixel data)" if "FloatPixelData" in ds else ""))
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    if spp != 1:
        pi = ds.get("PhotometricInterpretation", "?")
        raise UnsupportedImage(f"unsupported colour pixel data ({pi}, {spp} samples per pixel)")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        raise UnsupportedImage(f"unsupported multi-frame pixel data ({frames} frames)")


def _native_view(ds: Dataset) -> Decoded | None:
    """Zero-copy view of uncompressed little-endian 8/16-bit pixel data, or None if not applicable."""
    ts = ds.file_meta.TransferSyntaxUID
    bits = int(ds.get("BitsAllocated", 0) or 0)
    if ts not in _NATIVE_LE or bits not in (8, 16):
        return None
    rows, cols = int(ds.Rows), int(ds.Columns)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    dtype = np.dtype(("<i" if signed else "<u") + str(bits // 8))
    data = ds.PixelData
    if len(data) < rows * cols * dtype.itemsize:
        raise UndecodableError(f"pixel data too short ({len(data)} bytes for {rows}x{cols}x{bits} bits)")
    arr = np.frombuffer(data, dtype=dtype, count=rows * cols).reshape(rows, cols)
    stored = int(ds.get("BitsStored", bits) or bits)
    return Decoded(
        array=arr,
        photometric=str(ds.get("PhotometricInterpretation", "")),
        correct_bits=stored if stored < bits else None,
        decoder="native",
    )


def plugins_for(syntax: str) -> tuple[str, ...]:
    """Installed plugins for a compressed transfer syntax, fastest first (empty if none/native)."""
    try:
        available = set(get_decoder(syntax).available_plugins)
    except NotImplementedError:
        return ()
    preferred = [p for p in PLUGIN_ORDER.get(syntax, ()) if p in available]
    return (*preferred, *sorted(available - set(preferred)))


def decode(ds: Dataset, plugin: str | None = None) -> Decoded:
    """Pixel values of ``ds``; ``plugin`` forces one decoding plugin (tests, bench), else fastest first."""
    _check_supported(ds)
    ts = ds.file_meta.TransferSyntaxUID
    if plugin is None:
        view = _native_view(ds)
        if view is not None:
            return view
    photometric = str(ds.get("PhotometricInterpretation", ""))
    order = (plugin,) if plugin else (plugins_for(ts) if ts.is_compressed else ("",))
    reasons: list[str] = []
    for name in order:
        try:
            arr = pixel_array(ds, decoding_plugin=name) if name else pixel_array(ds)
        except Exception as exc:
            msg = one_line(exc, 400).replace(_ALL_FAILED, "").strip()
            reasons.append(f"{name or 'pydicom'}: {one_line(msg, 160)}")
            continue
        if arr.ndim != 2:
            raise UnsupportedImage(f"unsupported pixel array shape {arr.shape}")
        label = decoder_label(name, ts) if name else "pydicom"
        return Decoded(array=arr, photometric=photometric, correct_bits=None, decoder=label)
    raise UndecodableError(one_line("; ".join(reasons)) or "no decoder available")
