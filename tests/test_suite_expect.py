"""Expectations: the forms a scenario's `expect:` may take, and how each is checked."""

from __future__ import annotations

import pytest

from policyengine.check import check_scenario
from policyengine.errors import InputError
from policyengine.expect import check_expectation, check_expectations, failures_by_action
from policyengine.load import load_yaml
from policyengine.model import DefeatExpectation, Expectation
from policyengine.pipeline import load_rulebase

DECISION = {
    "action": "hold_beyond_release",
    "verdict": "prohibited",
    "practice": "does_not",
    "decided_by": ["mn.state.no-detainer-hold"],
    "sources": [{"rule": "mn.state.no-detainer-hold", "cite": "Esparza v. Nobles County", "url": "https://x.org"}],
    "defeated": [{"rule": "fed.detainer.hold-request", "by": "mn.state.no-detainer-hold", "doctrine": "lex superior"}],
    "concurring": ["mn.county.nobles.permanent-injunction"],
    "practice_by": ["mn.county.hennepin.no-detainer-hold"],
    "practice_sources": [{"rule": "mn.county.hennepin.no-detainer-hold", "cite": "MPR News", "url": "https://x.org"}],
    "practice_defeated": [
        {"rule": "mn.doc.x", "by": "mn.county.hennepin.no-detainer-hold", "doctrine": "more local practice"}
    ],
}


def exp(**kw) -> Expectation:
    return Expectation.model_validate(kw)


def test_defeated_accepts_bare_ids_and_mappings():
    e = exp(defeated=["a.b", {"rule": "c.d", "doctrine": "lex superior", "by": "e.f"}])
    assert e.defeated == [
        DefeatExpectation(rule="a.b"),
        DefeatExpectation(rule="c.d", doctrine="lex superior", by="e.f"),
    ]


def test_met_expectation_has_no_failures():
    e = exp(
        verdict="prohibited",
        practice="does_not",
        decided_by=["mn.state.no-detainer-hold", "mn.county.hennepin.no-detainer-hold"],
        concurring=["mn.county.nobles.permanent-injunction"],
        defeated=[{"rule": "fed.detainer.hold-request", "doctrine": "lex superior"}, "mn.doc.x"],
        sources_include=["Esparza", "MPR"],
        verdict_not=["permitted"],
    )
    assert check_expectation("hold_beyond_release", e, DECISION) == []


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
def test_each_kind_of_shortfall_is_named(written, message):
    [failure] = check_expectation("hold_beyond_release", exp(**written), DECISION)
    assert failure.startswith("hold_beyond_release: ")
    assert message in failure


def test_missing_concurring_rule_fails_when_the_rule_was_defeated_instead():
    """A lower rule that disagrees with the binding verdict is defeated, not concurring."""
    decision = {k: v for k, v in DECISION.items() if k != "concurring"}
    decision["defeated"] = [
        *DECISION["defeated"],
        {
            "rule": "mn.county.nobles.permanent-injunction",
            "by": "mn.state.no-detainer-hold",
            "doctrine": "lex superior",
        },
    ]
    e = exp(concurring=["mn.county.nobles.permanent-injunction"])
    assert check_expectation("hold_beyond_release", e, decision) == [
        "hold_beyond_release: expected mn.county.nobles.permanent-injunction among the concurring; concurring: none"
    ]


def test_summary_counts_actions():
    result = {"decisions": [DECISION, {**DECISION, "action": "notify_release"}]}
    expect = {"hold_beyond_release": exp(verdict="prohibited"), "notify_release": exp(verdict="required")}
    summary = check_expectations(expect, result)
    assert (summary["total"], summary["met"]) == (2, 1)
    assert summary["failures"] == ["notify_release: expected verdict required, got prohibited"]
    assert list(failures_by_action(expect, result)) == ["notify_release"]


def test_bad_expectation_in_a_scenario_is_located():
    rb = load_rulebase()
    text = (
        "id: x\ntitle: X\ndate: 2026-01-01\nagency: doc\nplace: {county: Aitkin}\n"
        "expect:\n  hold_beyond_release:\n    defeated:\n      - {rule: a.b, doctrin: lex superior}\n"
    )
    with pytest.raises(InputError) as exc:
        check_scenario(load_yaml("x.yaml", text=text), rb.vocabulary, rb.registry)
    assert any(p.line == 9 and "doctrin" in p.message for p in exc.value.problems)
