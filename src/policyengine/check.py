"""Stage 3, check: every name and value in the vocabulary, every reference resolvable.

Each function takes a loaded Document, validates it with its pydantic model, then checks
it against the vocabulary and the jurisdiction registry. Problems are collected with
their file, line and code and raised together as one InputError.

This is the validating stage every command loads through; the `policyengine check`
command, which adds the static analysis across rules, is `policyengine.analysis`.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from policyengine.accept import allowed_values as allowed_values
from policyengine.accept import check_value as check_value
from policyengine.accept import head_data, stated_facts
from policyengine.checked import SCENARIO_HEAD_KEYS as SCENARIO_HEAD_KEYS
from policyengine.checked import Jurisdiction as CheckedJurisdiction
from policyengine.checked import Registry as CheckedRegistry
from policyengine.checked import Vocabulary as CheckedVocabulary
from policyengine.conditions import AllOf, AnyOf, Condition, Not, Test
from policyengine.conditions import facts_tested as facts_tested  # named here for earlier callers
from policyengine.errors import InputError, Problem
from policyengine.load import Document, Path_
from policyengine.model import (
    LEVEL_RANK,
    NOT_ADDRESSED,
    Conclusion,
    Jurisdiction,
    RawRule,
    Registry,
    Rule,
    RuleFile,
    Scenario,
    ScenarioHead,
    Vocabulary,
    to_checked,
)
from policyengine.names import did_you_mean
from policyengine.terms import LAW_VERDICTS as LAW_VERDICTS
from policyengine.terms import PRACTICES as PRACTICES
from policyengine.terms import Level, Practice, Verdict

COMPARISONS = {"before": "lt", "after": "gt", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
NOT_AN_AGREEMENT = ("none", "not_applicable")


M = TypeVar("M", bound=BaseModel)


def validate(doc: Document, model: type[M], data: Any = None, at: Path_ = (), code: str | None = None) -> M:
    """Validate `data` (default: the whole document) with a pydantic model, errors located.

    Each error's code is `code` when given (PE107 for the vocabulary and registry), else
    PE201 for a missing or malformed source and PE101 for any other shape error.
    """
    data = doc.data if data is None and not at else data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(at) + tuple(err["loc"])
            problems.append(Problem(doc.file, doc.line(loc), _describe(err, loc), code or _shape_code(err, loc)))
        raise InputError(_dedupe(problems)) from None


def _shape_code(err: Mapping[str, Any], loc: tuple[str | int, ...]) -> str:
    """PE201 when the error is about a rule's sources (none, or one without cite or a valid url)."""
    kind, last = err["type"], loc[-1] if loc else None
    if last == "sources" and kind in ("too_short", "missing"):
        return "PE201"
    if kind == "missing" and last in ("cite", "url"):
        return "PE201"
    in_source = any(
        loc[i] == "sources" and isinstance(loc[i + 1], int) and loc[i + 2] == "url" for i in range(len(loc) - 2)
    )
    return "PE201" if in_source else "PE101"


def _describe(err: Mapping[str, Any], loc: tuple[str | int, ...]) -> str:
    where = ".".join(str(p) for p in loc) or "file"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{loc[-1]}'" + (f" in {'.'.join(map(str, loc[:-1]))}" if loc[:-1] else "")
    if kind == "missing":
        return f"missing required key '{loc[-1]}'" + (f" in {'.'.join(map(str, loc[:-1]))}" if loc[:-1] else "")
    if kind == "too_short" and loc and loc[-1] == "sources":
        return f"{where}: every rule needs at least one source (cite and url)"
    got = err.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    if len(shown) > 80:  # a pasted page or a generated value: the line number finds it
        shown = shown[:60] + f"... ({len(shown)} characters)"
    return f"{where}: {err['msg'].rstrip('.')} (got {shown})"


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        if (p.line, p.message) not in seen:
            seen.add((p.line, p.message))
            out.append(p)
    return out


def _top_level_mapping(doc: Document, what: str, code: str = "PE101") -> dict[str | int, Any]:
    if not isinstance(doc.data, dict):
        raise doc.error((), f"a {what} file must be a YAML mapping at the top level", code)
    return doc.data


# ---------------------------------------------------------------- vocabulary


def check_vocabulary(doc: Document) -> CheckedVocabulary:
    _top_level_mapping(doc, "vocabulary", "PE107")
    vocab = validate(doc, Vocabulary, code="PE107")
    problems = []
    for name, spec in vocab.facts.items():
        where = doc.line(("facts", name))
        if spec.type == "enum" and not (spec.values or spec.values_from):
            problems.append(Problem(doc.file, where, f"enum fact '{name}' lists no values", "PE107"))
        if spec.source == "derived" and (spec.type != "boolean" or spec.default is not False):
            problems.append(Problem(doc.file, where, f"derived fact '{name}' must be boolean, default false", "PE107"))
        if not spec.required and spec.default is None:
            problems.append(Problem(doc.file, where, f"fact '{name}' needs a default or required", "PE107"))
        if spec.default is not None and spec.values and spec.default not in spec.values:
            problems.append(Problem(doc.file, where, f"default of '{name}' is not one of its values", "PE107"))
        if spec.default is not None and not _has_type(spec.default, spec.type):
            problems.append(
                Problem(
                    doc.file,
                    doc.line(("facts", name, "default")),
                    f"default of '{name}' is {spec.default!r}, not a {spec.type} value",
                    WRONG_DEFAULT_TYPE,
                )
            )
    if problems:
        raise InputError(problems)
    checked: CheckedVocabulary = to_checked(vocab)
    return checked


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {"boolean": (bool,), "integer": (int,), "date": (dt.date,), "enum": (str,)}


def _has_type(value: Any, fact_type: str) -> bool:
    """Whether a vocabulary default is a value of its fact's type (true is no integer)."""
    if isinstance(value, bool) and fact_type != "boolean":
        return False
    return isinstance(value, _PYTHON_TYPES[fact_type])


# ------------------------------------------------------------------ registry

WRONG_DEFAULT_TYPE = "PE113"
NOT_THE_CENSUS_COUNTIES = "PE112"
FICTIONAL_FIPS = 900  # a fictional test registry's county codes start here (27900 ...)


@functools.cache
def census_counties() -> dict[str, str]:
    """Minnesota's counties as the Census Bureau lists them (2020), name -> five-digit FIPS.

    The list ships with the `addfips` package (data/counties_2020.csv), a maintained copy of
    the Census county file, so the registry is checked against a source other than itself.
    """
    from importlib.resources import files

    lines = files("addfips").joinpath("data/counties_2020.csv").read_text(encoding="utf-8").splitlines()
    out = {}
    for row in csv.DictReader([lines[0], *(line for line in lines if line.startswith("27,"))]):
        if row["statefp"] == "27":
            out[row["name"].removesuffix(" County")] = row["statefp"] + row["countyfp"]
    return out


def _census_problems(doc: Document, registry: Registry) -> list[Problem]:
    """Where the registry's counties differ from the Census list (nothing dropped, nothing invented)."""
    problems = []
    if registry.fictional:
        for i, county in enumerate(registry.counties):
            if int(county.fips[2:]) < FICTIONAL_FIPS:
                problems.append(
                    Problem(
                        doc.file,
                        doc.line(("counties", i, "fips")),
                        f"a fictional registry uses FIPS codes from 27{FICTIONAL_FIPS} up, not {county.fips}",
                        NOT_THE_CENSUS_COUNTIES,
                    )
                )
        return problems
    census = census_counties()
    listed = {c.name for c in registry.counties}
    for i, county in enumerate(registry.counties):
        if county.name not in census:
            message = f"'{county.name}' is not a Minnesota county in the Census list"
        elif census[county.name] != county.fips:
            message = f"{county.name} County has FIPS {census[county.name]} in the Census list, not {county.fips}"
        else:
            continue
        problems.append(Problem(doc.file, doc.line(("counties", i)), message, NOT_THE_CENSUS_COUNTIES))
    missing = [name for name in census if name not in listed]
    if missing:
        problems.append(
            Problem(
                doc.file,
                doc.line(("counties",)),
                f"the registry lists {len(registry.counties)} counties; missing from the Census list's "
                f"{len(census)}: {', '.join(missing)}",
                NOT_THE_CENSUS_COUNTIES,
            )
        )
    return problems


def check_registry(doc: Document, vocab: CheckedVocabulary) -> CheckedRegistry:
    _top_level_mapping(doc, "registry", "PE107")
    registry = validate(doc, Registry, code="PE107")
    problems: list[Problem] = []
    names: dict[tuple[str, str], int] = {}
    for i, county in enumerate(registry.counties):
        for key, value in (("name", county.name), ("fips", county.fips)):
            if (key, value) in names:
                problems.append(
                    Problem(doc.file, doc.line(("counties", i, key)), f"county {key} '{value}' listed twice", "PE107")
                )
            names[(key, value)] = i
    problems += _census_problems(doc, registry)
    counties = {c.name for c in registry.counties}
    for i, city in enumerate(registry.cities):
        if city.county not in counties:
            problems.append(
                Problem(doc.file, doc.line(("cities", i, "county")), f"unknown county '{city.county}'", "PE107")
            )
    for i, agreement in enumerate(registry.agreements):
        at = ("agreements", i)
        if agreement.county not in counties:
            problems.append(
                Problem(doc.file, doc.line((*at, "county")), f"unknown county '{agreement.county}'", "PE107")
            )
        if agreement.kind == "287g":
            for key, fact in (("model", "agreement.287g_model"), ("board_approval", "agreement.287g_board_approval")):
                allowed = [v for v in vocab.facts[fact].values or {} if v not in NOT_AN_AGREEMENT]
                value = getattr(agreement, key)
                if value not in allowed:
                    problems.append(
                        Problem(
                            doc.file,
                            doc.line((*at, key)),
                            f"{key} '{value}' is not one of: {', '.join(allowed)}",
                            "PE107",
                        )
                    )
    if problems:
        raise InputError(problems)
    checked: CheckedRegistry = to_checked(registry)
    return checked


# --------------------------------------------------------------------- rules


class _RuleChecker:
    """Checks the rules of one file against the vocabulary and registry."""

    def __init__(self, doc: Document, vocab: CheckedVocabulary, registry: CheckedRegistry):
        self.doc, self.vocab, self.registry = doc, vocab, registry
        self.problems: list[Problem] = []
        self.agencies = list(vocab.facts["agency"].values or {})

    def problem(self, path: Path_, message: str, code: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line(path), message, code))

    def run(self) -> list[Rule]:
        _top_level_mapping(self.doc, "rule")
        parsed: RuleFile = validate(self.doc, RuleFile)
        self._check_jurisdiction(parsed.jurisdiction)
        j: CheckedJurisdiction = to_checked(parsed.jurisdiction)
        rules = [self._rule(raw, j, ("rules", i)) for i, raw in enumerate(parsed.rules)]
        if self.problems:
            raise InputError(self.problems)
        return [r for r in rules if r is not None]

    def _check_jurisdiction(self, j: Jurisdiction) -> None:
        at = ("jurisdiction",)
        counties = {c.name for c in self.registry.counties}
        cities = {c.name: c.county for c in self.registry.cities}
        if j.level == "county":
            if j.county not in counties:
                self.problem((*at, "county"), f"unknown county '{j.county}' (not in the registry)", "PE105")
            if j.city:
                self.problem((*at, "city"), "a county file names no city", "PE105")
        elif j.level == "city":
            if j.city not in cities:
                self.problem((*at, "city"), f"unknown city '{j.city}' (not in the registry)", "PE105")
            actual = cities.get(j.city or "")
            if j.county and actual != j.county:
                self.problem((*at, "county"), f"{j.city} is in {actual} County", "PE105")
        elif j.county or j.city:
            self.problem(at, f"a {j.level} file names no county or city", "PE105")

    def _rule(self, raw: RawRule, j: CheckedJurisdiction, at: Path_) -> Rule | None:
        for i, agency in enumerate(raw.binds):
            if agency not in self.agencies:
                hint = did_you_mean(agency, self.agencies) or f" (allowed: {', '.join(self.agencies)})"
                self.problem((*at, "binds", i), f"'{agency}' is not an agency{hint}", "PE102")
        if raw.kind != "definition" and not raw.binds:
            self.problem((*at, "id"), f"rule '{raw.id}' must say whom it binds ('binds: [...]')", "PE104")
        if raw.in_force.until is not None and raw.in_force.until <= raw.in_force.start:
            self.problem((*at, "in_force"), "in_force.until must be after in_force.from", "PE401")
        when = None if raw.when is None else self.condition(raw.when, (*at, "when"))
        conclusions, derives = self._then(raw, (*at, "then"))
        return Rule(
            id=raw.id,
            title=raw.title,
            kind=raw.kind,
            level=Level(j.level),
            jurisdiction=j,
            binds=tuple(raw.binds),
            in_force=to_checked(raw.in_force),
            when=when,
            conclusions=tuple(conclusions),
            derives=tuple(derives),
            overrides=tuple(raw.overrides),
            sources=tuple(to_checked(raw.sources)),
            review=to_checked(raw.review),
            notes=raw.notes,
            reference=raw.reference,
            declared=raw.declared,
            file=self.doc.file,
            line=self.doc.line((*at, "id")),
        )

    def _then(self, raw: RawRule, at: Path_) -> tuple[list[Conclusion], list[str]]:
        conclusions: list[Conclusion] = []
        derives: list[str] = []
        if not raw.then:
            self.problem(at, "'then' concludes nothing", "PE104")
        for name, value in raw.then.items():
            where = (*at, name)
            if raw.kind == "definition":
                spec = self.vocab.facts.get(name)
                if spec is None or spec.source != "derived":
                    self.problem(where, f"'{name}' is not a derived fact in the vocabulary", "PE102")
                elif value is not True:
                    self.problem(where, f"a definition sets '{name}: true', not {value!r}", "PE104")
                else:
                    derives.append(name)
                continue
            if name not in self.vocab.actions:
                self.problem(
                    where,
                    f"'{name}' is not an action in the vocabulary{did_you_mean(name, self.vocab.actions)}",
                    "PE102",
                )
                continue
            if raw.kind == "law":
                c = self._verdict(name, value, where)
            elif value in PRACTICES:
                c = Conclusion(name, Practice(value))
            else:
                self.problem(where, f"a {raw.kind} rule concludes does or does_not, not {value!r}", "PE104")
                c = None
            if c:
                conclusions.append(c)
        silent = [c for c in conclusions if c.value == NOT_ADDRESSED]
        if silent and len(silent) != len(conclusions):
            self.problem(
                at, "a record of silence concludes not_addressed for every action it names, nothing else", "PE104"
            )
        if silent and not (raw.notes and raw.notes.strip()):
            self.problem(
                (*at[:-1], "id"), f"record of silence '{raw.id}' needs notes saying what was searched", "PE104"
            )
        return conclusions, derives

    def _verdict(self, action: str, value: Any, at: Path_) -> Conclusion | None:
        if isinstance(value, str):
            value = {"verdict": value}
        if not isinstance(value, dict) or "verdict" not in value:
            self.problem(at, f"'{action}' needs a verdict ({', '.join(LAW_VERDICTS)})", "PE104")
            return None
        unknown = set(value) - {"verdict", "protected", "leaning", "question"}
        for key in sorted(unknown):
            self.problem((*at, key), f"unknown key '{key}' in the conclusion for '{action}'", "PE104")
        verdict = value["verdict"]
        if verdict == NOT_ADDRESSED:
            if set(value) != {"verdict"}:
                self.problem(at, "a record of silence (not_addressed) takes no protected, leaning or question", "PE104")
            return Conclusion(action, NOT_ADDRESSED)
        if verdict not in LAW_VERDICTS:
            allowed = ", ".join([*LAW_VERDICTS, NOT_ADDRESSED])
            self.problem((*at, "verdict"), f"'{verdict}' is not a verdict ({allowed})", "PE104")
            return None
        protected = value.get("protected", False)
        if not isinstance(protected, bool) or (protected and verdict != Verdict.PERMITTED):
            self.problem((*at, "protected"), "only a 'permitted' verdict can be protected: true", "PE104")
        leaning, question = value.get("leaning"), value.get("question")
        leanings = (Verdict.REQUIRED, Verdict.PERMITTED, Verdict.PROHIBITED)
        if verdict == Verdict.CONTESTED:
            if leaning not in leanings:
                self.problem(at, "a contested verdict needs a leaning: required, permitted or prohibited", "PE104")
            if not isinstance(question, str) or not question.strip():
                self.problem(at, "a contested verdict needs the open question in words ('question')", "PE104")
        elif leaning is not None or question is not None:
            self.problem(at, "leaning and question belong only to a contested verdict", "PE104")
        # A leaning that is no verdict was reported above; the file's rules are not kept then.
        leaning_term = Verdict(leaning) if leaning in leanings else None
        return Conclusion(action, Verdict(verdict), bool(protected), leaning_term, question)

    def condition(self, node: Any, at: Path_) -> Condition | None:
        """Parse the closed condition language: all, any, not, and tests on one fact."""
        if isinstance(node, list) and not node:
            self.problem(at, "an empty list is no condition; leave 'when' out to apply always", "PE104")
            return None
        if isinstance(node, list):
            return AllOf(tuple(c for i, item in enumerate(node) if (c := self.condition(item, (*at, i)))))
        if not isinstance(node, dict) or not node:
            self.problem(at, "a condition is a mapping: all, any, not, or 'fact: value'", "PE104")
            return None
        parts: list[Condition] = []
        for key, value in node.items():
            where = (*at, key)
            if key in ("all", "any"):
                if not isinstance(value, list) or not value:
                    self.problem(where, f"'{key}' takes a non-empty list of conditions", "PE104")
                    continue
                items = tuple(c for i, v in enumerate(value) if (c := self.condition(v, (*where, i))))
                parts.append(AllOf(items) if key == "all" else AnyOf(items))
            elif key == "not":
                inner = self.condition(value, where)
                if inner is not None:
                    parts.append(Not(inner))
            elif key in self.vocab.facts:
                test = self._test(key, value, where)
                if test is not None:
                    parts.append(test)
            else:
                self.problem(where, f"'{key}' is not a fact in the vocabulary", "PE102")
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def _test(self, fact: str, value: Any, at: Path_) -> Condition | None:
        spec = self.vocab.facts[fact]
        if not isinstance(value, dict):
            return self._leaf(fact, "eq", value, at)
        if len(value) != 1:
            self.problem(at, f"a test on '{fact}' has exactly one operator", "PE104")
            return None
        ((op, operand),) = value.items()
        where = (*at, op)
        if op == "not":
            return self._leaf(fact, "neq", operand, where)
        if op in ("in", "not_in"):
            if not isinstance(operand, list) or not operand:
                self.problem(where, f"'{op}' takes a non-empty list of values", "PE104")
                return None
            leaves = [self._leaf(fact, "eq" if op == "in" else "neq", v, (*where, i)) for i, v in enumerate(operand)]
            tests: tuple[Condition, ...] = tuple(t for t in leaves if t)
            return AnyOf(tests) if op == "in" else AllOf(tests)
        if op in COMPARISONS:
            if spec.type not in ("date", "integer"):
                self.problem(where, f"'{op}' compares dates or numbers; '{fact}' is {spec.type}", "PE104")
                return None
            if op in ("before", "after") and spec.type != "date":
                self.problem(where, f"'{op}' compares dates; '{fact}' is {spec.type}", "PE104")
                return None
            return self._leaf(fact, COMPARISONS[op], operand, where)
        self.problem(where, f"unknown operator '{op}' (use not, in, not_in, before, after, lt, lte, gt, gte)", "PE104")
        return None

    def _leaf(self, fact: str, op: str, value: Any, at: Path_) -> Test | None:
        why = check_value(self.vocab, self.registry, fact, value)
        if why:
            self.problem(at, why, "PE103")
            return None
        return Test(fact, op, value)


def check_rule_file(doc: Document, vocab: CheckedVocabulary, registry: CheckedRegistry) -> list[Rule]:
    return _RuleChecker(doc, vocab, registry).run()


def check_rulebase(rules: list[Rule]) -> None:
    """Checks across files: unique ids, overrides that resolve, no circular definitions."""
    problems: list[Problem] = []
    by_id: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in by_id:
            first = by_id[rule.id]
            problems.append(
                Problem(
                    rule.file,
                    rule.line,
                    f"rule id '{rule.id}' is used twice (first at {first.file}:{first.line})",
                    "PE106",
                )
            )
        else:
            by_id[rule.id] = rule
    for rule in rules:
        for target in rule.overrides:
            other = by_id.get(target)
            if other is None:
                problems.append(
                    Problem(rule.file, rule.line, f"'{rule.id}' overrides '{target}', which is no rule", "PE301")
                )
            elif target == rule.id:
                problems.append(Problem(rule.file, rule.line, f"'{rule.id}' overrides itself", "PE302"))
            elif other.kind == "definition" or rule.kind == "definition":
                problems.append(
                    Problem(rule.file, rule.line, "definitions neither override nor are overridden", "PE303")
                )
            elif (other.kind == "law") != (rule.kind == "law"):
                problems.append(
                    Problem(
                        rule.file,
                        rule.line,
                        f"'{rule.id}' ({rule.kind}) cannot override '{target}' ({other.kind})",
                        "PE303",
                    )
                )
            elif LEVEL_RANK[other.level] < LEVEL_RANK[rule.level] and rule.kind == "law":
                problems.append(
                    Problem(
                        rule.file,
                        rule.line,
                        f"'{rule.id}' ({rule.level}) cannot override higher-level law '{target}' ({other.level})",
                        "PE303",
                    )
                )
    problems += _definition_cycles(rules)
    if problems:
        raise InputError(problems)


def _definition_cycles(rules: list[Rule]) -> list[Problem]:
    """A derived fact may not depend on itself, directly or through other definitions."""
    depends: dict[str, set[str]] = {}
    where: dict[str, Rule] = {}
    for rule in rules:
        for fact in rule.derives:
            depends.setdefault(fact, set()).update(facts_tested(rule.when))
            where.setdefault(fact, rule)
    problems: list[Problem] = []
    state: dict[str, str] = {}

    def visit(fact: str, trail: list[str]) -> None:
        if state.get(fact) == "done" or fact not in depends:
            return
        if state.get(fact) == "active":
            cycle = trail[trail.index(fact) :] + [fact]
            rule = where[fact]
            problems.append(Problem(rule.file, rule.line, "circular definition: " + " -> ".join(cycle), "PE304"))
            return
        state[fact] = "active"
        for dep in sorted(depends[fact]):
            visit(dep, [*trail, fact])
        state[fact] = "done"

    for fact in sorted(depends):
        visit(fact, [])
    return problems


# ----------------------------------------------------------------- scenarios


def check_scenario(doc: Document, vocab: CheckedVocabulary, registry: CheckedRegistry) -> Scenario:
    """A scenario checked with the pydantic models: every problem located and raised together.

    `accept.accept_scenario` takes valid scenarios faster without pydantic; this path decides
    everything it is not sure of, so its messages are the only ones a user sees."""
    data = _top_level_mapping(doc, "scenario")
    problems: list[Problem] = []
    try:
        head = to_checked(validate(doc, ScenarioHead, head_data(data), ()))
    except InputError as exc:
        problems += exc.problems
        head = None
    facts = stated_facts(doc, vocab, registry, head, problems)
    if problems or head is None:
        raise InputError(_dedupe(problems))
    facts["date"] = head.date
    return Scenario(head=head, facts=facts, file=doc.file)
