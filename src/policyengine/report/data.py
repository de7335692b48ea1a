"""The JSON contract: one dictionary per evaluated scenario.

Key names are a contract read by tests, reports and downstream users: `scenario`, `date`,
`jurisdiction`, `engine`, `decisions[]` with `action`, `verdict`, `practice`,
`decided_by`, `sources`, `defeated`. Further keys are additions, never renames.
"""

from __future__ import annotations

from typing import Any

from policyengine.checked import Rule
from policyengine.deadline import hold_limit_dict
from policyengine.pipeline import Evaluation, Rulebase
from policyengine.report.trace import trace_dict
from policyengine.resolve import Decision
from policyengine.strength import decision_strength, declared_in, disclaimer
from policyengine.terms import Verdict


def source_list(rules: list[Rule]) -> list[dict[str, Any]]:
    out = []
    for rule in rules:
        for s in rule.sources:
            item: dict[str, Any] = {"rule": rule.id, "cite": s.cite, "url": s.url, "authority": s.authority}
            if s.body:
                item["body"] = s.body
            if s.issued:
                item["issued"] = s.issued.isoformat()
            if s.quote:
                item["quote"] = s.quote
            out.append(item)
    return out


def decision_dict(d: Decision, rulebase: Rulebase, ev: Evaluation | None = None) -> dict[str, Any]:
    rules = rulebase.by_id
    out: dict[str, Any] = {
        "action": d.action,
        "verdict": d.verdict,
        "practice": d.practice,
        "decided_by": list(d.decided_by),
        "strength": decision_strength(rules[r] for r in d.decided_by) or "none",
        "sources": source_list([rules[r] for r in d.decided_by]),
        "defeated": [{"rule": x.rule, "by": x.by, "doctrine": x.doctrine} for x in d.defeated],
    }
    if ev is not None:
        deciders = [rules[r] for r in d.decided_by]
        later = [r for r in deciders if r.declared is not None and r.declared > ev.date]
        if later:
            out["as_declared"] = [
                {"rule": r.id, "declared": r.declared.isoformat(), "in": declared_in(r)}
                for r in later
                if r.declared is not None
            ]
    if d.verdict == Verdict.PERMITTED and d.protected:
        out["protected"] = True
    if d.verdict == Verdict.CONTESTED:
        out["leaning"] = d.leaning
        out["question"] = d.question
    if d.concurring:
        out["concurring"] = list(d.concurring)
    if d.conflict:
        out["conflict"] = list(d.conflict)
    if d.practice_by:
        out["practice_by"] = list(d.practice_by)
        out["practice_sources"] = source_list([rules[r] for r in d.practice_by])
    if d.practice_conflict:
        out["practice_conflict"] = list(d.practice_conflict)
    if d.practice_defeated:
        out["practice_defeated"] = [{"rule": x.rule, "by": x.by, "doctrine": x.doctrine} for x in d.practice_defeated]
    if d.flags:
        out["flags"] = list(d.flags)
    involved = [*d.decided_by, *d.concurring, *(x.rule for x in d.defeated)]
    if ev is not None and any(rules[r].reference == "hold_limit_48_hours" for r in involved):
        out["federal_hold_limit"] = hold_limit_dict(ev.date, ev.scenario.head.time)
    return out


def evaluation_dict(ev: Evaluation, rulebase: Rulebase, explain: bool = False) -> dict[str, Any]:
    head = ev.scenario.head
    jurisdiction = {"county": ev.county, "agency": ev.agency}
    city = ev.scenario.facts.get("place.city", "none")
    if city != "none":
        jurisdiction["city"] = city
    out: dict[str, Any] = {
        "scenario": head.id,
        "title": head.title,
        "date": ev.date.isoformat(),
        "known_on": ev.known_on.isoformat(),
        "jurisdiction": jurisdiction,
        "engine": ev.engine,
        "decisions": [decision_dict(d, rulebase, ev) for d in ev.decisions],
        "notice": disclaimer(rulebase.rules),
    }
    if explain:
        out["trace"] = trace_dict(ev, rulebase)
    return out
