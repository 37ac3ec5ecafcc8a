"""Everything the CLI shows: progress bars, tables, the summary and the one red error line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

console = Console()
FREE_TEXT = {"error", "note", "examples", "sentence", "text"}  # columns that may fold on a terminal
err_console = Console(stderr=True)


@contextmanager
def progress_bars() -> Iterator[Any]:
    """Yield a ``(task, advance, total)`` callback that drives one rich bar per task name (total None: unknown)."""
    bars = Progress(
        TextColumn("[bold]{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=err_console, transient=False, disable=not err_console.is_terminal,
    )
    tasks: dict[str, Any] = {}

    def update(task: str, advance: int, total: int | None) -> None:
        if task not in tasks:
            tasks[task] = bars.add_task(task, total=total)
        bars.update(tasks[task], advance=advance, total=total)

    with bars:
        yield update


def error(message: str) -> None:
    """The one red line an expected failure prints."""
    err_console.print(Text.assemble(("error:", "bold red"), " ", message), highlight=False, soft_wrap=True)


def summary(title: str, values: dict[str, Any]) -> None:
    """A two-column key/value summary table (snake_case keys shown with spaces; file names as they are)."""
    table = Table(title=Text(title), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in values.items():
        plain = key.replace("_", "").replace(" ", "").isalnum() and key.islower()
        label = key.replace("_", " ") if plain else key
        table.add_row(Text(label), Text(str(value)))
    console.print(table)


def unique_names(columns: Sequence[str]) -> list[str]:
    """Column names made unique for JSON keys: a repeated ``name`` becomes ``name_2``, ``name_3``…"""
    taken = set(columns)
    seen: dict[str, int] = {}
    out = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        if seen[name] == 1:
            out.append(name)
            continue
        n = seen[name]
        while f"{name}_{n}" in taken:
            n += 1
        seen[name] = n
        taken.add(f"{name}_{n}")
        out.append(f"{name}_{n}")
    return out


def rows(
    columns: Sequence[str], data: Sequence[Sequence[Any]], fmt: str = "table", title: str | None = None
) -> None:
    """Print query results as a table, CSV or a JSON array. Identifiers are never wrapped or cut: a table that
    goes to a pipe or file is as wide as its content; on a terminal only free-text columns fold."""
    fmt = getattr(fmt, "value", fmt)
    if fmt == "csv":
        from .export import csv_bytes

        sys.stdout.write(csv_bytes(columns, data).decode("utf-8"))
    elif fmt == "json":
        keys = unique_names(columns)
        out = [dict(zip(keys, r, strict=True)) for r in data]
        sys.stdout.write(json.dumps(out, default=str, ensure_ascii=False, indent=1) + "\n")
    else:
        table = Table(title=Text(title) if title else None, title_justify="left")
        for c in columns:
            free_text = c in FREE_TEXT and console.is_terminal
            table.add_column(Text(c), overflow="fold" if free_text else "ignore", no_wrap=not free_text)
        for r in data:
            table.add_row(*(Text("" if v is None else str(v)) for v in r))  # values are data, never markup
        target = console if console.is_terminal else Console(width=1 << 16, highlight=False)
        target.print(table, crop=False)


def note(message: str, ok: bool = True) -> None:
    """One closing line: green when all is well, yellow when there is something to look at."""
    console.print(Text(message, style="bold green" if ok else "bold yellow"), highlight=False, soft_wrap=True)
