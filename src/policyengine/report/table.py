"""A plain-text table that reads well in an 80-column terminal."""

from __future__ import annotations

import textwrap
from typing import Any

WIDTH = 80
ACTION_W, VERDICT_W, STRENGTH_W, PRACTICE_W = 30, 14, 19, 10


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


def render_one(result: dict[str, Any]) -> str:
    j = result["jurisdiction"]
    place = f"{j['county']} County" + (f", {j['city']}" if j.get("city") else "")
    out = textwrap.wrap(result.get("title", result["scenario"]), WIDTH, subsequent_indent="  ")
    known = f" (law as known on {result['known_on']})" if result.get("known_on") else ""
    meta = (
        f"{result['scenario']} | {result['date']}{known} | {place} | agency: {j['agency']} | engine: {result['engine']}"
    )
    out += textwrap.wrap(meta, WIDTH, initial_indent="  ", subsequent_indent="  ")
    out.append("")
    if result.get("notice"):
        out += textwrap.wrap(result["notice"], WIDTH, initial_indent="  ", subsequent_indent="  ")
    out.append("")
    out.append(f"  {'ACTION':<{ACTION_W}}{'VERDICT':<{VERDICT_W}}{'STRENGTH':<{STRENGTH_W}}PRACTICE")
    indent = " " * 6
    for d in result["decisions"]:
        strength = d.get("strength", "none")
        strength = "" if strength == "none" else strength
        row = f"  {d['action']:<{ACTION_W}}{d['verdict']:<{VERDICT_W}}{strength:<{STRENGTH_W}}{d['practice']}"
        out.append(row.rstrip())
        for line in _basis(d):
            out += textwrap.wrap(line, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")
    if "expectations" in result:
        e = result["expectations"]
        out.append("")
        out.append(f"  expectations: {e['met']} of {e['total']} met")
        for failure in e["failures"]:
            out += textwrap.wrap("FAILED " + failure, WIDTH, initial_indent="    ", subsequent_indent="      ")
    if "trace" in result:
        out.append("")
        out += render_trace(result["trace"], result)
    return "\n".join(out)


def render_trace(trace: dict[str, Any], result: dict[str, Any]) -> list[str]:
    out = ["  TRACE", "  facts:"]
    for k, v in trace["facts"].items():
        shown = "true" if v is True else "false" if v is False else v
        out.append(f"    {k} = {shown}")
    out.append("  rules fired:")
    for f in trace["fired"]:
        out += textwrap.wrap(
            f"{f['rule']} (stratum {f['stratum']}): {f['title']}",
            WIDTH,
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
                WIDTH,
                initial_indent="    ",
                subsequent_indent="        ",
            )
    return out


def render_table(results: list[dict[str, Any]]) -> str:
    return "\n\n".join(render_one(r) for r in results) + "\n"
