"""The silent cases (issue 8): every action is asserted, for every agency, by some scenario.

For each action of the vocabulary and each agency, at least one bundled scenario of that
agency must expect an answer for the action that is not `not_addressed`, unless the
expectation names the sourced record of silence that decides it. So `not_addressed` is
always a finding a lawyer can read, never an accident. (Whether each scenario's expectations
hold is checked by the scenario tests themselves.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.pipeline import load_rulebase, load_scenarios

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def rulebase():
    return load_rulebase(ROOT / "rules")


@pytest.fixture(scope="module")
def scenarios(rulebase):
    return load_scenarios([ROOT / "scenarios"], rulebase)


def _silence_records(rulebase) -> dict[str, set[str]]:
    """action -> ids of law rules that conclude `not_addressed` for it (records of silence)."""
    out: dict[str, set[str]] = {}
    for rule in rulebase.rules:
        for c in rule.conclusions:
            if rule.is_law and c.value == "not_addressed":
                out.setdefault(c.action, set()).add(rule.id)
    return out


def _covered(rulebase, scenarios) -> set[tuple[str, str]]:
    silence = _silence_records(rulebase)
    covered = set()
    for sc in scenarios:
        agency = sc.facts["agency"]
        for action, exp in sc.head.expect.items():
            if exp.verdict is None:
                continue
            if exp.verdict == "not_addressed":
                if not set(exp.decided_by) & silence.get(action, set()):
                    continue
            elif exp.verdict == "conflict":
                continue
            covered.add((action, agency))
    return covered


def test_every_action_and_agency_has_an_answer_or_a_record_of_silence(rulebase, scenarios):
    agencies = list(rulebase.vocabulary.facts["agency"].values or {})
    covered = _covered(rulebase, scenarios)
    missing = [
        f"{action} x {agency}" for action in rulebase.actions for agency in agencies if (action, agency) not in covered
    ]
    assert not missing, "no scenario asserts an answer (or a record of silence) for:\n  " + "\n  ".join(missing)


def test_a_bare_not_addressed_expectation_does_not_count(rulebase, scenarios):
    """The coverage above cannot be met by asserting `not_addressed` without a record of silence."""
    silence = _silence_records(rulebase)
    bare = [
        (sc, action)
        for sc in scenarios
        for action, exp in sc.head.expect.items()
        if exp.verdict == "not_addressed" and not set(exp.decided_by) & silence.get(action, set())
    ]
    assert bare, "the bundled scenarios no longer contain a bare not_addressed expectation to check this with"
    for sc, action in bare:
        assert (action, sc.facts["agency"]) not in _covered(rulebase, [sc])
