"""Ingesters: read the source (DICOM headers, report texts) into the catalog's raw tables."""

from .run import ingest

__all__ = ["ingest"]
