"""cxrdb: build, rebuild, check and query MIMIC-CXR-JPG-style datasets from a DuckDB catalog."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cxrdb")
except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
    __version__ = "0.0.0"

from .catalog import Catalog
from .errors import CxrdbError

__all__ = ["Catalog", "CxrdbError", "__version__"]
