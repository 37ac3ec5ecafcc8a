"""The published MIMIC-CXR-JPG conversion, re-implemented from its public description.

This is the naive reference the fast path is tested and benchmarked against: ``pixel_array`` (no LUTs),
subtract the minimum, divide by the maximum in float64, ×255, truncate to uint8, invert MONOCHROME1 after the
truncation, ``cv2.equalizeHist``, ``cv2.imwrite`` with OpenCV's defaults (quality 95). It keeps the original's
undefined corners on purpose (NaN cast for a constant image, integer wrap-around for wide signed data, an
assert for anything that is not a single 2-D plane); cxrdb's own choices for those live in
:mod:`cxrdb.convert.pixels`.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pydicom
from pydicom.dataset import Dataset


def published_pixels(raw: np.ndarray, photometric: str) -> np.ndarray:
    """The published pixel transform: ``pixel_array`` → equalised uint8 image."""
    assert len(raw.shape) == 2, "Expecting single channel (grayscale) image."
    raw = raw - raw.min()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant image: 0/0 -> NaN, as in the original
        norm = raw / raw.max()
        img = (norm * 255).astype(np.uint8)
    if photometric == "MONOCHROME1":
        img = cv2.bitwise_not(img)
    return cv2.equalizeHist(img)


def published_pixel_array(ds: Dataset, decoding_plugin: str = "pylibjpeg") -> np.ndarray:
    """``ds.pixel_array`` as pydicom 3 gives it, compressed data decoded by ``decoding_plugin``."""
    if ds.file_meta.TransferSyntaxUID.is_compressed and decoding_plugin:
        ds.pixel_array_options(decoding_plugin=decoding_plugin)
    return ds.pixel_array


def published_from_dataset(ds: Dataset, decoding_plugin: str = "pylibjpeg") -> np.ndarray:
    """Final uint8 pixels of the published function for an already-read dataset."""
    return published_pixels(published_pixel_array(ds, decoding_plugin), str(ds.PhotometricInterpretation))


def published_convert(dicom_path: str, jpg_path: str) -> None:
    """The published function end to end: read, transform, ``cv2.imwrite`` with no params."""
    dcm = pydicom.dcmread(dicom_path)
    final = published_from_dataset(dcm)
    if not cv2.imwrite(jpg_path, final):
        raise OSError(f"cv2.imwrite failed for {jpg_path}")
