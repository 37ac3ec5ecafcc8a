"""Read one DICOM file's header (never its pixel data) into a flat row: a pure function for any executor."""

from __future__ import annotations

import json
import struct
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pydicom.values import convert_text

from ..convert.decode import captured_warnings, warnings_note
from ..errors import one_line

# Header columns of raw.images filled straight from the element of the same keyword.
STRING_FIELDS = (
    "PerformedProcedureStepDescription", "ViewPosition", "StudyDate", "StudyTime",
    "AcquisitionDeviceProcessingDescription", "Modality", "PatientID", "StudyID", "StudyInstanceUID",
    "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID", "PhotometricInterpretation",
)
INT_FIELDS = (
    "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "SamplesPerPixel",
    "NumberOfFrames",
)
# Sequences flattened to their first item's CodeMeaning, as the published metadata does.
CODE_SEQUENCES = ("ProcedureCodeSequence", "ViewCodeSequence", "PatientOrientationCodeSequence")
_MAX_LEN = 100  # the original left out values longer than this; so does the JSON header column
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI", "UT", "UC", "UR"}
_KEEP_LEADING = {"LT", "ST", "UT"}  # pydicom strips only trailing spaces for these
_NUMBER_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}
_CHARSETS = {"ISO_IR 192": "utf-8", "ISO_IR 100": "latin-1", "ISO_IR 6": "latin-1", "": "latin-1"}
_CHARSET_VRS = {"LO", "LT", "PN", "SH", "ST", "UC", "UT"}  # the VRs whose bytes depend on the character set
_KEYWORDS: dict[int, str] = {}  # tag -> keyword ('' when none): dictionary look-ups cost more than the decoding
_CODE_MEANING = 0x00080104
_CHARSET_TAG = 0x00080005
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}  # 4-byte length
_ITEM_TAG, _ITEM_END = 0xFFFEE000, 0xFFFEE00D
_UNDEFINED = 0xFFFFFFFF
_SLOW = object()  # the fast path cannot tell: ask pydicom


def _decode_text(raw: bytes, vr: str, encoding: str) -> str:
    """A text value as pydicom shows it: trailing padding removed, multi-values joined by backslashes."""
    text = raw.decode(encoding, errors="replace")
    if vr in _KEEP_LEADING:
        return text.rstrip(" \x00")
    return "\\".join(part.strip(" \x00") for part in text.split("\\"))


def _decode_numbers(raw: bytes, vr: str, little: bool) -> str | None:
    fmt = _NUMBER_FORMATS[vr]
    size = struct.calcsize(fmt)
    if not raw or len(raw) % size:
        return None
    values = struct.unpack(("<" if little else ">") + fmt * (len(raw) // size), raw)
    return "\\".join(str(v) for v in values)


def _header_values(ds: Dataset) -> dict[str, str]:
    """Every short top-level element as keyword -> string, decoded straight from the raw bytes.

    Equal to ``str(ds[keyword].value)`` (multi-values joined by backslashes) without pydicom's per-element
    conversion cost; tests check the equality on every real file.
    """
    charset = ds.get_item(0x00080005)
    encoding: str | None = "latin-1"
    if charset is not None and charset.value:
        value = charset.value
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else _text(value) or ""
        terms = [t.strip(" \x00") for t in text.split("\\")]
        # one known single-byte or UTF-8 set: decode here; anything else (ISO 2022 escapes...): pydicom decodes
        encoding = _CHARSETS.get(terms[0]) if len(terms) == 1 else None
    out: dict[str, str] = {}
    # the elements as stored (raw or converted): what ds.get_item(tag) returns, without its per-call tag
    # conversion; iterating the dataset itself would convert every element
    elements = ds._dict.items() if isinstance(getattr(ds, "_dict", None), dict) else (
        (tag, ds.get_item(tag)) for tag in ds.keys())  # noqa: SIM118
    for tag, elem in elements:
        if tag.group in (0x0002, 0x7FE0) or tag.is_private:
            continue
        keyword = _KEYWORDS.get(tag)
        if keyword is None:
            keyword = _KEYWORDS[tag] = keyword_for_tag(tag)
        if not keyword or elem is None:
            continue
        if isinstance(elem, RawDataElement):
            vr = elem.VR or dictionary_VR(tag)
            raw = elem.value or b""
            if vr in _TEXT_VRS and (encoding is not None or vr not in _CHARSET_VRS):
                value: str | None = _decode_text(raw, vr, encoding or "latin-1")
            elif vr in _TEXT_VRS:
                value = _text(ds[tag].value)
            elif vr in _NUMBER_FORMATS:
                value = _decode_numbers(raw, vr, elem.is_little_endian)
            else:
                continue
        else:
            if elem.VR not in _TEXT_VRS and elem.VR not in _NUMBER_FORMATS:
                continue
            value = _text(elem.value)
        if value is None or value == "" or len(value) > _MAX_LEN:
            continue
        out[keyword] = value
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(str(v) for v in value)
    return str(value)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.split("\\")[0])
    except ValueError:
        return None


def _raw_code_meaning(ds: Dataset, keyword: str, charset: list[Any]) -> Any:
    """The first item's CodeMeaning of a still-raw sequence, read from its bytes without building the items
    (pydicom would parse every element of every item into Datasets). Decoded as pydicom decodes it
    (``convert_text`` with the data set's character set, its validation warnings included). ``charset`` caches
    that character set across the sequences of one data set (empty until first needed).

    Returns None (no sequence, no item, no CodeMeaning), the string, or ``_SLOW`` for anything this does not
    read itself: a converted element, an undefined-length element or item ahead of CodeMeaning, an item with
    its own character set, a multi-valued meaning, bytes that do not parse."""
    elem = ds.get_item(keyword)
    if elem is None:
        return None
    if not isinstance(elem, RawDataElement) or elem.VR not in (None, "SQ"):
        return _SLOW
    data = elem.value or b""
    if not data:
        return None
    little, implicit = elem.is_little_endian, elem.is_implicit_VR
    e = "<" if little else ">"
    tag_len = struct.Struct(e + "HHI")
    short = struct.Struct(e + "HH2sH")
    if len(data) < 8:
        return _SLOW
    group, elem_no, item_len = tag_len.unpack_from(data, 0)
    if (group << 16 | elem_no) != _ITEM_TAG:
        return _SLOW
    end = len(data) if item_len == _UNDEFINED else min(len(data), 8 + item_len)
    pos = 8
    while pos + 8 <= end:
        if implicit:
            group, elem_no, length = tag_len.unpack_from(data, pos)
            pos += 8
        else:
            group, elem_no, vr, length = short.unpack_from(data, pos)
            pos += 8
            if vr in _LONG_VRS:
                if pos + 4 > end:
                    return _SLOW
                (length,) = struct.unpack_from(e + "I", data, pos)
                pos += 4
        tag = group << 16 | elem_no
        if tag in (_ITEM_END, _ITEM_TAG) or tag > _CODE_MEANING:
            return None  # the first item ends without a CodeMeaning
        if length == _UNDEFINED or tag == _CHARSET_TAG or pos + length > end:
            return _SLOW
        if tag == _CODE_MEANING:
            if not charset:
                charset.append(ds._character_set)
            value = convert_text(data[pos : pos + length], charset[0], "LO")
            return value if isinstance(value, str) else _SLOW
        pos += length
    return None if item_len != _UNDEFINED else _SLOW


def _first_code_meaning(ds: Dataset, keyword: str, charset: list[Any] | None = None) -> str | None:
    try:
        fast = _raw_code_meaning(ds, keyword, [] if charset is None else charset)
    except Exception:  # a fast-path surprise: pydicom decides
        fast = _SLOW
    if fast is not _SLOW:
        return fast
    if keyword not in ds:
        return None
    seq = ds.get(keyword)
    if not seq:
        return None
    try:
        meaning = seq[0].get("CodeMeaning")
    except (AttributeError, IndexError, TypeError):
        return None
    return None if meaning is None else str(meaning)


def _transfer_syntax(ds: Dataset) -> tuple[str | None, bool]:
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid:
        return str(uid), True
    implicit, little = ds.original_encoding
    if implicit:
        return str(ImplicitVRLittleEndian), False
    return str(ExplicitVRLittleEndian if little else ExplicitVRBigEndian), False


def _read(path: str) -> Dataset:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except InvalidDicomError:
        # No preamble/'DICM': archives still hold such files (raw data sets without file meta).
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        if not any(tag.group in (0x0008, 0x0010, 0x0020, 0x0028) for tag in ds.keys()):  # noqa: SIM118
            raise InvalidDicomError("no preamble and no recognisable elements") from None
        return ds


def read_header(path: str) -> dict[str, Any]:
    """Read the header fields cxrdb stores. Never raises: failures come back as ``{'error': ...}``.

    Nothing is printed: what pydicom warns while reading goes to the row's ``note`` (None when nothing).
    """
    with captured_warnings() as warned:
        row = _read_header(path)
    row["note"] = warnings_note(warned)
    return row


def _read_header(path: str) -> dict[str, Any]:
    try:
        ds = _read(path)
        values = _header_values(ds)
        row: dict[str, Any] = {k: values.get(k) for k in STRING_FIELDS}
        row.update({k: _int(values.get(k)) for k in INT_FIELDS})
        charset: list[Any] = []
        for seq in CODE_SEQUENCES:
            row[f"{seq}_CodeMeaning"] = _first_code_meaning(ds, seq, charset)
        row["TransferSyntaxUID"], row["has_file_meta"] = _transfer_syntax(ds)
        row["header"] = json.dumps(values, ensure_ascii=False, sort_keys=True)
        row["error"] = None
        if row["Rows"] is None or row["Columns"] is None:
            row["error"] = "not an image: no Rows/Columns in the header"
        return row
    except FileNotFoundError:
        return {"error": "file vanished before it could be read"}
    except PermissionError:
        return {"error": "permission denied"}
    except InvalidDicomError as exc:
        return {"error": one_line(f"not a DICOM file: {exc}")}
    except Exception as exc:
        return {"error": one_line(f"unreadable DICOM header: {type(exc).__name__}: {exc}")}


def lost_header(reason: str) -> dict[str, Any]:
    """The row of a header read that got no result (its worker died): a failure, retried by the next ingest."""
    return {"error": reason}
