"""Stage 5, engine: run a compiled Program on one fact record.

Two engines run the same Program and must agree exactly:
- `durable_rules` (Rete, C core), the production engine where it imports (Python < 3.13);
- `reference`, a plain-Python evaluator: the test oracle, and the fallback elsewhere.

This module is the only one that imports durable_rules. Its traps (ENGINE-NOTES.md) are
designed out here: one fully populated fact per scenario with a positive discriminator,
a catch-all rule so every fact is handled, a fresh session id per evaluation whose state
is deleted in `finally`, one-parameter actions, swallowed action errors checked, and the
Host built once per process with its timer threads disabled.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from policyengine.compile import CompiledRule, Program, holds
from policyengine.errors import EngineError
from policyengine.model import AllOf, Condition, Test

DURABLE = "durable_rules"
REFERENCE = "reference"


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
            for rule in rules:
                if rule.id in now:
                    for fact in rule.rule.derives:
                        derived.setdefault(fact, []).append(rule.id)
            for fact in derived:
                facts[fact] = True
        order = [r.id for r in program.rules if r.id in fired]
        return Firing(self.name, tuple(order), {f: tuple(v) for f, v in sorted(derived.items())}, facts)


class ReferenceEngine(Engine):
    """Plain Python over the same intermediate form."""

    name = REFERENCE

    def fire(self, stratum, rules, record, program):
        return {r.id for r in rules if holds(r.condition, record)}


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


def durable_pattern(cond: Condition | None) -> dict:
    """A normalized condition as a durable_rules expression (operator first, then field)."""
    if cond is None:
        return {"t": "scenario"}
    return {"$and": [{"t": "scenario"}, _expr(cond)]}


def _expr(cond: Condition) -> dict:
    if isinstance(cond, Test):
        if cond.op == "eq":
            return {_field(cond.fact): cond.value}
        return {f"${cond.op}": {_field(cond.fact): cond.value}}
    key = "$and" if isinstance(cond, AllOf) else "$or"
    return {key: [_expr(c) for c in cond.items]}


class DurableEngine(Engine):
    """durable_rules, one ruleset per stratum, registered once per process and Program."""

    name = DURABLE
    _host = None
    _registered: set[str] = set()
    _collect: dict[str, set[str]] = {}
    _sids = itertools.count(1)

    def __init__(self) -> None:
        with _durable_quiet():
            from durable.engine import Host  # noqa: F401  (import error => unavailable)

    @classmethod
    def _get_host(cls):
        if cls._host is None:
            from durable.engine import Host

            class QuietHost(Host):
                """No timer threads: this project never uses timers or durable state."""

                def _run(self) -> None:
                    pass

            cls._host = QuietHost()
        return cls._host

    @classmethod
    def _ruleset(cls, program: Program, k: int) -> str:
        name = f"pe_{program.digest}_{k}"
        if name in cls._registered:
            return name
        rules: dict[str, dict] = {}
        for rule in program.strata[k]:
            rules[rule.id] = {"all": [{"m": durable_pattern(rule.condition)}], "run": cls._action(rule.id)}
        rules["pe__every_scenario"] = {"all": [{"m": {"t": "scenario"}}], "pri": 1000, "run": cls._noop}
        cls._get_host().set_rulesets({name: rules})
        cls._registered.add(name)
        return name

    @classmethod
    def _action(cls, rule_id: str):
        def action(c) -> None:  # exactly one parameter: two would make it asynchronous
            cls._collect[c.m.sid].add(rule_id)

        return action

    @staticmethod
    def _noop(c) -> None:
        pass

    def fire(self, stratum, rules, record, program):
        host = self._get_host()
        name = self._ruleset(program, stratum)
        sid = f"s{next(self._sids)}"
        fact = {_field(k): v for k, v in record.items()}
        fact.update({"sid": sid, "t": "scenario"})
        self._collect[sid] = set()
        try:
            with _durable_quiet():
                state = host.assert_fact(name, fact)
            if isinstance(state, dict) and "exception" in state:
                raise EngineError(f"durable_rules action failed: {state['exception']}")
            return set(self._collect[sid])
        finally:
            self._collect.pop(sid, None)
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
