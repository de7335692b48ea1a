"""Timelines and diffs: what changed between two cells of a sweep, and which rules changed it.

A timeline compares each change date of a place with the day before it; a diff compares two
dates, or two rulebases, cell by cell. Both name the rules (and registry agreements) behind
each change: the rules taking part whose `in_force` boundary (or declared date) falls in the
period, or, when the rulebases differ, the rules whose text differs.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from policyengine.checked import Agreement, Rule
from policyengine.conditions import Condition, facts_tested
from policyengine.pipeline import Rulebase
from policyengine.sweep import Place, Sweep, rule_dates


def involved(d: dict[str, Any]) -> list[str]:
    """Every rule a decision names: deciders, concurring, practice, and the defeated."""
    ids = [*d["decided_by"], *d.get("concurring", []), *d.get("practice_by", []), *d.get("conflict", [])]
    ids += [x["rule"] for x in d.get("defeated", [])] + [x["rule"] for x in d.get("practice_defeated", [])]
    ids += d.get("practice_conflict", [])
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class Cause:
    """A rule or an agreement that changed a cell, with its first source."""

    kind: str  # "rule" or "agreement"
    id: str
    title: str
    cite: str
    url: str
    quote: str | None

    def as_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "id": self.id, "title": self.title, "cite": self.cite, "url": self.url}
        if self.quote:
            out["quote"] = self.quote
        return out


def rule_cause(rule: Rule) -> Cause:
    s = rule.sources[0]
    return Cause("rule", rule.id, rule.title, s.cite, s.url, s.quote)


def agreement_cause(a: Agreement) -> Cause:
    s = a.sources[0]
    what = "287(g) agreement" if a.kind == "287g" else "ICE jail-bed contract"
    title = f"{a.county} County {what}" + (f" ({a.model})" if a.model else "")
    span = a.in_force.start.isoformat() + (f" to {a.in_force.until.isoformat()}" if a.in_force.until else "")
    return Cause("agreement", f"{a.county}:{a.kind}:{span}", title, s.cite, s.url, s.quote)


@dataclass(frozen=True)
class Change:
    """One cell that differs: scenario, place, action, before and after, and why."""

    scenario: str
    place: Place
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    date: dt.date | None = None  # timelines: the first day of the new state
    causes: tuple[Cause, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.date:
            out["date"] = self.date.isoformat()
        out |= {
            "scenario": self.scenario,
            "place": self.place.key,
            "name": self.place.label,
            "action": self.action,
            "before": _state(self.before),
            "after": _state(self.after),
            "because": [c.as_dict() for c in self.causes],
        }
        return out


def _state(d: dict[str, Any]) -> dict[str, Any]:
    out = {"verdict": d["verdict"], "practice": d["practice"], "decided_by": d["decided_by"]}
    if d.get("leaning"):
        out["leaning"] = d["leaning"]
    if d.get("practice_by"):
        out["practice_by"] = d["practice_by"]
    return out


def _differs(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (a["verdict"], a.get("leaning"), a["practice"]) != (b["verdict"], b.get("leaning"), b["practice"])


AGREEMENT_FACTS = {
    "287g": {"agreement.287g_model", "agreement.287g_board_approval"},
    "ice_bed_contract": {"agreement.ice_bed_contract"},
}


def _facts_tested(cond: Condition | None, out: set[str]) -> None:
    out |= facts_tested(cond)


def _date_causes(rb: Rulebase, place: Place, a: dict, b: dict, lo: dt.date, hi: dt.date) -> tuple[Cause, ...]:
    """Rules taking part whose boundaries fall in (lo, hi], and the place's agreements that do and
    whose facts those rules test."""
    causes = []
    for rid in sorted(set(involved(a)) | set(involved(b))):
        if any(lo < day <= hi for day in rule_dates(rb.by_id[rid])):
            causes.append(rule_cause(rb.by_id[rid]))
    tested: set[str] = set()
    for rid in set(involved(a)) | set(involved(b)):
        _facts_tested(rb.by_id[rid].when, tested)
    for ag in rb.registry.agreements:
        bounds = [ag.in_force.start, *([ag.in_force.until] if ag.in_force.until else [])]
        if ag.county == place.county and any(lo < day <= hi for day in bounds) and tested & AGREEMENT_FACTS[ag.kind]:
            causes.append(agreement_cause(ag))
    if not causes:  # fall back to the deciders that came or went
        ids = set(a["decided_by"]) ^ set(b["decided_by"]) | set(a.get("practice_by", [])) ^ set(
            b.get("practice_by", [])
        )
        causes = [rule_cause(rb.by_id[r]) for r in sorted(ids)]
    return tuple(causes)


def timeline(sw: Sweep, scenario_id: str, place: Place, actions: list[str]) -> list[Change]:
    """Each date of the sweep on which a decision at `place` differs from the date before."""
    out = []
    for prev, day in zip(sw.dates, sw.dates[1:], strict=False):
        for action in actions:
            a = sw.decision(scenario_id, place, prev, action)
            b = sw.decision(scenario_id, place, day, action)
            if _differs(a, b):
                causes = _date_causes(sw.rulebase, place, a, b, prev, day)
                out.append(Change(scenario_id, place, action, a, b, day, causes))
    return out


def diff_dates(sw: Sweep, before: dt.date, after: dt.date, actions: list[str]) -> list[Change]:
    """Every cell (scenario x place x action) whose decision differs between two dates."""
    lo, hi = min(before, after), max(before, after)
    out = []
    for scenario in sw.scenarios:
        for place in sw.places:
            for action in actions:
                a = sw.decision(scenario.id, place, before, action)
                b = sw.decision(scenario.id, place, after, action)
                if _differs(a, b):
                    causes = _date_causes(sw.rulebase, place, a, b, lo, hi)
                    out.append(Change(scenario.id, place, action, a, b, None, causes))
    return out


def _rule_text(rule: Rule) -> tuple:
    return (rule.kind, rule.level, rule.binds, rule.in_force, rule.when, rule.conclusions, rule.overrides)


def diff_rulebases(old: Sweep, new: Sweep, actions: list[str]) -> list[Change]:
    """Every cell whose decision differs between two rulebases (same scenarios, places, dates)."""
    changed_rules = {
        rid
        for rid in set(old.rulebase.by_id) | set(new.rulebase.by_id)
        if rid not in old.rulebase.by_id
        or rid not in new.rulebase.by_id
        or _rule_text(old.rulebase.by_id[rid]) != _rule_text(new.rulebase.by_id[rid])
    }
    out = []
    for scenario in new.scenarios:
        for place in new.places:
            for day in new.dates:
                for action in actions:
                    a = old.decision(scenario.id, place.key, day, action)
                    b = new.decision(scenario.id, place.key, day, action)
                    if not _differs(a, b):
                        continue
                    ids = sorted((set(involved(a)) | set(involved(b))) & changed_rules)
                    rules = [new.rulebase.by_id.get(r) or old.rulebase.by_id[r] for r in ids]
                    out.append(Change(scenario.id, place, action, a, b, day, tuple(rule_cause(r) for r in rules)))
    return out


# ------------------------------------------------------------------------ render


def _word(d: dict[str, Any]) -> str:
    verdict = d["verdict"].replace("_", " ")
    if d.get("leaning"):
        verdict += f" (leaning {d['leaning']})"
    return f"{verdict} / {d['practice'].replace('_', ' ')}"


def changes_json(changes: list[Change], head: dict[str, Any]) -> str:
    return json.dumps({**head, "changes": [c.as_dict() for c in changes]}, indent=2, ensure_ascii=False) + "\n"


def changes_markdown(changes: list[Change], title: str, intro: str) -> str:
    out = [f"# {title}", "", intro, ""]
    if not changes:
        out.append("Nothing changed.")
    for c in changes:
        when = f"{c.date.isoformat()}: " if c.date else ""
        out.append(f"- **{when}{c.place.label}, `{c.action}`**: {_word(c.before)} → {_word(c.after)}")
        for cause in c.causes:
            out.append(f"  - {cause.kind} `{cause.id}`: {cause.title}. Source: [{cause.cite}]({cause.url})")
            if cause.quote:
                out.append(f'    > "{cause.quote.strip()}"')
    return "\n".join(out) + "\n"


def changes_table(changes: list[Change], title: str, intro: str, show_place: bool, show_date: bool) -> str:
    """Plain text for a terminal of 80 columns or more: one block per change, its rules and sources."""
    import shutil
    import textwrap

    width = max(80, shutil.get_terminal_size((80, 24)).columns)

    def wrap(text: str, indent: str) -> list[str]:
        return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent + "  ") or [indent]

    out = [*wrap(title, ""), *wrap(intro, "  "), ""]
    if not changes:
        out.append("  Nothing changed.")
    for c in changes:
        head = [c.date.isoformat()] if show_date and c.date else []
        head += [c.place.label] if show_place else []
        head.append(c.action)
        out += wrap("  ".join(head), "")
        out += wrap(f"{_word(c.before)}  →  {_word(c.after)}", "    ")
        for cause in c.causes:
            out += wrap(f"{cause.kind} {cause.id}: {cause.title}", "    ")
            out += wrap(f"source: {cause.cite} <{cause.url}>", "      ")
    return "\n".join(out) + "\n"
