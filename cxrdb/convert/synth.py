"""Write synthetic uncompressed DICOM files (tests and benchmarks); never real patient data."""

from __future__ import annotations

import numpy as np
import pydicom.uid as uid
from pydicom.dataset import FileDataset, FileMetaDataset


def make_dicom(
    path: str,
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    transfer_syntax: str = uid.ExplicitVRLittleEndian,
    raw_bytes: bytes | None = None,
) -> str:
    """Save ``pixels`` (2-D, or (frames, rows, cols), or (rows, cols, 3) for RGB) as a minimal DX image.

    The dtype decides BitsAllocated and PixelRepresentation; ``raw_bytes`` overrides the encoded pixel bytes
    (for garbage in unused high bits). Returns ``path``.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = uid.DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = uid.generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    ds = FileDataset(path, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "DX"
    rgb = pixels.ndim == 3 and pixels.shape[-1] == 3 and photometric == "RGB"
    if pixels.ndim == 3 and not rgb:
        ds.NumberOfFrames = pixels.shape[0]
    ds.Rows, ds.Columns = (pixels.shape[0], pixels.shape[1]) if pixels.ndim == 2 or rgb else pixels.shape[1:]
    ds.SamplesPerPixel = 3 if rgb else 1
    if rgb:
        ds.PlanarConfiguration = 0
    ds.PhotometricInterpretation = photometric
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = bits
    ds.BitsStored = bits_stored or bits
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    little = transfer_syntax != uid.ExplicitVRBigEndian
    data = raw_bytes
    if data is None:
        data = pixels.astype(pixels.dtype.newbyteorder("<" if little else ">")).tobytes()
    ds.PixelData = data
    ds["PixelData"].VR = "OW" if bits > 8 else "OB"
    ds.set_original_encoding(transfer_syntax == uid.ImplicitVRLittleEndian, little)
    ds.save_as(path, enforce_file_format=True)
    return path
