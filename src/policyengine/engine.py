"""Stage 5, engine: run a compiled Program on one fact record.

Two engines run the same Program and must agree exactly:
- `durable_rules` (Rete, C core), the production engine where it imports (Python < 3.13);
- `reference`, a plain-Python evaluator: the test oracle, and the fallback elsewhere.

This module is the only one that imports durable_rules. Its traps (ENGINE-NOTES.md) are
designed out here: one fact per scenario and stratum carrying every fact the stratum tests
(strictly typed, under short field names) and a positive discriminator, a catch-all rule so
every fact is handled, a fresh session id per evaluation whose state is deleted in `finally`,
one-parameter actions that are registered but never run (the agenda is drained straight from
the C core, so no action error can be swallowed), and the Host built once per process with
its timer threads disabled.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from policyengine.compile import CompiledRule, Program
from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test, Visitor, leaves
from policyengine.errors import EngineError
from policyengine.evaluator import Evaluator, stratum_evaluator

DURABLE = "durable_rules"
REFERENCE = "reference"
CATCH_ALL = "pe__every_scenario"  # the rule that makes every scenario fact handled (ENGINE-NOTES)


@dataclass(frozen=True)
class Firing:
    """What an engine concluded: rules that fired, and facts derived (with their rules)."""

    engine: str
    fired: tuple[str, ...]
    derived: dict[str, tuple[str, ...]]
    facts: dict[str, Any]


class Engine:
    name = "abstract"

    def fire(self, stratum: int, rules: tuple[CompiledRule, ...], record: dict[str, Any], program: Program) -> set[str]:
        raise NotImplementedError

    def run(self, program: Program, record: dict[str, Any]) -> Firing:
        """Evaluate stratum by stratum; derived facts are final before any rule tests them."""
        facts = dict(record)
        fired: set[str] = set()
        derived: dict[str, list[str]] = {}
        for k, rules in enumerate(program.strata):
            now = self.fire(k, rules, facts, program)
            fired |= now
            for rule_id, derives in program.derivations[k]:
                if rule_id in now:
                    for fact in derives:
                        derived.setdefault(fact, []).append(rule_id)
            for fact in derived:
                facts[fact] = True
        order = [rule_id for rule_id in program.rule_ids if rule_id in fired]
        return Firing(self.name, tuple(order), {f: tuple(v) for f, v in sorted(derived.items())}, facts)


class ReferenceEngine(Engine):
    """Plain Python over the same intermediate form, each stratum generated once as one function."""

    name = REFERENCE
    _evaluators: dict[tuple[str, int], Evaluator] = {}

    def fire(self, stratum: int, rules: tuple[CompiledRule, ...], record: dict[str, Any], program: Program) -> set[str]:
        key = (program.digest, stratum)
        evaluator = self._evaluators.get(key)
        if evaluator is None:
            evaluator = self._evaluators[key] = stratum_evaluator(rules)
        return set(evaluator(record))


# ------------------------------------------------------------- durable_rules


@contextmanager
def _durable_quiet() -> Iterator[None]:
    """durable_rules' own deprecation warnings silenced, here where it is imported and called, so
    that users (and pytest outside this repository) never see them: 2.0.28 calls
    `datetime.utcfromtimestamp` (deprecated since Python 3.12) on every action."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"durable(\.|$)")
        warnings.filterwarnings("ignore", message=r"datetime\.datetime\.utcfromtimestamp", category=DeprecationWarning)
        yield


def _field(fact: str) -> str:
    return fact.replace(".", "__")


def durable_pattern(cond: Condition | None, names: dict[str, str] | None = None) -> dict[str, Any]:
    """A normalized condition as a durable_rules expression (operator first, then field).

    `names` gives the field name each fact travels under (default: its name with `__` for `.`).
    """
    if cond is None:
        return {"t": "scenario"}
    return {"$and": [{"t": "scenario"}, _expr(cond, names or {})]}


def _expr(cond: Condition, names: dict[str, str]) -> dict[str, Any]:
    return _Durable(names).visit(cond)


class _Durable(Visitor[dict[str, Any]]):
    """A normalized condition as a durable_rules expression, operator first."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def test(self, node: Test) -> dict[str, Any]:
        name = self.names.get(node.fact) or _field(node.fact)
        if node.op == "eq":
            return {name: node.value}
        return {f"${node.op}": {name: node.value}}

    def all_of(self, node: AllOf) -> dict[str, Any]:
        return {"$and": [self.visit(c) for c in node.items]}

    def any_of(self, node: AnyOf) -> dict[str, Any]:
        return {"$or": [self.visit(c) for c in node.items]}

    def not_(self, node: Not) -> dict[str, Any]:
        raise EngineError("a condition reached durable_rules without its 'not' pushed to the leaves")


def _tested(cond: Condition | None, out: dict[str, str]) -> None:
    """Collect the facts a condition tests, each under a short field name (`f0`, `f1`, ...)."""
    for test in leaves(cond):
        out.setdefault(test.fact, f"f{len(out)}")


class DurableEngine(Engine):
    """durable_rules, one ruleset per stratum, registered once per process and Program."""

    name = DURABLE
    _host: Any = None  # durable_rules' Host: untyped
    _registered: dict[str, dict[str, str]] = {}  # ruleset name -> fact name -> field name
    _sids = itertools.count(1)

    def __init__(self) -> None:
        with _durable_quiet():
            from durable.engine import Host  # noqa: F401  (import error => unavailable)

    @classmethod
    def _get_host(cls) -> Any:
        if cls._host is None:
            from durable.engine import Host

            class QuietHost(Host):  # type: ignore[misc]  # durable_rules is untyped
                """No timer threads: this project never uses timers or durable state."""

                def _run(self) -> None:
                    pass

            cls._host = QuietHost()
        return cls._host

    @classmethod
    def _ruleset(cls, program: Program, k: int) -> tuple[str, dict[str, str]]:
        """The stratum's ruleset name, and the short field name of each fact its rules test.

        Only tested facts are sent, under short names: durable_rules encodes and decodes the
        whole fact as JSON around every firing, so a smaller fact is a faster firing.
        """
        name = f"pe_{program.digest}_{k}"
        if name in cls._registered:
            return name, cls._registered[name]
        names: dict[str, str] = {}
        for rule in program.strata[k]:
            _tested(rule.condition, names)
        rules: dict[str, dict[str, Any]] = {}
        for rule in program.strata[k]:
            rules[rule.id] = {"all": [{"m": durable_pattern(rule.condition, names)}], "run": cls._noop}
        rules[CATCH_ALL] = {"all": [{"m": {"t": "scenario"}}], "pri": 1000, "run": cls._noop}
        cls._get_host().set_rulesets({name: rules})
        cls._registered[name] = names
        return name, names

    @staticmethod
    def _noop(c: Any) -> None:  # exactly one parameter: two would make it asynchronous
        """Registered for every rule, never called: `fire` reads the agenda itself."""

    def fire(self, stratum: int, rules: tuple[CompiledRule, ...], record: dict[str, Any], program: Program) -> set[str]:
        """Assert the stratum's fact and drain the agenda the Rete network builds for it.

        The agenda is read straight from durable_rules' C core (each entry names the rule that
        fired) instead of through its Python host's per-firing closures and state round trips:
        the same Rete network decides which rules fire, at a fraction of the Python cost.
        """
        import durable_rules_engine as core

        host = self._get_host()
        name, names = self._ruleset(program, stratum)
        handle = host.get_ruleset(name)._handle
        sid = f"s{next(self._sids)}"
        fact = {field: record[fact] for fact, field in names.items()}
        fact.update({"sid": sid, "t": "scenario"})
        fired: set[str] = set()
        try:
            with _durable_quiet():
                result = core.assert_fact(handle, json.dumps(fact, ensure_ascii=False))
                if result[0] != 0:
                    raise EngineError(f"durable_rules did not accept the fact (code {result[0]})")
                state = result[1]
                action = core.start_action_for_state(handle, state)
                message = action[1] if action else None
                while message:
                    # the agenda entry is {"<rule id>": {...}}; a rule id has no quote or escape in it
                    fired.add(message[2 : message.index('"', 2)])
                    message = core.complete_and_start_action(handle, state)
                fired.discard(CATCH_ALL)
                return fired
        finally:
            host.delete_state(name, sid)


def durable_available() -> bool:
    try:
        with _durable_quiet():
            import durable.engine  # noqa: F401
    except Exception:
        return False
    return True


def get_engine(name: str | None = None) -> Engine:
    """`durable` (default where it imports), or `reference`."""
    if name in (None, "durable", DURABLE):
        if durable_available():
            return DurableEngine()
        if name is not None:
            raise EngineError("durable_rules cannot be imported on this Python (it needs 3.11 or 3.12)")
        return ReferenceEngine()
    if name == REFERENCE:
        return ReferenceEngine()
    raise EngineError(f"unknown engine '{name}' (durable or reference)")
