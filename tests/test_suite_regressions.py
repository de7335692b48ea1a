"""Saved falsifying examples (tests/regressions/*.yaml) re-checked against the properties
that do not fit in an `expect:` block: engine agreement and rule-order independence.
Their `expect:` blocks are run by the pytest plugin like any other scenario."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from policyengine.engine import ReferenceEngine, durable_available, get_engine
from policyengine.pipeline import evaluate, load_rulebase, load_scenario
from policyengine.report import evaluation_dict
from policyengine.testing.invariants import decisions_json, permuted, rule_files

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((Path(__file__).resolve().parent / "regressions").glob("*.yaml"))


@cache
def rulebase():
    return load_rulebase(ROOT / "rules")


def _ids(path):
    return path.stem


@pytest.mark.skipif(not FILES, reason="no regression scenarios saved yet")
@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_regression_engines_agree(path):
    if not durable_available():
        pytest.skip("durable_rules does not import on this Python")
    rb = rulebase()
    scenario = load_scenario(path, rb)
    a = evaluation_dict(evaluate(scenario, rb, get_engine("durable")), rb, explain=True)
    b = evaluation_dict(evaluate(scenario, rb, ReferenceEngine()), rb, explain=True)
    a.pop("engine"), b.pop("engine")
    assert a == b


@pytest.mark.skipif(not FILES, reason="no regression scenarios saved yet")
@pytest.mark.parametrize("path", FILES, ids=_ids)
def test_regression_rule_order(path):
    rb = rulebase()
    scenario = load_scenario(path, rb)
    files = rule_files(rb)
    reverse = permuted(rb, list(reversed(range(len(files)))), [list(reversed(range(len(f)))) for f in files])
    engine = ReferenceEngine()
    assert decisions_json(scenario, rb, engine) == decisions_json(scenario, reverse, engine)
