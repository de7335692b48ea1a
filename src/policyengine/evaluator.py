"""The reference engine's fast path: one generated Python function per stratum of a Program.

`compile.holds` walks a condition tree for every rule of every evaluation; here each stratum's
conditions are turned once into the text of one Python function that reads each tested fact
once and returns the ids of the rules whose condition holds. The semantics are exactly those
of `holds` (strict types: `1 == True` is false, numbers never compare with strings), which a
test checks on generated scenarios. The generated text contains no user text: fact names,
values and rule ids reach it only as indexes into constant tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyengine.compile import CompiledRule
from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test, Visitor
from policyengine.errors import EngineError

Evaluator = Callable[[dict[str, Any]], list[str]]

_COMPARE = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class _Writer(Visitor[str]):
    """Builds the body of one stratum's function, naming facts, values and types by index.

    Each fact is read once and its type taken once (`x3`, `t3`); each constant is a global of
    the generated function (`c7`), so a test costs a comparison or two and no indexing."""

    def __init__(self) -> None:
        self.facts: dict[str, int] = {}
        self.consts: list[Any] = []

    def fact(self, name: str) -> int:
        return self.facts.setdefault(name, len(self.facts))

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"c{len(self.consts) - 1}"

    def expr(self, cond: Condition | None) -> str:
        return "True" if cond is None else self.visit(cond)

    def test(self, node: Test) -> str:
        i = self.fact(node.fact)
        x = f"x{i}"
        if type(node.value) is bool and node.op in ("eq", "neq"):
            # `is` on the two bool singletons is exactly "a bool, and equal"
            return f"({x} is {'not ' if node.op == 'neq' else ''}{self.const(node.value)})"
        same_type = f"t{i} is {self.const(type(node.value))}"
        value = self.const(node.value)
        if node.op == "eq":
            return f"({same_type} and {x} == {value})"
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
    w = _Writer()
    tests = [w.expr(rule.condition) for rule in rules]
    ids = [rule.id for rule in rules]
    lines = ["def fire(f):"]
    for i in range(len(w.facts)):
        lines += [f"    x{i} = f[n[{i}]]", f"    t{i} = type(x{i})"]
    lines.append("    out = []")
    for k, test in enumerate(tests):
        lines.append(f"    if {test}:")
        lines.append(f"        out.append(r[{k}])")
    lines.append("    return out")
    namespace: dict[str, Any] = {"n": tuple(w.facts), "r": tuple(ids)}
    namespace.update((f"c{i}", value) for i, value in enumerate(w.consts))
    exec(compile("\n".join(lines), "<policyengine stratum>", "exec"), namespace)  # noqa: S102
    fire: Evaluator = namespace["fire"]
    return fire
