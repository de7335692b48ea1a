"""One row per county: the same scenario evaluated in each of Minnesota's 87 counties."""

from __future__ import annotations

import io
import textwrap
from typing import Any

COUNTY_W, CELL_W = 18, 20


def _cell(d: dict[str, Any]) -> str:
    return f"{d['verdict']}/{d['practice']}"


def render_county_csv(results: list[dict[str, Any]], actions: list[str]) -> str:
    """One row per county and action, with the deciding rules."""
    import csv  # only for --format csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["scenario", "date", "county", "fips", "agency", "action", "verdict", "leaning", "practice",
                     "decided_by", "practice_by"])  # fmt: skip
    for r in results:
        by = {d["action"]: d for d in r["decisions"]}
        for a in actions:
            d = by[a]
            j = r["jurisdiction"]
            writer.writerow([r["scenario"], r["date"], j["county"], j.get("fips", ""), j["agency"], a, d["verdict"],
                             d.get("leaning", ""), d["practice"], " ".join(d["decided_by"]),
                             " ".join(d.get("practice_by", []))])  # fmt: skip
    return buf.getvalue()


def render_county_table(results: list[dict[str, Any]], actions: list[str], fmt: str) -> str:
    """Rows of county x chosen actions, as verdict/practice (table, Markdown or CSV)."""
    if fmt == "csv":
        return render_county_csv(results, actions)
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
