"""Scenario expectations: what the law should answer, checked against a decision.

An expectation may name the verdict (or verdicts it must not be), the practice, the
leaning of a contested verdict, rules that must be among the deciders (`decided_by`:
of the verdict or of the practice), rules that must be among the concurring (`concurring`:
lower law that agrees with a higher binding verdict), rules that must be among the defeated (`defeated`:
a bare id, or `{rule, doctrine, by}` to assert why and by whom), and text that must
appear in a deciding citation (`sources_include`).

Expectations are checked on the typed decisions (`resolve.Decision`), which the JSON
contract (`report/data.py`) renders one to one, so an expectation holds exactly when
what a user sees meets it. `evaluate_expectations` is the one place a scenario is
evaluated and checked, for `run`, `test`, the pytest plugin and mutation testing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from policyengine.checked import Expectation, Scenario, dump
from policyengine.engine import Engine
from policyengine.pipeline import Evaluation, Rulebase, evaluate
from policyengine.resolve import DOCTRINES, Decision


def deciders(decision: dict[str, Any]) -> list[str]:
    """Rules that decided the verdict, then rules that decided the practice."""
    return list(decision.get("decided_by", [])) + list(decision.get("practice_by", []))


def defeats(decision: dict[str, Any]) -> list[dict[str, Any]]:
    """Every defeat recorded for the action, law first, then practice."""
    return list(decision.get("defeated", [])) + list(decision.get("practice_defeated", []))


def deciding_cites(decision: dict[str, Any]) -> list[str]:
    return [s["cite"] for s in decision.get("sources", []) + decision.get("practice_sources", [])]


def _defeat_words(rule: str, doctrine: str, by: str | None) -> str:
    return f"{rule} ({doctrine}{f' by {by}' if by else ''})"


def _defeat_text(d: dict[str, Any]) -> str:
    return _defeat_words(d["rule"], d["doctrine"], d.get("by"))


def check_expectation(action: str, expected: Expectation, decision: Decision, rulebase: Rulebase) -> list[str]:
    """Every way `decision` falls short of `expected`, in words (empty when it meets it)."""
    failures = []
    got_values = {"verdict": decision.verdict, "practice": decision.practice, "leaning": decision.leaning}
    for key, got in got_values.items():
        want = getattr(expected, key)
        if want is not None and want != got:
            failures.append(f"{action}: expected {key} {want}, got {got}")
    if decision.verdict in expected.verdict_not:
        failures.append(
            f"{action}: expected a verdict other than {', '.join(expected.verdict_not)}, got {decision.verdict}"
        )
    found = [*decision.decided_by, *decision.practice_by]
    missing = [r for r in expected.decided_by if r not in found]
    if missing:
        failures.append(
            f"{action}: expected decided by {', '.join(missing)}; decided by {', '.join(found) or 'no rule'}"
        )
    agreeing = list(decision.concurring)
    missing = [r for r in expected.concurring if r not in agreeing]
    if missing:
        failures.append(
            f"{action}: expected {', '.join(missing)} among the concurring; concurring: {', '.join(agreeing) or 'none'}"
        )
    recorded = [*decision.defeated, *decision.practice_defeated]
    for want in expected.defeated:
        if want.doctrine is not None and want.doctrine not in DOCTRINES:
            failures.append(f"{action}: '{want.doctrine}' is not a doctrine (one of: {', '.join(DOCTRINES)})")
            continue
        hits = [
            d
            for d in recorded
            if d.rule == want.rule
            and (want.doctrine is None or d.doctrine == want.doctrine)
            and (want.by is None or d.by == want.by)
        ]
        if not hits:
            how = "".join([f" ({want.doctrine})" if want.doctrine else "", f" by {want.by}" if want.by else ""])
            shown = ", ".join(_defeat_words(d.rule, d.doctrine, d.by) for d in recorded)
            failures.append(f"{action}: expected {want.rule} among the defeated{how}; defeated: {shown or 'none'}")
    cites = [s.cite for r in (*decision.decided_by, *decision.practice_by) for s in rulebase.by_id[r].sources]
    for text in expected.sources_include:
        if not any(text in c for c in cites):
            failures.append(f"{action}: expected a deciding source citing '{text}'")
    return failures


def failures_by_action(
    expect: dict[str, Expectation], decisions: list[Decision], rulebase: Rulebase
) -> dict[str, list[str]]:
    """The failing actions of one scenario, each with its one-line messages."""
    by_action = {d.action: d for d in decisions}
    failing: dict[str, list[str]] = {}
    for action, expected in expect.items():
        found = check_expectation(action, expected, by_action[action], rulebase)
        if found:
            failing[action] = found
    return failing


@dataclass(frozen=True)
class CheckedScenario:
    """A scenario evaluated and its expectations checked on the typed decisions."""

    evaluation: Evaluation
    failing: dict[str, list[str]]  # action -> what fell short, in words

    @property
    def failures(self) -> list[str]:
        return [message for messages in self.failing.values() for message in messages]

    def summary(self) -> dict[str, Any]:
        """The `expectations` block of the JSON contract."""
        expect = self.evaluation.scenario.head.expect
        return {"total": len(expect), "met": len(expect) - len(self.failing), "failures": self.failures}


def evaluate_expectations(
    scenario: Scenario,
    rulebase: Rulebase,
    engine: Engine | None = None,
    as_of: dt.date | None = None,
    known_on: dt.date | None = None,
) -> CheckedScenario:
    """Evaluate a scenario and check its `expect:` block: what `run`, `test`, the pytest
    plugin and mutation testing all do with a scenario."""
    ev = evaluate(scenario, rulebase, engine, as_of=as_of, known_on=known_on)
    return CheckedScenario(ev, failures_by_action(scenario.head.expect, ev.decisions, rulebase))


def expected_summary(expected: Expectation) -> dict[str, Any]:
    """The expectation as it was written, without empty keys (for a readable diff)."""
    out: dict[str, Any] = dump(expected, exclude_defaults=True)
    if "defeated" in out:
        out["defeated"] = [
            d["rule"] if set(d) == {"rule"} else {k: v for k, v in d.items() if v is not None} for d in out["defeated"]
        ]
    return out


def actual_summary(decision: dict[str, Any]) -> dict[str, Any]:
    """The parts of a decision an expectation can assert (for a readable diff)."""
    out: dict[str, Any] = {"verdict": decision["verdict"], "practice": decision["practice"]}
    if decision.get("leaning"):
        out["leaning"] = decision["leaning"]
    out["decided_by"] = list(decision["decided_by"])
    if decision.get("concurring"):
        out["concurring"] = list(decision["concurring"])
    if decision.get("practice_by"):
        out["practice_by"] = list(decision["practice_by"])
    out["defeated"] = [_defeat_text(d) for d in defeats(decision)]
    out["sources"] = deciding_cites(decision)
    return out
