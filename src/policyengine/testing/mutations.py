"""Mutation testing of the rulebase: would the scenario tests notice if a rule were wrong?

Each mutant is the rulebase with one deliberate legal error, built in memory (new Rule
tuples, compiled once per mutant; no files are copied):
- `remove`: the rule is deleted;
- `flip`: one conclusion of a law rule is reversed (required <-> prohibited, permitted ->
  prohibited, contested -> its leaning), or a practice/policy is reversed (does <-> does_not).
Every scenario with expectations is re-run against each mutant. A mutant is killed when
at least one expectation fails (or the mutant cannot be evaluated); a mutant no scenario
notices survives, and names a rule whose content no test pins down.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from policyengine.engine import Engine, get_engine
from policyengine.expect import evaluate_expectations
from policyengine.model import Conclusion, Rule, Scenario
from policyengine.pipeline import Rulebase
from policyengine.terms import Practice, Verdict

LAW_FLIP = {
    Verdict.REQUIRED: Verdict.PROHIBITED,
    Verdict.PROHIBITED: Verdict.REQUIRED,
    Verdict.PERMITTED: Verdict.PROHIBITED,
}
PRACTICE_FLIP = {Practice.DOES: Practice.DOES_NOT, Practice.DOES_NOT: Practice.DOES}


@dataclass(frozen=True)
class Mutant:
    """One deliberate error: what was changed, and the mutated rules."""

    id: str
    rule: str
    operator: str  # remove | flip
    description: str
    rules: tuple[Rule, ...]


def _flipped(rule: Rule, c: Conclusion) -> Conclusion | None:
    if rule.kind == "law":
        if c.value == Verdict.CONTESTED:
            target = c.leaning or Verdict.PROHIBITED
            return Conclusion(c.action, target)
        if isinstance(c.value, Verdict) and c.value in LAW_FLIP:
            return Conclusion(c.action, LAW_FLIP[c.value])
        return None
    if isinstance(c.value, Practice) and c.value in PRACTICE_FLIP:
        return Conclusion(c.action, PRACTICE_FLIP[c.value])
    return None


def _show(c: Conclusion) -> str:
    if c.value == Verdict.CONTESTED:
        return f"contested (leaning {c.leaning})"
    return f"{c.value} (protected)" if c.protected else c.value


def mutants(rules: tuple[Rule, ...]) -> list[Mutant]:
    """Every mutant of a rulebase, in rule order: removal first, then each flip."""
    out: list[Mutant] = []
    for i, rule in enumerate(rules):
        rest = rules[:i] + rules[i + 1 :]
        out.append(Mutant(f"remove {rule.id}", rule.id, "remove", f"rule {rule.id} removed", rest))
        for k, c in enumerate(rule.conclusions):
            new = _flipped(rule, c)
            if new is None:
                continue
            conclusions = rule.conclusions[:k] + (new,) + rule.conclusions[k + 1 :]
            changed = dataclasses.replace(rule, conclusions=conclusions)
            out.append(
                Mutant(
                    f"flip {rule.id} {c.action}",
                    rule.id,
                    "flip",
                    f"{rule.id}: {c.action} {_show(c)} -> {_show(new)}",
                    rules[:i] + (changed,) + rules[i + 1 :],
                )
            )
    return out


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    killed_by: tuple[str, ...]  # scenario ids whose expectations failed
    errors: tuple[str, ...]  # scenario ids that could not be evaluated

    @property
    def survived(self) -> bool:
        return not self.killed_by and not self.errors


@dataclass(frozen=True)
class MutationReport:
    engine: str
    scenarios: int
    baseline_failures: tuple[str, ...]  # scenarios failing on the unmutated rulebase
    results: tuple[MutantResult, ...]

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.survived]


def _fails(scenario: Scenario, rulebase: Rulebase, engine: Engine) -> bool:
    return bool(evaluate_expectations(scenario, rulebase, engine).failures)


def run_mutations(
    scenarios: list[Scenario],
    rulebase: Rulebase,
    engine: Engine | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> MutationReport:
    """Run every scenario with expectations against every mutant of `rulebase`."""
    engine = engine or get_engine("reference")
    tests = [s for s in scenarios if s.head.expect]
    baseline = tuple(s.id for s in tests if _fails(s, rulebase, engine))
    tests = [s for s in tests if s.id not in baseline]  # they would "kill" every mutant
    results = []
    all_mutants = mutants(rulebase.rules)
    for n, mutant in enumerate(all_mutants, 1):
        mutated = dataclasses.replace(rulebase, rules=mutant.rules)
        killed, errors = [], []
        for s in tests:
            try:
                if _fails(s, mutated, engine):
                    killed.append(s.id)
            except Exception as exc:  # a mutant that breaks evaluation is noticed too
                errors.append(f"{s.id}: {type(exc).__name__}: {exc}")
        results.append(MutantResult(mutant, tuple(killed), tuple(errors)))
        if progress:
            progress(n, len(all_mutants))
    return MutationReport(engine.name, len(tests), baseline, tuple(results))


def mutation_text(report: MutationReport) -> str:
    lines = [
        f"mutation testing: {len(report.results)} mutants x {report.scenarios} scenario(s) with expectations, "
        f"engine {report.engine}"
        + (
            " (the default for mutants; --mutant-engine durable to use durable_rules)"
            if report.engine == "reference"
            else ""
        )
    ]
    if report.baseline_failures:
        lines.append(
            "  warning: these scenarios fail on the unmutated rules and were left out: "
            + ", ".join(report.baseline_failures)
        )
    killed = len(report.results) - len(report.survivors)
    lines.append(f"  killed: {killed}; survived: {len(report.survivors)}")
    for r in report.survivors:
        lines.append(f"  survived: {r.mutant.description}")
    return "\n".join(lines) + "\n"


def mutation_dict(report: MutationReport) -> dict[str, Any]:
    return {
        "engine": report.engine,
        "scenarios": report.scenarios,
        "baseline_failures": list(report.baseline_failures),
        "mutants": len(report.results),
        "killed": len(report.results) - len(report.survivors),
        "survived": [
            {
                "mutant": r.mutant.id,
                "rule": r.mutant.rule,
                "operator": r.mutant.operator,
                "change": r.mutant.description,
            }
            for r in report.survivors
        ],
        "results": [
            {"mutant": r.mutant.id, "killed_by": list(r.killed_by), "errors": list(r.errors)} for r in report.results
        ],
    }
