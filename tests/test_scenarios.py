"""Every bundled scenario meets its expectations, on both engines, with identical JSON."""

import json

import pytest

from policyengine.engine import DurableEngine, ReferenceEngine, durable_available
from policyengine.expect import evaluate_expectations
from policyengine.pipeline import load_scenario
from policyengine.report import evaluation_dict
from tests.conftest import ROOT, SCENARIOS


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT / "scenarios")))
def test_scenario_expectations_on_both_engines(path, rulebase):
    scenario = load_scenario(path, rulebase)
    assert scenario.head.expect, f"{path.name} has no expectations"
    outputs = {}
    engines = (DurableEngine(), ReferenceEngine()) if durable_available() else (ReferenceEngine(),)
    for engine in engines:
        checked = evaluate_expectations(scenario, rulebase, engine)
        assert checked.failures == [], f"{engine.name}: {checked.failures}"
        result = evaluation_dict(checked.evaluation, rulebase, explain=True)
        result.pop("engine")
        outputs[engine.name] = json.dumps(result, sort_keys=False)
    if durable_available():  # on 3.13+ durable_rules does not install: the reference engine alone
        assert outputs["durable_rules"] == outputs["reference"]


def test_the_library_is_not_empty():
    assert len(SCENARIOS) >= 6
