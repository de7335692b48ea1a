"""Stage 5, engine: run a compiled Program on one fact record.

Two engines run the same Program and must agree exactly:
- `durable_rules` (Rete, C core), the production engine where it imports (Python < 3.13);
- `reference`, a plain-Python evaluator: the test oracle, and the fallback elsewhere.

This module is the only one that imports durable_rules. Its traps (ENGINE-NOTES.md) are
designed out here: one fact per scenario and stratum carrying every fact the stratum tests
(strictly typed, under short field names) and a positive discriminator, a catch-all rule so
every fact is handled, one session per evaluation running at a time (its facts retracted
afterwards and the session reused only when durable_rules reports it empty, else its state
deleted in `finally`), one-parameter actions that are registered but never run (the agenda is
drained straight from the C core, so no action error can be swallowed), and the Host built once
per process with its timer threads disabled.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from policyengine.compile import Program
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

    def run(self, program: Program, record: dict[str, Any]) -> Firing:
        raise NotImplementedError


class ReferenceEngine(Engine):
    """Plain Python over the same intermediate form, each stratum generated once as one function.

    Evaluates stratum by stratum, so derived facts are final before any rule tests them."""

    name = REFERENCE
    _evaluators: dict[str, tuple[Evaluator, ...]] = {}

    def run(self, program: Program, record: dict[str, Any]) -> Firing:
        evaluators = self._evaluators.get(program.digest)
        if evaluators is None:
            evaluators = self._evaluators[program.digest] = tuple(stratum_evaluator(s) for s in program.strata)
        facts = dict(record)
        fired: list[str] = []
        derived: dict[str, list[str]] = {}
        for evaluator, derivations in zip(evaluators, program.derivations, strict=True):
            now = evaluator(facts)
            fired += now  # each stratum's rules in order, the strata in order: program order
            if derivations:
                for rule_id, derives in derivations:
                    if rule_id in now:
                        for fact in derives:
                            derived.setdefault(fact, []).append(rule_id)
                for fact in derived:
                    facts[fact] = True
        return Firing(self.name, tuple(fired), {f: tuple(v) for f, v in sorted(derived.items())}, facts)


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


_encode = json.JSONEncoder(ensure_ascii=False).encode
_TEXT: dict[str, str] = {}  # a string fact value -> its JSON text (values come from finite domains)


def _json_value(value: Any) -> str:
    """One fact value as JSON text; strings are remembered (a bool never equals a str key)."""
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return str(value)
    text: str = _encode(value)
    if type(value) is str and len(_TEXT) < 100_000:
        _TEXT[value] = text
    return text


def _fact_encoder(names: dict[str, str], discriminator: str) -> Callable[[dict[str, Any], str], str]:
    """A generated function: a fact record and a session id in, the stratum's fact as JSON text out.

    durable_rules takes its facts as JSON text; writing the text from a template, with each
    string value's JSON remembered, costs a fraction of building a dict and encoding it. The
    generated text holds no user text: fact names reach it only as indexes into a constant table.
    """
    template = "{" + "".join(f'"{field}":%s,' for field in names.values())
    template += '"sid":"%s","t":' + _encode(discriminator) + "}"
    # each value read once; the two booleans written without a call, strings looked up
    reads = "".join(f"    v{i} = r[n[{i}]]\n" for i in range(len(names)))
    values = ", ".join(
        f'("true" if v{i} is True else "false" if v{i} is False else T.get(v{i}) or J(v{i}))' for i in range(len(names))
    )
    source = f"def encode(r, sid):\n{reads}    return P % ({values}{', ' if names else ''}sid,)\n"
    namespace: dict[str, Any] = {"P": template, "T": _TEXT, "J": _json_value, "n": tuple(names)}
    exec(compile(source, "<policyengine durable fact>", "exec"), namespace)  # noqa: S102
    encode: Callable[[dict[str, Any], str], str] = namespace["encode"]
    return encode


@dataclass(frozen=True)
class _Stratum:
    """One stratum as durable_rules runs it: its fact's encoder and what each durable rule stands for."""

    encode: Callable[[dict[str, Any], str], str]
    #: durable rule name -> the ids of the rules it stands for (rules with one pattern share one)
    groups: dict[str, tuple[str, ...]]
    #: (rule id, facts it derives), for the rules of this stratum that derive any
    derivations: tuple[tuple[str, tuple[str, ...]], ...]

    def rules_of(self, groups: tuple[str, ...]) -> set[str]:
        """The ids of the rules these durable rules (fired in this stratum) stand for."""
        return {rule_id for group in groups for rule_id in self.groups[group]}


@dataclass(frozen=True)
class _Plan:
    """A Program registered with durable_rules: one ruleset, one fact per stratum."""

    name: str
    strata: tuple[_Stratum, ...]
    handle: Any  # the ruleset's handle in durable_rules' C core
    #: ids of this ruleset's sessions left empty by an evaluation, for the next one to use
    sessions: list[str] = field(default_factory=list)
    #: per stratum, the durable rules that fired (agenda order) -> the facts that derives
    derivations: dict[tuple[int, tuple[str, ...]], tuple[str, ...]] = field(default_factory=dict)
    #: the durable rules that fired in each stratum -> (the rules that fired, in program order,
    #: and the derived facts with the rules that derive them, in name order)
    outcomes: dict[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = field(
        default_factory=dict
    )

    def derives(self, k: int, groups: tuple[str, ...]) -> tuple[str, ...]:
        """The facts that stratum `k` derives when these durable rules fire."""
        found = self.derivations.get((k, groups))
        if found is None:
            stratum = self.strata[k]
            now = stratum.rules_of(groups)
            found = tuple(
                dict.fromkeys(f for rule_id, derives in stratum.derivations if rule_id in now for f in derives)
            )
            if len(self.derivations) > 100_000:
                self.derivations.clear()
            self.derivations[(k, groups)] = found
        return found

    def outcome(
        self, groups: tuple[tuple[str, ...], ...], program: Program
    ) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        """What fired, in program order, and the facts derived (with their rules), in name order,
        when these durable rules fired in each stratum."""
        found = self.outcomes.get(groups)
        if found is None:
            fired: set[str] = set()
            derived: dict[str, list[str]] = {}
            for stratum, names in zip(self.strata, groups, strict=True):
                now = stratum.rules_of(names)
                fired |= now
                for rule_id, derives in stratum.derivations:
                    if rule_id in now:
                        for fact in derives:
                            derived.setdefault(fact, []).append(rule_id)
            order = tuple(sorted(fired, key=program.position.__getitem__))
            found = (order, {f: tuple(v) for f, v in sorted(derived.items())})
            if len(self.outcomes) > 100_000:
                self.outcomes.clear()
            self.outcomes[groups] = found
        return found


class DurableEngine(Engine):
    """durable_rules: the whole Program as one ruleset, registered once per process and Program.

    Each evaluation opens one session and asserts one fact per stratum into it, each under its
    own discriminator (`s0`, `s1`, ...) that only that stratum's patterns accept, so derived
    facts are final before a later stratum's fact is asserted. Rules whose patterns are
    identical share one durable rule (the Rete network tests the pattern once and fires once
    for all of them); the rules that always apply share the catch-all of their stratum.
    """

    name = DURABLE
    _host: Any = None  # durable_rules' Host: untyped
    _plans: dict[str, _Plan] = {}  # Program digest -> its registered plan
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
    def _plan(cls, program: Program) -> _Plan:
        """The Program's ruleset, registered on first use; only tested facts travel, under short names.

        durable_rules encodes the whole fact into every agenda entry, so a smaller fact and
        fewer firings make a faster evaluation.
        """
        plan = cls._plans.get(program.digest)
        if plan is not None:
            return plan
        name = f"pe_{program.digest}"
        rules: dict[str, dict[str, Any]] = {}
        strata = []
        for k, (stratum, derivations) in enumerate(_durable_strata(program)):
            discriminator = f"s{k}"
            names: dict[str, str] = {}
            for _, condition in stratum:
                _tested(condition, names)
            by_pattern: dict[str, tuple[str, dict[str, Any], list[str]]] = {}
            catch_all = {"t": discriminator}
            by_pattern[json.dumps(catch_all)] = (f"{CATCH_ALL}_{k}", catch_all, [])
            for rule_id, condition in stratum:
                pattern = _stratum_pattern(condition, names, discriminator)
                key = json.dumps(pattern, sort_keys=True)
                if key not in by_pattern:
                    by_pattern[key] = (f"k{k}_g{len(by_pattern)}", pattern, [])
                by_pattern[key][2].append(rule_id)
            groups: dict[str, tuple[str, ...]] = {}
            for group, pattern, ids in by_pattern.values():
                # exactly one parameter: two would make the action asynchronous (ENGINE-NOTES)
                rules[group] = {"all": [{"m": pattern}], "run": cls._noop}
                groups[group] = tuple(ids)
            strata.append(_Stratum(_fact_encoder(names, discriminator), groups, derivations))
        with _durable_quiet():
            cls._get_host().set_rulesets({name: rules})
        handle = cls._get_host().get_ruleset(name)._handle
        plan = cls._plans[program.digest] = _Plan(name, tuple(strata), handle)
        return plan

    @staticmethod
    def _noop(c: Any) -> None:
        """Registered for every durable rule, never called: `run` reads the agenda itself."""

    def run(self, program: Program, record: dict[str, Any]) -> Firing:
        """One session: per stratum, assert its fact and drain the agenda the Rete network builds;
        then retract the facts, leaving the session empty for the next evaluation.

        The agenda is read straight from durable_rules' C core (each entry names the durable
        rule that fired) instead of through its Python host's per-firing closures and state
        round trips: the same Rete network decides which rules fire, at a fraction of the
        Python cost. durable_rules' Python code is not called here, so nothing it could warn
        about runs.

        Opening a session costs durable_rules most of an evaluation (it sets up the session's
        state, and its state record goes through the network), so a session is reused: once its
        facts are retracted and durable_rules reports it holds no fact, it goes back to the
        plan's free sessions. A session in any other condition (an error midway, a fact left
        behind) is deleted instead, as every session used to be. Sessions are taken and given
        back one evaluation at a time, so concurrent evaluations never share one, and there are
        never more live sessions than evaluations running at once (far below the 1,024 limit)."""
        import durable_rules_engine as core

        plan = self._plan(program)
        handle = plan.handle
        free = plan.sessions
        try:
            sid = free.pop()
        except IndexError:
            sid = f"s{next(self._sids)}"
        facts = dict(record)
        fired: list[tuple[str, ...]] = []  # per stratum, the durable rules that fired
        asserted: list[str] = []
        last = len(plan.strata) - 1
        empty = False
        try:
            for k, stratum in enumerate(plan.strata):
                text = stratum.encode(facts, sid)
                result = core.assert_fact(handle, text)
                if result[0] != 0:
                    raise EngineError(f"durable_rules did not accept the fact (code {result[0]})")
                asserted.append(text)
                state = result[1]
                action = core.start_action_for_state(handle, state)
                message = action[1] if action else None
                groups: list[str] = []
                while message:
                    # the agenda entry is {"<durable rule>": {...}}; its name has no quote or escape in it
                    groups.append(message[2 : message.index('"', 2)])
                    message = core.complete_and_start_action(handle, state)
                fired.append(tuple(groups))
                if k < last and stratum.derivations:  # a later stratum tests what this one derives
                    for fact in plan.derives(k, fired[-1]):
                        facts[fact] = True
            for text in asserted:
                core.retract_fact(handle, text)
            empty = core.get_facts(handle, sid) == "[]"
        finally:
            if empty:
                free.append(sid)
            else:
                core.delete_state(handle, sid)
        order, derived = plan.outcome(tuple(fired), program)
        for fact in derived:
            facts[fact] = True
        return Firing(self.name, order, dict(derived), facts)


_Strata = list[tuple[list[tuple[str, Condition | None]], tuple[tuple[str, tuple[str, ...]], ...]]]


def _durable_strata(program: Program) -> _Strata:
    """The strata durable_rules runs: (rule id, condition) per stratum, and its derivations.

    Where every test of a derived fact can be replaced by the conditions of the definitions
    that derive it (a derived fact is true exactly when one of its definitions applies, and no
    scenario states it), the whole Program runs as one stratum: one fact per evaluation, and no
    assert for the definitions alone. Otherwise the Program's own strata, one fact each."""
    ordered = [(rule.id, rule.condition) for rule in program.rules]
    derivations = tuple(d for stratum in program.derivations for d in stratum)
    if len(program.strata) == 1:
        return [(ordered, derivations)]
    definitions: dict[str, Condition] = {}
    inline = _Inline(definitions)
    try:
        for stratum in program.strata[:-1]:
            for rule in stratum:
                if not rule.rule.derives:
                    continue
                if rule.condition is None:
                    raise _CannotInline  # a fact always derived: no condition to put in its place
                condition = inline.visit(rule.condition)
                for fact in rule.rule.derives:
                    known = definitions.get(fact)
                    definitions[fact] = condition if known is None else AnyOf((known, condition))
        merged = [(rule_id, None if c is None else inline.visit(c)) for rule_id, c in ordered]
    except _CannotInline:
        return [([(r.id, r.condition) for r in s], d) for s, d in zip(program.strata, program.derivations, strict=True)]
    return [(merged, derivations)]


class _CannotInline(Exception):
    """A derived fact is tested in a way its definitions cannot stand in for."""


class _Inline(Visitor[Condition]):
    """A condition with each test of a derived fact replaced by its definitions' conditions."""

    def __init__(self, definitions: dict[str, Condition]) -> None:
        self.definitions = definitions

    def test(self, node: Test) -> Condition:
        definition = self.definitions.get(node.fact)
        if definition is None:
            return node
        if node.op not in ("eq", "neq") or type(node.value) is not bool:
            raise _CannotInline
        holds_when_derived = (node.op == "eq") == node.value
        return definition if holds_when_derived else _negated(definition)

    def all_of(self, node: AllOf) -> Condition:
        return AllOf(tuple(self.visit(c) for c in node.items))

    def any_of(self, node: AnyOf) -> Condition:
        return AnyOf(tuple(self.visit(c) for c in node.items))

    def not_(self, node: Not) -> Condition:
        raise EngineError("a condition reached durable_rules without its 'not' pushed to the leaves")


def _negated(cond: Condition) -> Condition:
    from policyengine.compile import normalize

    negated = normalize(cond, negate=True)
    assert negated is not None
    return negated


def _stratum_pattern(cond: Condition | None, names: dict[str, str], discriminator: str) -> dict[str, Any]:
    """A rule's pattern within its stratum: the stratum's discriminator, then its condition."""
    if cond is None:
        return {"t": discriminator}
    return {"$and": [{"t": discriminator}, _expr(cond, names)]}


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
