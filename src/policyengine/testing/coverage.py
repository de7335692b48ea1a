"""Legal coverage: which rules the scenario tests actually exercise.

A rule's status, over the scenarios with expectations:
- `decisive`: it decided (decided_by or practice_by) an action that a scenario asserts,
  so changing the rule would move an asserted outcome; a definition is decisive when it
  fired in a scenario where a decisive rule tests the fact it derives (directly or
  through another decisive definition);
- `fired`: it fired somewhere but decided nothing any scenario asserts;
- `never fired`: no scenario reaches it.
The percentage is of rules that are decisive, compared with a threshold exactly (as a
fraction: 99.99% is not 100%).

Cells: every action against every jurisdiction that has rules of its own (a county or a
city) and every agency; a cell is exercised when a scenario there asserts that action.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from policyengine.check import facts_tested
from policyengine.pipeline import Rulebase
from policyengine.testing.collection import Outcome

DECISIVE = "decisive"
FIRED = "fired"
NEVER = "never fired"


@dataclass(frozen=True)
class RuleCoverage:
    rule: str
    kind: str
    file: str
    line: int | None
    status: str
    decisive_in: tuple[str, ...]
    fired_in: tuple[str, ...]


@dataclass(frozen=True)
class Coverage:
    rules: tuple[RuleCoverage, ...]
    unexercised: dict[str, tuple[str, ...]]  # jurisdiction label -> actions no scenario asserts there
    cells: int
    scenarios: int

    @property
    def decisive(self) -> int:
        return sum(r.status == DECISIVE for r in self.rules)

    @property
    def ratio(self) -> Fraction:
        """Share of rules decisive in at least one scenario (1 when there are no rules)."""
        return Fraction(self.decisive, len(self.rules)) if self.rules else Fraction(1)

    @property
    def percent(self) -> Fraction:
        return self.ratio * 100

    def meets(self, threshold: Fraction) -> bool:
        return self.percent >= threshold


def _decisive_rules(outcome: Outcome, rulebase: Rulebase) -> set[str]:
    """Rules decisive for the actions this scenario asserts, definitions included."""
    asserted = set(outcome.scenario.head.expect)
    found: set[str] = set()
    for d in outcome.result["decisions"]:
        if d["action"] in asserted:
            found.update(d["decided_by"])
            found.update(d.get("practice_by", []))
    fired = [f["rule"] for f in outcome.result["trace"]["fired"]]
    definitions = [rulebase.by_id[r] for r in fired if rulebase.by_id[r].kind == "definition"]
    changed = True
    while changed:
        changed = False
        needed = set().union(*(facts_tested(rulebase.by_id[r].when) for r in found)) if found else set()
        for rule in definitions:
            if rule.id not in found and needed.intersection(rule.derives):
                found.add(rule.id)
                changed = True
    return found


def _jurisdictions(rulebase: Rulebase) -> list[tuple[str, str, str]]:
    """(label, fact, value) for every county and city with its own rules, then every agency."""
    counties = sorted({c for r in rulebase.rules if r.level == "county" and (c := r.jurisdiction.county)})
    cities = sorted({c for r in rulebase.rules if r.level == "city" and (c := r.jurisdiction.city)})
    agencies = list(rulebase.vocabulary.facts["agency"].values or {})
    return (
        [(f"{c} County", "place.county", c) for c in counties]
        + [(f"City of {c}", "place.city", c) for c in cities]
        + [(f"agency {a}", "agency", a) for a in agencies]
    )


def measure(outcomes: list[Outcome], rulebase: Rulebase) -> Coverage:
    """Coverage of `rulebase` by the scenarios (with expectations) behind `outcomes`."""
    decisive: dict[str, list[str]] = {r.id: [] for r in rulebase.rules}
    fired: dict[str, list[str]] = {r.id: [] for r in rulebase.rules}
    for outcome in outcomes:
        for rule_id in sorted(_decisive_rules(outcome, rulebase)):
            decisive[rule_id].append(outcome.id)
        for f in outcome.result["trace"]["fired"]:
            fired[f["rule"]].append(outcome.id)
    rules = []
    for r in sorted(rulebase.rules, key=lambda r: r.id):
        status = DECISIVE if decisive[r.id] else FIRED if fired[r.id] else NEVER
        rules.append(RuleCoverage(r.id, r.kind, r.file, r.line, status, tuple(decisive[r.id]), tuple(fired[r.id])))
    unexercised: dict[str, tuple[str, ...]] = {}
    cells = 0
    for label, fact, value in _jurisdictions(rulebase):
        asserted: set[str] = set()
        for o in outcomes:
            if o.scenario.facts.get(fact) == value:
                asserted.update(o.scenario.head.expect)
        missing = tuple(a for a in rulebase.actions if a not in asserted)
        cells += len(rulebase.actions)
        if missing:
            unexercised[label] = missing
    return Coverage(tuple(rules), unexercised, cells, len(outcomes))


def _percent_text(value: Fraction) -> str:
    """Rounded down to two decimals, so 99.999% never prints as 100.00%."""
    hundredths = (value * 100).numerator // (value * 100).denominator
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def coverage_text(cov: Coverage) -> str:
    lines = [f"legal coverage over {cov.scenarios} scenario(s) with expectations:"]
    width = max((len(r.rule) for r in cov.rules), default=10)
    for r in cov.rules:
        where = f"{r.file}:{r.line}" if r.line else r.file
        shown = ", ".join(r.decisive_in[:3]) + (f" and {len(r.decisive_in) - 3} more" if len(r.decisive_in) > 3 else "")
        detail = f"in {shown}" if r.decisive_in else ""
        lines.append(f"  {r.rule:<{width}}  {r.status:<11}  {where}  {detail}".rstrip())
    lines.append(
        f"rules decisive in at least one scenario: {cov.decisive} of {len(cov.rules)} ({_percent_text(cov.percent)})"
    )
    missing = sum(len(v) for v in cov.unexercised.values())
    lines.append(f"action x jurisdiction cells no scenario exercises: {missing} of {cov.cells}")
    for label, actions in cov.unexercised.items():
        lines.append(f"  {label}: {', '.join(actions)}")
    return "\n".join(lines) + "\n"


def coverage_dict(cov: Coverage) -> dict[str, Any]:
    return {
        "scenarios": cov.scenarios,
        "rules": [
            {
                "rule": r.rule,
                "kind": r.kind,
                "file": r.file,
                "line": r.line,
                "status": r.status,
                "decisive_in": list(r.decisive_in),
                "fired_in": list(r.fired_in),
            }
            for r in cov.rules
        ],
        "decisive": cov.decisive,
        "total": len(cov.rules),
        "percent": _percent_text(cov.percent).rstrip("%"),
        "unexercised_cells": {k: list(v) for k, v in cov.unexercised.items()},
        "cells": cov.cells,
    }
