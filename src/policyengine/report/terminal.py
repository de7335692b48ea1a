"""Tables for a terminal: rich, fitted to the terminal's width, when standard output is one;
plain text when it is piped or redirected, or when NO_COLOR is set (https://no-color.org).

Any view with rows to show (the run table, the county table, a matrix) renders through
`render_rows`, so they all decide the same way and fit the same width.
"""

from __future__ import annotations

import io
import os
import sys
import textwrap
from dataclasses import dataclass, field
from typing import IO

PLAIN_WIDTH = 80

VERDICT_STYLES = {
    "prohibited": "bold red",
    "required": "bold green",
    "permitted": "cyan",
    "contested": "bold yellow",
    "conflict": "bold magenta",
    "not_addressed": "dim",
    "does": "green",
    "does_not": "red",
    "unknown": "dim",
}


def rich_enabled(stream: IO[str] | None = None) -> bool:
    """Rich output only to a terminal, and never with NO_COLOR set or TERM=dumb."""
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def width(stream: IO[str] | None = None) -> int:
    """The terminal's width; COLUMNS or 80 columns when the output is not a terminal."""
    if rich_enabled(stream):
        import shutil  # only on a terminal (shutil imports the compression modules)

        return shutil.get_terminal_size((PLAIN_WIDTH, 24)).columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) >= 40 else PLAIN_WIDTH


@dataclass
class Rows:
    """A titled table: header cells, rows of cells, and optional notes under each row."""

    title: str
    caption: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[list[str]] = field(default_factory=list)

    def add(self, cells: list[str], notes: list[str] | None = None) -> None:
        self.rows.append(cells)
        self.notes.append(notes or [])


RICH_MIN_WIDTH = 80  # narrower, a boxed table would crop its cells: plain text wraps instead


def render_rows(table: Rows, rich: bool, columns: int) -> str:
    """The table as rich text fitted to `columns`, or as plain text wrapped to `columns`."""
    return _rich(table, columns) if rich and columns >= RICH_MIN_WIDTH else _plain(table, columns)


def _plain(table: Rows, columns: int) -> str:
    out = textwrap.wrap(table.title, columns, subsequent_indent="  ")
    out += textwrap.wrap(table.caption, columns, initial_indent="  ", subsequent_indent="  ")
    out.append("")
    widths = [max(len(h), *(len(r[i]) for r in table.rows)) + 2 for i, h in enumerate(table.headers)]
    out.append(("  " + "".join(f"{h:<{w}}" for h, w in zip(table.headers, widths, strict=True))).rstrip())
    indent = " " * 6
    for cells, notes in zip(table.rows, table.notes, strict=True):
        out.append(("  " + "".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))).rstrip())
        for note in notes:
            out += textwrap.wrap(note, columns, initial_indent=indent, subsequent_indent=indent + "  ")
    return "\n".join(out)


def _rich(table: Rows, columns: int) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=table.title, caption=table.caption, expand=False, show_lines=False, title_justify="left")
    for header in table.headers:
        grid.add_column(header, overflow="fold")
    if any(table.notes):
        grid.add_column("BASIS", ratio=1, min_width=16, overflow="fold")
    for cells, notes in zip(table.rows, table.notes, strict=True):
        row = [Text(c, style=VERDICT_STYLES.get(c, "")) for c in cells]
        if any(table.notes):
            row.append(Text("\n".join(notes)))
        grid.add_row(*row)
    buffer = io.StringIO()
    console = Console(file=buffer, width=columns, force_terminal=True, no_color=False, highlight=False)
    console.print(grid)
    return buffer.getvalue().rstrip("\n")
