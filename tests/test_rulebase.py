"""The one loader: every file read once, the documents and a source map kept with the rules."""

from __future__ import annotations

import builtins
import io
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from policyengine import bundled
from policyengine.cli import main
from policyengine.conditions import facts_tested
from policyengine.errors import InputError
from policyengine.rulebase import VocabularyError, load_rulebase, read_rulebase

FIXTURES = Path(__file__).parent / "fixtures" / "lawyer"


def fixture_rules(tmp_path: Path, overlay: str = "good") -> Path:
    target = tmp_path / "rules"
    target.mkdir()
    for directory in (FIXTURES / "base", FIXTURES / overlay):
        for f in directory.iterdir():
            shutil.copy(f, target / f.name)
    return target


def test_the_source_map_locates_every_rule_source_and_condition():
    rb = load_rulebase()
    assert rb.diagnostics == ()
    assert {d.file for d in rb.documents} == {r.file for r in rb.rules}
    for rule in rb.rules:
        assert rb.source_map.rule(rule.id).file == rule.file
        assert rb.source_map.rule(rule.id).line == rule.line
        for k, _ in enumerate(rule.sources):
            assert rb.source_map.source(rule.id, k).file == rule.file
    # the citizenship condition of the § 631.50 commitment-notice rule, at its own line
    rule = next(
        r
        for r in rb.rules
        if "631.50" in " ".join(s.cite for s in r.sources)
        and r.kind == "law"
        and "person.citizenship" in facts_tested(r.when)
    )
    where = next(
        (path, loc)
        for (rid, path), loc in rb.source_map.conditions.items()
        if rid == rule.id and path and path[-1] == "person.citizenship"
    )
    text = Path(bundled.rules_dir() / Path(rule.file).relative_to(Path(rule.file).parts[0])).read_text()
    assert "person.citizenship: noncitizen" in text.splitlines()[where[1].line - 1]


def test_rule_file_problems_are_kept_as_diagnostics_and_raised_by_the_strict_loader(tmp_path):
    root = fixture_rules(tmp_path, "bad/PE102-unknown-fact")
    rb = read_rulebase(root)
    assert [(p.code, Path(p.file).name, p.line) for p in rb.diagnostics] == [("PE102", "state.yaml", 10)]
    with pytest.raises(InputError) as exc:
        load_rulebase(root)
    assert exc.value.problems == list(rb.diagnostics)


def test_an_invalid_vocabulary_stops_the_load(tmp_path):
    with pytest.raises(VocabularyError) as exc:
        read_rulebase(fixture_rules(tmp_path, "bad/PE107-bad-vocabulary"))
    assert {p.code for p in exc.value.problems} == {"PE107"}


@pytest.fixture
def reads(monkeypatch):
    """Every file opened while the test runs, counted by resolved path."""
    counter: Counter[Path] = Counter()
    real_open = io.open

    def counting_open(file, *args, **kwargs):
        if isinstance(file, str | Path):
            counter[Path(file).resolve()] += 1
        return real_open(file, *args, **kwargs)

    real_os_open = os.open

    def counting_os_open(file, *args, **kwargs):  # load.read_text opens a user's file this way
        if isinstance(file, str | Path):
            counter[Path(file).resolve()] += 1
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", counting_open)
    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(os, "open", counting_os_open)
    return counter


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "{rules}"],
        ["review", "--rules", "{rules}"],
        ["rules", "--rules", "{rules}"],
        ["schema", "--rules", "{rules}", "--out", "{tmp}/schema"],
        ["run", "--rules", "{rules}", "--engine", "reference", "{tmp}/scenario.yaml"],
        ["test", "--rules", "{rules}", "--engine", "reference", "{tmp}/scenario.yaml"],
    ],
    ids=lambda a: a[0],
)
def test_each_command_reads_each_rule_file_exactly_once(argv, tmp_path, reads, capsys, monkeypatch):
    # The rulebase cache (cache.py) hashes every file's bytes for its key: a read of its own,
    # not a load; with it off, what is counted is the loader alone.
    monkeypatch.setenv("POLICYENGINE_CACHE", "0")
    root = fixture_rules(tmp_path)
    (tmp_path / "scenario.yaml").write_text(
        "id: s\ntitle: s\ndate: 2024-01-01\nagency: county_jail\nplace: {county: Northfork}\n"
        "immigration: {detainer: I-247A}\nexpect:\n  notify_release: {verdict: permitted}\n"
    )
    args = [a.format(rules=root, tmp=tmp_path) for a in argv]
    reads.clear()  # copying the fixture opened them
    status = main(args)
    capsys.readouterr()
    assert status in (0, 1)
    files = sorted(p.resolve() for p in root.iterdir())
    assert {f.name: reads[f] for f in files} == {f.name: 1 for f in files}
