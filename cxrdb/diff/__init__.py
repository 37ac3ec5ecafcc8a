"""``cxrdb diff``: how close are two releases in the MIMIC-CXR-JPG layout (ours and the published one, or any two).

The data flow: :mod:`.files` walks both folders and decides which files hold identical bytes (trusting each
side's SHA256SUMS.txt only where it can); :mod:`.pixels` decodes the JPGs whose bytes differ, pair by pair, in
worker processes; :mod:`.tables` loads the metadata, split and label files into an in-memory DuckDB and runs the
comparisons in ``sql/diff/``; :mod:`.evidence` joins each disagreeing label to its evidence in the catalog behind
OURS; :mod:`.report` puts it together as one JSON-able dict and writes it (JSON, CSVs, the HTML page of
:mod:`.html`).
"""

from .report import Diff, diff

__all__ = ["Diff", "diff"]
