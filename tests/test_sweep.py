"""The sweep primitive: change dates from in_force boundaries and the registry; cells equal the pipeline's."""

from __future__ import annotations

import datetime as dt

import pytest

from policyengine.pipeline import evaluate
from policyengine.report.data import evaluation_dict
from policyengine.standard import standard_scenarios
from policyengine.sweep import all_places, change_dates, find_place, interval_dates, sweep

D = dt.date


@pytest.fixture(scope="module")
def standard(rulebase):
    return standard_scenarios(rulebase)[0]


def test_change_dates_come_from_rules_and_agreements(rulebase):
    anywhere = change_dates(rulebase)
    hennepin = change_dates(rulebase, county="Hennepin")
    cass = change_dates(rulebase, county="Cass")
    # Hennepin's rule file: 2014, 2017, 2019, 2021, 2026 boundaries; Esparza (state law) reaches every county
    for day in (D(2014, 6, 11), D(2017, 2, 3), D(2019, 6, 20), D(2021, 6, 9), D(2026, 2, 13), D(2019, 9, 23)):
        assert day in hennepin and day in anywhere
    # Cass's 287(g) agreement (registry) is a change date in Cass, not in Hennepin
    assert D(2025, 2, 1) in cass and D(2025, 2, 1) in anywhere
    assert D(2025, 2, 1) not in hennepin
    assert hennepin == sorted(set(hennepin)) and set(hennepin) <= set(anywhere)


def test_decisions_are_constant_between_change_dates(rulebase, standard):
    place = find_place(rulebase, "Hennepin")
    days = interval_dates(rulebase, place)
    mids = [a + (b - a) // 2 for a, b in zip(days, days[1:], strict=False) if (b - a).days > 1]
    result = sweep(rulebase, [standard], [place], [*days, *mids, D(2014, 6, 10)])
    for a, b in zip(days, days[1:], strict=False):
        if (b - a).days > 1:
            mid = a + (b - a) // 2
            before = [(d["verdict"], d["practice"]) for d in result.result(standard, place, a)["decisions"]]
            inside = [(d["verdict"], d["practice"]) for d in result.result(standard, place, mid)["decisions"]]
            assert before == inside, (a, mid)
    # and the sweep sees Hennepin change at least on its 2014 and 2021 policies
    hold = [
        result.decision(standard, place, d, "hold_beyond_release")["practice"] for d in (D(2014, 6, 10), D(2014, 6, 11))
    ]
    assert hold == ["does", "does_not"]


def test_cells_are_the_pipelines_json(rulebase, standard):
    places = all_places(rulebase)
    assert sum(p.kind == "county" for p in places) == 87
    assert [p.kind for p in places if p.kind != "county"][0] == "doc"
    assert any(p.kind == "city" and p.name == "Minneapolis" for p in places)
    day = D(2026, 2, 10)
    result = sweep(rulebase, [standard], places, [day])
    for place in (find_place(rulebase, "Aitkin"), find_place(rulebase, "doc"), find_place(rulebase, "Minneapolis")):
        direct = evaluation_dict(
            evaluate(standard, rulebase, as_of=day, county=place.county, city=place.city, agency=place.agency), rulebase
        )
        cell = result.result(standard, place, day)
        assert cell["decisions"] == direct["decisions"]
        assert cell["jurisdiction"]["agency"] == direct["jurisdiction"]["agency"]
    aitkin = result.decision(standard, "27001", day, "hold_beyond_release")
    assert aitkin["verdict"] == "prohibited" and "mn.state.no-detainer-hold" in aitkin["decided_by"]
    assert result.result(standard, "doc", day)["jurisdiction"]["agency"] == "doc"


def test_find_place(rulebase):
    assert find_place(rulebase, "hennepin county").fips == "27053"
    assert find_place(rulebase, "27053").name == "Hennepin"
    assert find_place(rulebase, "DOC").kind == "doc"
    assert find_place(rulebase, "Atlantis") is None


def test_remembered_cases_give_the_same_decisions_as_fresh_evaluations(rulebase):
    """Every place on two dates: the sweep (which shares cases) equals evaluating each cell afresh."""
    places = all_places(rulebase)
    days = [D(2017, 3, 1), D(2025, 12, 1)]
    scenario = standard_scenarios(rulebase)[1]
    result = sweep(rulebase, [scenario], places, days)
    assert result.evaluations  # not vacuous
    for place in places:
        for day in days:
            fresh = evaluate(scenario, rulebase, as_of=day, county=place.county, city=place.city, agency=place.agency)
            remembered = result.evaluations[(scenario.id, place.key, day)]
            assert remembered.decisions == fresh.decisions, (place.key, day)
            assert remembered.firing.facts == fresh.firing.facts, (place.key, day)  # a trace shows its own facts
