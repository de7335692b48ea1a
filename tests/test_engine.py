"""Stages 4-5: the compiled form and the durable_rules adapter."""

import datetime as dt
import json

from policyengine.checked import Scenario, ScenarioHead
from policyengine.compile import holds, normalize
from policyengine.conditions import AllOf, AnyOf, Not, Test
from policyengine.engine import DurableEngine, ReferenceEngine, durable_pattern
from policyengine.facts import fact_record
from policyengine.pipeline import evaluate, load_scenario
from policyengine.report import evaluation_dict
from tests.conftest import ROOT, requires_durable

DOC = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"


def test_not_is_pushed_to_the_leaves():
    cond = Not(AllOf((Test("a", "eq", "x"), AnyOf((Test("b", "lt", dt.date(2020, 1, 1)), Test("c", "eq", True))))))
    assert normalize(cond) == AnyOf(
        (
            Test("a", "neq", "x"),
            AllOf((Test("b", "gte", "2020-01-01"), Test("c", "neq", True))),
        )
    )


def test_durable_pattern_puts_the_operator_first():
    cond = AllOf((Test("place.county", "eq", "Hennepin"), Test("date", "gte", "2019-09-23")))
    assert durable_pattern(cond) == {
        "$and": [{"t": "scenario"}, {"$and": [{"place__county": "Hennepin"}, {"$gte": {"date": "2019-09-23"}}]}]
    }
    assert durable_pattern(None) == {"t": "scenario"}


def test_reference_semantics_are_strict_about_types():
    assert not holds(Test("x", "eq", 1), {"x": True})
    assert holds(Test("x", "neq", 1), {"x": "1"})
    assert not holds(Test("x", "lt", 10), {"x": "9"})


@requires_durable
def test_both_engines_fire_the_same_rules_on_every_bundled_scenario(rulebase):
    for path in sorted((ROOT / "scenarios").rglob("*.yaml")):
        scenario = load_scenario(path, rulebase)
        for county in rulebase.counties[::9]:
            a = evaluate(scenario, rulebase, DurableEngine(), county=county).firing
            b = evaluate(scenario, rulebase, ReferenceEngine(), county=county).firing
            assert (a.fired, a.derived, a.facts) == (b.fired, b.derived, b.facts), (path.name, county)


@requires_durable
def test_a_hundred_evaluations_give_byte_identical_json(rulebase):
    scenario = load_scenario(DOC, rulebase)
    outputs = {
        json.dumps(evaluation_dict(evaluate(scenario, rulebase, DurableEngine()), rulebase, True)) for _ in range(100)
    }
    assert len(outputs) == 1


@requires_durable
def test_ten_thousand_evaluations_in_one_process(rulebase):
    """The 1,024-live-session trap is designed out: one evaluation at a time uses one session
    (reused once emptied), so ten thousand evaluations never hold more than one."""
    engine = DurableEngine()
    head = ScenarioHead(id="load", title="load", date=dt.date(2026, 2, 10))
    verdicts = set()
    details = ["I-247A", "none", "I-247N", "I-247"]
    for i in range(10_000):
        facts = {
            "date": head.date,
            "agency": "county_jail",
            "place.county": rulebase.counties[i % 87],
            "immigration.detainer": details[i % 4],
        }
        ev = evaluate(Scenario(head, facts, "load"), rulebase, engine)
        verdicts.add(next(d.verdict for d in ev.decisions if d.action == "hold_beyond_release"))
    assert verdicts == {"prohibited", "not_addressed"}
    assert len(DurableEngine._plan(rulebase.program).sessions) == 1


def generated_records(rulebase, n):
    from benchmarks.generate import records

    from policyengine.batch import Batch

    batch = Batch(rulebase, "reference")
    for row in records(rulebase, n, seed=11):
        facts = batch.facts_of({k: v for k, v in row.items() if k not in ("id", "time")})
        yield fact_record(
            Scenario(ScenarioHead(id="r", title="r", date=facts["date"]), facts, "r"),
            rulebase.vocabulary,
            rulebase.registry,
        )


@requires_durable
def test_a_reused_session_fires_exactly_what_a_fresh_one_and_the_reference_engine_fire(rulebase):
    """Each evaluation leaves its session empty for the next: the same records, evaluated in one
    reused session, in fresh sessions (each deleted, as sessions used to be) and by the reference
    engine, fire the same rules and derive the same facts."""
    import durable_rules_engine as core

    records = list(generated_records(rulebase, 600))
    program = rulebase.program
    plan = DurableEngine._plan(program)
    durable, reference = DurableEngine(), ReferenceEngine()
    reused = [durable.run(program, r) for r in records]
    assert len(plan.sessions) == 1 and core.get_facts(plan.handle, plan.sessions[0]) == "[]"
    fresh = []
    for record in records:  # each in a fresh session, deleted afterwards (as sessions used to be)
        fresh.append(durable.run(program, record))
        core.delete_state(plan.handle, plan.sessions.pop())
    for a, b, c in zip(reused, fresh, (reference.run(program, r) for r in records), strict=True):
        assert (a.fired, a.derived) == (b.fired, b.derived) == (c.fired, c.derived)
    assert len({a.fired for a in reused}) > 20  # the records fire many different sets of rules


@requires_durable
def test_a_session_left_with_a_fact_is_deleted_not_reused(rulebase, monkeypatch):
    import durable_rules_engine as core

    program = rulebase.program
    plan = DurableEngine._plan(program)
    records = list(generated_records(rulebase, 3))
    engine = DurableEngine()
    expected = [engine.run(program, r) for r in records]
    plan.sessions.clear()
    monkeypatch.setattr(core, "retract_fact", lambda handle, text: (0, 0))  # the fact stays behind
    assert engine.run(program, records[0]).fired == expected[0].fired
    assert plan.sessions == []  # not kept: its state was deleted
    monkeypatch.undo()
    for record, firing in zip(records, expected, strict=True):
        assert engine.run(program, record).fired == firing.fired


@requires_durable
def test_strata_run_one_fact_each_when_definitions_cannot_be_inlined(rulebase, monkeypatch):
    """Where a derived fact's definitions cannot stand in for its tests, durable_rules runs the
    Program's own strata, one fact each, the derived facts of one asserted with the next: the
    same firings and derived facts as the reference engine (and as the one-stratum form)."""
    from policyengine import engine as engine_module
    from policyengine.compile import Program

    def cannot(self, node):
        raise engine_module._CannotInline

    monkeypatch.setattr(engine_module._Inline, "test", cannot)
    program = Program(rulebase.program.strata, "strata-" + rulebase.program.digest)
    assert len(program.strata) > 1 and len(DurableEngine._plan(program).strata) == len(program.strata)
    durable, reference = DurableEngine(), ReferenceEngine()
    derived = 0
    for record in generated_records(rulebase, 400):
        a, b = durable.run(program, record), reference.run(program, record)
        assert (a.fired, a.derived, a.facts) == (b.fired, b.derived, b.facts)
        assert a.fired == durable.run(rulebase.program, record).fired
        derived += bool(a.derived)
    assert 0 < derived < 400  # the definition both applies and does not
