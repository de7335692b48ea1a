"""The condition module: the one visitor, the generic walks, and nobody else walking the tree."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import policyengine
from policyengine.conditions import (
    AllOf,
    AnyOf,
    Not,
    Test,
    as_test,
    facts_tested,
    holds,
    leaves,
    parts,
    replace_at,
)
from policyengine.terms import Doctrine, Level, Practice, Verdict

SRC = Path(policyengine.__file__).parent
NODE_KINDS = {"Test", "AllOf", "AnyOf", "Not", "Condition"}

TREE = AllOf(
    (
        Test("immigration.detainer", "neq", "none"),
        AnyOf((Test("agency", "eq", "doc"), Test("agency", "eq", "county_jail"))),
        Not(Test("custody.court_order", "eq", True)),
    )
)
FACTS = {"immigration.detainer": "I-247A", "agency": "doc", "custody.court_order": False}


def _isinstance_on_nodes(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            if names & NODE_KINDS:
                lines.append(node.lineno)
    return lines


def test_no_module_but_the_condition_module_tells_node_kinds_apart(tmp_path):
    offenders = {
        str(p.relative_to(SRC)): found
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "conditions.py" and (found := _isinstance_on_nodes(p))
    }
    assert offenders == {}
    # the check can fail: a walker written the old way is caught
    probe = tmp_path / "probe_walker.py"
    probe.write_text("def f(c):\n    return isinstance(c, AllOf | AnyOf)\n", encoding="utf-8")
    assert _isinstance_on_nodes(probe) == [2]


def test_the_generic_walks():
    assert [t.fact for t in leaves(TREE)] == ["immigration.detainer", "agency", "agency", "custody.court_order"]
    assert facts_tested(TREE) == {"immigration.detainer", "agency", "custody.court_order"}
    assert holds(TREE, FACTS)
    assert not holds(TREE, {**FACTS, "custody.court_order": True})
    assert not holds(Test("agency", "eq", 1), {"agency": True})  # strictly typed: True is not 1
    assert as_test(TREE) is None and as_test(TREE.items[0]) == TREE.items[0]


def test_parts_and_rewrites_by_path():
    paths = [p for p, _ in parts(TREE)]
    assert paths == [(), (0,), (1,), (1, 0), (1, 1), (2,), (2, 0)]
    dropped = replace_at(TREE, (0,), lambda _: None)
    assert dropped == AllOf((TREE.items[1], TREE.items[2]))
    narrowed = replace_at(TREE, (1, 1), lambda _: None)
    assert narrowed == AllOf((TREE.items[0], AnyOf((Test("agency", "eq", "doc"),)), TREE.items[2]))
    negated = replace_at(TREE, (0,), Not)
    assert negated is not None and not holds(negated, FACTS)
    assert replace_at(Test("a", "eq", 1), (), lambda _: None) is None
    assert replace_at(TREE, (2, 0), lambda _: None) == AllOf(TREE.items[:2])  # a `not` left empty goes


def test_the_terms_are_their_words_in_json():
    terms = [Verdict.CONTESTED, Practice.DOES_NOT, Doctrine.LEX_SPECIALIS, Level.COUNTY]
    assert json.dumps(terms) == '["contested", "does_not", "lex specialis", "county"]'
    assert f"{Verdict.NOT_ADDRESSED}" == "not_addressed"
    assert [level.rank for level in Level] == [0, 1, 2, 3]
