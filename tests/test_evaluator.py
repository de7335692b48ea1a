"""The reference engine's generated evaluator decides exactly as `compile.holds` does."""

from __future__ import annotations

from hypothesis import given

from policyengine.compile import holds
from policyengine.engine import ReferenceEngine
from policyengine.evaluator import stratum_evaluator
from policyengine.facts import fact_record
from policyengine.model import AllOf, AnyOf, Test
from policyengine.pipeline import load_rulebase
from policyengine.testing.strategies import scenarios

RULEBASE = load_rulebase()


@given(scenarios(RULEBASE))
def test_generated_evaluator_fires_the_rules_holds_says(scenario):
    record = fact_record(scenario, RULEBASE.vocabulary, RULEBASE.registry)
    firing = ReferenceEngine().run(RULEBASE.program, record)
    for stratum in RULEBASE.program.strata:
        expected = [r.id for r in stratum if holds(r.condition, firing.facts)]
        assert stratum_evaluator(stratum)(firing.facts) == expected


def test_strict_types_and_negation_in_generated_code():
    from policyengine.compile import CompiledRule

    def rule(cond):
        class R:  # only `id` and `condition` are read
            id = "r"

        return CompiledRule(R, cond, 0)  # type: ignore[arg-type]

    cases = [
        (Test("x", "eq", 1), {"x": True}, False),
        (Test("x", "neq", 1), {"x": "1"}, True),
        (Test("x", "lt", 10), {"x": "9"}, False),
        (Test("x", "gte", "2019-09-23"), {"x": "2019-09-23"}, True),
        (AllOf((Test("x", "eq", "a"), Test("y", "eq", False))), {"x": "a", "y": 0}, False),
        (AnyOf((Test("x", "eq", "a"), Test("y", "eq", False))), {"x": "b", "y": False}, True),
        (None, {}, True),
        # a fact every test compares with one type: a value of another type equals and orders with nothing
        (Test("x", "neq", "a"), {"x": None}, True),
        (Test("x", "lt", "b"), {"x": None}, False),
        (Test("x", "gte", "2019-09-23"), {"x": 20190923}, False),
        # a fact tested against values of two types: each test checks the type itself
        (AnyOf((Test("x", "eq", 1), Test("x", "eq", "1"))), {"x": "1"}, True),
        (AnyOf((Test("x", "eq", 1), Test("x", "eq", "1"))), {"x": True}, False),
        (AllOf((Test("x", "neq", 1), Test("x", "lt", "b"))), {"x": "a"}, True),
    ]
    for cond, facts, expected in cases:
        assert holds(cond, facts) is expected
        assert stratum_evaluator((rule(cond),))(facts) == (["r"] if expected else [])
