"""DICOM → MIMIC-CXR-JPG-style JPG conversion: byte-identical to the published function, faster.

Public API for the catalog side: :class:`ConvertTask`, :func:`convert_one`, :data:`PARAMS_FINGERPRINT`.
"""

from .worker import PARAMS_FINGERPRINT, ConvertTask, convert_one

__all__ = ["PARAMS_FINGERPRINT", "ConvertTask", "convert_one"]
