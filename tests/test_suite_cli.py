"""`policyengine test`: expectations, --fail-on-empty, --coverage/--threshold, --mutations.

Runs on a fixture rulebase (tests/fixtures/suite/rules, invented rules that are not law)
with the bundled vocabulary and registry copied beside it, so the numbers are known.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policyengine.cli import main
from policyengine.pipeline import load_rulebase
from policyengine.testing.mutations import rule_of

ROOT = Path(__file__).resolve().parent.parent
SUITE = Path(__file__).resolve().parent / "fixtures" / "suite"
ONE = str(SUITE / "scenarios")  # asserts only the detainer-only hold
FULL = str(SUITE / "scenarios-full")  # asserts every rule's outcome


@pytest.fixture
def rules(tmp_path) -> str:
    target = tmp_path / "rules"
    shutil.copytree(SUITE / "rules", target)
    shutil.copy(ROOT / "rules" / "vocabulary.yaml", target)
    shutil.copy(ROOT / "rules" / "minnesota" / "registry.yaml", target)
    return str(target)


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["test", *args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *args) -> tuple[int, dict]:
    code, out, _ = run(capsys, *args, "--format", "json")
    return code, json.loads(out)


def test_passing_scenarios_exit_0(capsys, rules):
    code, out, _ = run(capsys, FULL, "--rules", rules)
    assert code == 0
    assert "7 passed, 0 failed" in out


def test_bundled_scenarios_pass_on_the_bundled_rules(capsys):
    code, out, _ = run(capsys)
    assert code == 0, out
    assert " 0 failed" in out


def test_broken_expectation_fails_with_expected_versus_actual(capsys, rules, tmp_path):
    text = (SUITE / "scenarios" / "fx-detainer.yaml").read_text().replace("verdict: prohibited", "verdict: permitted")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text)
    code, out, _ = run(capsys, str(broken), "--rules", rules)
    assert code == 1
    assert "scenario fx-detainer" in out and "did not meet its expectations" in out
    assert "! expected verdict permitted, got prohibited" in out
    assert "    expected:\n      verdict: permitted" in out
    assert "    actual:\n      verdict: prohibited" in out
    assert "fx.hold-prohibited: immigration.detainer is not none; custody.independent_basis is false" in out
    assert "0 passed, 1 failed" in out


def test_json_reports_each_action(capsys, rules):
    code, report = run_json(capsys, ONE, "--rules", rules)
    assert code == 0
    [scenario] = report["scenarios"]
    assert scenario["scenario"] == "fx-detainer" and scenario["passed"] is True
    action = scenario["actions"]["hold_beyond_release"]
    assert action["actual"]["verdict"] == "prohibited"
    assert action["actual"]["decided_by"] == ["fx.hold-prohibited"]
    assert report["summary"] == {"files": 1, "with_expectations": 1, "passed": 1, "failed": 0}


def test_fail_on_empty(capsys, rules):
    empty = str(SUITE / "no-expectations")
    assert run(capsys, empty, "--rules", rules)[0] == 0
    code, out, _ = run(capsys, empty, "--rules", rules, "--fail-on-empty")
    assert code == 1
    assert "no scenario with expectations found" in out


def test_unknown_rule_in_expectation_is_named(capsys, rules, tmp_path):
    text = (SUITE / "scenarios" / "fx-detainer.yaml").read_text().replace("[fx.hold-prohibited]", "[fx.hold-prohibitd]")
    (tmp_path / "typo.yaml").write_text(text)
    code, out, _ = run(capsys, str(tmp_path / "typo.yaml"), "--rules", rules)
    assert code == 1
    assert "expectation names rule 'fx.hold-prohibitd', which is not in the rulebase" in out


def test_bad_scenario_is_a_located_error(capsys, rules, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\ntitle: Bad\ndate: 2026-02-10\nagency: county_jail\nplace: {county: Atlantis}\n")
    code, out, err = run(capsys, str(bad), "--rules", rules)
    assert code == 2
    assert err.startswith(f"{bad}:5: error:")


# ------------------------------------------------------------------ coverage


def test_coverage_lists_every_rule_with_its_status(capsys, rules):
    code, report = run_json(capsys, ONE, "--rules", rules, "--coverage")
    assert code == 0
    status = {r["rule"]: r["status"] for r in report["coverage"]["rules"]}
    # fx-detainer asserts only hold_beyond_release: the notice rule fires but is not tested
    assert status == {
        "fx.basis": "never fired",
        "fx.hold-prohibited": "decisive",
        "fx.hold-with-basis": "never fired",
        "fx.notice-permitted": "fired",
    }
    assert (report["coverage"]["decisive"], report["coverage"]["total"]) == (1, 4)


def test_coverage_text_and_unexercised_cells(capsys, rules):
    code, out, _ = run(capsys, ONE, "--rules", rules, "--coverage")
    assert code == 0
    assert "fx.notice-permitted" in out and "fired" in out
    assert "rules decisive in at least one scenario: 1 of 4 (25.00%)" in out
    # no county or city rules in the fixture: cells are agencies x actions; one is asserted
    vocab = load_rulebase(rules).vocabulary
    cells = len(vocab.facts["agency"].values) * len(vocab.actions)
    assert f"action x jurisdiction cells no scenario exercises: {cells - 1} of {cells}" in out
    assert "agency county_jail: notify_commitment, notify_booking, notify_release, transfer_at_release" in out


def test_threshold_100_fails_while_a_rule_is_untested(capsys, rules):
    code, out, _ = run(capsys, ONE, "--rules", rules, "--coverage", "--threshold", "100")
    assert code == 1
    assert "coverage is below the threshold of 100%" in out


def test_threshold_100_passes_when_every_rule_is_decisive(capsys, rules):
    code, report = run_json(capsys, FULL, "--rules", rules, "--coverage", "--threshold", "100")
    assert code == 0
    status = {r["rule"]: r["status"] for r in report["coverage"]["rules"]}
    assert set(status.values()) == {"decisive"}  # the definition counts: a decider tests its fact
    assert report["coverage"]["meets_threshold"] is True


def test_threshold_is_compared_exactly(capsys, rules):
    # 1 of 4 is exactly 25%: 25 passes, 25.0001 does not
    assert run(capsys, ONE, "--rules", rules, "--coverage", "--threshold", "25")[0] == 0
    assert run(capsys, ONE, "--rules", rules, "--coverage", "--threshold", "25.0001")[0] == 1


def test_threshold_needs_a_percentage(capsys, rules):
    with pytest.raises(SystemExit) as exc:
        main(["test", ONE, "--rules", rules, "--coverage", "--threshold", "101"])
    assert exc.value.code == 2
    assert "'101' is not a percentage between 0 and 100" in capsys.readouterr().err
    assert run(capsys, ONE, "--rules", rules, "--threshold", "50")[0] == 2


# ----------------------------------------------------------------- mutations


def _mutations(capsys, rules, scenarios, *extra):
    code, report = run_json(capsys, scenarios, "--rules", rules, "--mutations", *extra)
    m = report["mutations"]
    killed = {r["mutant"] for r in m["results"] if r["killed_by"]}
    survived = {s["mutant"] for s in m["survived"]}
    return code, m, killed, survived


def _whole_rule(ids: set[str]) -> set[str]:
    return {i for i in ids if i.startswith(("remove ", "flip "))}


def test_mutations_report_survivors_and_exit_1(capsys, rules):
    code, m, killed, survived = _mutations(capsys, rules, ONE)
    assert code == 1
    assert m["engine"] == "reference"
    assert _whole_rule(killed) == {"remove fx.hold-prohibited", "flip fx.hold-prohibited hold_beyond_release"}
    assert _whole_rule(survived) == {
        "remove fx.basis",
        "remove fx.hold-with-basis",
        "flip fx.hold-with-basis hold_beyond_release",
        "remove fx.notice-permitted",
        "flip fx.notice-permitted notify_release",
    }
    # the one scenario (a detainer, no court order, in 2026) tells the detainer test apart from
    # its negation, but not from its absence, and no date around 2000
    assert "fx.hold-prohibited/all[0]/immigration.detainer:negate" in killed
    assert "fx.hold-prohibited/all[0]/immigration.detainer:drop" in survived
    assert "fx.hold-prohibited/in_force.from:later" in survived
    assert m["mutants"] == 26 and m["killed"] == 8
    assert m["by_operator"]["negate"] == {"mutants": 5, "killed": 4, "equivalent": 0, "unsourced": 0, "survived": 1}


def test_mutations_text_names_the_change_and_where(capsys, rules):
    code, out, _ = run(capsys, ONE, "--rules", rules, "--mutations")
    assert code == 1
    assert "engine reference (the default for mutants" in out
    assert "kinds: remove 4, flip 3, drop 6, negate 5, from-earlier 4, from-later 4" in out
    assert "killed: 8; survived: 18" in out
    assert "survived: fx.notice-permitted: notify_release permitted -> prohibited" in out
    assert (
        "survived: fx.hold-prohibited/all[0]/immigration.detainer:drop  "
        f"{rules}/fixture-state.yaml:27  fx.hold-prohibited: condition dropped: immigration.detainer: {{not: none}}"
    ) in out


def test_mutations_report_only_exits_0(capsys, rules):
    assert run(capsys, ONE, "--rules", rules, "--mutations", "--report-only")[0] == 0


def test_mutations_of_one_rule(capsys, rules):
    code, m, killed, survived = _mutations(capsys, rules, ONE, "--mutants-of", "fx.notice-permitted")
    assert {rule_of(r["mutant"]) for r in m["results"]} == {"fx.notice-permitted"}
    assert killed == set() and len(survived) == m["mutants"] == 6


EQUIVALENTS = str(SUITE / "equivalent.yaml")


def test_every_mutant_killed_by_the_full_scenarios_or_listed_equivalent(capsys, rules):
    code, m, killed, survived = _mutations(capsys, rules, FULL, "--equivalents", EQUIVALENTS)
    assert code == 0
    assert survived == set() and len(killed) == 25
    assert [(e["mutant"], e["kind"]) for e in m["equivalent"]] == [
        ("fx.hold-with-basis/in_force.from:earlier", "equivalent")
    ]
    code, m, killed, survived = _mutations(capsys, rules, FULL)  # without the list, it survives
    assert code == 1 and survived == {"fx.hold-with-basis/in_force.from:earlier"}


def test_a_listed_equivalent_that_is_killed_or_gone_fails_the_run(capsys, rules, tmp_path):
    listed = tmp_path / "equivalent.yaml"
    listed.write_text(
        "equivalent:\n"
        "  - mutant: fx.hold-with-basis/in_force.from:earlier\n"
        "    reason: it cannot fire before fx.basis is in force\n"
        "  - mutant: fx.hold-prohibited/all[0]/immigration.detainer:negate\n"
        "    reason: claimed equivalent, but a scenario kills it\n"
        "  - mutant: fx.hold-prohibited/all[7]:drop\n"
        "    kind: unsourced\n"
        "    reason: names a condition the rule does not have\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, FULL, "--rules", rules, "--mutations", "--equivalents", str(listed))
    assert code == 1
    assert (
        f"{listed}:4: error: mutant 'fx.hold-prohibited/all[0]/immigration.detainer:negate' is listed as "
        "equivalent but is killed by fx-"
    ) in out
    assert f"{listed}:6: error: no mutant 'fx.hold-prohibited/all[7]:drop'" in out
    # an entry for a rule outside --mutants-of is not judged
    code, out, _ = run(
        capsys, FULL, "--rules", rules, "--mutations", "--equivalents", str(listed), "--mutants-of", "fx.basis"
    )
    assert code == 0, out


def test_an_equivalents_file_with_a_bad_entry_is_bad_input(capsys, rules, tmp_path):
    listed = tmp_path / "equivalent.yaml"
    listed.write_text("equivalent:\n  - mutant: x\n    reason: too short\n", encoding="utf-8")
    code, _, err = run(capsys, FULL, "--rules", rules, "--mutations", "--equivalents", str(listed))
    assert code == 2
    assert f"{listed}:3: error:" in err


def test_mutations_on_durable_rules_agree(capsys, rules):
    pytest.importorskip("durable.engine")
    _, m_ref, killed_ref, survived_ref = _mutations(capsys, rules, ONE)
    _, m_dur, killed_dur, survived_dur = _mutations(capsys, rules, ONE, "--mutant-engine", "durable")
    assert m_dur["engine"] == "durable_rules"
    assert (killed_dur, survived_dur) == (killed_ref, survived_ref)
