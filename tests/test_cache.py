"""The rulebase cache: used when nothing changed, rebuilt when a rule file changes, and never
trusted when it is corrupt, foreign or stored under another key."""

from __future__ import annotations

import pickle
import shutil

import pytest

from policyengine import bundled, cache
from policyengine.pipeline import load_rulebase


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("POLICYENGINE_CACHE", "1")
    root = tmp_path / "rules"
    shutil.copytree(bundled.rules_dir(), root)
    return root


def _files(tmp_path):
    return sorted((tmp_path / "cache").glob("rulebase-*.pickle"))


def test_second_load_comes_from_the_cache_and_equals_the_first(rules, tmp_path, monkeypatch):
    first = load_rulebase(rules)
    assert len(_files(tmp_path)) == 1
    calls = []
    monkeypatch.setattr("policyengine.rulebase.read_rulebase", lambda root: calls.append(root))
    second = load_rulebase(rules)
    assert calls == []  # not rebuilt
    assert second.rules == first.rules
    assert second.program.digest == first.program.digest


def test_a_changed_rule_file_is_a_new_key(rules, tmp_path):
    first = load_rulebase(rules)
    target = next(p for p in sorted(rules.rglob("*.yaml")) if "title:" in p.read_text())
    text = target.read_text()
    target.write_text(text.replace("title: ", "title: Changed ", 1))
    second = load_rulebase(rules)
    assert len(_files(tmp_path)) == 2
    assert [r.title for r in second.rules] != [r.title for r in first.rules]


def test_another_version_is_another_key(rules, monkeypatch):
    key = cache.rules_key(rules, "rules")
    monkeypatch.setattr("policyengine.__version__", "9.9.9")
    assert cache.rules_key(rules, "rules") != key


@pytest.mark.parametrize(
    "content",
    [
        b"not a pickle at all",
        pickle.dumps(("wrong key", "anything")),
        # a foreign pickle that would run a command when loaded
        b"cos\nsystem\n(S'echo pwned > /tmp/policyengine-pwned'\ntR.",
    ],
    ids=["corrupt", "other-key", "foreign"],
)
def test_a_bad_cache_file_is_ignored_and_replaced(rules, tmp_path, content):
    good = load_rulebase(rules)
    (path,) = _files(tmp_path)
    path.write_bytes(content)
    again = load_rulebase(rules)
    assert again.rules == good.rules
    assert path.read_bytes() != content  # rebuilt and stored again


def test_cache_can_be_bypassed(rules, tmp_path, monkeypatch):
    monkeypatch.setenv("POLICYENGINE_CACHE", "0")
    load_rulebase(rules)
    assert _files(tmp_path) == []
