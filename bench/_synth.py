"""Generate a synthetic MIMIC-CXR-style source of small but realistic DICOM files, fast.

``make_source(root, n_images, seed)`` writes ``root/files/pNN/pNNNNNNNN/sNNNNNNNN/<dicom_id>.dcm`` (Explicit
VR Little Endian with File Meta, the CR/DX tags a MIMIC file carries, 64x64 uint16 pixels) and one report
``sNNNNNNNN.txt`` per study. The first file is built with pydicom from placeholder values of fixed length;
every other file is that byte template with the per-image values patched in at known offsets, so 10,000
files take a few seconds. All output is determined by ``seed``.
"""

from __future__ import annotations

import io
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filewriter import dcmwrite
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian

CR_STORAGE = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage
DX_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation
UID_LEN = 44  # "2.25.1" + 38 digits
SIZE = 64

# (ViewPosition, ViewCodeSequence meaning, PerformedProcedureStepDescription, orientation, weight)
VIEWS: tuple[tuple[str, str, str, str, int], ...] = (
    ("PA", "postero-anterior", "CHEST (PA AND LAT)", "Erect", 40),
    ("LATERAL", "lateral", "CHEST (PA AND LAT)", "Erect", 25),
    ("AP", "antero-posterior", "CHEST (PORTABLE AP)", "Recumbent", 30),
    ("LL", "left lateral", "CHEST (PA AND LAT)", "Erect", 4),
    ("", "", "CHEST (PRE-OP PA & LAT)", "", 1),  # view missing, empty sequences' meaning
)
PROCESSING = ("CHEST", "CHEST PA", "CHEST AP", "CHEST LAT", "PORTABLE CHEST")

FINDINGS = (
    "The lungs are clear without focal consolidation, pleural effusion or pneumothorax. The "
    "cardiomediastinal silhouette is within normal limits.",
    "There is a small left pleural effusion with adjacent atelectasis. Heart size is mildly enlarged. No "
    "pneumothorax.",
    "Patchy opacity in the right lower lobe may reflect pneumonia in the appropriate clinical setting. "
    "Endotracheal tube terminates 4 cm above the carina.",
)
IMPRESSIONS = (
    "No acute cardiopulmonary process.",
    "Small left pleural effusion.",
    "Right lower lobe opacity, possibly pneumonia.",
)

# field -> value length. The template is written once with a unique placeholder of that length per field,
# then each image overwrites the placeholders in place (every length stays the same, so no offsets move).
FIELDS: dict[str, int] = {
    "sop": UID_LEN,  # File Meta and dataset
    "study_uid": UID_LEN,
    "series_uid": UID_LEN,
    "patient": 8,
    "date": 8,  # StudyDate and SeriesDate
    "time": 10,  # StudyTime and SeriesTime
    "view": 8,
    "view_meaning": 16,
    "ppsd": 24,  # StudyDescription and PerformedProcedureStepDescription
    "proc_meaning": 24,
    "orient": 10,
    "adpd": 14,
}
_PLACEHOLDERS: dict[str, str] = {
    "sop": "2.25.11" + "7" * 37,
    "study_uid": "2.25.12" + "7" * 37,
    "series_uid": "2.25.13" + "7" * 37,
    "patient": "QXPATIEN",
    "date": "19010203",
    "time": "235959.987",
    "view": "QXVIEW_Q",
    "view_meaning": "qxviewmeaningqxq",
    "ppsd": "qxppsdqxqxqxqxqxqxqxqxqx",
    "proc_meaning": "qxprocqxqxqxqxqxqxqxqxqx",
    "orient": "qxorientqx",
    "adpd": "qxadpdqxqxqxqx",
}
_COUNTS = {"sop": 2, "date": 2, "time": 2, "ppsd": 2}  # occurrences in the template (default 1)


def _placeholder(name: str) -> str:
    v = _PLACEHOLDERS[name]
    if len(v) != FIELDS[name]:
        raise AssertionError(f"placeholder {name} has the wrong length")
    return v


def _code_item(meaning: str, value: str, scheme: str = "99SYNTH") -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _template() -> bytes:
    """The byte template: one complete DICOM file holding placeholder values."""
    ph = _placeholder
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CR_STORAGE
    meta.MediaStorageSOPInstanceUID = ph("sop")
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.1"
    meta.ImplementationVersionName = "CXRDB_SYNTH"

    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = CR_STORAGE
    ds.SOPInstanceUID = ph("sop")
    ds.StudyDate = ph("date")
    ds.SeriesDate = ph("date")
    ds.StudyTime = ph("time")
    ds.SeriesTime = ph("time")
    ds.AccessionNumber = ""
    ds.Modality = "CR"
    ds.Manufacturer = "SYNTH"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = ph("ppsd")
    ds.ProcedureCodeSequence = Sequence([_code_item(ph("proc_meaning"), "CXR2V")])
    ds.PatientName = ""
    ds.PatientID = ph("patient")
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.BodyPartExamined = "CHEST"
    ds.AcquisitionDeviceProcessingDescription = ph("adpd")
    ds.ViewPosition = ph("view")
    ds.StudyInstanceUID = ph("study_uid")
    ds.SeriesInstanceUID = ph("series_uid")
    ds.StudyID = ""
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ""
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = SIZE
    ds.Columns = SIZE
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.ViewCodeSequence = Sequence([_code_item(ph("view_meaning"), "R-10214", "SRT")])
    ds.PatientOrientationCodeSequence = Sequence([_code_item(ph("orient"), "F-10440", "SRT")])
    ds.PerformedProcedureStepDescription = ph("ppsd")
    rng = np.random.default_rng(0)
    ds.PixelData = rng.integers(0, 4096, size=(SIZE, SIZE), dtype=np.uint16).tobytes()

    buf = io.BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    return buf.getvalue()


@dataclass(frozen=True)
class _Patcher:
    template: bytes
    offsets: dict[str, list[int]]

    @classmethod
    def build(cls) -> _Patcher:
        tpl = _template()
        offsets: dict[str, list[int]] = {}
        for name in FIELDS:
            p = _placeholder(name).encode()
            found, start = [], 0
            while (i := tpl.find(p, start)) >= 0:
                found.append(i)
                start = i + len(p)
            if len(found) != _COUNTS.get(name, 1):
                raise AssertionError(f"placeholder {name} found {len(found)} times in the template")
            offsets[name] = found
        return cls(tpl, offsets)

    def render(self, values: dict[str, str]) -> bytes:
        out = bytearray(self.template)
        for name, offs in self.offsets.items():
            v = values[name].encode("ascii")
            n = FIELDS[name]
            pad = b"\0" if name.endswith(("uid", "sop")) else b" "
            if len(v) > n:
                raise ValueError(f"{name} value {v!r} longer than {n}")
            v = v.ljust(n, pad)
            for o in offs:
                out[o : o + n] = v
        return bytes(out)


def _uid(rng: random.Random) -> str:
    return f"2.25.1{rng.getrandbits(120) % 10**38:038d}"


def _report(rng: random.Random, ppsd: str) -> str:
    idx = rng.randrange(len(FINDINGS))
    lines = [
        "                                 FINAL REPORT",
        f" EXAMINATION:  {ppsd}",
        " ",
        " INDICATION:  ___ year old with shortness of breath.",
        " ",
        " COMPARISON:  ___",
        " ",
        " FINDINGS:",
        " ",
        f" {FINDINGS[idx]}",
        " ",
        " IMPRESSION:",
        " ",
        f" {IMPRESSIONS[idx]}",
    ]
    return "\n".join(lines) + "\n"


def make_source(root: str | Path, n_images: int, seed: int = 0) -> dict[str, int]:
    """Write a synthetic source of ``n_images`` DICOMs (and one report per study) under ``root``.

    Returns counts: images, studies, subjects, bytes.
    """
    rng = random.Random(seed)
    patcher = _Patcher.build()
    root = Path(root)
    files = root / "files"
    view_weights = [v[4] for v in VIEWS]
    used_subjects: set[int] = set()
    used_studies: set[int] = set()
    images = studies = subjects = nbytes = 0
    while images < n_images:
        subj = rng.randrange(10_000_000, 20_000_000)
        if subj in used_subjects:
            continue
        used_subjects.add(subj)
        subjects += 1
        for _ in range(rng.choice((1, 1, 2, 3, 4, 6))):
            if images >= n_images:
                break
            study = rng.randrange(50_000_000, 60_000_000)
            while study in used_studies:
                study = rng.randrange(50_000_000, 60_000_000)
            used_studies.add(study)
            studies += 1
            d = files / f"p{str(subj)[:2]}" / f"p{subj}" / f"s{study}"
            os.makedirs(d, exist_ok=True)
            year = rng.randrange(2110, 2210)
            date = f"{year}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
            hms = f"{rng.randrange(24):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}"
            time = f"{hms}.{rng.randrange(1000):03d}"  # MIMIC-like, e.g. 213014.531
            study_uid = _uid(rng)
            n_here = min(rng.choice((1, 1, 2, 2, 2, 3)), n_images - images)
            ppsd = ""
            for _ in range(n_here):
                view, meaning, ppsd, orient, _w = rng.choices(VIEWS, view_weights)[0]
                values = {
                    "sop": _uid(rng),
                    "study_uid": study_uid,
                    "series_uid": _uid(rng),
                    "patient": str(subj),
                    "date": date,
                    "time": time,
                    "view": view,
                    "view_meaning": meaning,
                    "ppsd": ppsd,
                    "proc_meaning": ppsd,
                    "orient": orient,
                    "adpd": rng.choice(PROCESSING),
                }
                h = f"{rng.getrandbits(160):040x}"
                dicom_id = "-".join(h[i : i + 8] for i in range(0, 40, 8))
                data = patcher.render(values)
                with open(d / f"{dicom_id}.dcm", "wb") as f:
                    f.write(data)
                images += 1
                nbytes += len(data)
            text = _report(rng, ppsd or "CHEST (PA AND LAT)")
            with open(d.with_suffix(".txt"), "w", encoding="utf-8") as f:
                f.write(text)
    return {"images": images, "studies": studies, "subjects": subjects, "bytes": nbytes}


def list_dicoms(root: Path) -> list[str]:
    """All .dcm paths under root/files, sorted."""
    out: list[str] = []
    for dirpath, _dirs, files in os.walk(root / "files"):
        out.extend(os.path.join(dirpath, f) for f in files if f.endswith(".dcm"))
    out.sort()
    return out
