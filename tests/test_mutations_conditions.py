"""Condition-level mutants (testing/mutations.py): each condition dropped, each test negated,
each `in` value taken out, each date moved by a year; found by id and line, and killed by the
bundled scenarios where the law they change is pinned down."""

from __future__ import annotations

import pytest

from policyengine import bundled
from policyengine.conditions import AllOf, AnyOf, Not, Test
from policyengine.engine import get_engine
from policyengine.pipeline import load_rulebase, load_scenarios
from policyengine.testing.mutations import Equivalents, mutants, run_mutations, show_path, written_parts

COMMITMENT = "mn.state.631-50-commitment-notice"
CITIZENSHIP_DROPPED = f"{COMMITMENT}/all[0]/person.citizenship:drop"


@pytest.fixture(scope="module")
def rulebase():
    return load_rulebase()


@pytest.fixture(scope="module")
def scenarios(rulebase):
    return load_scenarios([bundled.scenarios_dir()], rulebase)


def test_written_parts_pair_the_tree_with_the_text():
    raw = {"all": [{"a": {"in": ["x", "y"]}}, {"not": {"b": True}}, {"c": {"not": "none"}, "d": 3}]}
    tree = AllOf(
        (
            AnyOf((Test("a", "eq", "x"), Test("a", "eq", "y"))),
            Not(Test("b", "eq", True)),
            AllOf((Test("c", "neq", "none"), Test("d", "eq", 3))),
        )
    )
    found = [(p.path, show_path(p.written), p.role) for p in written_parts(raw, tree)]
    assert found == [
        ((), "all", "group"),
        ((0,), "all[0]/a", "test"),
        ((0, 0), "all[0]/a/in[0]", "value"),
        ((0, 1), "all[0]/a/in[1]", "value"),
        ((1,), "all[1]/not", "not"),
        ((1, 0), "all[1]/not/b", "test"),
        ((2,), "all[2]", "group"),
        ((2, 0), "all[2]/c", "test"),
        ((2, 1), "all[2]/d", "test"),
    ]


def test_every_kind_of_mutant_is_made_with_a_unique_id(rulebase):
    made = mutants(rulebase)
    kinds = {m.operator for m in made}
    assert {"remove", "flip", "drop", "negate", "drop-value", "from-earlier", "from-later"} <= kinds
    assert {"until-earlier", "until-later", "declared-earlier", "declared-later"} <= kinds
    assert len({m.id for m in made}) == len(made)
    # whole-rule mutants keep the ids they always had: one removal per rule, named by its id
    removed = {m.id for m in made if m.operator == "remove"}
    assert removed == {f"remove {r.id}" for r in rulebase.rules}
    assert any(m.operator == "flip" for m in made)


def test_the_citizenship_mutant_of_631_50_names_its_line(rulebase):
    (m,) = [m for m in mutants(rulebase, {COMMITMENT}) if m.id == CITIZENSHIP_DROPPED]
    assert m.operator == "drop"
    assert m.description == f"{COMMITMENT}: condition dropped: person.citizenship: noncitizen"
    line = rulebase.source_map.condition(COMMITMENT, ("all", 0)).line
    assert m.location is not None and (m.location.file, m.location.line) == (
        "rules/minnesota/state/detainers.yaml",
        line,
    )
    text = (bundled.rules_dir() / "minnesota" / "state" / "detainers.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[line - 1].strip() == "- person.citizenship: noncitizen"
    changed = m.changed
    assert changed is not None and "person.citizenship" not in {t.fact for t in _leaves(changed.when)}


def _leaves(cond):
    from policyengine.conditions import leaves

    return list(leaves(cond))


def test_dropping_the_citizenship_condition_of_631_50_is_killed(rulebase, scenarios):
    """The one-line edit that once changed the law with every gate green is a mutant now, and a
    scenario (a U.S. citizen committed on a felony) kills it."""
    report = run_mutations(scenarios, rulebase, get_engine("reference"), only={COMMITMENT})
    (result,) = [r for r in report.results if r.mutant.id == CITIZENSHIP_DROPPED]
    assert "law-doc-commitment-us-citizen-2026" in result.killed_by


@pytest.mark.parametrize("rule", [COMMITMENT, "mn.state.no-detainer-hold", "fed.detainer.i247n-no-hold-request"])
def test_skipping_pairs_that_cannot_change_agrees_with_evaluating_every_pair(rulebase, scenarios, rule):
    fast = run_mutations(scenarios, rulebase, get_engine("reference"), only={rule})
    full = run_mutations(scenarios, rulebase, get_engine("reference"), only={rule}, exhaustive=True)
    assert [(r.mutant.id, r.killed) for r in fast.results] == [(r.mutant.id, r.killed) for r in full.results]
    assert [(r.mutant.id, r.killed_by) for r in fast.results] == [(r.mutant.id, r.killed_by) for r in full.results]
    assert fast.evaluations < full.evaluations


def test_the_bundled_equivalents_file_loads():
    listed = Equivalents.load(bundled.equivalents_file())
    assert all(len(reason) >= 20 for _, reason, _ in listed.entries.values())


def test_every_listed_equivalent_names_a_mutant_of_the_bundled_rules(rulebase):
    listed = Equivalents.load(bundled.equivalents_file())
    made = {m.id for m in mutants(rulebase)}
    assert sorted(set(listed.entries) - made) == []
    assert {kind for kind, _, _ in listed.entries.values()} == {"equivalent", "unsourced"}


SAMPLE = {
    COMMITMENT,
    "mn.state.no-detainer-hold",
    "mn.county.hennepin.no-detainer-hold",
    "fed.detainer.hold-request",
    "fed.287g.delegation",
}


def test_the_mutants_of_a_sample_of_rules_are_killed_or_explained(rulebase, scenarios):
    """The full run (`policyengine test --mutations`, docs/testing.md) on a few rules: every
    condition and date mutant of them is killed by a scenario or listed with its reason."""
    listed = Equivalents.load(bundled.equivalents_file())
    report = run_mutations(scenarios, rulebase, get_engine("reference"), only=SAMPLE, equivalents=listed)
    assert report.baseline_failures == ()
    assert [r.mutant.id for r in report.survivors] == []
    assert report.equivalence_errors == ()
    kinds = {r.mutant.operator for r in report.results}
    assert {"drop", "negate", "drop-value", "from-earlier", "from-later", "declared-later"} <= kinds
    assert report.explained("equivalent") and report.explained("unsourced")
