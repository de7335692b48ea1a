"""Review workflow: content hashes, listing by status and jurisdiction, stamping, and PE601."""

from __future__ import annotations

import datetime as dt
import difflib
import json
import shutil
import threading
from pathlib import Path

import pytest

from policyengine import bundled, review
from policyengine.cli import main
from policyengine.errors import InputError
from policyengine.load import load_yaml
from policyengine.pipeline import load_rulebase
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
    assert after[changed[0]].strip().startswith("review: {status: approved, reviewer: Jane Roe, date: 2026-03-01")
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


def test_stamp_prints_the_hash_when_the_edit_cannot_be_confined_to_the_review(rules, capsys, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    text = path.read_text()
    narrow = review._round_trip()
    narrow.width = 30  # a writer that re-wraps long lines elsewhere in the file
    monkeypatch.setattr(review, "_round_trip", lambda: narrow)
    args = ["review", "--rules", str(rules), "--stamp", RULE, "--reviewer", "Jane Roe", "--date", "2026-03-01"]
    assert main([*args, "--status", "approved"]) == 1
    err = capsys.readouterr().err
    digest = written_rules([load_yaml(path)])[RULE].hash
    assert f"hash: {digest}" in err
    assert path.read_text() == text  # untouched


def test_stamp_of_unknown_rule_is_an_input_error(capsys):
    args = ["review", "--stamp", "no.such.rule", "--reviewer", "X", "--date", "2026-03-01", "--status", "approved"]
    assert main(args) == 2
    assert "no rule with id 'no.such.rule'" in capsys.readouterr().err


# ------------------------------------------------- the stamp edits the file safely


def _stamp(rules: Path, rule: str, reviewer: str = "Jane Roe") -> int:
    args = ["review", "--rules", str(rules), "--stamp", rule, "--reviewer", reviewer, "--date", "2026-03-01"]
    return main([*args, "--status", "reviewed"])


def test_a_stamp_changes_only_the_stamp_lines_and_keeps_every_comment(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / "federal" / "detainers.yaml"
    before = path.read_text().splitlines()
    rule = "fed.detainer.hold-request"
    assert _stamp(rules, rule) == 0
    after = path.read_text().splitlines()
    diff = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"]
    diff = [line for line in diff if not line.startswith(("+++", "---"))]
    assert len(diff) == 2 and diff[0] == "-    review: {status: draft}"
    assert diff[1].startswith("+    review: {status: reviewed, reviewer: Jane Roe, date: 2026-03-01, hash: ")
    comments = [line for line in before if "#" in line]
    assert len(comments) > 10 and all(c in after for c in comments)


def test_an_interrupted_stamp_leaves_the_original_file_intact(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    text = path.read_text()

    def power_cut(src, dst):
        raise OSError("simulated failure before the rename")

    monkeypatch.setattr(review.os, "replace", power_cut)
    rb = load_rulebase(rules)
    with pytest.raises(OSError, match="simulated"):
        review.stamp_file(rb, RULE, "approved", "Jane Roe", dt.date(2026, 3, 1), write=True)
    assert path.read_text() == text
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        p.name for p in (ROOT / "rules" / STATE).parent.iterdir()
    )  # no temporary file left behind


def test_a_file_changed_since_it_was_read_is_not_stamped(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    path = rules / STATE
    rb = load_rulebase(rules)
    changed = path.read_text().replace("hold_beyond_release: prohibited", "hold_beyond_release: permitted", 1)
    path.write_text(changed)
    with pytest.raises(InputError, match="changed on disk since it was read"):
        review.stamp_file(rb, RULE, "approved", "Jane Roe", dt.date(2026, 3, 1), write=True)
    assert path.read_text() == changed


def test_two_concurrent_stamps_of_one_file_both_land_every_time(tmp_path):
    base = Path(__file__).parent / "fixtures" / "lawyer"
    first, second = "fx.state.no-detainer-hold", "fx.state.hold-on-basis"
    for trial in range(20):
        root = tmp_path / f"t{trial}"
        root.mkdir()
        for d in (base / "base", base / "good"):
            for f in d.iterdir():
                shutil.copy(f, root / f.name)
        loaded = [load_rulebase(root), load_rulebase(root)]  # both read the file before either writes
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def one(rb, rule, who, start=start, errors=errors):
            start.wait()
            try:
                result = review.stamp_file(rb, rule, "reviewed", who, dt.date(2026, 3, 1), write=True)
                assert result.text is not None, result.reason
            except BaseException as exc:  # reported below, with the trial
                errors.append(exc)

        threads = [
            threading.Thread(target=one, args=(loaded[0], first, "A. Reviewer")),
            threading.Thread(target=one, args=(loaded[1], second, "B. Reviewer")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], f"trial {trial}: {errors}"
        written = written_rules([load_yaml(root / "state.yaml")])
        assert written[first].data["review"]["reviewer"] == "A. Reviewer", f"trial {trial}"
        assert written[second].data["review"]["reviewer"] == "B. Reviewer", f"trial {trial}"


def test_a_stamp_without_rules_refuses_the_rules_of_an_installed_package(tmp_path, monkeypatch, capsys):
    installed = tmp_path / "lib" / "python3.12" / "site-packages" / "policyengine" / "bundled" / "rules"
    shutil.copytree(ROOT / "rules", installed)
    monkeypatch.setattr(bundled, "rules_dir", lambda: installed)
    before = (installed / STATE).read_text()
    args = ["review", "--stamp", RULE, "--reviewer", "Jane Roe", "--date", "2026-03-01", "--status", "approved"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "installed package" in err and "--rules" in err
    assert (installed / STATE).read_text() == before
