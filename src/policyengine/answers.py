"""The answers every adapter gives (the command line and the HTTP API alike): one scenario's
JSON result with its expectations checked, and the same scenario in one or every county.

Both only string together the pipeline (`evaluate`), the JSON contract (`report.data`) and
the expectations (`expect`), so `policyengine serve` answers byte for byte what `run
--format json` prints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from policyengine.checked import Scenario
from policyengine.engine import Engine
from policyengine.expect import evaluate_expectations
from policyengine.pipeline import Rulebase, evaluate
from policyengine.report.data import evaluation_dict


def only_actions(result: dict[str, Any], actions: list[str] | None) -> dict[str, Any]:
    """The result with only the decisions on `actions` (all of them when None), in vocabulary order."""
    if actions:
        result["decisions"] = [d for d in result["decisions"] if d["action"] in actions]
    return result


def scenario_result(
    scenario: Scenario,
    rulebase: Rulebase,
    engine: Engine,
    as_of: dt.date | None = None,
    explain: bool = False,
    actions: list[str] | None = None,
    known_on: dt.date | None = None,
) -> dict[str, Any]:
    """The JSON contract for one scenario; its `expect:` block is checked unless `as_of` moved it
    to another day or `known_on` to another date of knowledge (an expectation speaks of the
    scenario's own dates)."""
    checked = evaluate_expectations(scenario, rulebase, engine, as_of=as_of, known_on=known_on)
    result = evaluation_dict(checked.evaluation, rulebase, explain=explain)
    if scenario.head.expect and as_of is None and known_on in (None, scenario.head.known_on):
        result["expectations"] = checked.summary()
    return only_actions(result, actions)


def county_results(
    scenario: Scenario,
    rulebase: Rulebase,
    engine: Engine,
    counties: list[str],
    as_of: dt.date | None = None,
    explain: bool = False,
    actions: list[str] | None = None,
    known_on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The scenario moved to each county in turn (city none), each result with the county's FIPS
    code; expectations are not checked (they speak of the scenario's own county)."""
    fips = {c.name: c.fips for c in rulebase.registry.counties}
    out = []
    for county in counties:
        ev = evaluate(scenario, rulebase, engine, as_of, county, known_on=known_on)
        result = evaluation_dict(ev, rulebase, explain)
        result["jurisdiction"]["fips"] = fips[county]
        out.append(only_actions(result, actions))
    return out
