"""Scenario expectations: what the law should answer, checked against a decision.

An expectation may name the verdict (or verdicts it must not be), the practice, the
leaning of a contested verdict, rules that must be among the deciders (`decided_by`:
of the verdict or of the practice), rules that must be among the concurring (`concurring`:
lower law that agrees with a higher binding verdict), rules that must be among the defeated (`defeated`:
a bare id, or `{rule, doctrine, by}` to assert why and by whom), and text that must
appear in a deciding citation (`sources_include`).

Decisions are the JSON contract's dictionaries (`report/data.py`), so an expectation is
checked against exactly what a user sees.
"""

from __future__ import annotations

from typing import Any

from policyengine.model import Expectation
from policyengine.resolve import DOCTRINES


def deciders(decision: dict[str, Any]) -> list[str]:
    """Rules that decided the verdict, then rules that decided the practice."""
    return list(decision.get("decided_by", [])) + list(decision.get("practice_by", []))


def defeats(decision: dict[str, Any]) -> list[dict[str, Any]]:
    """Every defeat recorded for the action, law first, then practice."""
    return list(decision.get("defeated", [])) + list(decision.get("practice_defeated", []))


def deciding_cites(decision: dict[str, Any]) -> list[str]:
    return [s["cite"] for s in decision.get("sources", []) + decision.get("practice_sources", [])]


def _defeat_text(d: dict[str, Any]) -> str:
    by = f" by {d['by']}" if d.get("by") else ""
    return f"{d['rule']} ({d['doctrine']}{by})"


def check_expectation(action: str, expected: Expectation, decision: dict[str, Any]) -> list[str]:
    """Every way `decision` falls short of `expected`, in words (empty when it meets it)."""
    failures = []
    for key in ("verdict", "practice", "leaning"):
        want = getattr(expected, key)
        got = decision.get(key)
        if want is not None and want != got:
            failures.append(f"{action}: expected {key} {want}, got {got}")
    if decision.get("verdict") in expected.verdict_not:
        failures.append(
            f"{action}: expected a verdict other than {', '.join(expected.verdict_not)}, got {decision['verdict']}"
        )
    found = deciders(decision)
    missing = [r for r in expected.decided_by if r not in found]
    if missing:
        failures.append(
            f"{action}: expected decided by {', '.join(missing)}; decided by {', '.join(found) or 'no rule'}"
        )
    agreeing = list(decision.get("concurring", []))
    missing = [r for r in expected.concurring if r not in agreeing]
    if missing:
        failures.append(
            f"{action}: expected {', '.join(missing)} among the concurring; concurring: {', '.join(agreeing) or 'none'}"
        )
    recorded = defeats(decision)
    for want in expected.defeated:
        if want.doctrine is not None and want.doctrine not in DOCTRINES:
            failures.append(f"{action}: '{want.doctrine}' is not a doctrine (one of: {', '.join(DOCTRINES)})")
            continue
        hits = [
            d
            for d in recorded
            if d["rule"] == want.rule
            and (want.doctrine is None or d["doctrine"] == want.doctrine)
            and (want.by is None or d.get("by") == want.by)
        ]
        if not hits:
            how = "".join([f" ({want.doctrine})" if want.doctrine else "", f" by {want.by}" if want.by else ""])
            failures.append(
                f"{action}: expected {want.rule} among the defeated{how}; "
                f"defeated: {', '.join(_defeat_text(d) for d in recorded) or 'none'}"
            )
    cites = deciding_cites(decision)
    for text in expected.sources_include:
        if not any(text in c for c in cites):
            failures.append(f"{action}: expected a deciding source citing '{text}'")
    return failures


def failures_by_action(expect: dict[str, Expectation], result: dict[str, Any]) -> dict[str, list[str]]:
    """The failing actions of one scenario, each with its one-line messages."""
    by_action = {d["action"]: d for d in result["decisions"]}
    failing: dict[str, list[str]] = {}
    for action, expected in expect.items():
        found = check_expectation(action, expected, by_action[action])
        if found:
            failing[action] = found
    return failing


def check_expectations(expect: dict[str, Expectation], result: dict[str, Any]) -> dict[str, Any]:
    """Summary of all expectations of one scenario against its JSON result."""
    failing = failures_by_action(expect, result)
    failures = [message for messages in failing.values() for message in messages]
    return {"total": len(expect), "met": len(expect) - len(failing), "failures": failures}


def expected_summary(expected: Expectation) -> dict[str, Any]:
    """The expectation as it was written, without empty keys (for a readable diff)."""
    out = expected.model_dump(exclude_defaults=True)
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
