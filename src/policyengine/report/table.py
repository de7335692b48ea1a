"""The decisions as a table: plain text wrapped to 80 columns (or COLUMNS) when piped, rich and
fitted to the terminal's width in a terminal (`report/terminal.py` decides)."""

from __future__ import annotations

import textwrap
from typing import Any

from policyengine.report import terminal

WIDTH = 80
ACTION_W, VERDICT_W, PRACTICE_W = 30, 14, 10


def _basis(d: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if d["verdict"] == "contested":
        lines.append(f"contested, leaning {d['leaning']}: {d['question']}")
    if d.get("conflict"):
        lines.append("UNRESOLVED CONFLICT between " + ", ".join(d["conflict"]))
    cites = []
    for s in d["sources"]:
        if s["cite"] not in cites:
            cites.append(s["cite"])
    if cites:
        lines.append("; ".join(cites[:2]) + (f" (+{len(cites) - 2} more)" if len(cites) > 2 else ""))
    for x in d.get("as_declared", []):
        lines.append(f"as declared in {x['in']}, after the event")
    if d.get("practice_sources"):
        lines.append("practice: " + d["practice_sources"][0]["cite"])
    for flag in d.get("flags", []):
        lines.append("FLAG: " + flag.replace("_", " "))
    limit = d.get("federal_hold_limit")
    if limit and "latest_hold_until" in limit:
        lines.append(
            f"federal 48-hour reference ({limit['basis']}): a hold requested at release "
            f"{limit['release_time']} would end by {limit['latest_hold_until']}"
        )
    return lines


def _meta(result: dict[str, Any]) -> str:
    j = result["jurisdiction"]
    place = f"{j['county']} County" + (f", {j['city']}" if j.get("city") else "")
    known = f" (law as known on {result['known_on']})" if result.get("known_on") else ""
    return (
        f"{result['scenario']} | {result['date']}{known} | {place} | agency: {j['agency']} | engine: {result['engine']}"
    )


def _strength_line(d: dict[str, Any]) -> list[str]:
    """The strength of the authority behind the verdict, first of the lines under it."""
    strength = d.get("strength", "none")
    return [] if strength == "none" else [f"strength: {strength.replace('_', ' ')}"]


def render_one(result: dict[str, Any], rich: bool = False, width: int = WIDTH) -> str:
    notice = result.get("notice")
    if rich and width >= terminal.RICH_MIN_WIDTH:
        meta = _meta(result) + (f"\n{notice}" if notice else "")
        rows = terminal.Rows(result.get("title", result["scenario"]), meta, ["ACTION", "VERDICT", "PRACTICE"])
        for d in result["decisions"]:
            rows.add([d["action"], d["verdict"], d["practice"]], _strength_line(d) + _basis(d))
        out = [terminal.render_rows(rows, True, width)]
    else:
        out = textwrap.wrap(result.get("title", result["scenario"]), width, subsequent_indent="  ")
        out += textwrap.wrap(_meta(result), width, initial_indent="  ", subsequent_indent="  ")
        out.append("")
        if notice:
            out += textwrap.wrap(notice, width, initial_indent="  ", subsequent_indent="  ")
        out.append("")
        out.append(f"  {'ACTION':<{ACTION_W}}{'VERDICT':<{VERDICT_W}}PRACTICE")
        indent = " " * 6
        for d in result["decisions"]:
            out.append(f"  {d['action']:<{ACTION_W}}{d['verdict']:<{VERDICT_W}}{d['practice']}".rstrip())
            for line in _strength_line(d) + _basis(d):
                out += textwrap.wrap(line, width, initial_indent=indent, subsequent_indent=indent + "  ")
    if "expectations" in result:
        e = result["expectations"]
        out.append("")
        out.append(f"  expectations: {e['met']} of {e['total']} met")
        for failure in e["failures"]:
            out += textwrap.wrap("FAILED " + failure, width, initial_indent="    ", subsequent_indent="      ")
    if "trace" in result:
        out.append("")
        out += render_trace(result["trace"], result, width)
    return "\n".join(out)


def render_trace(trace: dict[str, Any], result: dict[str, Any], width: int = WIDTH) -> list[str]:
    out = ["  TRACE", "  facts:"]
    for k, v in trace["facts"].items():
        shown = "true" if v is True else "false" if v is False else v
        out.append(f"    {k} = {shown}")
    out.append("  rules fired:")
    for f in trace["fired"]:
        out += textwrap.wrap(
            f"{f['rule']} (stratum {f['stratum']}): {f['title']}",
            width,
            initial_indent="    ",
            subsequent_indent="        ",
        )
        for m in f["matched"]:
            out.append(f"        matched: {m}")
    if trace["derived"]:
        out.append("  facts derived:")
        for fact, by in trace["derived"].items():
            out.append(f"    {fact} = true  (by {', '.join(by)})")
    defeats = [(d["action"], x) for d in result["decisions"] for x in d["defeated"]]
    defeats += [(d["action"], x) for d in result["decisions"] for x in d.get("practice_defeated", [])]
    if defeats:
        out.append("  rules defeated:")
        for action, x in defeats:
            by = f" by {x['by']}" if x["by"] else ""
            out += textwrap.wrap(
                f"{action}: {x['rule']} ({x['doctrine']}{by})",
                width,
                initial_indent="    ",
                subsequent_indent="        ",
            )
    return out


def render_table(results: list[dict[str, Any]], rich: bool | None = None, width: int | None = None) -> str:
    """Rich in a terminal (unless NO_COLOR), plain otherwise; as wide as the terminal, or COLUMNS, or 80."""
    rich = terminal.rich_enabled() if rich is None else rich
    width = width or terminal.width()
    return "\n\n".join(render_one(r, rich, width) for r in results) + "\n"
