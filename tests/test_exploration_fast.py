"""The exploration behind `check` evaluates classes of scenarios instead of every scenario: the
findings must be exactly those of evaluating every scenario through the pipeline
(`Explorer(rulebase, exhaustive=True)`, the search as it was written first), message for
message, counterexample for counterexample, on the bundled rules and on mutants of them whose
findings differ from the bundled rules' (so a shortcut that loses a conflict, a defeater or the
point where a search gives up shows here)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from policyengine import pipeline
from policyengine.analysis import exploration
from policyengine.analysis.exploration import Explorer
from policyengine.rulebase import Rulebase, read_rulebase
from policyengine.testing.mutations import mutants

# each mutant changes what check finds on the bundled rules in another way
MUTANTS = {
    # five rules become never decisive, each PE503 naming what defeats it; no search gives up
    "remove mn.state.independent-basis": {"PE503"},
    # three new law conflicts, each with its smallest counterexample scenario
    "flip fed.1357g10.release-notice notify_release": {"PE501", "PE503", "PE505"},
    # the exploration limit is reached on another rule
    "flip mn.state.no-detainer-hold hold_beyond_release": {"PE505"},
}
# the derived fact `custody.independent_basis` only for county jails: the agency decides it
AGENCY_MUTANT = "bind mn.state.independent-basis to county_jail"
MUTANTS[AGENCY_MUTANT] = {"PE503"}


@pytest.fixture(scope="module")
def bundled() -> Rulebase:
    return read_rulebase()


TODAY = dt.date(2026, 11, 29)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(pipeline, "today", lambda: TODAY)


@pytest.fixture(scope="module")
def exhaustive(bundled) -> tuple[Explorer, list[dict]]:
    """The bundled rules explored scenario by scenario, once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "today", lambda: TODAY)
        explorer = Explorer(bundled, exhaustive=True)
        return explorer, [f.as_dict() for f in explorer.run()]


def findings(rb: Rulebase, exhaustive: bool) -> list[dict]:
    return [f.as_dict() for f in Explorer(rb, exhaustive=exhaustive).run()]


def test_bundled_rules_same_findings_as_every_scenario(bundled, exhaustive):
    fast = findings(bundled, exhaustive=False)
    assert {f["code"] for f in fast} == {"PE503", "PE505"}
    assert fast == exhaustive[1]


def assert_classes_hold(rb: Rulebase, explorer: Explorer) -> int:
    """What the shortcut rests on: each scenario the exhaustive searches visited, evaluated
    through the pipeline, fired the same rules, derived the same facts and got the same
    decisions as its class (same tested facts, same answers to the date's tests, same agency).
    Returns how many scenarios were compared."""
    fast = Explorer(rb)
    visited = 0
    for actions, view in explorer.views.items():
        classes = fast.view(set(actions))
        for point, ev in view.cache.items():
            got = classes.outcome(point)
            assert (got.firing.fired, got.firing.derived) == (ev.firing.fired, ev.firing.derived), point
            assert tuple(got.decisions) == tuple(ev.decisions), point
            visited += 1
    return visited


def test_every_visited_scenario_has_the_outcome_of_its_class(bundled, exhaustive):
    assert assert_classes_hold(bundled, exhaustive[0]) > 20_000


def mutated(bundled: Rulebase, mutant_id: str) -> Rulebase:
    if mutant_id == AGENCY_MUTANT:  # not a mutant `mutants` makes: the derived fact depends on the agency
        rules = tuple(
            dataclasses.replace(r, binds=("county_jail",)) if r.id == "mn.state.independent-basis" else r
            for r in bundled.rules
        )
        return dataclasses.replace(bundled, rules=rules)
    rule = next(r.id for r in bundled.rules if r.id in mutant_id.split())
    (mutant,) = [m for m in mutants(bundled, only={rule}) if m.id == mutant_id]
    return dataclasses.replace(bundled, rules=mutant.rules)


@pytest.mark.parametrize("mutant_id", sorted(MUTANTS))
def test_mutant_same_findings_as_every_scenario(bundled, mutant_id):
    rb = mutated(bundled, mutant_id)
    fast = findings(rb, exhaustive=False)
    assert fast != findings(bundled, exhaustive=False)  # the mutant is seen: the comparison means something
    assert {f["code"] for f in fast} >= MUTANTS[mutant_id]
    explorer = Explorer(rb, exhaustive=True)
    assert fast == [f.as_dict() for f in explorer.run()]
    assert assert_classes_hold(rb, explorer) > 1_000


@pytest.mark.parametrize("limit", [1, 2, 37, 500, 4000])
def test_limit_stops_both_at_the_same_scenario(bundled, monkeypatch, limit):
    """With a lower limit more searches give up (PE505) and others stop at their first find:
    where each stops depends on counting every scenario visited, classes or not."""
    monkeypatch.setattr(exploration, "MAX_EVALUATIONS", limit)
    fast = findings(bundled, exhaustive=False)
    assert any(f["code"] == "PE505" and str(limit) in f["message"] for f in fast)
    assert fast == findings(bundled, exhaustive=True)


def test_a_search_of_exactly_the_limit_finishes(bundled, monkeypatch):
    """The search that shows 'fed.detainer.i247n-no-hold-request' is never decisive visits N
    scenarios: with a limit of N it finishes (PE503), with N - 1 it gives up (PE505)."""
    explorer = Explorer(bundled)
    rule = bundled.by_id["fed.detainer.i247n-no-hold-request"]
    rivals = explorer.rivals(rule)
    view = explorer.view({c.action for c in rule.conclusions})
    days = view.dates(rule.in_force.start, rule.in_force.until)
    facts = view.facts_of([rule, *rivals])
    n = sum(1 for _ in view.points(facts, days, view.agencies(set(rule.binds)), view.places([rule, *rivals], days)))
    for limit, code in ((n, "PE503"), (n - 1, "PE505")):
        monkeypatch.setattr(exploration, "MAX_EVALUATIONS", limit)
        fast = findings(bundled, exhaustive=False)
        assert [f["code"] for f in fast if f["rules"] == [rule.id]] == [code], limit
        assert fast == findings(bundled, exhaustive=True)
