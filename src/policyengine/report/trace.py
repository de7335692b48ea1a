"""The trace: which facts each fired rule matched, what was derived, what was defeated.

durable_rules keeps no record of why a rule fired, so the project records its own:
for each fired rule, the leaf tests of its compiled condition that held on the facts.
"""

from __future__ import annotations

from typing import Any

from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test, Visitor, holds
from policyengine.pipeline import Evaluation, Rulebase
from policyengine.wording import DATE_OPS, show
from policyengine.wording import OPS as WORD_OPS


class _Matched(Visitor[list[Test]]):
    """The leaf tests that held and made the node true (for `any`, those of the true branches)."""

    def __init__(self, facts: dict[str, Any]):
        self.facts = facts

    def test(self, node: Test) -> list[Test]:
        return [node] if holds(node, self.facts) else []

    def all_of(self, node: AllOf) -> list[Test]:
        return self._true_items(node.items)

    def any_of(self, node: AnyOf) -> list[Test]:
        return self._true_items(node.items)

    def not_(self, node: Not) -> list[Test]:
        return []  # compiled conditions carry no `not`; a negation names no test that held

    def _true_items(self, items: tuple[Condition, ...]) -> list[Test]:
        out: list[Test] = []
        for item in items:
            if holds(item, self.facts):
                out += self.visit(item)
        return out


def matched_tests(cond: Condition | None, facts: dict[str, Any]) -> list[Test]:
    """The leaf tests that held and made the condition true (for `any`, the true branches)."""
    return [] if cond is None else _Matched(facts).visit(cond)


# The trace compares only dates with lt/lte/gt/gte (the vocabulary has no other ordered facts).
OPS = {**WORD_OPS, **DATE_OPS}


def describe(test: Test) -> str:
    return f"{test.fact} {OPS[test.op]} {show(test.value)}"


def trace_dict(ev: Evaluation, rulebase: Rulebase) -> dict[str, Any]:
    compiled = {r.id: r for r in rulebase.program.rules}
    facts = ev.firing.facts
    fired = []
    for rule_id in ev.firing.fired:
        c = compiled[rule_id]
        fired.append(
            {
                "rule": rule_id,
                "title": c.rule.title,
                "stratum": c.stratum,
                "matched": [describe(t) for t in matched_tests(c.condition, facts)],
            }
        )
    return {
        "facts": {k: facts[k] for k in sorted(facts)},
        "fired": fired,
        "derived": {k: list(v) for k, v in ev.firing.derived.items()},
    }
