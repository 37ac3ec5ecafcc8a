"""The diff report page: every section, counts, escaping, caps, determinism, heat-map colours, and Chromium."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from _browser import dump_dom, find_chromium, screenshot

from cxrdb.diff.html import CAP, heat_colour, render

HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
OBSERVATIONS = ["Atelectasis", "Cardiomegaly"]


def _labeler(obs_tables: list[list[list[int]]], reasons: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "file_ours": "mimic-cxr-2.0.0-chexpert.csv.gz", "file_theirs": "mimic-cxr-2.0.0-chexpert.csv.gz",
        "rows_ours": 30, "rows_theirs": 30, "only_ours": 0, "only_theirs": 0,
        "examples_only_ours": [], "examples_only_theirs": [], "values": ["1.0", "0.0", "-1.0", "blank"],
        "observations": [
            {"observation": name, "table": table, "agreement": 0.9667, "kappa": 0.93 if i == 0 else None,
             "disagree": 1, "examples": [{"subject_id": "10000032", "study_id": "50414267", "ours": "1.0",
                                          "theirs": "blank"}]}
            for i, (name, table) in enumerate(zip(OBSERVATIONS, obs_tables, strict=True))],
    }
    if reasons:
        out["reasons"] = {"Atelectasis": {
            "disagree": 1, "explained": 1, "rules": [{"rule": "mention", "n": 1, "ours": "1.0", "theirs": "blank"}],
            "sentences": [{"sentence": f"There is mild bibasilar atelectasis. {HOSTILE}", "n": 1}],
            "examples": [{"study_id": "50414267", "ours": "1.0", "theirs": "blank", "rule": "mention",
                          "phrase": "atelectasis", "sentence": f"There is mild bibasilar atelectasis. {HOSTILE}"}]}}
    return out


def make_report() -> dict[str, Any]:
    """A report like the core's sample contract, with a hostile string in a path, a value and a sentence."""
    hist = [0] * 256
    hist[:6] = [5_000_000, 400_000, 20_000, 900, 40, 1]
    hist[37] = 3
    return {
        "format": 1, "ours": f"/data/rebuild/{HOSTILE}", "theirs": "/data/mimic-cxr-jpg-2.1.0", "identical": False,
        "summary": {"files_only_ours": 1, "files_only_theirs": 2, "files_differ": 5, "files_same": 60,
                    "jpgs_compared": 51, "jpgs_differ": 2, "metadata_rows_only_ours": 0,
                    "metadata_rows_only_theirs": 1, "metadata_values_differ": 3, "split_moves": 4,
                    "patients_in_two_splits_ours": 0, "patients_in_two_splits_theirs": 1,
                    "chexpert_labels_differ": 7, "negbio_labels_differ": 2},
        "files": {"only_ours": ["README"], "only_theirs": ["LICENSE.txt", f"files/p10/{HOSTILE}.jpg"],
                  "differ": ["files/p10/p10000032/s50414267/02aa804e.jpg", "mimic-cxr-2.0.0-metadata.csv.gz"],
                  "same": 60, "hashed": 4, "by_checksums": 58},
        "jpgs": {"compared": 51, "identical": 49, "differ": 2, "shape_differs": 0,
                 "undecodable": [{"path": "files/p1/x.jpg", "side": "theirs", "error": "not a JPEG"}],
                 "worst": [{"path": "files/p10/p10000032/s50414267/02aa804e.jpg", "max_abs": 37, "mean_abs": 1.92,
                            "share_differ": 0.61, "shape_ours": [2544, 3056], "shape_theirs": [2544, 3056]}],
                 "histogram": hist},
        "tables": {
            "metadata": {
                "file_ours": "mimic-cxr-2.0.0-metadata.csv.gz", "file_theirs": "mimic-cxr-2.0.0-metadata.csv.gz",
                "key": ["dicom_id"], "rows_ours": 51, "rows_theirs": 52, "only_ours": 0, "only_theirs": 1,
                "examples_only_ours": [], "examples_only_theirs": ["f6a2-dicom"],
                "columns_only_ours": [], "columns_only_theirs": ["ExtraColumn"],
                "columns": [
                    {"column": "ViewPosition", "differ": 2,
                     "examples": [{"key": "02aa804e", "ours": "PA", "theirs": HOSTILE}]},
                    {"column": "Rows", "differ": 1,
                     "examples": [{"key": "02aa804e", "ours": "2544", "theirs": "2545"}]},
                    {"column": "StudyDate", "differ": 0, "examples": []}]},
            "split": {
                "rows_ours": 51, "rows_theirs": 51, "only_ours": 0, "only_theirs": 0,
                "examples_only_ours": [], "examples_only_theirs": [],
                "moves": [{"ours": "train", "theirs": "test", "images": 3},
                          {"ours": "validate", "theirs": "train", "images": 1}],
                "moved_examples": [{"key": "02aa804e", "ours": "train", "theirs": "test"}],
                "patients_in_two_splits": {"ours": 0, "theirs": 1, "examples_ours": [],
                                           "examples_theirs": ["10000032"]}}},
        "labels": {
            "chexpert": _labeler([[[5, 0, 0, 1], [0, 3, 0, 0], [0, 0, 2, 0], [0, 0, 0, 19]],
                                  [[900, 0, 0, 0], [0, 0, 0, 0], [0, 40, 0, 0], [0, 0, 0, 0]]], reasons=True),
            "negbio": {"file_ours": None, "file_theirs": None, "missing": "ours"}},
    }


def _empty_report() -> dict[str, Any]:
    return {"format": 1, "ours": "/a", "theirs": "/b", "identical": True, "summary": {},
            "files": {"only_ours": [], "only_theirs": [], "differ": [], "same": 0, "hashed": 0, "by_checksums": 0},
            "jpgs": {"compared": 0, "identical": 0, "differ": 0, "undecodable": [], "shape_differs": 0, "worst": [],
                     "histogram": [0] * 256},
            "tables": {}, "labels": {}}


def _cells(page: str) -> list[tuple[str, str, int]]:
    """(kind d/o, background colour, count) of every heat-map cell in page order."""
    return [(k, bg, int(n.replace(",", ""))) for k, bg, n in
            re.findall(r'<td class="([do])" style="background:(#[0-9a-f]{6});[^"]*">([\d,]+)</td>', page)]


def test_every_section_and_its_counts() -> None:
    page = render(make_report())
    for anchor in ("summary", "files", "jpgs", "table-metadata", "table-split", "labels"):
        assert f'<section id="{anchor}">' in page
    assert "the releases differ" in page and "identical</span>" not in page
    assert '<td>metadata values differ</td><td class="n nz">3</td>' in page
    assert '<td>files same</td><td class="n">60</td>' in page  # not a difference: not highlighted
    assert "<code>LICENSE.txt</code>" in page and "<code>README</code>" in page
    assert "<td>not a JPEG</td>" in page
    assert '<td class="n">37</td><td class="n">1.92</td><td>61.00%</td><td>2544×3056</td>' in page
    assert "<td>ViewPosition</td><td class=\"n\">2</td>" in page and "ExtraColumn" in page
    assert '<td>train</td><td>test</td><td class="n">3</td>' in page
    assert "<td>Atelectasis</td><td class=\"n\">1</td><td>96.67%</td><td>0.930</td>" in page
    assert "<td>Cardiomegaly</td><td class=\"n\">1</td><td>96.67%</td><td>—</td>" in page  # kappa None
    assert "1 of 1 disagreements explained" in page and "<td>mention</td>" in page
    counts = [n for _, _, n in _cells(page)]
    assert counts == [5, 0, 0, 1, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 19,
                      900, 0, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0]


def test_hostile_strings_are_escaped() -> None:
    page = render(make_report())
    assert "<script" not in page and "<img" not in page and "onerror=alert(1)>" not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img src=x onerror=alert(1)&gt;"
    assert page.count(escaped) == 6  # title, ours path, file path, metadata value, sentence, example sentence
    assert escaped in page.split("<title>")[1].split("</title>")[0]


def test_missing_labeler_is_said_not_compared() -> None:
    page = render(make_report())
    assert "<h3>negbio</h3><p class=\"nz\">label file missing in ours: not compared</p>" in page
    report = make_report()
    report["labels"]["negbio"]["missing"] = "both"
    assert "label file missing in both releases" in render(report)


def test_empty_report() -> None:
    page = render(_empty_report())
    assert '<span class="verdict same">identical</span>' in page
    assert "no differing pixels" in page and "<svg" not in page
    none = '<p class="muted">none</p>'
    for heading in ("<h2>Summary</h2>", "<h3>Only in ours</h3>", "<h3>Only in theirs</h3>", "<h3>Differ</h3>",
                    "<h3>Undecodable</h3>", "<h3>Most different images</h3>", "<h2>Labels</h2>"):
        assert heading + none in page
    assert page.count(none) == 7 and "<section id=\"table-" not in page


def test_long_lists_are_capped() -> None:
    report = make_report()
    report["files"]["only_ours"] = [f"files/extra/{i:04d}.jpg" for i in range(CAP + 70)]
    page = render(report)
    assert f"files/extra/{CAP - 1:04d}.jpg" in page and f"files/extra/{CAP:04d}.jpg" not in page
    assert "… and 70 more" in page


def test_same_dict_same_bytes() -> None:
    report = make_report()
    again = json.loads(json.dumps(copy.deepcopy(report)))
    assert render(report).encode() == render(again).encode()


def test_heat_map_colours() -> None:
    cells = _cells(render(make_report()))
    by_count = {(kind, n): bg for kind, bg, n in cells[:16]}  # Atelectasis: no zero on the diagonal
    zeros = {(kind, n): bg for kind, bg, n in cells[16:] if n == 0}  # Cardiomegaly: zeros on and off it
    assert by_count[("d", 19)] != zeros[("d", 0)] != zeros[("o", 0)] != by_count[("o", 1)]
    assert by_count[("o", 1)] != by_count[("o", 0)]
    assert by_count[("d", 19)] == heat_colour(19, 19, True) and by_count[("o", 1)] == heat_colour(1, 19, False)
    r, g, b = (int(by_count[("d", 19)][i:i + 2], 16) for i in (1, 3, 5))
    r2, g2, b2 = (int(by_count[("o", 1)][i:i + 2], 16) for i in (1, 3, 5))
    assert g > r and g > b and r2 > g2 and r2 > b2  # agreement green, disagreement red


def test_histogram_svg_log_axis() -> None:
    page = render(make_report())
    svg = page[page.index("<svg"):page.index("</svg>")]
    assert svg.count("<rect") == 7  # one bar per non-empty bin
    assert "pixels (log scale)" in svg and "|ours − theirs| (grey levels)" in svg
    for tick in ("1", "10", "100", "1k", "10k", "100k", "1M", "10M"):
        assert f">{tick}</text>" in svg
    heights = {int(b): float(h) for h, b in
               re.findall(r'height="([\d.]+)" fill="#2166ac"><title>\|diff\| = (\d+):', svg)}
    assert sorted(heights) == [0, 1, 2, 3, 4, 5, 37]
    assert heights[0] > heights[1] > heights[2] > heights[3] > heights[4] > heights[5] > 0  # one pixel still shows
    assert 0 < heights[37] < heights[4]


def test_page_is_self_contained() -> None:
    page = render(make_report())
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"]  # the SVG namespace only
    assert "url(" not in page and "@import" not in page


def _pixels_of(image: np.ndarray, colour: str) -> int:
    """How many pixels of a BGR image are within 2 levels of an #rrggbb colour."""
    bgr = np.array([int(colour[i:i + 2], 16) for i in (5, 3, 1)], dtype=int)
    return int((np.abs(image.astype(int) - bgr).max(axis=2) <= 2).sum())


def _shoot(browser: str, page: str, folder: Path, name: str) -> np.ndarray:
    """Screenshot ``page`` at 1280x2000 in Chromium; the decoded BGR pixels."""
    html = folder / f"{name}.html"
    html.write_text(page, encoding="utf-8")
    png = folder / f"{name}.png"
    screenshot(browser, html, png, size=(1280, 2000))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == (2000, 1280, 3)
    return img


@pytest.mark.browser
def test_chromium_renders_the_tables(tmp_path: Path) -> None:
    browser = find_chromium()
    if browser is None:
        pytest.skip("no chromium / chromium-browser / google-chrome on PATH (apt-get install chromium)")
    page = render(make_report())
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    dom = dump_dom(browser, tmp_path / "report.html", tmp_path / "dom")
    assert dom.count("<table") == page.count("<table") > 10
    assert len(re.findall(r'<td class="[do]" style="background:#', dom)) == 32
    assert "<script" not in dom  # the hostile strings stayed text after parsing

    top = _shoot(browser, page, tmp_path, "report")  # header, summary, files, JPGs
    assert (top != 255).any(axis=2).mean() > 0.02 and len(np.unique(top.reshape(-1, 3), axis=0)) > 50
    assert _pixels_of(top, "#eeeeee") > 5000  # the table header cells
    assert _pixels_of(top, "#ca0020") > 1000  # the "differ" badge
    assert _pixels_of(top, "#2166ac") > 300  # the histogram bars

    # a release pair that differs only in labels: the heat maps fit in the first 2000 px; the control hides tables
    labels_only = {**_empty_report(), "identical": False, "labels": make_report()["labels"]}
    maps = _shoot(browser, render(labels_only), tmp_path, "labels")
    bare = _shoot(browser, render(labels_only).replace("</style>", "table{display:none}</style>"), tmp_path, "bare")
    for colour in (heat_colour(19, 19, True), heat_colour(1, 19, False), heat_colour(40, 900, False)):
        assert _pixels_of(maps, colour) > 400, colour  # a painted cell (~44x26 px), not a speck
        assert _pixels_of(bare, colour) < 40, colour  # at most anti-aliased edges of the red badge
