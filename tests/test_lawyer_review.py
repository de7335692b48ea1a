"""Review workflow: content hashes, listing by status and jurisdiction, stamping, and PE601."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policyengine.cli import main
from policyengine.load import load_yaml
from policyengine.review import rule_hash, written_rules

ROOT = Path(__file__).parent.parent
STATE = Path("minnesota") / "state" / "detainers.yaml"
RULE = "mn.state.no-detainer-hold"


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def codes(capsys, directory: Path) -> list[tuple[str, str]]:
    main(["check", str(directory), "--format", "json"])
    return [(f["code"], f.get("rules", [""])[0]) for f in json.loads(capsys.readouterr().out)["findings"]]


def test_hash_ignores_formatting_and_review_but_not_meaning():
    a = load_yaml("a.yaml", text="jurisdiction: {level: state}\nrules:\n  - {id: x, title: T, kind: law}\n")
    b = load_yaml(
        "b.yaml",
        text="# a comment\njurisdiction:\n  level: state\nrules:\n- kind: law\n  title: 'T'\n  id: x\n"
        "  review: {status: approved}\n",
    )
    c = load_yaml(
        "c.yaml", text="jurisdiction: {level: county, county: Aitkin}\nrules:\n  - {id: x, title: T, kind: law}\n"
    )
    d = load_yaml("d.yaml", text="jurisdiction: {level: state}\nrules:\n  - {id: x, title: U, kind: law}\n")
    h = {k: written_rules([doc])["x"].hash for k, doc in zip("abcd", (a, b, c, d), strict=True)}
    assert h["a"] == h["b"]
    assert len({h["a"], h["c"], h["d"]}) == 3
    assert rule_hash({"id": "x"}, {"level": "state"}) == rule_hash(
        {"id": "x", "review": {"status": "draft"}}, {"level": "state"}
    )


def test_listing_filters_and_counts(capsys):
    assert main(["review", "--jurisdiction", "Hennepin", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["rules"] and all(r["jurisdiction"] == "Hennepin County" for r in payload["rules"])
    assert payload["counts"]["total"] == len(payload["rules"])
    assert sum(payload["counts"]["by_status"].values()) == len(payload["rules"])
    assert main(["review", "--status", "approved", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rules"] == []  # no lawyer has approved a bundled rule


def test_stamp_edits_one_line_and_check_then_catches_a_later_change(rules, capsys, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    before = path.read_text().splitlines()
    args = ["review", "--rules", str(rules), "--stamp", RULE, "--reviewer", "Jane Roe", "--date", "2026-03-01"]
    assert main([*args, "--status", "approved"]) == 0
    after = path.read_text().splitlines()
    changed = [i for i, (x, y) in enumerate(zip(before, after, strict=True)) if x != y]
    assert len(before) == len(after) and len(changed) == 1
    assert after[changed[0]].strip().startswith('review: {status: approved, reviewer: "Jane Roe", date: 2026-03-01')
    capsys.readouterr()
    assert ("PE601", RULE) not in codes(capsys, rules)
    assert ("PE602", RULE) not in codes(capsys, rules)
    # A formatting-only change (re-quoting the title) keeps the approval valid ...
    text = path.read_text()
    title = "title: No holding a person past release solely on an immigration detainer"
    path.write_text(text.replace(title, title.replace("title: ", "title: '") + "'"))
    assert ("PE601", RULE) not in codes(capsys, rules)
    # ... a change of meaning does not.
    path.write_text(path.read_text().replace("hold_beyond_release: prohibited", "hold_beyond_release: permitted"))
    assert ("PE601", RULE) in codes(capsys, rules)
    assert main(["check", str(rules)]) == 1


def test_stamp_edits_a_block_review(rules, capsys, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    text = path.read_text()
    marker = "    review: {status: draft}\n\n  - id: mn.state.no-admin-warrant-hold"
    assert marker in text
    path.write_text(
        text.replace(
            marker,
            "    review:\n      status: draft\n      note: Needs a look.\n\n  - id: mn.state.no-admin-warrant-hold",
        )
    )
    args = ["review", "--rules", str(rules), "--stamp", RULE, "--reviewer", "Jane Roe", "--date", "2026-03-01"]
    assert main([*args, "--status", "reviewed"]) == 0
    review = written_rules([load_yaml(path)])[RULE].data["review"]
    assert review["status"] == "reviewed" and review["reviewer"] == "Jane Roe" and review["note"] == "Needs a look."
    assert review["hash"] == written_rules([load_yaml(path)])[RULE].hash
    capsys.readouterr()
    assert not [c for c in codes(capsys, rules) if c[1] == RULE and c[0].startswith("PE6")]


def test_stamp_prints_the_hash_when_the_layout_cannot_be_edited(rules, capsys, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    text = path.read_text()
    marker = "    review: {status: draft}\n\n  - id: mn.state.no-admin-warrant-hold"
    odd = "    review: {status: draft,\n      note: spans two lines}\n\n  - id: mn.state.no-admin-warrant-hold"
    path.write_text(text.replace(marker, odd))
    args = ["review", "--rules", str(rules), "--stamp", RULE, "--reviewer", "Jane Roe", "--date", "2026-03-01"]
    assert main([*args, "--status", "approved"]) == 1
    err = capsys.readouterr().err
    digest = written_rules([load_yaml(path)])[RULE].hash
    assert f"hash: {digest}" in err
    assert path.read_text() == text.replace(marker, odd)  # untouched


def test_stamp_of_unknown_rule_is_an_input_error(capsys):
    args = ["review", "--stamp", "no.such.rule", "--reviewer", "X", "--date", "2026-03-01", "--status", "approved"]
    assert main(args) == 2
    assert "no rule with id 'no.such.rule'" in capsys.readouterr().err
