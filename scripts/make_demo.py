#!/usr/bin/env python
"""Build the bundled demo source (demo/) from the real public files in tests/data.

Writes a small MIMIC-CXR-style source tree::

    demo/source/files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm   (tests/data/dicom files, PatientID/StudyID set)
    demo/source/files/pNN/pNNNNNNNN/sNNNNNNNN.txt              (Indiana reports in MIMIC's report layout)

plus demo/manifest.csv, demo/README.md and the needed license texts under demo/licenses/. Deterministic:
fixed seed, ids derived from hashes, no timestamps; re-running gives byte-identical output (demo/source is
wiped and rebuilt). Usage: ``python scripts/make_demo.py [--out demo]``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import random
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
SEED = 20240312
NS = "cxrdb-demo-v1"  # hash namespace for ids; change it and every id changes

# --- DICOM sources -----------------------------------------------------------------------------------------
# weight = how often a file is drawn for extra images (0 = used exactly once); the big files are kept rare so
# that a checkout stays small (git stores each distinct file once anyway).


@dataclass(frozen=True)
class Source:
    """One real DICOM file from tests/data/dicom and where it came from."""

    name: str
    origin: str
    license: str
    licenses: tuple[str, ...]
    what: str
    weight: int


SOURCES: tuple[Source, ...] = (
    Source(
        "fo-dicom__CR-MONO1-10-chest_nometa.dcm",
        "fo-dicom test data, via dcmfx/dcmfx test/assets/fo-dicom/",
        "fo-dicom MS-PL",
        ("fo-dicom_LICENSE.txt", "dcmfx_LICENSE.md"),
        "CR chest PA, MONOCHROME1, 440x440; no File Meta (raw Implicit VR LE)",
        4,
    ),
    Source(
        "highdicom__dx_image.dcm",
        "ImagingDataCommons/highdicom : data/test_files/dx_image.dcm",
        "MIT",
        ("highdicom_LICENSE",),
        "DX thorax (veterinary), MONOCHROME1, 8-bit, 169x211, Explicit VR LE",
        3,
    ),
    Source(
        "pydicom__dicomdirtests_CR1_6154.dcm",
        "pydicom wheel : pydicom/data/test_files/dicomdirtests/77654033/CR1/6154",
        "pydicom license (MIT-style)",
        ("pydicom_LICENSE",),
        "CR c-spine, MONOCHROME1, 16x16, Explicit VR LE",
        2,
    ),
    Source(
        "pydicom__dicomdirtests_CR2_6247.dcm",
        "pydicom wheel : pydicom/data/test_files/dicomdirtests/77654033/CR2/6247",
        "pydicom license (MIT-style)",
        ("pydicom_LICENSE",),
        "CR c-spine, MONOCHROME1, 16x16, Explicit VR LE",
        2,
    ),
    Source(
        "pydicom__dicomdirtests_CR3_6278.dcm",
        "pydicom wheel : pydicom/data/test_files/dicomdirtests/77654033/CR3/6278",
        "pydicom license (MIT-style)",
        ("pydicom_LICENSE",),
        "CR c-spine, MONOCHROME1, 16x16, Explicit VR LE",
        2,
    ),
    Source(
        "pydicom-data__RG1_J2KI.dcm",
        "pydicom/pydicom-data : data_store/data/RG1_J2KI.dcm (NEMA WG04)",
        "MIT",
        ("pydicom-data_LICENSE",),
        "CR chest PA, MONOCHROME1, 15/16 bits, 1955x1841, JPEG 2000 (lossy)",
        2,
    ),
    Source(
        "pydicom-data__RG3_J2KI.dcm",
        "pydicom/pydicom-data : data_store/data/RG3_J2KI.dcm (NEMA WG04)",
        "MIT",
        ("pydicom-data_LICENSE",),
        "CR leg, MONOCHROME1, 10/16 bits, 1760x1760, JPEG 2000 (lossy)",
        1,
    ),
    Source(
        "pylibjpeg-data__RG2_JPLY_fixed.dcm",
        "pydicom/pylibjpeg-data : ljdata/ds/JPEGExtended/RG2_JPLY_fixed.dcm",
        "MIT",
        ("pylibjpeg-data_LICENSE",),
        "CR hip, MONOCHROME2, 10/16 bits, 2140x1760, JPEG Extended 12-bit",
        1,
    ),
    Source(
        "pylibjpeg-data__DX_J2K_0Padding_u16.dcm",
        "pydicom/pylibjpeg-data : ljdata/ds/JPEG2000Lossless/JPEG2KLossless_1s_1f_u_16_16.dcm "
        "(GDCM's DX_J2K_0Padding.dcm)",
        "MIT + GDCM BSD",
        ("pylibjpeg-data_LICENSE",),
        "DX chest, MONOCHROME2, 16/16 bits, 1416x1420, JPEG 2000 lossless (looks inverted after min-max)",
        0,
    ),
    Source(
        "dicom-test-files__RG3_JPLY_undecodable.dcm",
        "robyoung/dicom-test-files : data/WG04/JPLY/RG3_JPLY (NEMA WG04)",
        "NEMA conformance data; repo MIT",
        ("dicom-test-files_LICENSE.txt",),
        "CR leg, MONOCHROME1, 1760x1760, JPEG Extended 12-bit: NOT decodable (the one bad image)",
        0,
    ),
)

# --- Reports -----------------------------------------------------------------------------------------------
# Indiana uids, fixed. style: "both" = FINDINGS + IMPRESSION, "findings" / "impression" = only that header
# (the Indiana report has only that part), "noheaders" = text rendered with no section headers at all.
REPORTS: tuple[tuple[str, str], ...] = (
    # normal
    ("1", "both"),
    ("6", "both"),
    ("42", "both"),
    ("79", "both"),
    ("110", "both"),
    ("129", "both"),
    ("196", "both"),
    ("3", "impression"),  # Indiana report has no findings
    ("23", "noheaders"),
    # abnormal
    ("2", "both"),  # borderline cardiomegaly, sternotomy
    ("9", "both"),  # calcified granuloma
    ("18", "both"),  # borderline pleural effusion
    ("45", "both"),  # cardiomegaly, congestion
    ("91", "both"),  # pneumothorax
    ("160", "both"),  # infiltrate
    ("177", "both"),  # cardiomegaly, atelectasis
    ("220", "both"),  # nodules, catheter
    ("227", "both"),  # cardiomegaly, congestion
    ("245", "both"),  # pneumonia
    ("249", "both"),  # mass
    ("253", "both"),  # pneumothorax, catheter
    ("267", "both"),  # airspace disease, effusion
    ("343", "both"),  # consolidation
    ("3614", "findings"),  # Indiana report has no impression: atelectasis, effusion, cardiomegaly
)

# patients: (pNN group, number of studies); 8 patients, 24 studies
PATIENTS: tuple[tuple[int, int], ...] = (
    (10, 4),
    (10, 3),
    (10, 2),
    (13, 3),
    (13, 4),
    (13, 3),
    (17, 2),
    (17, 3),
)

HEADER_RE = re.compile(r"\n ([A-Z ()/,-]+):\s", re.DOTALL)  # MIMIC's section_text regex (reference §2)
WIDTH = 78


@dataclass
class Study:
    """One generated study: ids, the Indiana report it renders and the DICOM sources of its images."""

    subject_id: str
    study_id: str
    uid: str
    style: str
    images: list[tuple[str, Source]] = field(default_factory=list)  # (dicom_id, source)


def _h(*parts: str) -> str:
    return hashlib.sha256("/".join((NS, *parts)).encode()).hexdigest()


def subject_id(index: int, group: int) -> str:
    """8 digits starting with the group (10..19), e.g. 10123456."""
    return f"{group}{int(_h('subject', str(index)), 16) % 10**6:06d}"


def study_id(subject: str, index: int) -> str:
    """8 digits starting with 5."""
    return f"5{int(_h('study', subject, str(index)), 16) % 10**7:07d}"


def dicom_id(study: str, index: int, source: str) -> str:
    """5 dash-separated groups of 8 lowercase hex digits."""
    h = _h("dicom", study, str(index), source)[:40]
    return "-".join(h[i : i + 8] for i in range(0, 40, 8))


# --- report rendering --------------------------------------------------------------------------------------


def deid(text: str) -> str:
    """Indiana's XXXX de-identification marker -> MIMIC's ___; collapse whitespace."""
    return re.sub(r"\s+", " ", re.sub(r"X{4,}", "___", text)).strip()


def wrap(text: str, first: str = "") -> list[str]:
    """Wrap text at WIDTH columns; every line starts with one space (MIMIC layout)."""
    lines = textwrap.wrap(
        text, width=WIDTH - 1, initial_indent=first, break_long_words=False, break_on_hyphens=False
    )
    return [" " + ln for ln in lines] or [" " + first.rstrip()]


def examination(image: str) -> str:
    """Indiana 'image' column -> an EXAMINATION line value."""
    v = deid(image).rstrip(" .").upper()
    return v or "CHEST (PA AND LAT)"


def render_report(row: dict[str, str], style: str) -> str:
    """Render one Indiana report in MIMIC-CXR's free-text layout."""
    findings, impression = deid(row["findings"]), deid(row["impression"])
    indication = deid(row["indication"]) or "___"
    comparison = deid(row["comparison"]) or "None."
    out = ["                                 FINAL REPORT"]
    if style == "noheaders":
        # realistic old-style report: free text paragraphs, no "NAME:" header lines at all
        out += wrap(examination(row["image"]) + ".")
        out += [" ", *wrap(f"History: {indication}")]
        out += [" ", *wrap(findings)]
        out += [" ", *wrap(impression)]
        return "\n".join(out) + "\n"
    out += [f" EXAMINATION:  {examination(row['image'])}", " "]
    out += [*wrap(indication, first="INDICATION:  "), " "]
    out += [" TECHNIQUE:  Chest PA and lateral", " "]
    out += wrap(comparison, first="COMPARISON:  ")
    if style in ("both", "findings"):
        out += [" ", " FINDINGS:", " ", *wrap(findings)]
    if style in ("both", "impression"):
        out += [" ", " IMPRESSION:", " ", *wrap(impression)]
    return "\n".join(out) + "\n"


def check_report(text: str, style: str) -> None:
    """Assert the MIMIC header regex finds exactly the headers we meant to write."""
    names = [m.group(1) for m in HEADER_RE.finditer(text)]
    base = ["EXAMINATION", "INDICATION", "TECHNIQUE", "COMPARISON"]
    want = {
        "noheaders": [],
        "both": [*base, "FINDINGS", "IMPRESSION"],
        "findings": [*base, "FINDINGS"],
        "impression": [*base, "IMPRESSION"],
    }[style]
    if names != want:
        raise AssertionError(f"unexpected headers {names} (wanted {want})")
    if any(ln and not ln.startswith(" ") for ln in text.split("\n")):
        raise AssertionError("every line must start with a space")


# --- plan --------------------------------------------------------------------------------------------------


def plan() -> list[Study]:
    """Decide ids, report and images of every study (deterministic)."""
    rng = random.Random(SEED)
    reports = list(REPORTS)
    rng.shuffle(reports)
    studies: list[Study] = []
    for p, (group, n_studies) in enumerate(PATIENTS):
        subj = subject_id(p, group)
        for k in range(n_studies):
            uid, style = reports[len(studies)]
            studies.append(Study(subj, study_id(subj, k), uid, style))
    if len(studies) != len(reports):
        raise AssertionError("one report per study")

    # images: every source at least once (the bad one exactly once), then weighted extras, 1-3 per study
    counts = [rng.choice((1, 2, 2, 3)) for _ in studies]
    must = list(SOURCES)
    rng.shuffle(must)
    extra_pool = [s for s in SOURCES for _ in range(s.weight)]
    slots = [i for i, c in enumerate(counts) for _ in range(c)]
    rng.shuffle(slots)
    assigned: list[list[Source]] = [[] for _ in studies]
    for i in slots:
        if must:
            cand = [s for s in must if s not in assigned[i]] or must
            src = cand[0]
            must.remove(src)
        else:
            cand = [s for s in extra_pool if s not in assigned[i]]
            src = rng.choice(cand)
        assigned[i].append(src)
    for st, srcs in zip(studies, assigned, strict=True):
        srcs.sort(key=lambda s: s.name)
        st.images = [(dicom_id(st.study_id, j, s.name), s) for j, s in enumerate(srcs)]

    ids = [d for st in studies for d, _ in st.images]
    if len(set(ids)) != len(ids) or len({s.study_id for s in studies}) != len(studies):
        raise AssertionError("id collision")
    return studies


# --- writing -----------------------------------------------------------------------------------------------


def write_dicom(src: Path, dst: Path, subject: str, study: str) -> None:
    """Copy one real DICOM with PatientID = subject_id and StudyID = study_id, as in MIMIC-CXR's headers.

    The rest of the header and the pixel data are kept as read, in the file's own encoding (a file without
    File Meta is written without it); only these two elements change.
    """
    import pydicom

    ds = pydicom.dcmread(src, force=True)
    ds.PatientID = subject
    ds.StudyID = study
    ds.save_as(dst, enforce_file_format=False)


def study_dir(root: Path, st: Study) -> Path:
    return root / "files" / f"p{st.subject_id[:2]}" / f"p{st.subject_id}" / f"s{st.study_id}"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def build(out: Path) -> dict[str, int]:
    """Wipe and rebuild out/source, out/manifest.csv, out/README.md, out/licenses/*. Returns figures."""
    with (DATA / "reports" / "iu_reports_dev.csv").open(newline="", encoding="utf-8") as f:
        reports = {r["uid"]: r for r in csv.DictReader(f)}
    studies = plan()

    src_root = out / "source"
    if src_root.exists():
        shutil.rmtree(src_root)
    for st in studies:
        d = study_dir(src_root, st)
        d.mkdir(parents=True, exist_ok=True)
        text = render_report(reports[st.uid], st.style)
        check_report(text, st.style)
        d.with_suffix(".txt").write_text(text, encoding="utf-8")
        for did, s in st.images:
            write_dicom(DATA / "dicom" / s.name, d / f"{did}.dcm", st.subject_id, st.study_id)

    rows = sorted([st.subject_id, st.study_id, did, s.name, st.uid] for st in studies for did, s in st.images)
    write_csv(
        out / "manifest.csv", ["subject_id", "study_id", "dicom_id", "source_file", "indiana_uid"], rows
    )

    # gold labels of the demo studies: the Indiana gold (NegBio's OpenI standard) keyed by demo study_id
    with (DATA / "reports" / "iu_gold_dev.csv").open(newline="", encoding="utf-8") as f:
        gold = {r["study_id"]: r for r in csv.DictReader(f)}
    gold_header = list(next(iter(gold.values())))
    gold_rows = sorted([st.study_id, *list(gold[st.uid].values())[1:]] for st in studies)
    write_csv(out / "gold.csv", gold_header, gold_rows)

    lic_dir = out / "licenses"
    lic_dir.mkdir(parents=True, exist_ok=True)
    for name in sorted({n for s in SOURCES for n in s.licenses}):
        src = DATA / "licenses" / name
        if src.exists():  # fo-dicom_LICENSE.txt is not in tests/data/licenses: kept in demo/licenses as is
            shutil.copyfile(src, lic_dir / name)
        elif not (lic_dir / name).exists():
            raise FileNotFoundError(f"license text {name} missing from tests/data/licenses and {lic_dir}")

    used = sorted({s.name for st in studies for _, s in st.images})
    figures = {
        "patients": len({st.subject_id for st in studies}),
        "studies": len(studies),
        "images": len(rows),
        "distinct_dicoms": len(used),
        "distinct_bytes": sum((DATA / "dicom" / n).stat().st_size for n in used),
        "dicom_bytes": sum(p.stat().st_size for p in src_root.rglob("*.dcm")),
        "report_bytes": sum(len(render_report(reports[st.uid], st.style).encode()) for st in studies),
    }
    (out / "README.md").write_text(readme(studies, reports, figures), encoding="utf-8")
    return figures


def readme(studies: list[Study], reports: dict[str, dict[str, str]], fig: dict[str, int]) -> str:
    """demo/README.md text (generated, so provenance tables always match the tree)."""
    by_src: dict[str, list[str]] = {}
    for st in studies:
        for did, s in st.images:
            by_src.setdefault(s.name, []).append(f"s{st.study_id}/{did}")
    src_rows = []
    for s in SOURCES:
        size = (DATA / "dicom" / s.name).stat().st_size
        lic = ", ".join(f"[{n}](licenses/{n})" for n in s.licenses)
        src_rows.append(
            f"| `{s.name}` | {size:,} | {s.what} | {s.origin} | {s.license} ({lic}) | {len(by_src[s.name])} |"
        )
    img_rows = []
    for st in sorted(studies, key=lambda x: (x.subject_id, x.study_id)):
        for did, s in st.images:
            img_rows.append(f"| p{st.subject_id} | s{st.study_id} | `{did}` | `{s.name}` |")
    rep_rows = []
    for st in sorted(studies, key=lambda x: (x.subject_id, x.study_id)):
        mesh = deid(reports[st.uid]["MeSH"])
        mesh = mesh if len(mesh) <= 70 else mesh[:67] + "..."
        rep_rows.append(f"| p{st.subject_id} | s{st.study_id} | {st.uid} | {st.style} | {mesh} |")
    nl = "\n"
    return f"""# cxrdb demo source

A small MIMIC-CXR-style source built only from real **public** files (no MIMIC data: MIMIC is
credentialed and is never used here). It lets you try every cxrdb command without credentials, e.g.
point `cxrdb` at `demo/source` (see the main README for the commands).

Generated by `python scripts/make_demo.py` (deterministic: fixed seed, ids from SHA-256 hashes, no
timestamps; re-running rebuilds `demo/source`, `demo/manifest.csv` and this README byte-identically).
Do not edit these files by hand: edit the script and re-run it.

## What is here

- `source/files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm`: {fig["images"]} images in {fig["studies"]}
  studies of {fig["patients"]} patients in 3 group folders (p10, p13, p17). Ids look like MIMIC's:
  subject 8 digits starting with 1, study 8 digits starting with 5, dicom_id 5 dash-separated groups
  of 8 hex digits.
- `source/files/pNN/pNNNNNNNN/sNNNNNNNN.txt`: one report per study.
- `manifest.csv`: `subject_id, study_id, dicom_id, source_file, indiana_uid`, one row per image.
- `gold.csv`: the Indiana gold labels of these reports (tests/data/reports/iu_gold_dev.csv, from NegBio's
  public-domain OpenI gold standard) keyed by the demo study_id, for `cxrdb compare --gold`.
- `licenses/`: license texts of the repositories the DICOM files come from.

Size: {fig["images"]} `.dcm` files made from {fig["distinct_dicoms"]} distinct real DICOM files
({fig["distinct_bytes"]:,} bytes), {fig["dicom_bytes"]:,} bytes in all, plus {fig["report_bytes"]:,} bytes of reports.

## DICOM images

Every `.dcm` is a copy of one file in `tests/data/dicom/` (see `tests/data/PROVENANCE.md`) with two
header elements set as MIMIC-CXR has them: **PatientID = the subject_id and StudyID = the study_id** of
its path (what BigQuery users join to MIMIC-IV). Everything else, pixel data included, is the real file's,
written in its original encoding by pydicom (no File Meta stays no File Meta; pydicom drops group length
elements, which the edit would make wrong, and pads one odd-length PixelData to even). Several dicom_ids
reuse the same real file. StudyInstanceUID, dates and so on still come from the real file.
Deliberate realistic problems:

- `fo-dicom__CR-MONO1-10-chest_nometa.dcm` has no File Meta at all (raw Implicit VR LE, needs
  `force=True`) and no StudyDate/StudyTime;
- `dicom-test-files__RG3_JPLY_undecodable.dcm` (used exactly once) cannot be decoded by pylibjpeg or
  GDCM;
- `pylibjpeg-data__DX_J2K_0Padding_u16.dcm` looks inverted after a plain min-max;
- several are not chest images (c-spine, hip, leg, a veterinary thorax) and many lack ViewPosition.

| real file (tests/data/dicom) | bytes | what | origin (repo : path) | license | uses |
|---|---|---|---|---|---|
{nl.join(src_rows)}

Per image:

| subject | study | dicom_id | copy of |
|---|---|---|---|
{nl.join(img_rows)}

## Reports

Each report is one report of the Indiana University chest X-ray collection (Open-i, National Library
of Medicine; Demner-Fushman D, Kohli MD, Rosenman MB, et al. *Preparing a collection of radiology
examinations for distribution and retrieval.* J Am Med Inform Assoc. 2016;23(2):304-310,
doi:10.1093/jamia/ocv080), taken from `tests/data/reports/iu_reports_dev.csv` and identified by its
`uid` below.

**License and changes.** The Indiana collection is distributed under CC BY-NC-ND 4.0
(<https://creativecommons.org/licenses/by-nc-nd/4.0/>): attribution, non-commercial use only, no
derivatives. These files are **not** the Indiana originals: they are the Indiana texts **rendered in a
different layout**, MIMIC-CXR's free-text report layout (a `FINAL REPORT` title line, every line
starting with one space, `NAME:` section header lines, paragraphs separated by a line holding a single
space, text wrapped at {WIDTH} columns). Changes made: the Indiana fields `image`, `indication`,
`comparison`, `findings` and `impression` are placed under `EXAMINATION:` (upper-cased),
`INDICATION:`, `COMPARISON:`, `FINDINGS:` and `IMPRESSION:` headers; a fixed line
`TECHNIQUE:  Chest PA and lateral` is added; runs of whitespace are collapsed; the Indiana
de-identification marker `XXXX` is replaced by MIMIC's `___`; an empty comparison becomes `None.` and
an empty indication `___`. No medical content was added, removed or reworded. The reports are here
only to test cxrdb (non-commercial); the unmodified originals are in
`tests/data/reports/iu_reports_dev.csv`.

Sectioning cases (MIMIC's header regex needs a newline plus one space before `NAME:`):
`both` = FINDINGS and IMPRESSION; `impression` = IMPRESSION only (the Indiana report has no findings);
`findings` = FINDINGS only (the Indiana report has no impression); `noheaders` = free text with no
header line at all (MIMIC's parser then sees one `full report` section and falls back to the last
paragraph).

| subject | study | Indiana uid | sections | Indiana MeSH (human-coded) |
|---|---|---|---|---|
{nl.join(rep_rows)}

## Licenses of the DICOM files

- fo-dicom test data: Microsoft Public License (MS-PL), `licenses/fo-dicom_LICENSE.txt` (the
  copyright line and MS-PL text of fo-dicom/fo-dicom `License.txt`). The file was obtained through
  dcmfx/dcmfx, whose own license is `licenses/dcmfx_LICENSE.md`. `fo-dicom_LICENSE.txt` is kept in
  `demo/licenses/` by hand (it is not in `tests/data/licenses/`); the script copies the others.
- highdicom: MIT, `licenses/highdicom_LICENSE`.
- pydicom (dicomdirtests CR files): MIT-style, `licenses/pydicom_LICENSE`.
- pydicom-data (NEMA WG04 RG1/RG3 J2KI): MIT, `licenses/pydicom-data_LICENSE`.
- pylibjpeg-data (RG2_JPLY_fixed; DX_J2K_0Padding from GDCM): MIT + GDCM BSD,
  `licenses/pylibjpeg-data_LICENSE`.
- dicom-test-files (NEMA WG04 RG3_JPLY): NEMA conformance data, repo MIT,
  `licenses/dicom-test-files_LICENSE.txt`.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "demo", help="output directory (default: demo/)")
    args = ap.parse_args()
    fig = build(args.out)
    print(" ".join(f"{k}={v}" for k, v in fig.items()))


if __name__ == "__main__":
    main()
