"""Pieces the property tests share: an order on verdicts, the facts no rule tests, a
rulebase with its rules permuted, and the parts of a result that must never vary.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from policyengine.check import facts_tested
from policyengine.checked import Rule, Scenario
from policyengine.engine import Engine
from policyengine.pipeline import Rulebase, evaluate
from policyengine.report import evaluation_dict

HOLD_ACTIONS = ("hold_on_judicial_warrant", "hold_beyond_release")

PERMISSIVENESS = {"prohibited": 0, "contested": 1, "permitted": 2, "required": 3}  # of verdicts in the JSON
"""How far a verdict lets the agency hold someone: prohibited < contested < permitted < required.

For a hold, `required` is the most a verdict can allow (the agency must hold), `permitted`
allows without obliging, `contested` means the authorities disagree (so it is neither a
safe permission nor a settled prohibition), and `prohibited` allows nothing. Adding a
judicial warrant, which is itself lawful authority to hold, should only ever move a hold
up this order. `not_addressed` (no rule speaks) and `conflict` (same-level rules disagree)
have no place in the order; a pair in which either appears is not compared.
"""


def permissiveness(verdict: str) -> int | None:
    return PERMISSIVENESS.get(verdict)


def tested_facts(rulebase: Rulebase) -> set[str]:
    """Every fact any compiled condition tests (scope and definition guards included)."""
    found: set[str] = set()
    for compiled in rulebase.program.rules:
        found |= facts_tested(compiled.condition)
    return found


def ignored_facts(rulebase: Rulebase) -> list[str]:
    """Scenario facts the law ignores: no compiled rule tests them, resolution does not read
    them (the date and the agency), and no registry fact that a rule tests depends on them
    (the county selects the registry's agreements)."""
    tested = tested_facts(rulebase)
    facts = rulebase.vocabulary.facts
    registry_used = any(facts[f].source == "registry" for f in tested if f in facts)
    out = []
    for name, spec in facts.items():
        if spec.source != "scenario" or name in tested or name in ("date", "agency"):
            continue
        if name == "place.county" and registry_used:
            continue
        out.append(name)
    return out


def permuted(rulebase: Rulebase, file_order: list[int], rule_orders: list[list[int]]) -> Rulebase:
    """The same rulebase with its rule files in `file_order` and each file's rules in the
    order `rule_orders[i]` gives for the i-th file (files as the loader found them)."""
    files = rule_files(rulebase)
    rules: list[Rule] = []
    for i in file_order:
        rules += [files[i][k] for k in rule_orders[i]]
    return dataclasses.replace(rulebase, rules=tuple(rules))


def rule_files(rulebase: Rulebase) -> list[list[Rule]]:
    """The rules grouped by file, in loading order."""
    groups: dict[str, list[Rule]] = {}
    for rule in rulebase.rules:
        groups.setdefault(rule.file, []).append(rule)
    return list(groups.values())


def decisions_json(scenario: Scenario, rulebase: Rulebase, engine: Engine) -> list[dict[str, Any]]:
    """The decisions of a scenario as the JSON contract gives them."""
    decisions: list[dict[str, Any]] = evaluation_dict(evaluate(scenario, rulebase, engine), rulebase)["decisions"]
    return decisions


def invariant_result(scenario: Scenario, rulebase: Rulebase, engine: Engine) -> dict[str, Any]:
    """Everything of a result with trace that must not vary with facts the law ignores:
    the decisions, the rules fired with the facts they matched, and the derived facts
    (not the fact list itself, nor the jurisdiction echoed back from the input)."""
    out = evaluation_dict(evaluate(scenario, rulebase, engine), rulebase, explain=True)
    return {"decisions": out["decisions"], "fired": out["trace"]["fired"], "derived": out["trace"]["derived"]}


def snapshot_expectation(decision: dict[str, Any]) -> dict[str, Any]:
    """An expectation that pins a decision down (verdict, practice, deciders, defeats)."""
    exp: dict[str, Any] = {"verdict": decision["verdict"], "practice": decision["practice"]}
    if decision.get("leaning"):
        exp["leaning"] = decision["leaning"]
    deciders = list(decision["decided_by"]) + list(decision.get("practice_by", []))
    if deciders:
        exp["decided_by"] = deciders
    defeated = [{"rule": d["rule"], "doctrine": d["doctrine"]} for d in decision["defeated"]]
    if defeated:
        exp["defeated"] = defeated
    return exp
