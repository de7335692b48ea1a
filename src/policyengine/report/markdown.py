"""A Markdown memo for lawyers: per action, the answer, its legal basis and the quote."""

from __future__ import annotations

from typing import Any

from policyengine.strength import STRENGTH_WORDS


def _sources(sources: list[dict[str, Any]]) -> list[str]:
    out = []
    for s in sources:
        kind = s["authority"].replace("_", " ") + (f", {s['body']}" if s.get("body") else "")
        line = f"  - {s['cite']} <{s['url']}> ({kind})"
        if s.get("quote"):
            line += f"\n    > {s['quote']}"
        out.append(line)
    return out


def render_one(result: dict[str, Any]) -> str:
    j = result["jurisdiction"]
    out = [f"# {result.get('title', result['scenario'])}", ""]
    out.append(f"- Scenario: `{result['scenario']}`")
    out.append(f"- Date: {result['date']}")
    if result.get("known_on"):
        out.append(f"- Law as known on: {result['known_on']}")
    out.append(f"- Place: {j['county']} County" + (f", {j['city']}" if j.get("city") else ""))
    out.append(f"- Agency: {j['agency']}")
    out.append(f"- Engine: {result['engine']}")
    if result.get("notice"):
        out += ["", f"*{result['notice']}*"]
    out.append("")
    out.append("| Action | Verdict | Strength | Practice | Decided by |")
    out.append("|---|---|---|---|---|")
    for d in result["decisions"]:
        by = ", ".join(f"`{r}`" for r in d["decided_by"]) or "–"
        strength = d.get("strength", "none")
        out.append(
            f"| {d['action']} | {d['verdict']} | {'–' if strength == 'none' else strength} | {d['practice']} | {by} |"
        )
    for d in result["decisions"]:
        if d["verdict"] == "not_addressed" and d["practice"] == "unknown" and not d["decided_by"]:
            continue
        out += ["", f"## {d['action']}: {d['verdict']}", ""]
        if d.get("strength", "none") != "none":
            out.append(f"Strength: **{d['strength']}** ({STRENGTH_WORDS[d['strength']]}).")
            out.append("")
        for x in d.get("as_declared", []):
            out.append(f"As declared in {x['in']}, after the event (`{x['rule']}`).")
            out.append("")
        if d["verdict"] == "contested":
            out.append(f"Contested, leaning **{d['leaning']}**. Open question: {d['question']}")
            out.append("")
        if d.get("conflict"):
            out.append("**Unresolved conflict** between " + ", ".join(f"`{r}`" for r in d["conflict"]))
            out.append("")
        if d["sources"]:
            out.append("Legal basis:")
            out += _sources(d["sources"])
        if d["defeated"]:
            out.append("")
            out.append("Rules that did not decide:")
            for x in d["defeated"]:
                by = f" by `{x['by']}`" if x["by"] else ""
                out.append(f"  - `{x['rule']}`: {x['doctrine']}{by}")
        limit = d.get("federal_hold_limit")
        if limit and "latest_hold_until" in limit:
            out.append("")
            out.append(
                f"Federal reference ({limit['basis']}): the detainer asks for a hold of at most 48 hours "
                f"excluding weekends and federal holidays, from {limit['release_time']} to "
                f"{limit['latest_hold_until']} (skipping {', '.join(limit['excluded_days']) or 'no days'}). "
                + limit["note"]
            )
        out.append("")
        out.append(f"Practice: **{d['practice']}**")
        if d.get("practice_sources"):
            out += _sources(d["practice_sources"])
        for flag in d.get("flags", []):
            out.append(f"\n**Flag:** {flag.replace('_', ' ')}")
    if "expectations" in result:
        e = result["expectations"]
        out += ["", f"Expectations: {e['met']} of {e['total']} met"]
        out += [f"- FAILED {f}" for f in e["failures"]]
    return "\n".join(out)


def render_markdown(results: list[dict[str, Any]]) -> str:
    return "\n\n---\n\n".join(render_one(r) for r in results) + "\n"
