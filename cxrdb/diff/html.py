"""The diff report as one self-contained HTML page: no network, no scripts, inline CSS and SVG.

``render(report)`` reads the JSON-able dict the comparison core produces and returns the page; every string
from the report is escaped, and the same dict gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

CAP = 50  # longest list or table shown; the rest is counted
VALUES = ["1.0", "0.0", "-1.0", "blank"]
DIAGONAL_RGB = (27, 120, 55)  # agreement cells: white -> green by count
OFF_DIAGONAL_RGB = (202, 0, 32)  # disagreement cells: white -> red by count
ZERO_RGB = {True: (238, 245, 240), False: (255, 255, 255)}  # count 0: faint green on the diagonal, else white
SAME_KEYS = {"files_same", "jpgs_compared"}  # summary counts that are not differences

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:24px auto;
max-width:1200px;padding:0 16px}
h1{font-size:24px;margin:0 0 6px}h2{font-size:19px;border-bottom:2px solid #ccc;padding-bottom:3px;margin-top:28px}
h3{font-size:16px;margin:18px 0 6px}h4{font-size:14px;margin:12px 0 4px}
table{border-collapse:collapse;margin:6px 0 12px}th,td{border:1px solid #bbb;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:bold;color:#fff}
.same{background:#1b7837}.differ{background:#ca0020}.nz{font-weight:bold;color:#ca0020}
.muted{color:#666}.more{color:#666;font-style:italic}
.cols{display:flex;flex-wrap:wrap;gap:0 32px}.cols>div{flex:1 1 300px;min-width:0}ul{margin:4px 0;padding-left:20px}
.maps{display:flex;flex-wrap:wrap;gap:6px 18px}.map{break-inside:avoid}
table.hm td{width:44px;height:26px;text-align:center;padding:0;font-variant-numeric:tabular-nums}
table.hm td.d{border:2px solid #1b7837}table.hm th{font-weight:normal;font-size:12px;padding:2px 5px}
svg text{font:11px system-ui,Helvetica,Arial,sans-serif;fill:#222}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg{break-inside:avoid}}
"""


def _e(value: Any) -> str:
    """Escaped text of any value (None shows as an em dash)."""
    return "—" if value is None else escape(str(value), quote=True)


def _num(value: Any) -> str:
    """Integers with thousands separators, floats to 4 significant digits, the rest as text."""
    if isinstance(value, bool) or value is None:
        return _e(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return _e(value)


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.2f}%"


def _shape(value: Any) -> str:
    return "—" if not value else "×".join(_e(v) for v in value)


def _cell(value: Any, raw: bool = False) -> str:
    """A <td>: numbers right-aligned, ``raw`` HTML as is, anything else escaped."""
    if raw:
        return f"<td>{value}</td>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<td class="n">{_num(value)}</td>'
    return f"<td>{_e(value)}</td>"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw: Sequence[int] = (), cap: int = CAP) -> str:
    """An HTML table of at most ``cap`` rows (then a line saying how many more); columns in ``raw`` hold HTML."""
    rows = list(rows)
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(_cell(v, i in raw) for i, v in enumerate(row)) + "</tr>" for row in rows[:cap]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{_more(len(rows), cap)}"


def _more(total: int, cap: int) -> str:
    return f'<p class="more">… and {total - cap:,} more</p>' if total > cap else ""


def _list(items: Sequence[Any] | None, cap: int = CAP, total: int | None = None) -> str:
    """A bulleted list of code-formatted items, capped; ``total``: how many there are when ``items`` is itself
    a capped list (report.json caps its path lists)."""
    items = list(items or [])
    if not items:
        return '<p class="muted">none</p>'
    lis = "".join(f"<li><code>{_e(i)}</code></li>" for i in items[:cap])
    return f"<ul>{lis}</ul>{_more(max(len(items), total or 0), cap)}"


def _kv(pairs: Iterable[tuple[str, Any]]) -> str:
    """A one-row table: the labels as headers over their values."""
    pairs = list(pairs)
    head = "".join(f"<th>{_e(k)}</th>" for k, _ in pairs)
    return f"<table><thead><tr>{head}</tr></thead><tbody><tr>{''.join(_cell(v) for _, v in pairs)}</tr></tbody></table>"


def _tick(n: int) -> str:
    """A power of ten as 1, 10, 100, 1k … 1M … 1G."""
    for size, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if n >= size:
            return f"{n // size}{suffix}"
    return str(n)


def _humane(key: str) -> str:
    return key.replace("_", " ")


def heat_colour(count: int, top: int, diagonal: bool) -> str:
    """Cell colour: white for 0, then towards green (diagonal) or red (off-diagonal) on a log scale of count."""
    if count <= 0 or top <= 0:
        return "#{:02x}{:02x}{:02x}".format(*ZERO_RGB[diagonal])
    t = 0.25 + 0.75 * math.log1p(count) / math.log1p(top)
    base = DIAGONAL_RGB if diagonal else OFF_DIAGONAL_RGB
    rgb = [round(255 + (b - 255) * t) for b in base]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _heatmap(title: str, table: Sequence[Sequence[int]], values: Sequence[str]) -> str:
    """The confusion table (rows ours, columns theirs) as a table of cells coloured by count."""
    top = max((c for row in table for c in row), default=0)
    head = "".join(f"<th>{_e(v)}</th>" for v in values)
    rows = []
    for i, row in enumerate(table):
        cells = []
        for j, count in enumerate(row):
            colour = heat_colour(count, top, i == j)
            dark = count and math.log1p(count) / math.log1p(top) > 0.5
            ink = "#fff" if dark else "#222" if count else "#999"
            kind = "d" if i == j else "o"
            cells.append(f'<td class="{kind}" style="background:{colour};color:{ink}">{count:,}</td>')
        label = values[i] if i < len(values) else i
        rows.append(f"<tr><th>{_e(label)}</th>{''.join(cells)}</tr>")
    return (f'<div class="map"><h4>{_e(title)}</h4><table class="hm"><thead><tr><th>ours ↓ theirs →</th>{head}'
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def histogram_svg(counts: Sequence[int], width: int = 900, height: int = 260) -> str:
    """Inline SVG bar chart of pixel counts per |ours - theirs| value, log-scale y axis with labelled axes."""
    if not any(counts):
        return '<p class="muted">no differing pixels</p>'
    left, right, top, bottom = 64, 12, 12, 44
    pw, ph = width - left - right, height - top - bottom
    decades = max(1, math.ceil(math.log10(max(counts) + 1)))
    floor = math.log10(0.5)  # the axis starts below 1 so that a bin of one pixel still shows
    bar = pw / len(counts)

    def y(c: float) -> float:
        return top + ph - ph * (math.log10(c) - floor) / (decades - floor)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="histogram of absolute pixel differences">']
    for d in range(decades + 1):
        yy = y(10**d)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{_tick(10**d)}</text>')
    for i, c in enumerate(counts):
        if c >= 1:
            yy = y(c)
            parts.append(f'<rect x="{left + i * bar:.2f}" y="{yy:.1f}" width="{max(bar - 0.5, 0.8):.2f}" '
                         f'height="{top + ph - yy:.1f}" fill="#2166ac"><title>|diff| = {i}: {c:,} pixels</title>'
                         f"</rect>")
    step = 32 if len(counts) > 64 else max(1, len(counts) // 8)
    for i in range(0, len(counts), step):
        xx = left + (i + 0.5) * bar
        parts.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top + ph}" y2="{top + ph + 4}" stroke="#222"/>'
                     f'<text x="{xx:.1f}" y="{top + ph + 16}" text-anchor="middle">{i}</text>')
    parts.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#222"/>'
                 f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#222"/>'
                 f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">'
                 f"|ours − theirs| (grey levels)</text>"
                 f'<text transform="translate(14 {top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
                 f"pixels (log scale)</text></svg>")
    return "".join(parts)


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _summary(summary: dict[str, Any]) -> str:
    """The summary counts; a non-zero count of differences is bold red."""
    rows = []
    for key, value in summary.items():
        hot = isinstance(value, int) and value and key not in SAME_KEYS
        rows.append(f'<tr><td>{_e(_humane(key))}</td><td class="n{" nz" if hot else ""}">{_num(value)}</td></tr>')
    if not rows:
        return '<p class="muted">none</p>'
    return f'<table><thead><tr><th></th><th>count</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _header(report: dict[str, Any]) -> str:
    same = bool(report.get("identical"))
    verdict = ('<span class="verdict same">identical</span>' if same
               else '<span class="verdict differ">the releases differ</span>')
    return (f"<header><h1>cxrdb diff</h1><p>{verdict}</p>"
            f"<p>ours: <code>{_e(report.get('ours'))}</code><br>theirs: <code>{_e(report.get('theirs'))}</code></p>"
            "</header>")


def _files(files: dict[str, Any], summary: dict[str, Any]) -> str:
    keys = ("only_ours", "only_theirs", "differ")
    total = {key: summary.get(f"files_{key}", len(files.get(key, []))) for key in keys}
    counts = _kv([("same", files.get("same", 0)), ("compared by hashing", files.get("hashed", 0)),
                  ("compared by checksum list", files.get("by_checksums", 0)),
                  ("only in ours", total["only_ours"]), ("only in theirs", total["only_theirs"]),
                  ("differ", total["differ"])])
    lists = "".join(f"<div><h3>{title}</h3>{_list(files.get(key), total=total[key])}</div>" for key, title in
                    (("only_ours", "Only in ours"), ("only_theirs", "Only in theirs"), ("differ", "Differ")))
    unreadable = files.get("unreadable") or []
    bad = ("<h3>Unreadable</h3>" + _table(["path", "side", "error"], [(u.get("path"), u.get("side"), u.get("error"))
                                                                     for u in unreadable]) if unreadable else "")
    return f'{counts}<div class="cols">{lists}</div>{bad}'



def _lists(lists: dict[str, Any]) -> str:
    """The image lists (IMAGE_FILENAMES...): lines only in one side, repeated lines, same order."""
    out = []
    for name, part in lists.items():
        out.append(f"<h3>{_e(name)}</h3>" + _kv([
            ("lines ours", part.get("lines_ours", 0)), ("lines theirs", part.get("lines_theirs", 0)),
            ("only in ours", part.get("only_ours", 0)), ("only in theirs", part.get("only_theirs", 0)),
            ("repeated in ours", part.get("repeated_ours", 0)), ("repeated in theirs", part.get("repeated_theirs", 0)),
            ("same order", {True: "yes", False: "no"}.get(part.get("same_order"), "—"))]))
        for side in ("ours", "theirs"):
            if part.get(f"error_{side}"):
                out.append(f'<p class="nz">{side}: {_e(part[f"error_{side}"])}</p>')
            if part.get(f"examples_only_{side}"):
                out.append(f"<h4>Only in {side} (examples)</h4>" + _list(part[f"examples_only_{side}"]))
    return "".join(out)


def _jpgs(jpgs: dict[str, Any]) -> str:
    undecodable = jpgs.get("undecodable", [])
    counts = _kv([("compared", jpgs.get("compared", 0)), ("identical pixels", jpgs.get("identical", 0)),
                  ("pixels differ", jpgs.get("differ", 0)), ("shape differs", jpgs.get("shape_differs", 0)),
                  ("undecodable", len(undecodable))])
    bad = _table(["path", "side", "error"], [(u.get("path"), u.get("side"), u.get("error")) for u in undecodable])
    worst = _table(
        ["path", "max |diff|", "mean |diff|", "pixels differing", "shape ours", "shape theirs"],
        [(f"<code>{_e(w.get('path'))}</code>", w.get("max_abs"), w.get("mean_abs"), _pct(w.get("share_differ")),
          _shape(w.get("shape_ours")), _shape(w.get("shape_theirs"))) for w in jpgs.get("worst", [])],
        raw=(0, 3, 4, 5))
    shapes = jpgs.get("shape_examples") or []
    if shapes:
        worst += "<h3>Images whose shape differs</h3>" + _table(
            ["path", "shape ours", "shape theirs"],
            [(f"<code>{_e(x.get('path'))}</code>", _shape(x.get("shape_ours")), _shape(x.get("shape_theirs")))
             for x in shapes], raw=(0, 1, 2))
    return (counts + "<h3>Undecodable</h3>" + bad + "<h3>Most different images</h3>" + worst
            + "<h3>Distribution of |pixel difference| (equal-shape images whose bytes differ)</h3>"
            + histogram_svg(jpgs.get("histogram") or []))


def _table_common(t: dict[str, Any]) -> str:
    """What every compared table has: files, key, row counts, rows and columns only in one side."""
    key = ", ".join(str(k) for k in t.get("key", []))
    counts = _kv([("file ours", t.get("file_ours")), ("file theirs", t.get("file_theirs")), ("key", key or None),
                  ("rows ours", t.get("rows_ours")), ("rows theirs", t.get("rows_theirs")),
                  ("rows only in ours", t.get("only_ours", 0)), ("rows only in theirs", t.get("only_theirs", 0))])
    out = [counts]
    for side in ("ours", "theirs"):
        if t.get(f"error_{side}"):
            out.append(f'<p class="nz">{side}: {_e(t[f"error_{side}"])}</p>')
        flaws = [(what, t.get(f"{key}_{side}", 0)) for key, what in (
            ("duplicate_keys", "keys held more than once (the first row compared)"),
            ("rows_without_key", "rows without a key (not compared)")) if t.get(f"{key}_{side}")]
        for what, n in flaws:
            out.append(f'<p class="nz">{side}: {_num(n)} {_e(what)}</p>')
        if t.get(f"examples_only_{side}"):
            out.append(f"<h4>Rows only in {side} (examples)</h4>" + _list(t[f"examples_only_{side}"]))
        if t.get(f"columns_only_{side}"):
            out.append(f"<h4>Columns only in {side}</h4>" + _list(t[f"columns_only_{side}"]))
    return "".join(out)


def _examples(examples: Sequence[dict[str, Any]], cap: int = 5) -> str:
    """Inline "key: ours → theirs" lines for a table cell."""
    lines = [f"<code>{_e(x.get('key'))}</code>: {_e(x.get('ours'))} → {_e(x.get('theirs'))}" for x in examples[:cap]]
    return "<br>".join(lines) + (f'<br><span class="more">… {len(examples) - cap} more</span>'
                                 if len(examples) > cap else "")


def _metadata(t: dict[str, Any]) -> str:
    cols = _table(["column", "values differ", "examples"],
                  [(c.get("column"), c.get("differ", 0), _examples(c.get("examples", [])))
                   for c in t.get("columns", [])],
                  raw=(2,))
    return _table_common(t) + "<h3>Values differing per column</h3>" + cols


def _split(t: dict[str, Any]) -> str:
    moves = _table(["split in ours", "split in theirs", "images"],
                   [(m.get("ours"), m.get("theirs"), m.get("images", 0)) for m in t.get("moves", [])])
    moved = _table(["key", "ours", "theirs"],
                   [(x.get("key"), x.get("ours"), x.get("theirs")) for x in t.get("moved_examples", [])])
    two = t.get("patients_in_two_splits", {})
    patients = _kv([("ours", two.get("ours", 0)), ("theirs", two.get("theirs", 0))])
    examples = "".join(f"<h4>Examples in {side}</h4>" + _list(two[f"examples_{side}"])
                       for side in ("ours", "theirs") if two.get(f"examples_{side}"))
    return (_table_common(t) + "<h3>Images that moved split</h3>" + moves + "<h4>Examples</h4>" + moved
            + "<h3>Patients in two splits</h3>" + patients + examples)


def _reasons(name: str, r: dict[str, Any]) -> str:
    rules = _table(["rule", "studies", "ours", "theirs"],
                   [(x.get("rule"), x.get("n", 0), x.get("ours"), x.get("theirs")) for x in r.get("rules", [])], cap=10)
    sentences = _table(["sentence", "studies"], [(x.get("sentence"), x.get("n", 0)) for x in r.get("sentences", [])],
                       cap=10)
    examples = _table(["study", "ours", "theirs", "rule", "phrase", "sentence"],
                      [(x.get("study_id"), x.get("ours"), x.get("theirs"), x.get("rule"), x.get("phrase"),
                        x.get("sentence")) for x in r.get("examples", [])], cap=10)
    return (f"<h4>{_e(name)}: {_num(r.get('explained', 0))} of {_num(r.get('disagree', 0))} disagreements "
            f"explained</h4><p>Top rules</p>{rules}<p>Top sentences</p>{sentences}<p>Examples</p>{examples}")


def _labeler(name: str, lab: dict[str, Any]) -> str:
    if lab.get("missing"):
        side = {"both": "both releases"}.get(lab["missing"], lab["missing"])
        return f'<h3>{_e(name)}</h3><p class="nz">label file missing in {_e(side)}: not compared</p>'
    values = lab.get("values") or VALUES
    obs = lab.get("observations", [])
    agree = _table(["observation", "studies disagree", "agreement", "Cohen's κ"],
                   [(o.get("observation"), o.get("disagree", 0), _pct(o.get("agreement")),
                     "—" if o.get("kappa") is None else f"{float(o['kappa']):.3f}") for o in obs], raw=(2, 3), cap=1000)
    invalid = [(o.get("observation"), o.get("invalid_ours", 0), o.get("invalid_theirs", 0)) for o in obs
               if o.get("invalid_ours") or o.get("invalid_theirs")]
    if invalid:
        agree += ("<p class=\"nz\">Values that are none of 1.0, 0.0, -1.0, blank (left out of the tables)</p>"
                  + _table(["observation", "invalid in ours", "invalid in theirs"], invalid))
    maps = "".join(_heatmap(o.get("observation", ""), o.get("table", []), values) for o in obs)
    disagreements = _table(["observation", "subject", "study", "ours", "theirs"],
                           [(o.get("observation"), x.get("subject_id"), x.get("study_id"), x.get("ours"),
                             x.get("theirs")) for o in obs for x in o.get("examples", [])])
    reasons = "".join(_reasons(k, v) for k, v in (lab.get("reasons") or {}).items())
    return (f"<h3>{_e(name)}</h3>" + _table_common(lab) + "<h4>Agreement per observation</h4>" + agree
            + "<h4>Confusion tables (rows ours, columns theirs; green agree, red disagree)</h4>"
            + f'<div class="maps">{maps}</div><h4>Disagreements (examples)</h4>{disagreements}'
            + (f"<h4>Why they disagree</h4>{reasons}" if reasons else ""))


def render(report: dict[str, Any]) -> str:
    """The whole report as one HTML page (UTF-8 text, no external resources, no scripts)."""
    summary = _summary(report.get("summary") or {})
    tables = report.get("tables") or {}
    sections = [
        _header(report),
        _section("summary", "Summary", summary),
        _section("files", "Files", _files(report.get("files") or {}, report.get("summary") or {})),
        *([_section("lists", "Image lists", _lists(report["lists"]))] if report.get("lists") else []),
        _section("jpgs", "JPG pixels", _jpgs(report.get("jpgs") or {})),
    ]
    for name, t in tables.items():
        body = _split(t) if name == "split" else _metadata(t) if "columns" in t else _table_common(t)
        sections.append(_section(f"table-{_e(name)}", f"Table: {name}", body))
    labels = "".join(_labeler(k, v) for k, v in (report.get("labels") or {}).items())
    sections.append(_section("labels", "Labels", labels or '<p class="muted">none</p>'))
    title = f"cxrdb diff: {report.get('ours')} vs {report.get('theirs')}"
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{CSS}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n")
