"""Read one DICOM file's header (never its pixel data) into a flat row: a pure function for any executor."""

from __future__ import annotations

import json
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

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
# Elements left out of the JSON header: bulk data and anything longer than the original's 100-char cap.
_SKIP_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN", "SQ"}
_MAX_LEN = 100


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, MultiValue | list | tuple):
        return "\\".join(str(v) for v in value)
    text = str(value)
    return text


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _first_code_meaning(ds: Dataset, keyword: str) -> str | None:
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
        if not any(elem.tag.group in (0x0008, 0x0010, 0x0020, 0x0028) for elem in ds):
            raise InvalidDicomError("no preamble and no recognisable elements") from None
        return ds


def _header_json(ds: Dataset) -> str:
    out: dict[str, str] = {}
    for elem in ds:
        keyword = elem.keyword
        if not keyword or elem.VR in _SKIP_VRS or elem.tag.group == 0x7FE0:
            continue
        text = _text(elem.value)
        if text is None or len(text) > _MAX_LEN:
            continue
        out[keyword] = text
    return json.dumps(out, ensure_ascii=False, sort_keys=True)


def read_header(path: str) -> dict[str, Any]:
    """Read the header fields cxrdb stores. Never raises: failures come back as ``{'error': ...}``."""
    try:
        ds = _read(path)
        row: dict[str, Any] = {k: _text(ds.get(k)) for k in STRING_FIELDS}
        row.update({k: _int(ds.get(k)) for k in INT_FIELDS})
        for seq in CODE_SEQUENCES:
            row[f"{seq}_CodeMeaning"] = _first_code_meaning(ds, seq)
        row["TransferSyntaxUID"], row["has_file_meta"] = _transfer_syntax(ds)
        row["header"] = _header_json(ds)
        row["error"] = None
        if row["Rows"] is None or row["Columns"] is None:
            row["error"] = "not an image: no Rows/Columns in the header"
        return row
    except FileNotFoundError:
        return {"error": "file vanished before it could be read"}
    except PermissionError:
        return {"error": "permission denied"}
    except InvalidDicomError as exc:
        return {"error": _one_line(f"not a DICOM file: {exc}")}
    except Exception as exc:
        return {"error": _one_line(f"unreadable DICOM header: {type(exc).__name__}: {exc}")}


def _one_line(message: str) -> str:
    return " ".join(message.split())[:300]
