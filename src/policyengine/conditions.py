"""The condition language as typed nodes, and the one visitor every stage walks it with.

A rule's `when` becomes a tree of four kinds of node: a leaf `Test` (one fact compared
with one value), `AllOf`, `AnyOf` and `Not`. Compile, check, the engines, wording and
explanations, the trace, static analysis and mutation testing all walk it through
`Visitor` (each node's `accept` calls the visitor's method for its kind), so no module
tells the kinds apart by hand and a new kind of node is a change in one place.

The generic walks live here too: the leaf tests of a tree, the facts it tests, whether
it holds on a fact record (the reference semantics), and the paths used to locate and
rewrite one part of it (mutation testing).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

COMPARISON_OPS = ("eq", "neq", "lt", "lte", "gt", "gte")
NEGATE = {"eq": "neq", "neq": "eq", "lt": "gte", "gte": "lt", "lte": "gt", "gt": "lte"}


@dataclass(frozen=True)
class Test:
    """A leaf condition: one fact compared with one value (`op` is eq, neq, lt, lte, gt, gte)."""

    __test__ = False  # not a pytest test class

    fact: str
    op: str
    value: Any

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.test(self)


@dataclass(frozen=True)
class AllOf:
    """Every item holds."""

    items: tuple[Condition, ...]

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.all_of(self)


@dataclass(frozen=True)
class AnyOf:
    """At least one item holds."""

    items: tuple[Condition, ...]

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.any_of(self)


@dataclass(frozen=True)
class Not:
    """The item does not hold."""

    item: Condition

    def accept(self, visitor: Visitor[T]) -> T:
        return visitor.not_(self)


Condition = Test | AllOf | AnyOf | Not


class Visitor(ABC, Generic[T]):
    """One method per kind of node; `visit` sends a node to the method for its kind.

    A method decides whether and how to visit the node's items (`self.visit(item)`),
    so a visitor can stop early (evaluation) or build a new tree (normal form).
    """

    def visit(self, cond: Condition) -> T:
        return cond.accept(self)

    @abstractmethod
    def test(self, node: Test) -> T: ...

    @abstractmethod
    def all_of(self, node: AllOf) -> T: ...

    @abstractmethod
    def any_of(self, node: AnyOf) -> T: ...

    @abstractmethod
    def not_(self, node: Not) -> T: ...


# ------------------------------------------------------------------ generic walks


class _Leaves(Visitor[Iterator[Test]]):
    def test(self, node: Test) -> Iterator[Test]:
        yield node

    def all_of(self, node: AllOf) -> Iterator[Test]:
        for item in node.items:
            yield from self.visit(item)

    def any_of(self, node: AnyOf) -> Iterator[Test]:
        for item in node.items:
            yield from self.visit(item)

    def not_(self, node: Not) -> Iterator[Test]:
        yield from self.visit(node.item)


def leaves(cond: Condition | None) -> Iterator[Test]:
    """Every leaf test of the tree, in written order."""
    if cond is not None:
        yield from _Leaves().visit(cond)


def facts_tested(cond: Condition | None) -> set[str]:
    """The facts a condition tests."""
    return {t.fact for t in leaves(cond)}


class _AsLeaf(Visitor["Test | None"]):
    def test(self, node: Test) -> Test | None:
        return node

    def all_of(self, node: AllOf) -> Test | None:
        return None

    def any_of(self, node: AnyOf) -> Test | None:
        return None

    def not_(self, node: Not) -> Test | None:
        return None


def as_test(cond: Condition) -> Test | None:
    """The node itself when it is a leaf test, else None."""
    return _AsLeaf().visit(cond)


def compare(op: str, left: Any, right: Any) -> bool:
    """A leaf test's comparison, strictly typed: values of different types never match."""
    same = type(left) is type(right)
    if op == "eq":
        return bool(same and left == right)
    if op == "neq":
        return not (same and left == right)
    if not same:
        return False
    return bool({"lt": left < right, "lte": left <= right, "gt": left > right, "gte": left >= right}[op])


class Holds(Visitor[bool]):
    """Whether a condition holds on a fact record: the reference semantics both engines follow."""

    def __init__(self, facts: dict[str, Any]):
        self.facts = facts

    def test(self, node: Test) -> bool:
        return compare(node.op, self.facts[node.fact], node.value)

    def all_of(self, node: AllOf) -> bool:
        return all(self.visit(c) for c in node.items)

    def any_of(self, node: AnyOf) -> bool:
        return any(self.visit(c) for c in node.items)

    def not_(self, node: Not) -> bool:
        return not self.visit(node.item)


def holds(cond: Condition | None, facts: dict[str, Any]) -> bool:
    """Evaluate a condition on a fact record (no condition: always)."""
    return True if cond is None else Holds(facts).visit(cond)


class Negate(Visitor[Condition]):
    """The negation in normal form: `not` pushed to the leaves, each leaf's operator inverted
    (exact, because every fact is present with a strict type)."""

    def test(self, node: Test) -> Condition:
        return Test(node.fact, NEGATE[node.op], node.value)

    def all_of(self, node: AllOf) -> Condition:
        return AnyOf(tuple(self.visit(c) for c in node.items))

    def any_of(self, node: AnyOf) -> Condition:
        return AllOf(tuple(self.visit(c) for c in node.items))

    def not_(self, node: Not) -> Condition:
        return node.item


# ------------------------------------------------------- parts of a tree, by path

# A part of a tree is named by the indexes that lead to it: () is the root, (1,) the
# second item of the root's group, (1, 0) the first item of that, and so on; the item of
# a `Not` is index 0.
NodePath = tuple[int, ...]


class _Parts(Visitor[Iterator[tuple[NodePath, Condition]]]):
    def __init__(self, at: NodePath = ()):
        self.at = at

    def test(self, node: Test) -> Iterator[tuple[NodePath, Condition]]:
        yield self.at, node

    def all_of(self, node: AllOf) -> Iterator[tuple[NodePath, Condition]]:
        yield self.at, node
        for i, item in enumerate(node.items):
            yield from _Parts((*self.at, i)).visit(item)

    def any_of(self, node: AnyOf) -> Iterator[tuple[NodePath, Condition]]:
        yield self.at, node
        for i, item in enumerate(node.items):
            yield from _Parts((*self.at, i)).visit(item)

    def not_(self, node: Not) -> Iterator[tuple[NodePath, Condition]]:
        yield self.at, node
        yield from _Parts((*self.at, 0)).visit(node.item)


def parts(cond: Condition | None) -> Iterator[tuple[NodePath, Condition]]:
    """Every node of the tree with its path, parents before their items."""
    if cond is not None:
        yield from _Parts().visit(cond)


class _Children(Visitor["tuple[Condition, ...]"]):
    def test(self, node: Test) -> tuple[Condition, ...]:
        return ()

    def all_of(self, node: AllOf) -> tuple[Condition, ...]:
        return node.items

    def any_of(self, node: AnyOf) -> tuple[Condition, ...]:
        return node.items

    def not_(self, node: Not) -> tuple[Condition, ...]:
        return (node.item,)


def children(cond: Condition) -> tuple[Condition, ...]:
    """The direct items of a node (none for a leaf test)."""
    return _Children().visit(cond)


class _Rebuild(Visitor[Condition]):
    """The same kind of node with other items."""

    def __init__(self, items: tuple[Condition, ...]):
        self.items = items

    def test(self, node: Test) -> Condition:
        return node

    def all_of(self, node: AllOf) -> Condition:
        return AllOf(self.items)

    def any_of(self, node: AnyOf) -> Condition:
        return AnyOf(self.items)

    def not_(self, node: Not) -> Condition:
        return Not(self.items[0])


def replace_at(cond: Condition, path: NodePath, change: Callable[[Condition], Condition | None]) -> Condition | None:
    """The tree with the part at `path` replaced by `change(part)`; None from `change` removes
    the part from its group (a group left empty, or the root removed, gives None)."""
    if not path:
        return change(cond)
    items = list(children(cond))
    new = replace_at(items[path[0]], path[1:], change)
    if new is None:
        del items[path[0]]
        if not items or as_not(cond) is not None:
            return None
    else:
        items[path[0]] = new
    return _Rebuild(tuple(items)).visit(cond)


class _AsNot(Visitor["Not | None"]):
    def test(self, node: Test) -> Not | None:
        return None

    def all_of(self, node: AllOf) -> Not | None:
        return None

    def any_of(self, node: AnyOf) -> Not | None:
        return None

    def not_(self, node: Not) -> Not | None:
        return node


def as_not(cond: Condition) -> Not | None:
    """The node itself when it is a negation, else None."""
    return _AsNot().visit(cond)
