"""The reference engine's fast path: one generated Python function per stratum of a Program.

`compile.holds` walks a condition tree for every rule of every evaluation; here each stratum's
conditions are turned once into the text of one Python function that reads each tested fact
once and returns the ids of the rules whose condition holds. The semantics are exactly those
of `holds` (strict types: `1 == True` is false, numbers never compare with strings), which a
test checks on generated scenarios. The generated text contains no user text: fact names,
values and rule ids reach it only as indexes into constant tables, and constants and types as
parameters named by number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyengine.compile import CompiledRule
from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test, Visitor, leaves
from policyengine.errors import EngineError

Evaluator = Callable[[dict[str, Any]], list[str]]

_COMPARE = {"eq": "==", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class _Other:
    """Stands in for a fact value whose type is not the one type every test of that fact compares
    it with: equal to nothing and ordered before or after nothing, as `holds` has it for a value
    of another type."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __hash__(self) -> int:
        return 0


OTHER = _Other()


def _one_type(rules: tuple[CompiledRule, ...]) -> dict[str, type]:
    """The facts every test of which compares with a value of one type, not bool, and that type."""
    kinds: dict[str, set[type]] = {}
    for rule in rules:
        for test in leaves(rule.condition):
            kinds.setdefault(test.fact, set()).add(type(test.value))
    return {fact: next(iter(k)) for fact, k in kinds.items() if len(k) == 1 and bool not in k}


class _Writer(Visitor[str]):
    """Builds the body of one stratum's function, naming facts, values and types by index.

    Each fact is read once (`x3`). A fact every test of which compares with one type (a string,
    a date as ISO text) has its type checked once: a value of another type becomes `OTHER`, so
    each test is one comparison. Each distinct constant is a parameter of the generated function
    (`c7`, a local), so a test costs a comparison or two and no indexing."""

    def __init__(self, one_type: dict[str, type]) -> None:
        self.facts: dict[str, int] = {}
        self.consts: dict[tuple[type, Any], str] = {}
        self.one_type = one_type

    def fact(self, name: str) -> int:
        return self.facts.setdefault(name, len(self.facts))

    def const(self, value: Any) -> str:
        key = (type(value), value)
        found = self.consts.get(key)
        if found is None:
            found = self.consts[key] = f"c{len(self.consts)}"
        return found

    def expr(self, cond: Condition | None) -> str:
        return "True" if cond is None else self.visit(cond)

    def test(self, node: Test) -> str:
        i = self.fact(node.fact)
        x = f"x{i}"
        if type(node.value) is bool and node.op in ("eq", "neq"):
            # `is` on the two bool singletons is exactly "a bool, and equal"
            return f"({x} is {'not ' if node.op == 'neq' else ''}{self.const(node.value)})"
        value = self.const(node.value)
        if node.fact in self.one_type:  # x is of the value's type, or OTHER
            return f"({x} != {value})" if node.op == "neq" else f"({x} {_COMPARE[node.op]} {value})"
        same_type = f"type({x}) is {self.const(type(node.value))}"
        if node.op == "neq":
            return f"not ({same_type} and {x} == {value})"
        return f"({same_type} and {x} {_COMPARE[node.op]} {value})"

    def all_of(self, node: AllOf) -> str:
        return "(" + " and ".join(self.visit(c) for c in node.items) + ")"

    def any_of(self, node: AnyOf) -> str:
        return "(" + " or ".join(self.visit(c) for c in node.items) + ")"

    def not_(self, node: Not) -> str:
        raise EngineError("a condition reached the evaluator without its 'not' pushed to the leaves")


def stratum_evaluator(rules: tuple[CompiledRule, ...]) -> Evaluator:
    """One function for a stratum: facts in, ids of the rules whose condition holds out (in order)."""
    one_type = _one_type(rules)
    w = _Writer(one_type)
    tests = [w.expr(rule.condition) for rule in rules]
    ids = [rule.id for rule in rules]
    namespace: dict[str, Any] = {"n": tuple(w.facts), "r": tuple(ids), "OTHER": OTHER}
    namespace.update((name, value) for (_, value), name in w.consts.items())
    checked = [(fact, i) for fact, i in w.facts.items() if fact in one_type]
    namespace.update((f"k{i}", one_type[fact]) for fact, i in checked)
    params = ["f", *(name for name in namespace if name != "n"), "n"]
    lines = [f"def fire({', '.join(p if p == 'f' else f'{p}={p}' for p in params)}):"]
    for fact, i in w.facts.items():
        lines.append(f"    x{i} = f[n[{i}]]")
        if fact in one_type:
            lines += [f"    if type(x{i}) is not k{i}:", f"        x{i} = OTHER"]
    lines.append("    out = []")
    for k, test in enumerate(tests):
        lines.append(f"    if {test}:")
        lines.append(f"        out.append(r[{k}])")
    lines.append("    return out")
    exec(compile("\n".join(lines), "<policyengine stratum>", "exec"), namespace)  # noqa: S102
    fire: Evaluator = namespace["fire"]
    return fire
