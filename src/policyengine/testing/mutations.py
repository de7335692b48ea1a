"""Mutation testing of the rulebase: would the scenario tests notice if a rule were wrong?

Each mutant is the rulebase with one deliberate legal error, built in memory (new Rule
tuples; no files are copied). Whole-rule mutants:
- `remove`: the rule is deleted;
- `flip`: one conclusion of a law rule is reversed (required <-> prohibited, permitted ->
  prohibited, contested -> its leaning), or a practice/policy is reversed (does <-> does_not).
Condition-level mutants, each named by the rule, the place in its `when` as written and the
change (`mn.state.631-50-commitment-notice/all[0]/person.citizenship:drop`):
- `drop`: one condition is deleted (an item of `all`/`any`, a test, or the whole `when`);
- `negate`: one test is reversed (`fact: v` -> `fact: {not: v}`, `in` -> `not_in`, ...);
- `drop-value`: one value is taken out of an `in` (or `not_in`) list;
- `from-earlier`, `from-later`, `until-earlier`, `until-later`: an `in_force` boundary moved by
  one year; `declared-earlier`, `declared-later`: the day the law became known moved by one year.
Every scenario with expectations is checked against each mutant. A mutant is killed when
at least one expectation fails (or the mutant cannot be evaluated); a mutant no scenario
notices survives, and names a part of a rule that no test pins down, unless the
equivalents file lists it with the reason it cannot change any answer (`Equivalents`).

A scenario is re-evaluated only where the mutant can change its answer: where the mutated
rule fires (remove, flip), where its condition now decides otherwise on the scenario's facts,
or where it fired and its being in force or declared on the scenario's dates changes. Anywhere
else the engine would fire the same rules and resolve them the same way, so the scenario's
expectations still hold (`exhaustive=True` re-evaluates every pair; a test checks both agree).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints

from policyengine.check import validate
from policyengine.checked import Conclusion, Rule, Scenario
from policyengine.compile import definition_guard, normalize, scope_condition
from policyengine.conditions import AllOf, Condition, Negate, NodePath, children, holds, replace_at
from policyengine.engine import Engine, get_engine
from policyengine.errors import InputError
from policyengine.expect import evaluate_expectations
from policyengine.load import Document, Path_, display_name, load_yaml
from policyengine.model import Strict
from policyengine.pipeline import Evaluation, Rulebase, evaluate
from policyengine.rulebase import Location
from policyengine.terms import Practice, Verdict

LAW_FLIP = {
    Verdict.REQUIRED: Verdict.PROHIBITED,
    Verdict.PROHIBITED: Verdict.REQUIRED,
    Verdict.PERMITTED: Verdict.PROHIBITED,
}
PRACTICE_FLIP = {Practice.DOES: Practice.DOES_NOT, Practice.DOES_NOT: Practice.DOES}

# The kinds of mutant, in the order they are made for each rule.
WHOLE_RULE = ("remove", "flip")
CONDITION = ("drop", "negate", "drop-value")
DATES = ("from-earlier", "from-later", "until-earlier", "until-later", "declared-earlier", "declared-later")
OPERATORS = WHOLE_RULE + CONDITION + DATES


@dataclass(frozen=True)
class Mutant:
    """One deliberate error: what was changed, where it is written, and the mutated rules.

    `changed` is the mutated rule (None when the rule was removed); `location` the file and
    line of what was changed (the condition, the date, or the rule)."""

    id: str
    rule: str
    operator: str  # one of OPERATORS
    description: str
    rules: tuple[Rule, ...]
    changed: Rule | None = None
    location: Location | None = None

    @property
    def where(self) -> str:
        if self.location is None:
            return ""
        return f"{self.location.file}:{self.location.line}" if self.location.line else self.location.file


def _flipped(rule: Rule, c: Conclusion) -> Conclusion | None:
    if rule.kind == "law":
        if c.value == Verdict.CONTESTED:
            target = c.leaning or Verdict.PROHIBITED
            return Conclusion(c.action, target)
        if isinstance(c.value, Verdict) and c.value in LAW_FLIP:
            return Conclusion(c.action, LAW_FLIP[c.value])
        return None
    if isinstance(c.value, Practice) and c.value in PRACTICE_FLIP:
        return Conclusion(c.action, PRACTICE_FLIP[c.value])
    return None


def _show(c: Conclusion) -> str:
    if c.value == Verdict.CONTESTED:
        return f"contested (leaning {c.leaning})"
    return f"{c.value} (protected)" if c.protected else c.value


# ------------------------------------------------- the parts of a `when`, as written


@dataclass(frozen=True)
class WrittenPart:
    """One part of a rule's condition: where it is in the tree, where it is written, what it is.

    `role` is `group` (a list, `all`, `any`, or a mapping of several tests), `not`, `test`
    (one `fact: ...` entry) or `value` (one value of an `in`/`not_in` list)."""

    path: NodePath
    written: Path_
    role: str
    text: str


def _flow(value: Any) -> str:
    text: str = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False)
    text = text.strip().removesuffix("...").strip()
    if isinstance(value, dict) and len(value) == 1:
        text = text.removeprefix("{").removesuffix("}")
    return text if len(text) <= 100 else text[:97] + "..."


def written_parts(raw: Any, cond: Condition) -> list[WrittenPart]:
    """Every part of a checked condition paired with where it is written in the rule's `when`
    (the same walk as `check._RuleChecker.condition`, which built the tree from `raw`)."""
    out: list[WrittenPart] = []

    def shape_error() -> InputError:
        return InputError.at("<mutations>", None, f"the condition tree does not match its text: {raw!r}")

    def walk(data: Any, node: Condition, path: NodePath, written: Path_) -> None:
        if isinstance(data, list):
            out.append(WrittenPart(path, written, "group", _flow(data)))
            items = children(node)
            if len(items) != len(data):
                raise shape_error()
            for i, (d, n) in enumerate(zip(data, items, strict=True)):
                walk(d, n, (*path, i), (*written, i))
        elif isinstance(data, dict) and len(data) == 1:
            ((key, value),) = data.items()
            entry(key, value, node, path, (*written, key))
        elif isinstance(data, dict):
            out.append(WrittenPart(path, written, "group", _flow(data)))
            items = children(node)
            if len(items) != len(data):
                raise shape_error()
            for i, ((key, value), n) in enumerate(zip(data.items(), items, strict=True)):
                entry(key, value, n, (*path, i), (*written, key))
        else:
            raise shape_error()

    def entry(key: str, value: Any, node: Condition, path: NodePath, written: Path_) -> None:
        text = _flow({key: value})
        if key in ("all", "any"):
            out.append(WrittenPart(path, written, "group", text))
            items = children(node)
            if len(items) != len(value):
                raise shape_error()
            for i, (d, n) in enumerate(zip(value, items, strict=True)):
                walk(d, n, (*path, i), (*written, i))
        elif key == "not":
            out.append(WrittenPart(path, written, "not", text))
            walk(value, children(node)[0], (*path, 0), written)
        else:
            out.append(WrittenPart(path, written, "test", text))
            if isinstance(value, dict) and len(value) == 1:
                ((op, operand),) = value.items()
                if op in ("in", "not_in") and isinstance(operand, list):
                    items = children(node)
                    if len(items) != len(operand):
                        raise shape_error()
                    for i, v in enumerate(operand):
                        out.append(WrittenPart((*path, i), (*written, op, i), "value", f"{key}: {op} {_flow(v)}"))

    walk(raw, cond, (), ())
    return out


def show_path(written: Path_) -> str:
    """A place in a `when` as a reader finds it: `all[1]/any[0]/person.conviction` (`when` for the whole)."""
    segments: list[str] = []
    for step in written:
        if isinstance(step, int) and segments:
            segments[-1] += f"[{step}]"
        else:
            segments.append(f"[{step}]" if isinstance(step, int) else str(step))
    return "/".join(segments) or "when"


def _rule_documents(rulebase: Rulebase) -> dict[str, tuple[Document, int]]:
    """Each rule's file as loaded, and its index in the file's `rules` list."""
    found: dict[str, tuple[Document, int]] = {}
    for doc in rulebase.documents:
        written = doc.data.get("rules") if isinstance(doc.data, dict) else None
        for i, data in enumerate(written or []):
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                found.setdefault(data["id"], (doc, i))
    return found


def _year(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ------------------------------------------------------------------ the mutants


def _whole_rule_mutants(rules: tuple[Rule, ...], i: int, at: Location | None) -> Iterator[Mutant]:
    rule = rules[i]
    rest = rules[:i] + rules[i + 1 :]
    yield Mutant(f"remove {rule.id}", rule.id, "remove", f"rule {rule.id} removed", rest, None, at)
    for k, c in enumerate(rule.conclusions):
        new = _flipped(rule, c)
        if new is None:
            continue
        conclusions = rule.conclusions[:k] + (new,) + rule.conclusions[k + 1 :]
        changed = dataclasses.replace(rule, conclusions=conclusions)
        yield Mutant(
            f"flip {rule.id} {c.action}",
            rule.id,
            "flip",
            f"{rule.id}: {c.action} {_show(c)} -> {_show(new)}",
            rules[:i] + (changed,) + rules[i + 1 :],
            changed,
            at,
        )


def _condition_mutants(
    rules: tuple[Rule, ...], i: int, raw: Any, locate: Callable[[Path_], Location]
) -> Iterator[Mutant]:
    rule = rules[i]
    if rule.when is None:
        return
    seen: set[Condition | None] = {rule.when}
    for part in written_parts(raw, rule.when):
        changes: list[tuple[str, Callable[[Condition], Condition | None], str]] = []
        if part.role == "value":
            changes.append(("drop-value", lambda _: None, f"value taken out: {part.text}"))
        else:
            changes.append(("drop", lambda _: None, f"condition dropped: {part.text}"))
        if part.role in ("test", "not"):
            changes.append(("negate", Negate().visit, f"test negated: {part.text}"))
        for operator, change, description in changes:
            when = replace_at(rule.when, part.path, change)
            if when in seen:  # the same rule as the original or an earlier mutant
                continue
            seen.add(when)
            changed = dataclasses.replace(rule, when=when)
            yield Mutant(
                f"{rule.id}/{show_path(part.written)}:{'drop' if operator == 'drop-value' else operator}",
                rule.id,
                operator,
                f"{rule.id}: {description}",
                rules[:i] + (changed,) + rules[i + 1 :],
                changed,
                locate(part.written),
            )


def _date_mutants(rules: tuple[Rule, ...], i: int, locate: Callable[[Path_], Location]) -> Iterator[Mutant]:
    rule = rules[i]
    f = rule.in_force

    def make(name: str, when: str, changed: Rule, old: dt.date, new: dt.date, at: Path_) -> Mutant:
        return Mutant(
            f"{rule.id}/{name}:{when}",
            rule.id,
            f"{name.split('.')[-1]}-{when}",
            f"{rule.id}: {name} {old} -> {new}",
            rules[:i] + (changed,) + rules[i + 1 :],
            changed,
            locate(at),
        )

    for when, years in (("earlier", -1), ("later", 1)):
        start = _year(f.start, years)
        if f.until is None or start < f.until:
            moved = dataclasses.replace(f, start=start)
            yield make("in_force.from", when, dataclasses.replace(rule, in_force=moved), f.start, start, ("from",))
    if f.until is not None:
        for when, years in (("earlier", -1), ("later", 1)):
            until = _year(f.until, years)
            if until > f.start:
                changed = dataclasses.replace(rule, in_force=dataclasses.replace(f, until=until))
                yield make("in_force.until", when, changed, f.until, until, ("until",))
    if rule.declared is not None:
        for when, years in (("earlier", -1), ("later", 1)):
            declared = _year(rule.declared, years)
            yield make("declared", when, dataclasses.replace(rule, declared=declared), rule.declared, declared, ())


def mutants(rulebase: Rulebase | tuple[Rule, ...], only: set[str] | None = None) -> list[Mutant]:
    """Every mutant of a rulebase in rule order (for each rule: removal, flips, then its
    condition and its dates); `only` keeps the mutants of those rules. A bare tuple of rules
    (no files, so no written conditions) gives the whole-rule mutants only."""
    rules = rulebase if isinstance(rulebase, tuple) else rulebase.rules
    written = {} if isinstance(rulebase, tuple) else _rule_documents(rulebase)
    out: list[Mutant] = []
    for i, rule in enumerate(rules):
        if only is not None and rule.id not in only:
            continue
        doc, index = written.get(rule.id, (None, -1))
        rule_at = Location(rule.file, rule.line)
        out += _whole_rule_mutants(rules, i, rule_at)
        if doc is None:
            continue
        data = doc.data["rules"][index]
        out += _condition_mutants(rules, i, data.get("when"), _Locator(doc, index, "when"))
        out += _date_mutants(rules, i, _Locator(doc, index, "in_force"))
    return out


@dataclass(frozen=True)
class _Locator:
    """The file and line of a place inside one rule's `key` (`when`, `in_force`; `declared` for `()`)."""

    doc: Document
    index: int
    key: str

    def __call__(self, path: Path_) -> Location:
        key = self.key if path or self.key == "when" else "declared"
        return Location(self.doc.file, self.doc.line(("rules", self.index, key, *path)))


# ------------------------------------------------------------------- equivalents


class EquivalentEntry(Strict):
    """A surviving mutant explained, in words a lawyer can check.

    `kind` is `equivalent` (the change cannot alter any answer: the condition is implied by
    another, or another rule decides wherever it would matter) or `unsourced` (the change
    would alter an answer, but no source says what the answer was there, so no scenario can
    assert it honestly: e.g. a start date that is only the earliest a source confirms)."""

    mutant: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    kind: Literal["equivalent", "unsourced"] = "equivalent"
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20)]


class EquivalentsFile(Strict):
    equivalent: list[EquivalentEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class Equivalents:
    """The listed equivalent mutants of one rulebase, each with its reason and the line it is on."""

    file: str
    entries: dict[str, tuple[str, str, int | None]]  # mutant id -> (kind, reason, line)

    @classmethod
    def load(cls, path: str | Path) -> Equivalents:
        doc = load_yaml(path, display=display_name(Path(path)))
        parsed = validate(doc, EquivalentsFile)
        entries: dict[str, tuple[str, str, int | None]] = {}
        problems = []
        for k, entry in enumerate(parsed.equivalent):
            line = doc.line(("equivalent", k, "mutant"))
            if entry.mutant in entries:
                problems.append(doc.error(("equivalent", k, "mutant"), f"mutant '{entry.mutant}' is listed twice"))
            entries[entry.mutant] = (entry.kind, entry.reason, line)
        if problems:
            raise InputError([p for e in problems for p in e.problems])
        return cls(doc.file, entries)

    def where(self, mutant: str) -> str:
        line = self.entries[mutant][2]
        return f"{self.file}:{line}" if line else self.file


# ---------------------------------------------------------------------- the run


@dataclass(frozen=True)
class MutantResult:
    mutant: Mutant
    killed_by: tuple[str, ...]  # scenario ids whose expectations failed
    errors: tuple[str, ...]  # scenario ids that could not be evaluated
    listed: tuple[str, str] | None = None  # (kind, reason) when the equivalents file lists the mutant

    @property
    def killed(self) -> bool:
        return bool(self.killed_by or self.errors)

    @property
    def explained_as(self) -> str | None:
        """`equivalent` or `unsourced` for a survivor the equivalents file lists, else None."""
        return None if self.killed or self.listed is None else self.listed[0]

    @property
    def survived(self) -> bool:
        """Not killed and not listed as equivalent: a part of a rule no test pins down."""
        return not self.killed and self.listed is None


@dataclass(frozen=True)
class MutationReport:
    engine: str
    scenarios: int
    baseline_failures: tuple[str, ...]  # scenarios failing on the unmutated rulebase
    results: tuple[MutantResult, ...]
    equivalents_file: str | None = None
    equivalence_errors: tuple[str, ...] = ()  # listed equivalents that are killed or match no mutant
    evaluations: int = 0  # scenario evaluations against a mutant (the rest could not change)

    @property
    def survivors(self) -> list[MutantResult]:
        return [r for r in self.results if r.survived]

    def explained(self, kind: str) -> list[MutantResult]:
        """Survivors the equivalents file lists as `kind` (equivalent, unsourced)."""
        return [r for r in self.results if r.explained_as == kind]

    @property
    def killed(self) -> list[MutantResult]:
        return [r for r in self.results if r.killed]

    @property
    def failed(self) -> bool:
        return bool(self.survivors or self.equivalence_errors)

    def by_operator(self) -> dict[str, dict[str, int]]:
        """Per kind of mutant: how many, killed, equivalent, survived."""
        out: dict[str, dict[str, int]] = {}
        for op in OPERATORS:
            mine = [r for r in self.results if r.mutant.operator == op]
            if mine:
                out[op] = {
                    "mutants": len(mine),
                    "killed": sum(r.killed for r in mine),
                    "equivalent": sum(r.explained_as == "equivalent" for r in mine),
                    "unsourced": sum(r.explained_as == "unsourced" for r in mine),
                    "survived": sum(r.survived for r in mine),
                }
        return out


def _compiled(rule: Rule) -> Condition | None:
    """The rule's condition as the engines run it (compile.compile_rules, for one rule)."""
    parts = [c for c in (scope_condition(rule), definition_guard(rule) if rule.kind == "definition" else None) if c]
    if rule.when is not None:
        parts.append(rule.when)
    if not parts:
        return None
    return normalize(parts[0] if len(parts) == 1 else AllOf(tuple(parts)))


@dataclass
class _Prepared:
    """A mutant with its compiled condition and mutated rulebase, each made once."""

    mutant: Mutant
    rulebase: Rulebase
    condition: Condition | None = None
    _mutated: Rulebase | None = None

    def __post_init__(self) -> None:
        if self.mutant.changed is not None:
            self.condition = _compiled(self.mutant.changed)

    @property
    def mutated(self) -> Rulebase:
        if self._mutated is None:
            self._mutated = dataclasses.replace(self.rulebase, rules=self.mutant.rules)
        return self._mutated

    def can_change(self, ev: Evaluation) -> bool:
        """Whether the mutant can change this evaluation's answer (see the module's docstring)."""
        rule_id = self.mutant.rule
        fired = rule_id in ev.firing.fired
        changed = self.mutant.changed
        if changed is None or self.mutant.operator == "flip":
            return fired
        if holds(self.condition, ev.firing.facts) != fired:
            return True
        if not fired:
            return False
        original = self.rulebase.by_id[rule_id]
        if original.in_force.covers(ev.date) != changed.in_force.covers(ev.date):
            return True
        return (original.declared is None or original.declared <= ev.known_on) != (
            changed.declared is None or changed.declared <= ev.known_on
        )


def rule_of(mutant_id: str) -> str:
    """The rule a mutant id names: `remove R`, `flip R action`, or `R/where:change`."""
    if mutant_id.startswith(("remove ", "flip ")):
        return mutant_id.split(" ")[1]
    return mutant_id.split("/")[0]


def _fails(scenario: Scenario, rulebase: Rulebase, engine: Engine) -> bool:
    return bool(evaluate_expectations(scenario, rulebase, engine).failures)


def run_mutations(
    scenarios: list[Scenario],
    rulebase: Rulebase,
    engine: Engine | None = None,
    progress: Callable[[int, int], Any] | None = None,
    only: set[str] | None = None,
    equivalents: Equivalents | None = None,
    exhaustive: bool = False,
) -> MutationReport:
    """Run every scenario with expectations against every mutant of `rulebase` (of the rules in
    `only`, when given), where the mutant can change its answer (every pair with `exhaustive`)."""
    engine = engine or get_engine("reference")
    tests = [s for s in scenarios if s.head.expect]
    baseline = tuple(s.id for s in tests if _fails(s, rulebase, engine))
    tests = [s for s in tests if s.id not in baseline]  # they would "kill" every mutant
    evaluations = [evaluate(s, rulebase, engine) for s in tests]
    results = []
    all_mutants = mutants(rulebase, only)
    listed = equivalents.entries if equivalents else {}
    count = 0
    for n, mutant in enumerate(all_mutants, 1):
        prepared = _Prepared(mutant, rulebase)
        killed, errors = [], []
        for s, ev in zip(tests, evaluations, strict=True):
            try:
                if not exhaustive and not prepared.can_change(ev):
                    continue
                count += 1
                if _fails(s, prepared.mutated, engine):
                    killed.append(s.id)
            except Exception as exc:  # a mutant that breaks evaluation is noticed too
                errors.append(f"{s.id}: {type(exc).__name__}: {exc}")
        entry = listed.get(mutant.id)
        results.append(MutantResult(mutant, tuple(killed), tuple(errors), entry[:2] if entry else None))
        if progress:
            progress(n, len(all_mutants))
    problems: list[str] = []
    if equivalents is not None:
        made = {m.id for m in all_mutants}
        for r in results:
            if r.listed is not None and r.killed:
                by = ", ".join(r.killed_by) or "an evaluation error"
                problems.append(
                    f"{equivalents.where(r.mutant.id)}: error: mutant '{r.mutant.id}' is listed as equivalent "
                    f"but is killed by {by}: take it out of the list"
                )
        for mutant_id in listed:
            if mutant_id not in made and (only is None or rule_of(mutant_id) in only):
                problems.append(
                    f"{equivalents.where(mutant_id)}: error: no mutant '{mutant_id}' (the rule or its "
                    "condition changed?): update or remove the entry"
                )
    return MutationReport(
        engine.name,
        len(tests),
        baseline,
        tuple(results),
        equivalents.file if equivalents else None,
        tuple(problems),
        count,
    )


# ---------------------------------------------------------------------- reports


def mutation_text(report: MutationReport) -> str:
    lines = [
        f"mutation testing: {len(report.results)} mutants x {report.scenarios} scenario(s) with expectations, "
        f"engine {report.engine}"
        + (
            " (the default for mutants; --mutant-engine durable to use durable_rules)"
            if report.engine == "reference"
            else ""
        )
    ]
    if report.baseline_failures:
        lines.append(
            "  warning: these scenarios fail on the unmutated rules and were left out: "
            + ", ".join(report.baseline_failures)
        )
    counts = Counter(r.mutant.operator for r in report.results)
    lines.append("  kinds: " + ", ".join(f"{op} {counts[op]}" for op in OPERATORS if counts[op]))
    lines.append(
        f"  killed: {len(report.killed)}; survived: {len(report.survivors)}"
        + (
            f"; listed in {report.equivalents_file}: equivalent {len(report.explained('equivalent'))}, "
            f"unsourced {len(report.explained('unsourced'))}"
            if report.equivalents_file
            else ""
        )
    )
    for r in report.survivors:
        where = f"  {r.mutant.where}" if r.mutant.where else ""
        if r.mutant.operator in WHOLE_RULE:  # the ids of whole-rule mutants are their description
            lines.append(f"  survived: {r.mutant.description}{where}")
        else:
            lines.append(f"  survived: {r.mutant.id}{where}  {r.mutant.description}")
    lines += [f"  {p}" for p in report.equivalence_errors]
    return "\n".join(lines) + "\n"


def _result_dict(r: MutantResult) -> dict[str, Any]:
    return {
        "mutant": r.mutant.id,
        "rule": r.mutant.rule,
        "operator": r.mutant.operator,
        "change": r.mutant.description,
        "location": r.mutant.where or None,
    }


def mutation_dict(report: MutationReport) -> dict[str, Any]:
    return {
        "engine": report.engine,
        "scenarios": report.scenarios,
        "baseline_failures": list(report.baseline_failures),
        "mutants": len(report.results),
        "killed": len(report.killed),
        "by_operator": report.by_operator(),
        "survived": [_result_dict(r) for r in report.survivors],
        "equivalents_file": report.equivalents_file,
        "equivalent": [
            {**_result_dict(r), "kind": r.listed[0], "reason": r.listed[1]}
            for r in report.results
            if r.listed is not None and not r.killed
        ],
        "equivalence_errors": list(report.equivalence_errors),
        "evaluations": report.evaluations,
        "results": [
            {"mutant": r.mutant.id, "killed_by": list(r.killed_by), "errors": list(r.errors)} for r in report.results
        ],
    }
