"""The matrix: places x actions for one scenario on one date, each cell verdict and practice.

Rows come from a `sweep.Sweep`; every format (table, CSV, JSON, Markdown, HTML) renders the
same rows, built from the JSON contract's decisions.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from typing import Any

from policyengine.sweep import Sweep

VERDICT_ABBR = {
    "required": "REQ",
    "permitted": "perm",
    "prohibited": "PROH",
    "contested": "cont",
    "not_addressed": "-",
    "conflict": "CONFL",
}
PRACTICE_ABBR = {"does": "does", "does_not": "not", "unknown": "?", "conflict": "confl"}
VERDICT_WORDS = {
    "required": "required by law",
    "permitted": "permitted",
    "prohibited": "prohibited by law",
    "contested": "legally contested",
    "not_addressed": "not addressed by any rule",
    "conflict": "unresolved conflict",
}
PRACTICE_WORDS = {
    "does": "does it",
    "does_not": "does not do it",
    "unknown": "practice unknown",
    "conflict": "sources conflict",
}
FORMATS = ["table", "csv", "json", "markdown", "html"]


def cell_of(d: dict[str, Any]) -> dict[str, Any]:
    """The parts of a decision a matrix cell shows."""
    out = {
        "verdict": d["verdict"],
        "practice": d["practice"],
        "decided_by": list(d["decided_by"]),
        "practice_by": list(d.get("practice_by", [])),
        "leaning": d.get("leaning"),
        "flags": list(d.get("flags", [])),
    }
    return out


def matrix_data(sw: Sweep, scenario_id: str, day: dt.date, actions: list[str]) -> dict[str, Any]:
    """The matrix as plain data (the JSON format, and what the other formats render)."""
    scenario = next(s for s in sw.scenarios if s.id == scenario_id)
    rows = []
    for place in sw.places:
        rows.append(
            {
                "place": place.key,
                "name": place.label,
                "short": place.short,
                "kind": place.kind,
                "fips": place.fips,
                "agency": sw.result(scenario_id, place, day)["jurisdiction"]["agency"],
                "cells": {a: cell_of(sw.decision(scenario_id, place, day, a)) for a in actions},
            }
        )
    return {
        "scenario": scenario.id,
        "title": scenario.head.title,
        "date": day.isoformat(),
        "actions": actions,
        "rows": rows,
    }


def short(cell: dict[str, Any]) -> str:
    verdict = VERDICT_ABBR[cell["verdict"]]
    if cell.get("leaning"):
        verdict += "~" + VERDICT_ABBR[cell["leaning"]]
    return f"{verdict}/{PRACTICE_ABBR[cell['practice']]}"


def legend_lines() -> list[str]:
    verdicts = ", ".join(f"{a} {v}" for v, a in VERDICT_ABBR.items())
    practices = ", ".join(f"{a} {p}" for p, a in PRACTICE_ABBR.items())
    return [
        f"Verdict: {verdicts}; cont~PROH: contested, leaning prohibited.",
        f"Practice: {practices}.",
        "Deciding rules: --format csv, json, markdown or html. DOC: the Department of Corrections.",
    ]


def render_table(data: dict[str, Any], width: int | None = None) -> str:
    """A terminal table (rich) readable at 80 columns: abbreviated cells, a legend below."""
    from rich.console import Console
    from rich.table import Table

    width = width or max(80, shutil.get_terminal_size((80, 24)).columns)
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False, highlight=False)
    table = Table(title=f"{data['title']}\nas of {data['date']}", title_justify="left", box=None, pad_edge=False)
    table.add_column("Place", no_wrap=True)
    for action in data["actions"]:
        table.add_column(action.replace("_", "\n"), no_wrap=True)  # one word a line keeps columns narrow
    for row in data["rows"]:
        table.add_row(row["short"], *(short(row["cells"][a]) for a in data["actions"]))
    console.print(table)
    for line in legend_lines():
        console.print(line)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def render_csv(data: dict[str, Any]) -> str:
    """One row per place and action (long form, for spreadsheets and scripts)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        ["date", "scenario", "place", "name", "kind", "fips", "agency", "action", "verdict", "leaning", "practice",
         "decided_by", "practice_by"]
    )  # fmt: skip
    for row in data["rows"]:
        for action in data["actions"]:
            c = row["cells"][action]
            writer.writerow(
                [data["date"], data["scenario"], row["place"], row["name"], row["kind"], row["fips"] or "",
                 row["agency"], action, c["verdict"], c.get("leaning", ""), c["practice"],
                 " ".join(c["decided_by"]), " ".join(c["practice_by"])]
            )  # fmt: skip
    return buf.getvalue()


def render_markdown(data: dict[str, Any]) -> str:
    actions = data["actions"]
    out = [f"# {data['title']}", "", f"As of {data['date']}. Cells: verdict / practice (deciding rules).", ""]
    out.append("| Place | " + " | ".join(actions) + " |")
    out.append("|---|" + "---|" * len(actions))
    for row in data["rows"]:
        cells = []
        for a in actions:
            c = row["cells"][a]
            text = f"{c['verdict']} / {c['practice']}"
            rules = [*c["decided_by"], *c["practice_by"]]
            if rules:
                text += " (" + ", ".join(f"`{r}`" for r in rules) + ")"
            cells.append(text)
        out.append(f"| {row['name']} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def render_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2) + "\n"


def render_html(data: dict[str, Any]) -> str:
    from policyengine.report.html import render_page

    return render_page("matrix_page.html", data=data, legend=legend_lines())


RENDERERS = {
    "table": render_table,
    "csv": render_csv,
    "json": render_json,
    "markdown": render_markdown,
    "html": render_html,
}
