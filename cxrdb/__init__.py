"""cxrdb: build, rebuild, check and query MIMIC-CXR-JPG-style datasets from a DuckDB catalog."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("cxrdb")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

__all__ = ["Catalog", "CxrdbError", "__version__"]


def __getattr__(name: str) -> Any:
    """``cxrdb.Catalog`` and ``cxrdb.CxrdbError``, imported on first use: importing cxrdb stays instant (the CLI
    installs its Ctrl-C handler before anything heavy loads)."""
    if name == "Catalog":
        from .catalog import Catalog

        return Catalog
    if name == "CxrdbError":
        from .errors import CxrdbError

        return CxrdbError
    raise AttributeError(f"module 'cxrdb' has no attribute {name!r}")
