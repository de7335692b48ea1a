"""One row per county: the same scenario evaluated in each of Minnesota's 87 counties."""

from __future__ import annotations

import textwrap
from typing import Any

COUNTY_W, CELL_W = 18, 20


def _cell(d: dict[str, Any]) -> str:
    return f"{d['verdict']}/{d['practice']}"


def render_county_table(results: list[dict[str, Any]], actions: list[str], fmt: str) -> str:
    """Rows of county x chosen actions, as verdict/practice (table or Markdown)."""
    first = results[0]
    if fmt == "markdown":
        out = [f"# {first.get('title', first['scenario'])}: every county", ""]
        out.append(f"Date {first['date']}, agency {first['jurisdiction']['agency']}, engine {first['engine']}.")
        out += ["", "| County | FIPS | " + " | ".join(actions) + " |", "|---|---|" + "---|" * len(actions)]
        for r in results:
            by = {d["action"]: d for d in r["decisions"]}
            cells = " | ".join(_cell(by[a]) for a in actions)
            out.append(f"| {r['jurisdiction']['county']} | {r['jurisdiction']['fips']} | {cells} |")
        return "\n".join(out) + "\n"
    out = textwrap.wrap(first.get("title", first["scenario"]), 80, subsequent_indent="  ")
    out.append(f"  {first['date']} | agency: {first['jurisdiction']['agency']} | engine: {first['engine']}")
    out.append("  cells are verdict/practice")
    out.append("")
    out.append("  " + f"{'COUNTY':<{COUNTY_W}}" + "".join(f"{a[: CELL_W - 1]:<{CELL_W}}" for a in actions).rstrip())
    for r in results:
        by = {d["action"]: d for d in r["decisions"]}
        row = f"{r['jurisdiction']['county']:<{COUNTY_W}}" + "".join(f"{_cell(by[a]):<{CELL_W}}" for a in actions)
        out.append("  " + row.rstrip())
    return "\n".join(out) + "\n"
