"""Stage 4, compile: checked rules -> a small intermediate form both engines run.

The intermediate form is a list of rules, each with one condition in negation normal
form (only all/any of leaf tests; `not` pushed down to the leaves, which is exact
because every fact is always present and strictly typed), grouped into strata so a
rule never tests a derived fact before every definition of it has run.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from policyengine.checked import Rule
from policyengine.conditions import NEGATE, AllOf, AnyOf, Condition, Not, Test, Visitor, facts_tested
from policyengine.conditions import holds as holds  # the reference semantics, named here for the engines


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run: the rule, its whole condition, and its stratum."""

    rule: Rule
    condition: Condition | None  # None: always applies
    stratum: int

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class Program:
    """The compiled rulebase: rules grouped in strata, and a digest naming it."""

    strata: tuple[tuple[CompiledRule, ...], ...]
    digest: str

    @cached_property
    def rules(self) -> tuple[CompiledRule, ...]:
        return tuple(r for stratum in self.strata for r in stratum)

    @cached_property
    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id in program order (the order firings are reported in)."""
        return tuple(r.id for r in self.rules)

    @cached_property
    def position(self) -> dict[str, int]:
        """Each rule id's place in program order."""
        return {rule_id: i for i, rule_id in enumerate(self.rule_ids)}

    @cached_property
    def derivations(self) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]:
        """Per stratum, in order: (rule id, facts it derives) for the rules that derive any."""
        return tuple(tuple((r.id, r.rule.derives) for r in stratum if r.rule.derives) for stratum in self.strata)


def engine_value(value: Any) -> Any:
    """Dates travel as ISO strings (they compare correctly as strings)."""
    return value.isoformat() if isinstance(value, dt.date) else value


class _Normal(Visitor[Condition]):
    """Negation normal form, with dates as ISO strings and single-item groups flattened."""

    def __init__(self, negate: bool = False):
        self.negate = negate

    def test(self, node: Test) -> Condition:
        op = NEGATE[node.op] if self.negate else node.op
        return Test(node.fact, op, engine_value(node.value))

    def not_(self, node: Not) -> Condition:
        return _Normal(not self.negate).visit(node.item)

    def all_of(self, node: AllOf) -> Condition:
        return self._group(node.items, conjunctive=not self.negate)

    def any_of(self, node: AnyOf) -> Condition:
        return self._group(node.items, conjunctive=self.negate)

    def _group(self, items: tuple[Condition, ...], conjunctive: bool) -> Condition:
        normal = tuple(self.visit(c) for c in items)
        if len(normal) == 1:
            return normal[0]
        return AllOf(normal) if conjunctive else AnyOf(normal)


def normalize(cond: Condition | None, negate: bool = False) -> Condition | None:
    """Negation normal form, with dates as ISO strings and single-item groups flattened."""
    return None if cond is None else _Normal(negate).visit(cond)


def _conjoin(*conds: Condition | None) -> Condition | None:
    parts = tuple(c for c in conds if c is not None)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(parts)


def scope_condition(rule: Rule) -> Condition | None:
    """Where the rule binds geographically: a county's rules in that county only, etc."""
    j = rule.jurisdiction
    if j.level == "county":
        return Test("place.county", "eq", j.county)
    if j.level == "city":
        return Test("place.city", "eq", j.city)
    return None


def definition_guard(rule: Rule) -> Condition | None:
    """Definitions derive facts only while in force and for the agencies they name."""
    parts: list[Condition] = [Test("date", "gte", rule.in_force.start.isoformat())]
    if rule.in_force.until:
        parts.append(Test("date", "lt", rule.in_force.until.isoformat()))
    if rule.binds:
        agencies = tuple(Test("agency", "eq", a) for a in rule.binds)
        parts.append(agencies[0] if len(agencies) == 1 else AnyOf(agencies))
    return AllOf(tuple(parts)) if len(parts) > 1 else parts[0]


def compile_rules(rules: list[Rule]) -> Program:
    """Compile checked rules (already free of circular definitions) into a Program."""
    conditions: dict[str, Condition | None] = {}
    for rule in rules:
        guard = definition_guard(rule) if rule.kind == "definition" else None
        conditions[rule.id] = normalize(_conjoin(scope_condition(rule), guard, rule.when))
    derivers: dict[str, list[Rule]] = {}
    for rule in rules:
        for fact in rule.derives:
            derivers.setdefault(fact, []).append(rule)
    strata: dict[str, int] = {}

    def stratum(rule: Rule) -> int:
        if rule.id not in strata:
            below = [stratum(d) + 1 for f in facts_tested(conditions[rule.id]) for d in derivers.get(f, [])]
            strata[rule.id] = max(below, default=0)
        return strata[rule.id]

    definitions = [r for r in rules if r.kind == "definition"]
    top = max((stratum(r) for r in definitions), default=-1) + 1
    grouped: list[list[CompiledRule]] = [[] for _ in range(top + 1)]
    for rule in rules:
        level = stratum(rule) if rule.kind == "definition" else top
        grouped[level].append(CompiledRule(rule, conditions[rule.id], level))
    grouped = [g for g in grouped if g]
    return Program(tuple(tuple(g) for g in grouped), _digest(grouped))


class _Encode(Visitor[Any]):
    """A condition as plain JSON data, for the Program's digest."""

    def test(self, node: Test) -> Any:
        return [node.fact, node.op, node.value]

    def all_of(self, node: AllOf) -> Any:
        return ["AllOf", [self.visit(i) for i in node.items]]

    def any_of(self, node: AnyOf) -> Any:
        return ["AnyOf", [self.visit(i) for i in node.items]]

    def not_(self, node: Not) -> Any:
        return ["Not", self.visit(node.item)]


def _digest(grouped: list[list[CompiledRule]]) -> str:
    def enc(c: Condition | None) -> Any:
        return None if c is None else _Encode().visit(c)

    payload = [[[r.id, enc(r.condition)] for r in g] for g in grouped]
    import hashlib  # when compiling only: a run from the cache never needs it

    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
