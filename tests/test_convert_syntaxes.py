"""Transfer syntaxes beyond the real files: a real image re-encoded (RLE, JPEG 2000, JPEG baseline, deflated,
big endian), each converted byte-identically to the published function."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pydicom
import pytest
from conftest import DATA
from pydicom.encaps import encapsulate
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
)

from cxrdb.convert import ConvertTask, convert_one
from cxrdb.convert.decode import read_dataset
from cxrdb.convert.published import published_from_dataset

SOURCE = DATA / "dicom" / "pydicom-data__RG3_J2KR.dcm"  # CR, MONOCHROME1, 10 bits


def base(tmp_path: Path) -> pydicom.Dataset:
    ds = read_dataset(str(SOURCE))
    pixels = ds.pixel_array[::4, ::4].copy()  # keep the test fast
    ds.decompress()
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelData = pixels.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def published_jpg(path: Path) -> bytes:
    ok, buf = cv2.imencode(".jpg", published_from_dataset(read_dataset(str(path))))
    assert ok
    return buf.tobytes()


def write(ds: pydicom.Dataset, path: Path, syntax: str) -> Path:
    if syntax in (RLELossless, JPEG2000Lossless):
        ds.compress(syntax)
    elif syntax == JPEGBaseline8Bit:
        img = cv2.normalize(ds.pixel_array, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", img)
        assert ok
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelData = encapsulate([buf.tobytes()])
        ds["PixelData"].VR = "OB"
        ds.file_meta.TransferSyntaxUID = syntax
        ds.LossyImageCompression = "01"
    elif syntax == ExplicitVRBigEndian:
        ds.file_meta.TransferSyntaxUID = syntax
        ds.PixelData = ds.pixel_array.astype(">u2").tobytes()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pydicom.dcmwrite(path, ds, little_endian=False, implicit_vr=False, force_encoding=True)
        return path
    else:
        ds.file_meta.TransferSyntaxUID = syntax
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless, JPEGBaseline8Bit, DeflatedExplicitVRLittleEndian,
                                    ExplicitVRBigEndian], ids=lambda u: u.name)
def test_reencoded_real_image_converts_like_the_published_function(tmp_path: Path, syntax: str) -> None:
    src = write(base(tmp_path), tmp_path / "in.dcm", syntax)
    assert pydicom.dcmread(src).file_meta.TransferSyntaxUID == syntax
    dest = tmp_path / "out.jpg"
    res = convert_one(ConvertTask("x", str(src), str(dest)))
    assert res["ok"], res["error"]
    assert dest.read_bytes() == published_jpg(src)
