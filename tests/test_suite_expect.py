"""Expectations: the forms a scenario's `expect:` may take, and how each is checked."""

from __future__ import annotations

import dataclasses

import pytest

from policyengine import bundled
from policyengine.check import check_scenario
from policyengine.checked import DefeatExpectation, Expectation
from policyengine.errors import InputError
from policyengine.expect import check_expectation, evaluate_expectations, failures_by_action
from policyengine.load import load_yaml
from policyengine.model import Expectation as ExpectationShape
from policyengine.model import to_checked
from policyengine.pipeline import load_rulebase, load_scenario
from policyengine.resolve import Decision, Defeat
from policyengine.terms import Doctrine, Practice, Verdict

# A typed decision as resolve makes it; the deciders' citations come from the bundled rules
# (mn.state.no-detainer-hold cites Esparza, the Hennepin practice MPR News).
DECISION = Decision(
    action="hold_beyond_release",
    verdict=Verdict.PROHIBITED,
    practice=Practice.DOES_NOT,
    decided_by=("mn.state.no-detainer-hold",),
    defeated=(Defeat("fed.detainer.hold-request", "mn.state.no-detainer-hold", Doctrine.LEX_SUPERIOR),),
    concurring=("mn.county.nobles.permanent-injunction",),
    practice_by=("mn.county.hennepin.no-detainer-hold",),
    practice_defeated=(Defeat("mn.doc.x", "mn.county.hennepin.no-detainer-hold", Doctrine.LOCAL_PRACTICE),),
)


def exp(**kw) -> Expectation:
    """An expectation as a scenario file would give it: validated by the model, then checked."""
    checked: Expectation = to_checked(ExpectationShape.model_validate(kw))
    return checked


def test_defeated_accepts_bare_ids_and_mappings():
    e = exp(defeated=["a.b", {"rule": "c.d", "doctrine": "lex superior", "by": "e.f"}])
    assert e.defeated == [
        DefeatExpectation(rule="a.b"),
        DefeatExpectation(rule="c.d", doctrine="lex superior", by="e.f"),
    ]


def test_met_expectation_has_no_failures(rulebase):
    e = exp(
        verdict="prohibited",
        practice="does_not",
        decided_by=["mn.state.no-detainer-hold", "mn.county.hennepin.no-detainer-hold"],
        concurring=["mn.county.nobles.permanent-injunction"],
        defeated=[{"rule": "fed.detainer.hold-request", "doctrine": "lex superior"}, "mn.doc.x"],
        sources_include=["Esparza", "MPR"],
        verdict_not=["permitted"],
    )
    assert check_expectation("hold_beyond_release", e, DECISION, rulebase) == []


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ({"verdict": "permitted"}, "expected verdict permitted, got prohibited"),
        ({"practice": "does"}, "expected practice does, got does_not"),
        ({"verdict_not": ["prohibited", "contested"]}, "expected a verdict other than prohibited, contested"),
        ({"decided_by": ["fed.x"]}, "expected decided by fed.x; decided by mn.state.no-detainer-hold"),
        (
            {"concurring": ["mn.county.hennepin.x"]},
            "expected mn.county.hennepin.x among the concurring; concurring: mn.county.nobles.permanent-injunction",
        ),
        ({"defeated": ["fed.y"]}, "expected fed.y among the defeated; defeated: fed.detainer.hold-request (lex"),
        (
            {"defeated": [{"rule": "fed.detainer.hold-request", "doctrine": "preemption"}]},
            "expected fed.detainer.hold-request among the defeated (preemption)",
        ),
        (
            {"defeated": [{"rule": "fed.detainer.hold-request", "by": "mn.other"}]},
            "expected fed.detainer.hold-request among the defeated by mn.other",
        ),
        ({"defeated": [{"rule": "fed.detainer.hold-request", "doctrine": "lex posterior"}]}, "is not a doctrine"),
        ({"sources_include": ["8 U.S.C."]}, "expected a deciding source citing '8 U.S.C.'"),
    ],
)
def test_each_kind_of_shortfall_is_named(written, message, rulebase):
    [failure] = check_expectation("hold_beyond_release", exp(**written), DECISION, rulebase)
    assert failure.startswith("hold_beyond_release: ")
    assert message in failure


def test_missing_concurring_rule_fails_when_the_rule_was_defeated_instead(rulebase):
    """A lower rule that disagrees with the binding verdict is defeated, not concurring."""
    beaten = Defeat("mn.county.nobles.permanent-injunction", "mn.state.no-detainer-hold", Doctrine.LEX_SUPERIOR)
    decision = dataclasses.replace(DECISION, concurring=(), defeated=(*DECISION.defeated, beaten))
    e = exp(concurring=["mn.county.nobles.permanent-injunction"])
    assert check_expectation("hold_beyond_release", e, decision, rulebase) == [
        "hold_beyond_release: expected mn.county.nobles.permanent-injunction among the concurring; concurring: none"
    ]


def test_failures_are_grouped_by_action(rulebase):
    decisions = [DECISION, dataclasses.replace(DECISION, action="notify_release")]
    expect = {"hold_beyond_release": exp(verdict="prohibited"), "notify_release": exp(verdict="required")}
    assert failures_by_action(expect, decisions, rulebase) == {
        "notify_release": ["notify_release: expected verdict required, got prohibited"]
    }


def test_one_function_evaluates_and_checks_a_scenario(rulebase, tmp_path):
    scenario = load_scenario(bundled.scenarios_dir() / "hennepin-jail-detainer-no-warrant.yaml", rulebase)
    checked = evaluate_expectations(scenario, rulebase)
    summary = checked.summary()
    assert summary == {"total": len(scenario.head.expect), "met": len(scenario.head.expect), "failures": []}
    wrong = dataclasses.replace(
        scenario, head=dataclasses.replace(scenario.head, expect={"notify_release": exp(verdict="required")})
    )
    failed = evaluate_expectations(wrong, rulebase)
    assert failed.summary()["met"] == 0 and failed.failures[0].startswith("notify_release: expected verdict required")


def test_bad_expectation_in_a_scenario_is_located():
    rb = load_rulebase()
    text = (
        "id: x\ntitle: X\ndate: 2026-01-01\nagency: doc\nplace: {county: Aitkin}\n"
        "expect:\n  hold_beyond_release:\n    defeated:\n      - {rule: a.b, doctrin: lex superior}\n"
    )
    with pytest.raises(InputError) as exc:
        check_scenario(load_yaml("x.yaml", text=text), rb.vocabulary, rb.registry)
    assert any(p.line == 9 and "doctrin" in p.message for p in exc.value.problems)
