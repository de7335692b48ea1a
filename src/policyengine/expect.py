"""Scenario expectations: what the law should answer, checked against a decision.

An expectation may name the verdict, the practice, the leaning of a contested verdict,
rules that must be among the deciders (`decided_by`), rules that must be among the
defeated (`defeated`), and text that must appear in a deciding citation
(`sources_include`).
"""

from __future__ import annotations

from typing import Any

from policyengine.model import Expectation


def check_expectation(action: str, expected: Expectation, decision: dict[str, Any]) -> list[str]:
    """Every way `decision` falls short of `expected`, in words (empty when it meets it)."""
    failures = []
    for key in ("verdict", "practice", "leaning"):
        want = getattr(expected, key)
        got = decision.get(key)
        if want is not None and want != got:
            failures.append(f"{action}: expected {key} {want}, got {got}")
    missing = [r for r in expected.decided_by if r not in decision["decided_by"]]
    if missing:
        failures.append(
            f"{action}: expected decided by {', '.join(missing)}; "
            f"decided by {', '.join(decision['decided_by']) or 'no rule'}"
        )
    defeated = {d["rule"] for d in decision["defeated"]}
    missing = [r for r in expected.defeated if r not in defeated]
    if missing:
        failures.append(
            f"{action}: expected {', '.join(missing)} among the defeated; "
            f"defeated: {', '.join(sorted(defeated)) or 'none'}"
        )
    cites = [s["cite"] for s in decision["sources"]]
    for text in expected.sources_include:
        if not any(text in c for c in cites):
            failures.append(f"{action}: expected a deciding source citing '{text}'")
    return failures


def check_expectations(expect: dict[str, Expectation], result: dict[str, Any]) -> dict[str, Any]:
    """Summary of all expectations of one scenario against its JSON result."""
    by_action = {d["action"]: d for d in result["decisions"]}
    failures: list[str] = []
    for action, expected in expect.items():
        failures += check_expectation(action, expected, by_action[action])
    failed_actions = {f.split(":", 1)[0] for f in failures}
    return {"total": len(expect), "met": len(expect) - len(failed_actions), "failures": failures}
