#!/usr/bin/env python
"""What analysis.image_view costs against reading ViewPosition straight from stg.images.

A synthetic catalog of MIMIC's size (377,110 images; 1 in 23 with an empty ViewPosition, about MIMIC's 15,769)
is queried three ways, best of three: the naive reference (``stg.images WHERE ViewPosition IN ('PA', 'AP')``),
the view filtered the same way, and the view joined to stg.images as a subset selection would. Two shapes of
procedure text: 8 texts repeated (as a hospital's procedure names are), and every text distinct (the worst case:
each one is split into words and matched against every rule line).

Usage: python bench/image_view.py [--images 377110] [--work DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cxrdb.catalog import Catalog

PROCEDURES = ["CHEST (PA AND LAT)", "CHEST (PORTABLE AP)", "CHEST PORT. LINE PLACEMENT", "CHEST (PRE-OP PA & LAT)",
              "CHEST (SINGLE VIEW)", "DX CHEST PORTABLE PICC LINE PLACEMENT", "CHEST (PA, LAT & OBLIQUES)", ""]
POSITIONS = ["AP", "PA", "LATERAL", "LL", ""] + ["AP", "PA", "LATERAL"] * 6  # 23 (prime to 8): one empty
QUERIES = {
    "reference: stg.images, ViewPosition IN (PA, AP)":
        "SELECT count(*) FROM stg.images WHERE ViewPosition IN ('PA', 'AP')",
    "analysis.image_view, view IN (PA, AP)": "SELECT count(*) FROM analysis.image_view WHERE view IN ('PA', 'AP')",
    "stg.images JOIN analysis.image_view, view IN (PA, AP)":
        "SELECT count(*) FROM stg.images JOIN analysis.image_view USING (dicom_id) WHERE view IN ('PA', 'AP')",
}


def fill(cat: Catalog, images: int, distinct: bool) -> None:
    text = "list_extract(?::VARCHAR[], (i % 8)::INTEGER + 1)" + (" || ' #' || i::VARCHAR" if distinct else "")
    with cat.transaction():
        cat.query(f"""
            INSERT INTO raw.images (dicom_id, subject_id, study_id, path, ViewPosition,
                                    PerformedProcedureStepDescription, ProcedureCodeSequence_CodeMeaning,
                                    ViewCodeSequence_CodeMeaning)
            SELECT printf('%08x-%08x-%08x-%08x-%08x', i, i, i, i, i), 10000000 + i // 6, 50000000 + i // 2,
                   'files/' || i, list_extract(?::VARCHAR[], (i % 23)::INTEGER + 1), {text}, {text},
                   CASE i % 5 WHEN 0 THEN 'postero-anterior' WHEN 1 THEN 'Erect' END
            FROM range({images}) AS t(i)""", [POSITIONS, PROCEDURES, PROCEDURES])


def best_ms(cat: Catalog, sql: str) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        cat.query(sql)
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=377_110)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        for distinct in (False, True):
            with Catalog.open(Path(work) / f"distinct_{distinct}.duckdb") as cat:
                fill(cat, args.images, distinct)
                reference = None
                for label, sql in QUERIES.items():
                    ms = best_ms(cat, sql)
                    reference = reference or ms
                    shape = "every text distinct" if distinct else "8 texts repeated"
                    print(f"{args.images:,} images, {shape:20} | {label:56} {ms:8.0f} ms  x{ms / reference:6.1f}")
                _, rows = cat.query("SELECT rule, count(*) FROM analysis.image_view GROUP BY ALL ORDER BY ALL")
                print("    rules:", ", ".join(f"{r} {n:,}" for r, n in rows))


if __name__ == "__main__":
    main()
