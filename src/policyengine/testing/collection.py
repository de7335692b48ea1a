"""Scenario files with `expect:` blocks, run as tests of a rulebase.

One scenario is one test. It passes when every expectation of every action it names
holds on the default engine. A failure is reported as expected versus actual, per
action, followed by the trace (facts stated, rules fired with the facts they matched,
facts derived), so that a lawyer who changed a rule sees which outcome moved and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from policyengine.checked import Scenario
from policyengine.engine import Engine
from policyengine.errors import Problem
from policyengine.expect import actual_summary, evaluate_expectations, expected_summary
from policyengine.pipeline import Rulebase
from policyengine.report import evaluation_dict


@dataclass(frozen=True)
class Outcome:
    """One scenario run as a test: its JSON result (with trace) and what failed."""

    scenario: Scenario
    result: dict[str, Any]
    failures: tuple[str, ...]
    by_action: dict[str, list[str]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def id(self) -> str:
        return self.scenario.id


def with_expectations(scenarios: list[Scenario]) -> list[Scenario]:
    return [s for s in scenarios if s.head.expect]


def unknown_rules(scenario: Scenario, rulebase: Rulebase) -> list[str]:
    """Rule ids an expectation names that the rulebase does not have (likely a typo)."""
    out = []
    for action, expected in scenario.head.expect.items():
        named = (
            list(expected.decided_by)
            + list(expected.concurring)
            + [d.rule for d in expected.defeated]
            + [d.by for d in expected.defeated]
        )
        for rule_id in named:
            if rule_id is not None and rule_id not in rulebase.by_id:
                out.append(f"{action}: expectation names rule '{rule_id}', which is not in the rulebase")
    return out


def run_scenario(scenario: Scenario, rulebase: Rulebase, engine: Engine | None = None) -> Outcome:
    """Evaluate one scenario and check its expectations."""
    checked = evaluate_expectations(scenario, rulebase, engine)
    result = evaluation_dict(checked.evaluation, rulebase, explain=True)
    by_action = {action: list(messages) for action, messages in checked.failing.items()}
    unknown = unknown_rules(scenario, rulebase)
    for message in unknown:
        by_action.setdefault(message.split(":", 1)[0], []).append(message)
    failures = tuple(m for messages in by_action.values() for m in messages)
    return Outcome(scenario, result, failures, by_action)


def duplicate_ids(scenarios: list[Scenario]) -> list[Problem]:
    """Two scenario files with one id would make two tests of one name."""
    seen: dict[str, str] = {}
    problems = []
    for s in scenarios:
        if s.id in seen:
            problems.append(Problem(s.file, 1, f"scenario id '{s.id}' is used twice (first in {seen[s.id]})"))
        else:
            seen[s.id] = s.file
    return problems


# ------------------------------------------------------------------- report


def _inline(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_inline(v)}" for k, v in value.items()) + "}"
    return str(value)


def _block(title: str, summary: dict[str, Any], indent: str = "    ") -> list[str]:
    """`title:` then one line per key; long lists one item per line."""
    lines = [f"{indent}{title}:"]
    for key, value in summary.items():
        if isinstance(value, list) and len(value) > 1 and len(_inline(value)) > 60:
            lines.append(f"{indent}  {key}:")
            lines += [f"{indent}    - {_inline(v)}" for v in value]
        else:
            lines.append(f"{indent}  {key}: {_inline(value)}")
    return lines


def format_failure(outcome: Outcome) -> str:
    """Expected versus actual for every failing action, then the trace."""
    lines = [f"scenario {outcome.id} ({outcome.scenario.file}) did not meet its expectations"]
    decisions = {d["action"]: d for d in outcome.result["decisions"]}
    for action, messages in outcome.by_action.items():
        lines.append(f"  {action}:")
        lines += [f"    ! {message.split(': ', 1)[-1]}" for message in messages]
        if action in outcome.scenario.head.expect:
            lines += _block("expected", expected_summary(outcome.scenario.head.expect[action]))
        if action in decisions:
            lines += _block("actual", actual_summary(decisions[action]))
    lines += trace_lines(outcome)
    return "\n".join(lines)


def trace_lines(outcome: Outcome) -> list[str]:
    trace = outcome.result["trace"]
    stated = {k: v for k, v in sorted(outcome.scenario.facts.items())}
    lines = ["  trace:", f"    engine: {outcome.result['engine']}", "    facts stated:"]
    lines += [f"      {k} = {_inline(v.isoformat() if hasattr(v, 'isoformat') else v)}" for k, v in stated.items()]
    lines.append("    rules fired (facts matched):")
    for f in trace["fired"]:
        lines.append(f"      {f['rule']}: {'; '.join(f['matched']) or 'always applies'}")
    if not trace["fired"]:
        lines.append("      (none)")
    for fact, rules in trace["derived"].items():
        lines.append(f"    derived {fact} by {', '.join(rules)}")
    return lines


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    """One scenario's test result for `policyengine test --format json`."""
    decisions = {d["action"]: d for d in outcome.result["decisions"]}
    actions = {}
    for action, expected in outcome.scenario.head.expect.items():
        actions[action] = {
            "passed": action not in outcome.by_action,
            "expected": expected_summary(expected),
            "actual": actual_summary(decisions[action]),
            "failures": outcome.by_action.get(action, []),
        }
    return {
        "scenario": outcome.id,
        "file": outcome.scenario.file,
        "engine": outcome.result["engine"],
        "passed": outcome.passed,
        "actions": actions,
    }
