"""Put the comparisons together: one JSON-able report, the CSVs behind it, and the files of ``--out``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..contract import RELEASE_LABELERS
from ..errors import CxrdbError
from ..executor import run_map
from ..progress import Progress, no_progress
from . import evidence, pixels, tables
from .files import compare_files, compare_lines, image_lists, list_side

FORMAT = 1  # the report's layout version (report.json "format")
LIST_CAP = 1000  # paths per list in report.json (every one is in files.csv)
WORST = 20  # worst images listed in report.json (every one is in jpg_differences.csv)
PIXEL_BATCH = 4  # pairs per task: each is two full-size decodes


@dataclass(slots=True)
class Diff:
    """What ``cxrdb diff`` found: ``report`` (report.json) and ``csvs`` ({file name: (columns, rows)})."""

    report: dict[str, Any]
    csvs: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return bool(self.report["identical"])

    def write(self, out: Path) -> list[str]:
        """Write report.json, report.html and the CSVs into ``out`` (each atomically); return their names."""
        from ..export import csv_bytes
        from .html import render

        out.mkdir(parents=True, exist_ok=True)
        written = {"report.json": (json.dumps(self.report, indent=1, ensure_ascii=False, sort_keys=False)
                                   + "\n").encode("utf-8"),
                   "report.html": render(self.report).encode("utf-8")}
        written |= {name: csv_bytes(columns, rows) for name, (columns, rows) in self.csvs.items()}
        for name, data in written.items():
            write_atomic(str(out / name), data)
        return list(written)


def is_jpg(rel: str) -> bool:
    """Whether a release path names a JPG (decoded when its bytes differ)."""
    return rel.lower().endswith((".jpg", ".jpeg"))


def _cap(values: list[Any]) -> list[Any]:
    return values[:LIST_CAP]


def _pixels(ours: Path, theirs: Path, differ: list[str], workers: int | None,
            progress: Progress) -> list[pixels.PixelDiff]:
    items = [(rel, str(ours / rel), str(theirs / rel)) for rel in differ if is_jpg(rel)]
    progress("pixels", 0, len(items))
    found = []
    for result in run_map(pixels.compare_pair, items, workers=workers, batch_size=PIXEL_BATCH, on_lost=pixels.lost):
        found.append(result)
        progress("pixels", 1, len(items))
    return sorted(found, key=lambda r: r.path)


def _jpgs(jpgs_both: int, found: list[pixels.PixelDiff]) -> dict[str, Any]:
    decoded = [r for r in found if r.error is None]
    same_shape = [r for r in decoded if r.same_shape]
    histogram = [sum(r.histogram[i] for r in same_shape if r.histogram) for i in range(pixels.BINS)]
    worst = sorted(same_shape, key=lambda r: (-(r.max_abs or 0), -(r.mean_abs or 0), r.path))[:WORST]
    return {
        "compared": jpgs_both, "identical": jpgs_both - len(found), "differ": len(found),
        "undecodable": [{"path": r.path, "side": r.error_side, "error": r.error} for r in found if r.error],
        "shape_differs": len(decoded) - len(same_shape),
        "shape_examples": [{"path": r.path, "shape_ours": list(r.shape_ours or ()),
                            "shape_theirs": list(r.shape_theirs or ())} for r in decoded if not r.same_shape][:20],
        "worst": [{"path": r.path, "max_abs": r.max_abs, "mean_abs": round(r.mean_abs or 0.0, 6),
                   "share_differ": round(r.share_differ or 0.0, 6), "shape_ours": list(r.shape_ours or ()),
                   "shape_theirs": list(r.shape_theirs or ())} for r in worst],
        "max_abs": max((r.max_abs or 0 for r in same_shape), default=None),
        "histogram": histogram,
    }


def _public(part: dict[str, Any]) -> dict[str, Any]:
    """A table's part of report.json: the keys that do not start with ``_`` (those feed the CSVs)."""
    return {k: v for k, v in part.items() if not k.startswith("_")}


def diff(ours: Path, theirs: Path, *, db: Path | None = None, rehash: bool = False, workers: int | None = None,
         progress: Progress = no_progress) -> Diff:
    """Compare release folder ``ours`` with ``theirs`` (the published one, or any other build)."""
    ours, theirs = Path(ours), Path(theirs)
    con = tables.connect()
    if db is not None:  # a missing, locked or foreign catalog is refused before hours of hashing
        evidence.attach(con, Path(db))
    sides = list_side(ours), list_side(theirs)
    for side in sides:
        if not side.entries:
            raise CxrdbError(f"{side.root} is empty: not a release folder")
    files = compare_files(*sides, rehash=rehash, workers=workers, progress=progress)
    found = _pixels(ours, theirs, files.differ, workers, progress)
    both = {*files.same, *files.differ, *(u["path"] for u in files.unreadable)}  # every path both folders have
    jpgs = _jpgs(sum(map(is_jpg, both)), found)

    roots = (ours, theirs)
    parts = {name: tables.compare_rows(con, roots, tables.TABLES[name]) for name in ("metadata", "split")}
    labels = {name: tables.compare_labels(con, roots, tables.TABLES[name]) for name in RELEASE_LABELERS}
    test_set = tables.compare_labels(con, roots, tables.TEST_SET)
    if test_set.get("missing") != "both":
        labels[tables.TEST_SET.name] = test_set
    lists = {name: compare_lines(ours / name, theirs / name) for name in image_lists(sides)}
    reasons: dict[str, dict[str, Any]] = {}
    explained: list[dict[str, Any]] = []
    if db is not None:
        reasons, explained = evidence.explain(con, {k: v.get("_disagreements", []) for k, v in labels.items()})
    con.close()

    split = parts["split"]
    leaks = split.get("patients_in_two_splits", {})
    summary = {
        "files_only_ours": len(files.only_ours), "files_only_theirs": len(files.only_theirs),
        "files_differ": len(files.differ), "files_same": len(files.same), "files_unreadable": len(files.unreadable),
        "jpgs_only_ours": sum(map(is_jpg, files.only_ours)), "jpgs_only_theirs": sum(map(is_jpg, files.only_theirs)),
        "jpgs_compared": jpgs["compared"], "jpgs_differ": jpgs["differ"],
        "jpgs_undecodable": len(jpgs["undecodable"]), "jpgs_shape_differs": jpgs["shape_differs"],
        "jpgs_max_abs": jpgs["max_abs"],
    }
    for name, part in parts.items():
        summary |= {f"{name}_rows_only_ours": part["only_ours"], f"{name}_rows_only_theirs": part["only_theirs"],
                    f"{name}_rows_differ": part["rows_differ"], f"{name}_values_differ": part["values_differ"]}
    summary |= {"split_moves": split.get("moved", 0), "patients_in_two_splits_ours": leaks.get("ours", 0),
                "patients_in_two_splits_theirs": leaks.get("theirs", 0)}
    for name, part in labels.items():
        if "missing" in part:
            summary[f"{name}_missing"] = part["missing"]
            continue
        summary |= {f"{name}_rows_only_ours": part["only_ours"], f"{name}_rows_only_theirs": part["only_theirs"],
                    f"{name}_labels_differ": part["disagree"]}
    for name, part in lists.items():
        summary[f"{name}_lines_only_ours"] = part["only_ours"]
        summary[f"{name}_lines_only_theirs"] = part["only_theirs"]
    identical = not (files.only_ours or files.only_theirs or files.differ or files.unreadable)
    report: dict[str, Any] = {
        "format": FORMAT, "ours": str(ours), "theirs": str(theirs), "identical": identical,
        "summary": summary,
        "files": {"only_ours": _cap(files.only_ours), "only_theirs": _cap(files.only_theirs),
                  "differ": _cap(files.differ), "unreadable": _cap(files.unreadable), "same": len(files.same),
                  "hashed": files.hashed, "by_checksums": files.by_checksums},
        "jpgs": jpgs,
        "lists": lists,
        "tables": {name: _public(part) for name, part in parts.items()},
        "labels": {name: _public(part) | ({"reasons": reasons.get(name, {})} if db is not None else {})
                   for name, part in labels.items()},
        "evidence": db is not None,
    }
    return Diff(report, _csvs(files, found, jpgs, parts, labels, explained if db is not None else None))


def _csvs(files: Any, found: list[pixels.PixelDiff], jpgs: dict[str, Any], parts: dict[str, dict[str, Any]],
          labels: dict[str, dict[str, Any]], explained: list[dict[str, Any]] | None,
          ) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Every row behind the report, one CSV per kind."""
    csvs: dict[str, tuple[list[str], list[list[Any]]]] = {}
    status = ([[p, "only_ours"] for p in files.only_ours] + [[p, "only_theirs"] for p in files.only_theirs]
              + [[p, "differ"] for p in files.differ] + [[u["path"], f"unreadable_{u['side']}"]
                                                        for u in files.unreadable])
    csvs["files.csv"] = (["path", "status"], sorted(status))
    csvs["jpg_differences.csv"] = (
        ["path", "max_abs", "mean_abs", "share_differ", "shape_ours", "shape_theirs", "error"],
        [[r.path, r.max_abs, r.mean_abs, r.share_differ, "x".join(map(str, r.shape_ours or ())),
          "x".join(map(str, r.shape_theirs or ())), r.error] for r in found])
    csvs["pixel_histogram.csv"] = (["abs_difference", "pixels"], [[i, n] for i, n in enumerate(jpgs["histogram"])])
    csvs["rows_only.csv"] = (["table", "side", "key"], [[name, r["side"], r["key"]] for name, part in
                                                         {**parts, **labels}.items() for r in part.get("_only", [])])
    csvs["value_differences.csv"] = (["table", "column", "key", "ours", "theirs"], [
        [name, r["column"], r["key"], r["ours"], r["theirs"]] for name, part in parts.items()
        for r in part["_differences"]])
    csvs["patients_in_two_splits.csv"] = (["side", "subject_id", "splits", "images"], [
        [r["side"], r["subject_id"], r["splits"], r["images"]] for r in parts["split"].get("_leaks", [])])
    confusion, agreement, disagreements = [], [], []
    for name, part in labels.items():
        for obs in part.get("observations", []):
            confusion += [[name, obs["observation"], o, t, obs["table"][i][j]]
                          for i, o in enumerate(tables.VALUES) for j, t in enumerate(tables.VALUES)]
            agreement.append([name, obs["observation"], obs["compared"], obs["compared"] - obs["disagree"],
                              obs["disagree"], obs["agreement"], obs["kappa"], obs["invalid_ours"],
                              obs["invalid_theirs"]])
        disagreements += [[name, r["subject_id"], r["study_id"], r["observation"], r["ours"], r["theirs"]]
                          for r in part.get("_disagreements", [])]
    csvs["label_confusion.csv"] = (["labeler", "observation", "ours", "theirs", "studies"], confusion)
    csvs["label_agreement.csv"] = (["labeler", "observation", "compared", "agree", "disagree", "agreement", "kappa",
                                    "invalid_ours", "invalid_theirs"], agreement)
    columns = ["labeler", "subject_id", "study_id", "observation", "ours", "theirs"]
    if explained is None:
        csvs["label_disagreements.csv"] = (columns, disagreements)
    else:
        extra = ["rule", "rules", "phrase", "sentence", "catalog_value", "explained"]
        order = {(r[0], r[3], r[2]): i for i, r in enumerate(disagreements)}
        rows = sorted(explained, key=lambda r: order.get((r["labeler"], r["observation"], r["study_id"]), 0))
        csvs["label_disagreements.csv"] = (columns + extra, [[r[c] for c in columns + extra] for r in rows])
    return csvs


def label_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Per observation, each labeler's agreement and kappa: the terminal's labels table."""
    labelers = [name for name, part in report["labels"].items() if "observations" in part]
    columns = ["observation"] + [f"{name} {what}" for name in labelers for what in ("agree", "kappa", "differ")]
    by_obs: dict[str, list[Any]] = {}
    for i, name in enumerate(labelers):
        for obs in report["labels"][name]["observations"]:
            row = by_obs.setdefault(obs["observation"], [obs["observation"]] + [""] * (3 * len(labelers)))
            row[1 + 3 * i:4 + 3 * i] = [_share(obs["agreement"]), _fixed(obs["kappa"]), obs["disagree"]]
    return columns, list(by_obs.values())


def _share(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _fixed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def summary_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The terminal's one table: per kind of thing, how many are only in ours / only in theirs / differ / same."""
    s, jpgs = report["summary"], report["jpgs"]
    rows: list[list[Any]] = [
        ["files", s["files_only_ours"], s["files_only_theirs"], s["files_differ"] + s["files_unreadable"],
         s["files_same"]],
        ["JPGs (bytes)", s["jpgs_only_ours"], s["jpgs_only_theirs"], jpgs["differ"], jpgs["identical"]],
    ]
    for name, part in report.get("lists", {}).items():
        rows.append([f"{name} lines", part["only_ours"], part["only_theirs"], "",
                     min(part["lines_ours"], part["lines_theirs"]) - max(part["only_ours"], part["only_theirs"])])
    for name, part in report["tables"].items():
        if part.get("error_ours") or part.get("error_theirs"):
            rows.append([f"{name} rows", part.get("error_ours", ""), part.get("error_theirs", ""), "", ""])
            continue
        rows.append([f"{name} rows", part["only_ours"], part["only_theirs"], part["rows_differ"],
                     part["rows_both"] - part["rows_differ"]])
    split = report["tables"]["split"].get("patients_in_two_splits")
    if split:
        rows.append(["patients in two splits", split["ours"], split["theirs"], "", ""])
    for name, part in report["labels"].items():
        if part.get("error_ours") or part.get("error_theirs"):
            rows.append([f"{name} labels", part.get("error_ours", ""), part.get("error_theirs", ""), "", ""])
            continue
        if "missing" in part:
            rows.append([f"{name} labels", "missing" if part["missing"] in ("theirs", "both") else "",
                         "missing" if part["missing"] in ("ours", "both") else "", "", ""])
            continue
        compared = sum(o["compared"] for o in part["observations"])
        rows.append([f"{name} labels", part["only_ours"], part["only_theirs"], part["disagree"],
                     compared - part["disagree"]])
    return ["", "only in ours", "only in theirs", "differ", "same"], rows
