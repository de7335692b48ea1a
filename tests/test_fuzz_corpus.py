"""Hostile and malformed input: every fuzz-corpus input is rejected with a located error.

The corpus (tests/fuzz/corpus/, written by tools/make_fuzz_corpus.py from the bundled files,
plus what tools/atheris_fuzz.py found) is run through `run` and `check` (a rule, vocabulary or
registry input) or `run` and `test` (a scenario input) by one driver process that calls the
CLI's main() in a loop with a 5 s alarm and a 500 MB address-space limit per call
(tests/fuzz/driver.py). Each call must exit 2 (or 1 for a check finding), print a
`file:line: error:` line (or `file: error:` where the file has no line), and raise nothing.

On this machine a call costs about a tenth of a second (the vocabulary and registry are read
each time), so the suite runs a seeded sample of POLICYENGINE_FUZZ_SAMPLE inputs (default
120) covering every kind of damage; POLICYENGINE_FUZZ_SAMPLE=all runs the whole corpus.
Inputs that need a real process of their own (a 50 MB file, a FIFO, a directory or a symbolic
link loop where a file is expected, a link to /dev/zero) are made at test time, not committed.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.fuzz.layout import ROOT, base_rules, corpus_inputs, lay_out

SCENARIO = ROOT / "scenarios" / "doc-release-detainer-no-warrant.yaml"
LOCATED = re.compile(r"^(?:\S.*?):(?:\d+): (?:error): ", re.M)
UNLOCATED = re.compile(r"^(?:\S.*?): (?:error): ", re.M)


def _sample(inputs: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    wanted = os.environ.get("POLICYENGINE_FUZZ_SAMPLE", "120")
    if wanted == "all":
        return inputs
    by_kind: dict[tuple[str, str], list[tuple[str, Path]]] = defaultdict(list)
    for target, path in inputs:
        by_kind[(target, path.name.rsplit("-", 1)[0])].append((target, path))
    rng = random.Random(20260209)
    chosen = [rng.choice(group) for _, group in sorted(by_kind.items())]  # every kind once
    rest = [i for i in inputs if i not in chosen]
    chosen += rng.sample(rest, max(0, min(len(rest), int(wanted) - len(chosen))))
    return sorted(chosen)


def test_the_corpus_holds_at_least_1000_inputs_of_every_kind():
    inputs = corpus_inputs()
    assert len(inputs) >= 1000
    kinds = {p.name.rsplit("-", 1)[0] for _, p in inputs}
    for kind in (
        "truncate",
        "delete-line",
        "duplicate-line",
        "wrong-type",
        "control-byte",
        "not-utf8",
        "bom",
        "crlf",
        "tab",
        "deep-flow",
        "deep-block",
        "alias-bomb",
    ):
        assert kind in kinds, kind
    assert {t for t, _ in inputs} >= {"rules", "scenarios", "vocabulary", "registry"}


def _cases(tmp_path: Path) -> list[dict]:
    base = base_rules(tmp_path / "base" / "rules")
    cases = []
    for n, (target, path) in enumerate(_sample(corpus_inputs())):
        place = lay_out(tmp_path / f"case{n}", target, path.read_bytes())
        name = f"{target}/{path.name}"
        if target == "scenarios":
            calls = {
                "run": ["run", "--rules", str(base), str(place)],
                "test": ["test", "--rules", str(base), str(place)],
            }
        else:
            rules = str(tmp_path / f"case{n}" / "rules")
            calls = {"run": ["run", "--rules", rules, str(SCENARIO)], "check": ["check", rules]}
        cases += [{"id": f"{name} {command}", "argv": argv} for command, argv in calls.items()]
    return cases


def problems_of(result: dict) -> list[str]:
    """What is wrong with one call's outcome (nothing when it was rejected as it should be)."""
    output = result["stdout"] + result["stderr"]
    wrong = []
    if result["traceback"]:
        wrong.append("exception escaped main():\n" + result["traceback"])
    if "Traceback" in output:
        wrong.append("a traceback in the output")
    if result["timeout"]:
        wrong.append("took more than 5 s")
    if result["memory"]:
        wrong.append("needed more than 500 MB")
    allowed = (1, 2) if result["argv"][0] == "check" else (2,)
    if result["status"] not in allowed:
        wrong.append(f"exit status {result['status']}, not {' or '.join(map(str, allowed))}")
    if not (LOCATED.search(output) or UNLOCATED.search(output)):
        wrong.append("no `file:line: error:` line")
    return wrong


def test_every_sampled_corpus_input_is_rejected_with_a_located_error(tmp_path):
    cases = _cases(tmp_path)
    cases_file, results_file = tmp_path / "cases.json", tmp_path / "results.json"
    cases_file.write_text(json.dumps(cases))
    driver = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "fuzz" / "driver.py"), str(cases_file), str(results_file)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert driver.returncode == 0, driver.stderr
    report = json.loads(results_file.read_text())
    results = report["results"]
    assert len(results) == len(cases)
    failures = {r["id"]: problems_of(r) for r in results if problems_of(r)}
    assert not failures, json.dumps(failures, indent=2)[:6000]
    with_line = sum(bool(LOCATED.search(r["stdout"] + r["stderr"])) for r in results)
    assert with_line >= 0.9 * len(results), f"only {with_line} of {len(results)} errors name a line"


# ------------------------------------------------ inputs that need a process of their own


@pytest.fixture(scope="module")
def hostile_rules(tmp_path_factory) -> Path:
    """A rules directory with every kind of entry that is not a readable rule file."""
    rules = base_rules(tmp_path_factory.mktemp("hostile") / "rules")
    state = rules / "minnesota" / "state"
    state.mkdir()
    with open(state / "huge.yaml", "wb") as f:  # 50 MB, sparse: costs no disk
        f.truncate(50 * 1024 * 1024)
    (state / "folder.yaml").mkdir()
    os.symlink("loop.yaml", state / "loop.yaml")
    os.symlink("nowhere.yaml", state / "dangling.yaml")
    os.symlink("/dev/zero", state / "zero.yaml")
    os.symlink(SCENARIO, state / "outside.yaml")
    os.mkfifo(state / "pipe.yaml")
    return rules


HOSTILE = {
    "huge.yaml": "file is larger than 256 KiB",
    "folder.yaml": "a directory, not a YAML file",
    "loop.yaml": "a symbolic link that loops",
    "dangling.yaml": "a symbolic link to a file that does not exist",
    "zero.yaml": "a character device, not a YAML file",
    "outside.yaml": "a symbolic link to a file outside",
    "pipe.yaml": "a named pipe (FIFO), not a YAML file",
}


def _policyengine(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policyengine", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("command", ["run", "check"])
def test_hostile_entries_in_a_rules_directory_are_each_reported_never_skipped(command, hostile_rules):
    args = ["run", "--rules", str(hostile_rules), str(SCENARIO)] if command == "run" else ["check", str(hostile_rules)]
    proc = _policyengine(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    for name, message in HOSTILE.items():
        if name == "huge.yaml":  # the entries are reported first; the size when the file is read
            continue
        assert re.search(rf"{name}: error: {re.escape(message)}", proc.stderr), (name, proc.stderr)


def test_hostile_entries_in_a_scenario_directory_are_each_reported(hostile_rules):
    proc = _policyengine("run", str(hostile_rules / "minnesota" / "state"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for name, message in HOSTILE.items():
        if name == "huge.yaml":
            continue
        assert re.search(rf"{name}: error: {re.escape(message)}", proc.stderr), (name, proc.stderr)


def test_hostile_scenario_files_named_directly_are_each_reported(hostile_rules):
    state = hostile_rules / "minnesota" / "state"
    names = ["huge.yaml", "loop.yaml", "dangling.yaml", "zero.yaml", "pipe.yaml"]
    proc = _policyengine("run", *(str(state / n) for n in names))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    for name in names:
        assert re.search(rf"{name}: error: {re.escape(HOSTILE[name])}", proc.stderr), (name, proc.stderr)


def test_a_50_mb_rule_file_is_refused_before_it_is_read(tmp_path):
    rules = base_rules(tmp_path / "rules")
    with open(rules / "minnesota" / "huge.yaml", "wb") as f:
        f.truncate(50 * 1024 * 1024)
    proc = _policyengine("check", str(rules))
    assert proc.returncode == 2
    assert re.search(r"huge\.yaml: error: file is larger than 256 KiB", proc.stderr), proc.stderr
