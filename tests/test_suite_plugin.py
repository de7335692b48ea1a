"""The pytest plugin: scenario files become one test item each, named by scenario id.

Each test runs pytest in a subprocess (the plugin is loaded with `-p`, as pyproject.toml
does), on temporary fixture scenarios, never by editing bundled files.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from policyengine.testing.strategies import save_regression, scenario_from

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "suite" / "scenarios" / "fx-detainer.yaml"
BUNDLED_SCENARIO = """\
id: tmp-aitkin-jail
title: Temporary fixture, Aitkin County jail, I-247A detainer, sentence complete
date: 2026-02-10
agency: county_jail
place: {county: Aitkin}
person: {custody: serving_sentence, release_reason: sentence_complete}
immigration: {detainer: I-247A}
expect:
  hold_beyond_release: {verdict: VERDICT, decided_by: [mn.state.no-detainer-hold]}
"""


def pytest_run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """pytest with the plugin on the bundled rules, from `cwd` (outside this repo's config)."""
    cmd = [sys.executable, "-m", "pytest", "-p", "policyengine.testing.plugin", "-p", "no:cacheprovider"]
    cmd += ["-o", f"policyengine_rules={ROOT / 'rules'}", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_repository_collects_one_item_per_scenario_with_expectations():
    files = sorted((ROOT / "scenarios").rglob("*.yaml"))
    expected = set()
    for f in files:
        data = yaml.safe_load(f.read_text())
        if data.get("expect"):
            expected.add(f"{f.relative_to(ROOT).as_posix()}::{data['id']}")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider", "scenarios"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    collected = {line for line in done.stdout.splitlines() if line.startswith("scenarios/") and "::" in line}
    assert collected == expected
    assert expected  # the bundled scenarios do assert outcomes


def test_passing_scenario_passes(tmp_path):
    (tmp_path / "ok.yaml").write_text(BUNDLED_SCENARIO.replace("VERDICT", "prohibited"))
    done = pytest_run(tmp_path, "ok.yaml")
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout


def test_broken_expectation_fails_with_a_readable_diff(tmp_path):
    (tmp_path / "broken.yaml").write_text(BUNDLED_SCENARIO.replace("VERDICT", "permitted"))
    done = pytest_run(tmp_path, "broken.yaml")
    out = done.stdout
    assert done.returncode == 1
    assert "FAILED broken.yaml::tmp-aitkin-jail" in out
    assert "scenario tmp-aitkin-jail (" in out
    assert "! expected verdict permitted, got prohibited" in out
    assert "    expected:\n      verdict: permitted\n      decided_by: [mn.state.no-detainer-hold]" in out
    assert "    actual:\n      verdict: prohibited\n      practice: unknown" in out
    assert "rules fired (facts matched):" in out
    assert "mn.state.no-detainer-hold: immigration.detainer is not none; custody.independent_basis is false" in out
    assert "Traceback" not in out


def test_invalid_scenario_fails_with_its_located_error(tmp_path):
    (tmp_path / "bad.yaml").write_text(BUNDLED_SCENARIO.replace("VERDICT", "prohibited").replace("Aitkin", "Atlantis"))
    (tmp_path / "ok.yaml").write_text(BUNDLED_SCENARIO.replace("VERDICT", "prohibited"))
    done = pytest_run(tmp_path, "bad.yaml", "ok.yaml")
    assert done.returncode == 1
    assert "FAILED bad.yaml::bad" in done.stdout and "1 passed" in done.stdout  # the other file still ran
    assert "bad.yaml:5: error:" in done.stdout
    assert "Traceback" not in done.stdout


def test_scenario_without_expectations_is_no_test(tmp_path):
    text = BUNDLED_SCENARIO.replace("VERDICT", "prohibited").split("expect:")[0]
    (tmp_path / "plain.yaml").write_text(text)
    done = pytest_run(tmp_path, "plain.yaml")
    assert "no tests ran" in done.stdout or "collected 0 items" in done.stdout


def test_saved_regression_is_collected_and_run(tmp_path):
    """A falsifying example saved by save_regression is a scenario the plugin runs."""
    scenario = scenario_from(
        {
            "date": __import__("datetime").date(2026, 2, 10),
            "agency": "county_jail",
            "place.county": "Aitkin",
            "immigration.detainer": "I-247A",
        }
    )
    good = save_regression(scenario, "demo", {"hold_beyond_release": {"verdict": "prohibited"}}, "demo", tmp_path)
    bad = save_regression(
        scenario_from({**scenario.facts, "person.born_abroad": True}),
        "demo",
        {"hold_beyond_release": {"verdict_not": ["prohibited"]}},
        "demo",
        tmp_path,
    )
    done = pytest_run(tmp_path, good.name, bad.name)
    assert "1 passed" in done.stdout and "1 failed" in done.stdout
    assert f"FAILED {bad.name}::{bad.stem}" in done.stdout
    assert "expected a verdict other than prohibited, got prohibited" in done.stdout
