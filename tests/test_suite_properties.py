"""Legal invariants of the bundled rulebase, checked on generated scenarios (Hypothesis).

A falsifying example is written to tests/regressions/ as a scenario file whose `expect:`
states what the invariant demands (policyengine.testing.strategies.save_regression), so
the pytest plugin keeps running it after the bug is fixed. Profiles: `ci` (default) and
`thorough` (HYPOTHESIS_PROFILE=thorough), registered in tests/conftest.py.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from policyengine.check import check_scenario, facts_tested
from policyengine.engine import ReferenceEngine, durable_available, get_engine
from policyengine.load import load_yaml
from policyengine.pipeline import evaluate, load_rulebase
from policyengine.report import evaluation_dict
from policyengine.testing.invariants import (
    HOLD_ACTIONS,
    decisions_json,
    ignored_facts,
    invariant_result,
    permissiveness,
    permuted,
    rule_files,
    snapshot_expectation,
)
from policyengine.testing.strategies import (
    is_final_example,
    save_regression,
    scenario_document,
    scenario_from,
    scenario_yaml,
    scenarios,
    with_fact,
)

ROOT = Path(__file__).resolve().parent.parent
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
STATE_RULE = "mn.state.no-detainer-hold"
STATUS_RULE = "fed.1373.status-sharing"
AGREEMENT_EXAMPLES = max(1000, settings.default.max_examples)


@cache
def rulebase():
    return load_rulebase(ROOT / "rules")


REFERENCE = ReferenceEngine()


def engine():
    return get_engine()


def by_action(decisions):
    return {d["action"]: d for d in decisions}


def fail(scenario, prop, expect, why):
    """Save the minimal falsifying example as a regression scenario, then fail."""
    where = ""
    if is_final_example():
        where = f" (saved as {save_regression(scenario, prop, expect, why, REGRESSIONS, rulebase()).relative_to(ROOT)})"
    pytest.fail(f"{prop}: {why}{where}")


# ------------------------------------------------------------------ validity


@given(scenarios(rulebase()))
def test_generated_scenarios_are_valid_scenario_files(scenario):
    """What the strategies generate passes the same checks as a scenario file."""
    rb = rulebase()
    text = scenario_yaml(scenario_document(scenario))
    checked = check_scenario(load_yaml("generated.yaml", text=text), rb.vocabulary, rb.registry)
    assert checked.facts == scenario.facts


# ------------------------------------------------------ Minnesota detainer rule


ESPARZA = dt.date(2019, 9, 23)
FOURTH = "fed.fourth-amendment.detainer-only-hold"


def test_state_rule_is_declared_by_esparza_and_reaches_back():
    """Declared on the date of Esparza v. Nobles County; it governs events from 1997 on."""
    rule = rulebase().by_id[STATE_RULE]
    assert rule.declared == ESPARZA
    assert rule.in_force.start == dt.date(1997, 4, 1)


def _detainer_no_basis(**extra):
    rule = rulebase().by_id[STATE_RULE]
    detainers = [v for v in rulebase().vocabulary.facts["immigration.detainer"].values if v != "none"]
    return scenarios(
        rulebase(),
        date=st.dates(ESPARZA, dt.date(2027, 12, 31)),
        agency=st.sampled_from(sorted(rule.binds)),
        immigration__detainer=st.sampled_from(detainers),
        immigration__judicial_warrant="none",
        custody__outstanding_warrant=False,
        custody__new_probable_cause=False,
        custody__court_order=False,
        **extra,
    )


def _check_state_rule(scenario, eng):
    ev = evaluate(scenario, rulebase(), eng)
    assume(ev.firing.facts["custody.independent_basis"] is False)  # no other lawful basis derived either
    verdict = next(d.verdict for d in ev.decisions if d.action == "hold_beyond_release")
    if verdict != "prohibited":
        fail(
            scenario,
            "mn-detainer-hold-prohibited",
            {"hold_beyond_release": {"verdict": "prohibited", "decided_by": [STATE_RULE]}},
            f"hold_beyond_release is {verdict}, not prohibited",
        )


@given(_detainer_no_basis())
def test_minnesota_prohibits_detainer_holds_without_independent_basis(scenario):
    _check_state_rule(scenario, engine())


def test_minnesota_detainer_rule_in_every_county_for_every_bound_agency():
    """The same invariant swept exhaustively over all 87 counties and every agency the rule binds."""
    rb = rulebase()
    rule = rb.by_id[STATE_RULE]
    base = {
        "date": dt.date(2026, 2, 10),
        "immigration.detainer": "I-247A",
        "person.custody": "serving_sentence",
        "person.release_reason": "sentence_complete",
    }
    wrong = []
    for county in rb.counties:
        for agency in sorted(rule.binds):
            s = scenario_from({**base, "place.county": county, "agency": agency})
            decision = by_action(decisions_json(s, rb, engine()))["hold_beyond_release"]
            if decision["verdict"] != "prohibited" or STATE_RULE not in decision["decided_by"]:
                wrong.append(f"{county}/{agency}: {decision['verdict']} by {decision['decided_by']}")
    assert not wrong, "\n".join(wrong)


def test_pre_decision_events_get_the_declared_answer_today_and_the_open_one_then():
    """Every county, every detainer form: a jail release in 2018 (after the 2014 rulings, before
    Esparza) is prohibited with today's knowledge (declared by Esparza), and with the knowledge
    of its own day it is what was open then: contested, leaning prohibited, Esparza not yet
    declared."""
    rb = rulebase()
    forms = [v for v in rb.vocabulary.facts["immigration.detainer"].values if v != "none"]
    base = {
        "date": dt.date(2018, 8, 10),
        "agency": "county_jail",
        "person.custody": "serving_sentence",
        "person.release_reason": "sentence_complete",
    }
    wrong = []
    for county in rb.counties:
        for form in forms:
            s = scenario_from({**base, "place.county": county, "immigration.detainer": form})
            today = by_action(evaluation_dict(evaluate(s, rb, REFERENCE), rb)["decisions"])["hold_beyond_release"]
            then_ev = evaluate(s, rb, REFERENCE, known_on=base["date"])
            then = by_action(evaluation_dict(then_ev, rb)["decisions"])["hold_beyond_release"]
            not_yet = {(x["rule"], x["doctrine"]) for x in then["defeated"]}
            if (today["verdict"], today["decided_by"][:1], today["as_declared"][0]["rule"]) != (
                "prohibited",
                [STATE_RULE],
                STATE_RULE,
            ):
                wrong.append(f"{county}/{form} today: {today['verdict']} by {today['decided_by']}")
            if (then["verdict"], then["leaning"], then["decided_by"]) != ("contested", "prohibited", [FOURTH]) or (
                STATE_RULE,
                "not yet declared",
            ) not in not_yet:
                wrong.append(f"{county}/{form} then: {then['verdict']} by {then['decided_by']}")
    assert not wrong, "\n".join(wrong[:20])


@given(
    scenarios(
        rulebase(),
        immigration__detainer="I-247N",
        immigration__admin_warrant="none",
        immigration__judicial_warrant="none",
        custody__outstanding_warrant=False,
        custody__new_probable_cause=False,
        custody__court_order=False,
    ),
    st.dates(dt.date(1997, 1, 1), dt.date(2027, 12, 31)),
)
def test_an_i247n_alone_never_makes_a_hold_permitted(scenario, known_on):
    """An I-247N asks only for notice: alone it never makes a hold permitted, required, or
    contested leaning permitted, whatever the day of the event or of the knowledge."""
    ev = evaluate(scenario, rulebase(), REFERENCE, known_on=known_on)
    for d in ev.decisions:
        if d.action not in HOLD_ACTIONS:
            continue
        if d.verdict in ("permitted", "required") or (d.verdict == "contested" and d.leaning == "permitted"):
            fail(
                scenario,
                "i247n-never-a-hold",
                {d.action: {"verdict_not": ["permitted", "required"]}},
                f"{d.action} is {d.verdict} (leaning {d.leaning}) on an I-247N alone (known on {known_on})",
            )


# ------------------------------------------------------------- 8 U.S.C. § 1373


@given(scenarios(rulebase()))
def test_status_sharing_never_prohibited_while_1373_in_force(scenario):
    rule = rulebase().by_id[STATUS_RULE]
    assume(rule.in_force.covers(scenario.facts["date"]) and scenario.facts["agency"] in rule.binds)
    verdict = by_action(decisions_json(scenario, rulebase(), engine()))["share_status"]["verdict"]
    if verdict == "prohibited":
        fail(scenario, "1373-status-never-prohibited", {"share_status": {"verdict_not": ["prohibited"]}}, "prohibited")


# ----------------------------------------------------- judicial warrant monotone


@given(
    scenarios(rulebase(), immigration__judicial_warrant="none"), st.sampled_from(["federal_criminal", "state_criminal"])
)
def test_a_judicial_warrant_never_makes_a_hold_less_permitted(scenario, warrant):
    """prohibited < contested < permitted < required (see invariants.PERMISSIVENESS)."""
    warranted = with_fact(scenario, "immigration.judicial_warrant", warrant)
    before = by_action(decisions_json(scenario, rulebase(), engine()))
    after = by_action(decisions_json(warranted, rulebase(), engine()))
    for action in HOLD_ACTIONS:
        a, b = permissiveness(before[action]["verdict"]), permissiveness(after[action]["verdict"])
        if a is None or b is None:
            continue
        if b < a:
            lower = [v for v in ("prohibited", "contested", "permitted", "required") if permissiveness(v) < a]
            fail(
                warranted,
                "judicial-warrant-monotone",
                {action: {"verdict_not": lower}},
                f"{action} is {before[action]['verdict']} without a judicial warrant "
                f"but {after[action]['verdict']} with a {warrant} warrant",
            )


# ------------------------------------------------------------- ignored facts


def test_ignored_facts_are_computed_from_the_rules():
    """Facts a rule tests are never 'ignored'; the list is what the varying test varies."""
    ignored = ignored_facts(rulebase())
    assert "immigration.detainer" not in ignored
    assert "date" not in ignored and "agency" not in ignored
    tested = {f for r in rulebase().program.rules for f in _facts(r.condition)}
    assert not tested & set(ignored)


def _facts(cond):
    return facts_tested(cond)


@st.composite
def _varied(draw):
    rb = rulebase()
    base = draw(scenarios(rb))
    ignored = ignored_facts(rb)
    assume(ignored)
    other = draw(scenarios(rb))
    varied = dict(base.facts)
    for fact in draw(st.lists(st.sampled_from(ignored), min_size=1, unique=True)):
        varied[fact] = other.facts[fact]
    if "place.city" in ignored or "place.county" in ignored:
        # keep the city inside its county (a scenario file could not say otherwise)
        cities = {c.name: c.county for c in rb.registry.cities}
        if varied["place.city"] != "none" and cities[varied["place.city"]] != varied["place.county"]:
            varied["place.city"] = "none"
    return base, scenario_from(varied)


@given(_varied())
def test_facts_the_law_ignores_never_change_a_decision(pair):
    base, varied = pair
    note(f"ignored facts: {ignored_facts(rulebase())}")
    a = invariant_result(base, rulebase(), engine())
    b = invariant_result(varied, rulebase(), engine())
    if a != b:
        moved = [x["action"] for x, y in zip(a["decisions"], b["decisions"], strict=True) if x != y]
        fail(
            varied,
            "ignored-facts",
            {m: snapshot_expectation(by_action(a["decisions"])[m]) for m in moved},
            f"changing facts no rule tests moved {moved or 'the trace'}",
        )


# ---------------------------------------------------------------- rule order


@st.composite
def _permutation(draw):
    files = rule_files(rulebase())
    file_order = draw(st.permutations(range(len(files))))
    rule_orders = [draw(st.permutations(range(len(f)))) for f in files]
    return file_order, rule_orders


def _check_order(scenario, order, eng):
    shuffled = permuted(rulebase(), *order)
    a = decisions_json(scenario, rulebase(), eng)
    b = decisions_json(scenario, shuffled, eng)
    if a != b:
        moved = [x["action"] for x, y in zip(a, b, strict=True) if x != y]
        fail(
            scenario,
            "rule-order",
            {m: snapshot_expectation(by_action(a)[m]) for m in moved},
            f"permuting rules moved {moved}",
        )
    fired_a = set(evaluate(scenario, rulebase(), eng).firing.fired)
    fired_b = set(evaluate(scenario, shuffled, eng).firing.fired)
    assert fired_a == fired_b


@given(scenarios(rulebase()), _permutation())
def test_rule_order_never_changes_a_decision(scenario, order):
    """On the reference engine (a new program per permutation is cheap there)."""
    _check_order(scenario, order, REFERENCE)


@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import on this Python")
@settings(max_examples=20)
@given(scenarios(rulebase()), _permutation())
def test_rule_order_never_changes_a_decision_on_durable_rules(scenario, order):
    """Few examples: each permutation registers new rulesets in the per-process Host."""
    _check_order(scenario, order, get_engine("durable"))


# --------------------------------------------------------- engine agreement


@pytest.mark.skipif(not durable_available(), reason="durable_rules does not import on this Python")
@settings(max_examples=AGREEMENT_EXAMPLES)
@given(scenarios(rulebase()))
def test_durable_rules_and_reference_agree(scenario):
    """Identical firing, derived facts, decisions and trace on both engines."""
    rb = rulebase()
    durable = get_engine("durable")
    ev_d, ev_r = evaluate(scenario, rb, durable), evaluate(scenario, rb, REFERENCE)
    out_d = evaluation_dict(ev_d, rb, explain=True)
    out_r = evaluation_dict(ev_r, rb, explain=True)
    out_d.pop("engine"), out_r.pop("engine")
    same = (ev_d.firing.fired, ev_d.firing.derived, ev_d.firing.facts) == (
        ev_r.firing.fired,
        ev_r.firing.derived,
        ev_r.firing.facts,
    ) and out_d == out_r
    if not same:
        moved = [x["action"] for x, y in zip(out_r["decisions"], out_d["decisions"], strict=True) if x != y]
        fail(
            scenario,
            "engine-agreement",
            {m: snapshot_expectation(by_action(out_r["decisions"])[m]) for m in moved},
            f"durable_rules fired {ev_d.firing.fired}, reference fired {ev_r.firing.fired}; "
            f"decisions differ on {moved}",
        )
