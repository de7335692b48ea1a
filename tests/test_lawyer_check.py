"""`policyengine check`: the bundled rules pass; each bad fixture fails with its code, file and line.

Fixtures live in tests/fixtures/lawyer (fictional data): `base/` plus one fixture directory
laid over it makes a rules directory; the line that causes a finding is marked `# <- CODE`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from policyengine import analysis
from policyengine import check as check_module
from policyengine.analysis import CODES, exploration
from policyengine.cli import main
from policyengine.errors import InputError, Problem
from policyengine.load import LOADER_CODES

FIXTURES = Path(__file__).parent / "fixtures" / "lawyer"
BAD = sorted(p for p in (FIXTURES / "bad").iterdir() if p.is_dir())
DOCS = Path(__file__).parent.parent / "docs" / "errors"


def rules_dir(tmp_path: Path, *overlays: Path) -> Path:
    target = tmp_path / "rules"
    target.mkdir()
    for f in (FIXTURES / "base").iterdir():
        shutil.copy(f, target / f.name)
    for overlay in overlays:
        for f in overlay.iterdir():
            shutil.copy(f, target / f.name)
    return target


def marked(directory: Path) -> tuple[str, str, int]:
    """The code, file name and line of the `# <- CODE` marker in a fixture directory."""
    hits = []
    for f in sorted(directory.iterdir()):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if "# <- PE" in line:
                hits.append((line.split("# <- ")[1].strip(), f.name, n))
    assert len(hits) == 1, f"{directory.name} needs exactly one marker"
    return hits[0]


def check_json(capsys, directory: Path) -> tuple[int, dict]:
    code = main(["check", str(directory), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_bundled_rules_pass(capsys):
    code, report = check_json(capsys, Path(__file__).parent.parent / "rules")
    assert code == 0
    assert report["counts"]["error"] == 0
    assert report["rules_checked"] > 0


def test_good_fixture_has_no_finding_at_all(tmp_path, capsys):
    code, report = check_json(capsys, rules_dir(tmp_path, FIXTURES / "good"))
    assert code == 0
    assert report["findings"] == []


@pytest.mark.parametrize("fixture", BAD, ids=[p.name for p in BAD])
def test_bad_fixture_reports_its_code_at_the_marked_line(fixture, tmp_path, capsys, monkeypatch):
    code_name, file_name, line = marked(fixture)
    assert fixture.name.startswith(code_name)
    if code_name == "PE505":
        monkeypatch.setattr(exploration, "MAX_EVALUATIONS", 1)
    status, report = check_json(capsys, rules_dir(tmp_path, fixture))
    hits = [f for f in report["findings"] if f["code"] == code_name]
    assert [(Path(f["file"]).name, f["line"]) for f in hits] == [(file_name, line)], report["findings"]
    severity = CODES[code_name][0]
    assert hits[0]["severity"] == severity
    errors = {f["code"] for f in report["findings"] if f["severity"] == "error"}
    assert errors <= {code_name}, f"unexpected errors: {errors}"
    if report["rules_checked"] == 0:  # the rule files could not be loaded: bad input, as in `run`
        assert status == 2
    else:
        assert status == (1 if severity == "error" else 0)


def test_every_code_has_a_fixture_and_a_doc_page():
    fixtures = {p.name.split("-")[0] for p in BAD}
    assert fixtures == set(CODES) - set(LOADER_CODES)  # loader codes: tests/test_hostile_input.py
    for code in CODES:
        page = DOCS / f"{code}.md"
        assert page.is_file(), page
        assert page.read_text().startswith(f"# {code}")


def test_text_format_prints_located_findings_and_a_summary(tmp_path, capsys):
    status = main(["check", str(rules_dir(tmp_path, FIXTURES / "bad" / "PE102-unknown-fact"))])
    out = capsys.readouterr().out.splitlines()
    assert status == 2  # a rule file `run` rejects is bad input for `check` too
    assert out[0].endswith("state.yaml:10: error: PE102: 'immigration.detainr' is not a fact in the vocabulary")
    assert out[-1] == "check: 0 rules, 1 errors, 0 warnings, 0 notes"


def test_malformed_yaml_is_a_located_error_with_exit_2(tmp_path, capsys):
    directory = rules_dir(tmp_path, FIXTURES / "good")
    (directory / "broken.yaml").write_text("jurisdiction: {level: state}\nrules: [\n")
    assert main(["check", str(directory)]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml:3: error: invalid YAML" in err
    assert "Traceback" not in err


def test_conflict_counterexample_runs_to_a_conflict_end_to_end(tmp_path):
    """The planted conflict's counterexample, written by check, gives verdict `conflict` in `run`."""
    directory = rules_dir(tmp_path, FIXTURES / "bad" / "PE501-conflict")
    out_dir = tmp_path / "counterexamples"
    cli = [sys.executable, "-m", "policyengine"]
    checked = subprocess.run(
        [*cli, "check", str(directory), "--format", "json", "--write-scenarios", str(out_dir)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 1
    finding = next(f for f in json.loads(checked.stdout)["findings"] if f["code"] == "PE501")
    assert finding["rules"] == ["fx.state.must-hold", "fx.state.never-hold"]
    (scenario,) = sorted(out_dir.glob("*.yaml"))
    assert scenario.read_text() == finding["scenario"]
    ran = subprocess.run(
        [*cli, "run", "--rules", str(directory), str(scenario), "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    decision = next(d for d in json.loads(ran.stdout)["decisions"] if d["action"] == "hold_beyond_release")
    assert decision["verdict"] == "conflict"
    assert decision["conflict"] == ["fx.state.must-hold", "fx.state.never-hold"]


def test_counterexample_is_the_smallest(tmp_path, capsys):
    """Two facts are needed (an I-247A and a court order); nothing else differs from the defaults."""
    _, report = check_json(capsys, rules_dir(tmp_path, FIXTURES / "bad" / "PE501-conflict"))
    finding = next(f for f in report["findings"] if f["code"] == "PE501")
    lines = finding["scenario"].splitlines()
    facts = [line.strip() for line in lines if line.startswith("  ") and not line.startswith("  county")]
    assert sorted(facts) == ["court_order: true", "detainer: I-247A"]
    assert "date: 2021-06-01" in lines  # the first day both rules are in force


def test_registry_facts_are_explored_through_counties(tmp_path, capsys):
    """A conflict that needs an ICE bed contract is found in the county that has one."""
    directory = rules_dir(tmp_path)
    (directory / "state.yaml").write_text(
        (FIXTURES / "bad" / "PE502-practice-conflict" / "state.yaml")
        .read_text()
        .replace("immigration.detainer: I-247A", "agreement.ice_bed_contract: true", 1)
    )
    _, report = check_json(capsys, directory)
    finding = next(f for f in report["findings"] if f["code"] == "PE502")
    assert "county: Southfork" in finding["scenario"]
    assert "2020-01-01" in finding["scenario"]


# ------------------------------------------------------------------ codes are data


def _broken_variants(tmp_path: Path) -> list[Path]:
    """Rules directories that are wrong in many ways: every bad fixture, and the good
    fixture with each line of its state rule file deleted in turn."""
    dirs = list(BAD)
    good = FIXTURES / "good"
    for f in [good / "state.yaml"]:
        lines = f.read_text().splitlines(keepends=True)
        for n in range(len(lines)):
            overlay = tmp_path / f"{f.stem}-{n}"
            overlay.mkdir(parents=True)
            for g in good.iterdir():
                shutil.copy(g, overlay / g.name)
            (overlay / f.name).write_text("".join(lines[:n] + lines[n + 1 :]))
            dirs.append(overlay)
    return dirs


def test_every_problem_reaching_check_carries_the_code_it_was_raised_with(tmp_path):
    seen: set[str] = set()
    for i, overlay in enumerate(_broken_variants(tmp_path / "variants")):
        (tmp_path / f"r{i}").mkdir()
        root = rules_dir(tmp_path / f"r{i}", overlay)
        try:
            report = analysis.analyse(root, explore=False)
        except InputError as exc:  # the file is not YAML at all: exit 2, but coded too
            assert all(p.code in CODES for p in exc.problems), exc.problems
            continue
        for f in report.findings:
            assert f.code in CODES, f
            seen.add(f.code)
    # the line deletions reach the shape, vocabulary, value, language and source codes
    assert {"PE101", "PE102", "PE104", "PE201"} <= seen


def test_a_problem_raised_without_a_code_fails_check(tmp_path, monkeypatch):
    def uncoded(*args, **kwargs):
        raise InputError([Problem("state.yaml", 3, "something is wrong")])

    monkeypatch.setattr(check_module, "check_rule_file", uncoded)  # read_rulebase imports it when called
    with pytest.raises(analysis.UncodedProblem):
        analysis.analyse(rules_dir(tmp_path, FIXTURES / "good"), explore=False)


def test_an_unknown_key_inside_a_conclusion_is_pe104(tmp_path, capsys):
    # Once PE101: a message-matching table took "unknown key" for a shape error.
    fixture = FIXTURES / "bad" / "PE104-unknown-key-in-conclusion"
    status, report = check_json(capsys, rules_dir(tmp_path, fixture))
    assert [(f["code"], f["line"]) for f in report["findings"]] == [("PE104", 14)]
    assert "unknown key 'leanning'" in report["findings"][0]["message"]


def test_a_record_of_silence_closes_a_gap(tmp_path, capsys):
    """PE504 does not fire for an action x agency that a sourced record of silence covers."""
    directory = rules_dir(tmp_path, FIXTURES / "bad" / "PE504-gap")
    (directory / "silence.yaml").write_text(
        "jurisdiction: {level: state}\n"
        "rules:\n"
        "  - id: fx.silent-notify\n"
        "    title: No fictional statute speaks to release notices\n"
        "    kind: law\n"
        "    binds: [county_jail]\n"
        "    in_force: {from: 2020-01-01}\n"
        "    then: {notify_release: not_addressed}\n"
        "    notes: Searched the fictional code; nothing on release notices.\n"
        "    sources:\n"
        "      - {cite: Fictional code, url: 'https://example.invalid/code', authority: statute, quote: nothing}\n"
        "    review: {status: draft}\n"
    )
    _, report = check_json(capsys, directory)
    gaps = [f["message"] for f in report["findings"] if f["code"] == "PE504"]
    assert gaps == ["no law rule decides 'notify_release' for doc"]
