#!/usr/bin/env python
"""Generate the small MIMIC-IV-shaped set bundled with the demo (demo/mimic-iv-3.1/): NOT real MIMIC-IV.

Every value is made up here for the demo's 8 patients (their subject_ids are the demo's PatientIDs), with
admissions, ED stays and ICU stays placed around the demo's study times (read from demo/source through cxrdb's
own analysis.study_datetime) so that every linking rule of sql/50_analysis/study_admission.sql and
study_icu_stay.sql is exercised. Columns and order: cxrdb/mimiciv/tables.tsv (MIMIC-IV 3.1, MIMIC-IV-ED 2.2).
Deterministic: no randomness, no timestamps; gzip with mtime 0, so re-running rewrites the same bytes.
Usage: ``python scripts/make_mimiciv_demo.py [--out demo/mimic-iv-3.1]``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cxrdb.catalog import Catalog  # noqa: E402
from cxrdb.ingest import ingest  # noqa: E402
from cxrdb.mimiciv.schema import tables  # noqa: E402

H, M = timedelta(hours=1), timedelta(minutes=1)


def study_times(source: Path) -> dict[int, tuple[int, datetime | None]]:
    """study_id -> (subject_id, study time) by cxrdb's rule (the earliest image time)."""
    with tempfile.TemporaryDirectory() as tmp, Catalog.open(Path(tmp) / "c.duckdb") as cat:
        ingest(cat, source, workers=1)
        _, rows = cat.query("SELECT study_id, subject_id, study_datetime FROM analysis.study_datetime")
    return {r[0]: (r[1], r[2]) for r in rows}


class Data:
    """The generated rows, per table, and the ids handed out."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {k: [] for k in ("patients", "admissions", "transfers", "diagnoses_icd",
                                                             "icustays", "edstays", "d_icd_diagnoses",
                                                             "d_labitems", "labevents", "triage")}
        self.next = {"hadm": 20000001, "stay": 30000001, "ed": 31000001, "transfer": 32000001, "lab": 1}

    def new(self, kind: str) -> int:
        self.next[kind] += 1
        return self.next[kind] - 1

    def patient(self, subject: int, gender: str, anchor_age: int, anchor_year: int, dod: str = "") -> None:
        group = {2001: "2008 - 2010", 2004: "2011 - 2013", 2020: "2017 - 2019"}.get(anchor_year, "2014 - 2016")
        self.rows["patients"].append(dict(subject_id=subject, gender=gender, anchor_age=anchor_age,
                                          anchor_year=anchor_year, anchor_year_group=group, dod=dod))

    def admission(self, subject: int, admit: datetime, disch: datetime, *, kind: str = "EW EMER.",
                  death: datetime | None = None, ed: tuple[datetime, datetime] | None = None,
                  dx: tuple[tuple[str, int], ...] = (("J189", 10),)) -> int:
        hadm = self.new("hadm")
        self.rows["admissions"].append(dict(
            subject_id=subject, hadm_id=hadm, admittime=admit, dischtime=disch, deathtime=death or "",
            admission_type=kind, admit_provider_id="P00" + str(hadm)[-3:], admission_location="EMERGENCY ROOM",
            discharge_location="DIED" if death else "HOME", insurance="Other", language="English",
            marital_status="MARRIED", race="UNKNOWN", edregtime=ed[0] if ed else "", edouttime=ed[1] if ed else "",
            hospital_expire_flag=1 if death else 0))
        for seq, (code, version) in enumerate(dx, 1):
            self.rows["diagnoses_icd"].append(dict(subject_id=subject, hadm_id=hadm, seq_num=seq, icd_code=code,
                                                   icd_version=version))
        self.transfer(subject, hadm, "admit", "Medicine", admit, disch)
        self.transfer(subject, hadm, "discharge", "", disch, None)
        return hadm

    def transfer(self, subject: int, hadm: int | None, event: str, unit: str, start: datetime,
                 end: datetime | None) -> None:
        self.rows["transfers"].append(dict(subject_id=subject, hadm_id=hadm or "", transfer_id=self.new("transfer"),
                                           eventtype=event, careunit=unit, intime=start, outtime=end or ""))

    def ed_stay(self, subject: int, hadm: int | None, start: datetime, end: datetime) -> int:
        stay = self.new("ed")
        self.rows["edstays"].append(dict(subject_id=subject, hadm_id=hadm or "", stay_id=stay, intime=start,
                                         outtime=end, gender="", race="UNKNOWN", arrival_transport="AMBULANCE",
                                         disposition="ADMITTED" if hadm else "HOME"))
        self.rows["triage"].append(dict(subject_id=subject, stay_id=stay, temperature=98.6, heartrate=88,
                                        resprate=18, o2sat=96, sbp=128, dbp=74, pain="3", acuity=2,
                                        chiefcomplaint="Dyspnea"))
        self.transfer(subject, hadm, "ED", "Emergency Department", start, end)
        return stay

    def icu_stay(self, subject: int, hadm: int, start: datetime, end: datetime, unit: str) -> int:
        stay = self.new("stay")
        self.rows["icustays"].append(dict(subject_id=subject, hadm_id=hadm, stay_id=stay, first_careunit=unit,
                                          last_careunit=unit, intime=start, outtime=end,
                                          los=round((end - start) / timedelta(days=1), 6)))
        return stay

    def lab(self, subject: int, hadm: int, when: datetime, itemid: int, value: float) -> None:
        n = self.new("lab")
        self.rows["labevents"].append(dict(
            labevent_id=n, subject_id=subject, hadm_id=hadm, specimen_id=90000000 + n, itemid=itemid,
            order_provider_id="", charttime=when, storetime=when + H, value=str(value), valuenum=value,
            valueuom="K/uL", ref_range_lower=4.0, ref_range_upper=11.0, flag="abnormal" if value > 11 else "",
            priority="STAT", comments=""))


def generate(times: dict[int, tuple[int, datetime | None]]) -> Data:
    """The scenarios, one patient each (see README.md written beside the files)."""
    by_subject: dict[int, list[tuple[datetime | None, int]]] = {}
    for study, (subject, when) in times.items():
        by_subject.setdefault(subject, []).append((when, study))
    t = {s: sorted((w for w, _ in v if w is not None)) for s, v in by_subject.items()}
    d = Data()
    s1, s2, s3, s4, s5, _s6, s7, s8 = sorted(by_subject)  # _s6: not in MIMIC-IV
    # s1: first times inside an admission with an ICU stay; the last one 1 minute BEFORE an admittime, no ED stay
    d.patient(s1, "F", 60, t[s1][0].year)
    a = d.admission(s1, t[s1][0] - 4 * H, t[s1][0] + 96 * H, dx=(("J189", 10), ("I509", 10)))
    d.icu_stay(s1, a, t[s1][0] - 2 * H, t[s1][0] + 30 * H, "Medical Intensive Care Unit (MICU)")
    d.lab(s1, a, t[s1][0] - 3 * H, 51301, 14.2)
    d.admission(s1, t[s1][-1] + M, t[s1][-1] + 72 * H, dx=(("486", 9),))
    # s2: two overlapping admissions contain the last time (tie: the later admittime wins); the first time lies
    # in an ED stay that led to an admission starting 3 hours later
    d.patient(s2, "M", 71, t[s2][-1].year)
    d.admission(s2, t[s2][-1] - 48 * H, t[s2][-1] + 24 * H, dx=(("4280", 9),))
    d.admission(s2, t[s2][-1] - 2 * H, t[s2][-1] + 12 * H, kind="URGENT", dx=(("I509", 10),))
    later = d.admission(s2, t[s2][0] + 3 * H, t[s2][0] + 80 * H, ed=(t[s2][0] - H, t[s2][0] + 3 * H))
    d.ed_stay(s2, later, t[s2][0] - H, t[s2][0] + 3 * H)
    # s3: in patients, no admissions at all
    d.patient(s3, "F", 45, t[s3][0].year)
    # s4: an admission ending exactly at the first time (bounds are inclusive), one containing the middle time
    # and ending in death; the last time is 3 days after death
    death = t[s4][-1] - 72 * H
    d.patient(s4, "M", 84, t[s4][0].year, dod=death.date().isoformat())
    d.admission(s4, t[s4][0] - 50 * H, t[s4][0], dx=(("J90", 10),))
    d.admission(s4, t[s4][1] - 6 * H, death, death=death, dx=(("J9601", 10), ("J189", 10)))
    # s5: the latest time in an ED stay with no admission; the middle times inside an admission with two
    # overlapping ICU stays (tie: the later intime wins); the first time 7 hours before an admittime (beyond
    # the 6-hour default tolerance)
    d.patient(s5, "F", 33, t[s5][-1].year)
    d.ed_stay(s5, None, t[s5][-1] - 2 * H, t[s5][-1] + 2 * H)
    a = d.admission(s5, t[s5][1] - 24 * H, t[s5][1] + 240 * H, dx=(("J80", 10),))
    d.icu_stay(s5, a, t[s5][1] - 20 * H, t[s5][1] + 20 * H, "Medical Intensive Care Unit (MICU)")
    d.icu_stay(s5, a, t[s5][1] - 10 * H, t[s5][1] + 10 * H, "Cardiac Vascular Intensive Care Unit (CVICU)")
    d.admission(s5, t[s5][0] + 7 * H, t[s5][0] + 50 * H, kind="ELECTIVE", dx=(("Z515", 10),))
    # s6: not in MIMIC-IV at all (no patients row)
    # s7: anchor_age 91 (MIMIC's cap for patients over 89), every study inside one admission
    d.patient(s7, "M", 91, t[s7][0].year + 1)
    d.admission(s7, t[s7][0] - 10 * H, t[s7][0] + 100 * H, dx=(("4019", 9), ("486", 9)))
    # s8: an ED stay and its admission both contain the times (the admission rule wins; ed_stay_id still set)
    d.patient(s8, "F", 52, t[s8][0].year)
    a = d.admission(s8, t[s8][0] - 30 * M, t[s8][0] + 60 * H, ed=(t[s8][0] - 2 * H, t[s8][0] + H))
    d.ed_stay(s8, a, t[s8][0] - 2 * H, t[s8][0] + H)
    d.rows["d_icd_diagnoses"] = [dict(icd_code=c, icd_version=v, long_title=title) for c, v, title in (
        ("4019", 9, "Unspecified essential hypertension"), ("4280", 9, "Congestive heart failure, unspecified"),
        ("486", 9, "Pneumonia, organism unspecified"), ("I509", 10, "Heart failure, unspecified"),
        ("J189", 10, "Pneumonia, unspecified organism"), ("J80", 10, "Acute respiratory distress syndrome"),
        ("J90", 10, "Pleural effusion, not elsewhere classified"),
        ("J9601", 10, "Acute respiratory failure with hypoxia"),
        ("Z515", 10, "Encounter for palliative care"))]
    d.rows["d_labitems"] = [dict(itemid=51301, label="White Blood Cells", fluid="Blood", category="Hematology")]
    return d


def _value(v: object) -> str:
    return v.strftime("%Y-%m-%d %H:%M:%S") if isinstance(v, datetime) else str(v)


def write(data: Data, out: Path) -> None:
    """Write every table as PhysioNet does: module/table.csv.gz, columns in the documented order."""
    specs = {name: spec for (_, name), spec in tables().items()}
    if out.exists():
        shutil.rmtree(out)
    for name, rows in data.rows.items():
        spec = specs[name]
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c for c, _ in spec.columns])
        for row in rows:
            writer.writerow([_value(row[c]) for c, _ in spec.columns])
        path = out / spec.module / f"{name}.csv.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh, gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz:
            gz.write(buf.getvalue().encode("utf-8"))
    (out / "README.md").write_text(README, encoding="utf-8")


README = """# Generated MIMIC-IV-shaped demo data (not MIMIC-IV)

Made by `python scripts/make_mimiciv_demo.py` for the demo's 8 patients: every value is invented. The
tables have MIMIC-IV 3.1's (and MIMIC-IV-ED 2.2's) columns in their order (cxrdb/mimiciv/tables.tsv), as
PhysioNet ships them (`hosp/*.csv.gz`, `icu/*.csv.gz`, `ed/*.csv.gz`). `cxrdb demo` attaches them.

Dates follow MIMIC's shifted-dates convention: MIMIC-IV and MIMIC-CXR shift every patient's dates by one
offset of their own (into 2100-2200 in the real data), the same offset in both, so a study's StudyDate +
StudyTime compares directly with that patient's admittime, intime and dod; anchor_year is the shifted year in
which the patient was anchor_age, and anchor_year_group the real 3-year range it fell in. The demo's study
dates are those of the public DICOM files it was made from, and these tables are placed around them.

Each patient exercises linking rules (see sql/50_analysis/study_admission.sql): a study inside an admission
with an ICU stay and one 1 minute before an admittime (patient 1); overlapping admissions and an ED stay that
led to a later admission (2); no admissions (3); a study at an admission's dischtime and one after death (4);
an ED stay without admission, overlapping ICU stays and a study 7 hours before an admittime (5); no MIMIC-IV
rows (6); anchor_age 91 (7); an ED stay inside its admission (8).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "demo" / "mimic-iv-3.1")
    parser.add_argument("--source", type=Path, default=REPO / "demo" / "source")
    args = parser.parse_args()
    write(generate(study_times(args.source)), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
