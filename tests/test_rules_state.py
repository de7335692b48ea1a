"""The federal/state/DOC law scenarios (scenarios/law) meet their expectations on both
engines, and an expectation there can fail when the law it checks changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policyengine import bundled
from policyengine.engine import get_engine
from policyengine.expect import evaluate_expectations
from policyengine.pipeline import load_rulebase, load_scenario, scenario_files

LAW = bundled.scenarios_dir() / "law"


def _run(rules_dir, engine_name: str) -> dict[str, dict]:
    rulebase = load_rulebase(rules_dir)
    engine = get_engine(engine_name)
    out = {}
    for path in scenario_files([LAW]):
        scenario = load_scenario(path, rulebase)
        out[scenario.id] = evaluate_expectations(scenario, rulebase, engine).summary()
    return out


def test_there_are_at_least_22_law_scenarios_with_expectations():
    paths = scenario_files([LAW])
    assert len(paths) >= 22
    rulebase = load_rulebase()
    assert all(load_scenario(p, rulebase).head.expect for p in paths)


@pytest.mark.parametrize("engine_name", ["reference", "durable"])
def test_law_scenarios_meet_expectations(engine_name):
    if engine_name == "durable":
        pytest.importorskip("durable")
    summaries = _run(None, engine_name)
    failures = {sid: s["failures"] for sid, s in summaries.items() if s["failures"]}
    assert failures == {}


def test_an_expectation_fails_when_the_parada_rule_changes(tmp_path: Path):
    rules = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), rules)
    target = rules / "federal" / "equal-protection.yaml"
    text = target.read_text(encoding="utf-8")
    assert "delay_release_pending_ice: prohibited" in text
    target.write_text(text.replace("delay_release_pending_ice: prohibited", "delay_release_pending_ice: permitted"))
    summaries = _run(rules, "reference")
    assert summaries["law-parada-refer-and-delay-2026"]["failures"]


def test_deleting_the_citizenship_condition_of_631_50_fails_the_tests(tmp_path: Path, capsys):
    """The one-line edit that once changed the law with every gate green: without its
    `person.citizenship: noncitizen` condition, § 631.50 would require notice for a citizen."""
    from policyengine.cli import main

    rules = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), rules)
    target = rules / "minnesota" / "state" / "detainers.yaml"
    text = target.read_text(encoding="utf-8")
    rule_at = text.index("- id: mn.state.631-50-commitment-notice")
    condition = "        - person.citizenship: noncitizen\n"
    at = text.index(condition, rule_at)
    assert at < text.index("- id:", rule_at + 5)  # the condition is the § 631.50 rule's own
    target.write_text(text[:at] + text[at + len(condition) :], encoding="utf-8")
    status = main(["test", "--rules", str(rules), "--engine", "reference", str(LAW)])
    out = capsys.readouterr().out
    assert status == 1
    assert "law-doc-commitment-us-citizen-2026" in out
