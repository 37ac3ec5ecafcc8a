"""Give the memory a finished stage freed back to the system, so the next stage starts from what is live.

CPython keeps freed objects' memory in its own pools and glibc's heap keeps freed chunks below its top; after a
stage that held every image's row (convert holds ~1 KB per image: 0.4 GB at full MIMIC size) the process would
stay that large for the rest of the run. ``trim`` collects garbage, then asks glibc (``malloc_trim``) to return
every free page it holds. Elsewhere (another libc, no ctypes) only the collection runs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


@cache
def _malloc_trim() -> object | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def trim() -> None:
    """Collect garbage and return the free heap to the system (glibc); never raises."""
    gc.collect()
    fn = _malloc_trim()
    if fn is not None:
        fn(0)
