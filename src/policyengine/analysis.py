"""Static analysis of a rules directory (`policyengine check`): findings with stable codes.

Each finding has a code (PEnnn, documented in docs/errors/PEnnn.md), a severity, a file
and line, and a message; a conflict also carries the smallest scenario that shows it.

Three passes:
1. the loader's and checker's own problems, each mapped to a code (PE1xx-PE4xx);
2. structural checks across rules: quotes, override cycles and overrides that can never
   take effect, review hashes, gaps in coverage;
3. exploration of the finite fact domain: for two same-level rules that disagree, every
   combination of the facts their conditions test (through definitions: derived facts
   are computed, never varied), the dates where anything changes, the agencies both bind
   and the counties whose registry facts differ, fewest changes from the defaults first.
   The same search shows which rules never apply and which are never decisive.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policyengine import bundled
from policyengine.check import check_registry, check_rule_file, check_rulebase, check_vocabulary
from policyengine.compile import CompiledRule
from policyengine.engine import ReferenceEngine
from policyengine.errors import InputError, Problem
from policyengine.facts import registry_facts
from policyengine.load import Document, display_name, load_yaml, yaml_files
from policyengine.model import LEVEL_RANK, AllOf, AnyOf, Condition, Rule, Scenario, ScenarioHead, Test
from policyengine.pipeline import REGISTRY_FILE, VOCABULARY_FILE, Rulebase, evaluate
from policyengine.review import written_rules
from policyengine.strength import rests_only_on_hearsay

ERROR, WARNING, INFO = "error", "warning", "info"

# code -> (severity, short title); docs/errors/<code>.md explains each one.
CODES: dict[str, tuple[str, str]] = {
    "PE101": (ERROR, "file does not have the shape of a rule file"),
    "PE102": (ERROR, "name not in the vocabulary"),
    "PE103": (ERROR, "value not allowed for the fact"),
    "PE104": (ERROR, "misuse of the rule language"),
    "PE105": (ERROR, "unknown or inconsistent jurisdiction"),
    "PE106": (ERROR, "rule id used twice"),
    "PE107": (ERROR, "vocabulary or registry is invalid"),
    "PE108": (ERROR, "not a regular file inside the directory"),
    "PE109": (ERROR, "file too large"),
    "PE110": (ERROR, "not UTF-8 text, or a control character"),
    "PE111": (ERROR, "YAML anchor, alias or nesting not allowed"),
    "PE112": (ERROR, "registry counties differ from the Census list"),
    "PE113": (ERROR, "vocabulary default of the wrong type"),
    "PE201": (ERROR, "rule without a complete source"),
    "PE202": (WARNING, "rule without any quoted source"),
    "PE203": (WARNING, "required or prohibited rests only on news, advocacy or officials' words"),
    "PE301": (ERROR, "overrides a rule that does not exist"),
    "PE302": (ERROR, "circular overrides"),
    "PE303": (ERROR, "override not allowed"),
    "PE304": (ERROR, "circular definition"),
    "PE401": (ERROR, "rule never in force"),
    "PE402": (WARNING, "override can never take effect"),
    "PE403": (WARNING, "rule never applies"),
    "PE501": (ERROR, "unresolved conflict between same-level law"),
    "PE502": (ERROR, "unresolved conflict between same-level practice"),
    "PE503": (WARNING, "shadowed rule: never decisive"),
    "PE504": (WARNING, "gap: no law rule decides an action for some agencies"),
    "PE505": (INFO, "exploration limit reached"),
    "PE601": (ERROR, "rule changed after review"),
    "PE602": (WARNING, "review record incomplete"),
}

MAX_EVALUATIONS = 20_000  # per search; beyond it a PE505 says the answer is unknown


@dataclass(frozen=True)
class Finding:
    """One located finding of the static check."""

    code: str
    file: str
    line: int | None
    message: str
    rules: tuple[str, ...] = ()
    scenario: dict | None = None

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "message": self.message,
        }
        if self.rules:
            out["rules"] = list(self.rules)
        if self.scenario is not None:
            out["scenario"] = scenario_yaml(self.scenario)
        return out


@dataclass
class Report:
    """Every finding of one check run, in a stable order."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    rules_checked: int = 0
    bad_input: bool = False  # the rule files could not be loaded (what `run` rejects with exit 2)

    def sorted(self) -> list[Finding]:
        rank = {ERROR: 0, WARNING: 1, INFO: 2}
        return sorted(self.findings, key=lambda f: (rank[f.severity], f.file, f.line or 0, f.code, f.message))

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


# ------------------------------------------------- pass 1: located problems -> codes

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("PE401", re.compile(r"in_force\.until must be after")),
    ("PE201", re.compile(r"needs at least one source|missing required key '(sources|cite|url)'|sources\.\d+\.url")),
    ("PE106", re.compile(r"is used twice")),
    ("PE301", re.compile(r"which is no rule")),
    ("PE302", re.compile(r"overrides itself")),
    ("PE303", re.compile(r"cannot override|neither override nor are overridden")),
    ("PE304", re.compile(r"circular definition")),
    ("PE105", re.compile(r"unknown (county|city)|names no (county|city)|is in .* County")),
    ("PE102", re.compile(r"is not (a fact|an action|an agency|a derived fact)")),
    ("PE103", re.compile(r"is not an allowed value|takes true or false|takes a whole number|takes a date")),
    ("PE101", re.compile(r"unknown key '|missing required key|\(got |must be a YAML mapping|is a group of facts")),
]


def code_for(problem: Problem) -> str:
    """The finding code of a problem reported by the checker (PE104 when no pattern fits)."""
    for code, pattern in _PATTERNS:
        if pattern.search(problem.message):
            return code
    return "PE104"


def _findings(problems: list[Problem], code: str | None = None) -> list[Finding]:
    return [Finding(p.code or code or code_for(p), p.file, p.line, p.message) for p in problems]


@dataclass
class _Loaded:
    rulebase: Rulebase | None
    docs: list[Document]
    findings: list[Finding]


def _load(root: Path) -> _Loaded:
    """Load every file (a file that is not YAML raises InputError: exit 2), then check it."""
    files = yaml_files(root)
    special = {VOCABULARY_FILE: [f for f in files if f.name == VOCABULARY_FILE]}
    special[REGISTRY_FILE] = [f for f in files if f.name == REGISTRY_FILE]
    for name, found in special.items():
        if len(found) != 1:
            raise InputError.at(display_name(root), None, f"expected exactly one {name}, found {len(found)}")
    docs = {f: load_yaml(f, display=display_name(f)) for f in files}
    findings: list[Finding] = []
    try:
        vocab = check_vocabulary(docs[special[VOCABULARY_FILE][0]])
        registry = check_registry(docs[special[REGISTRY_FILE][0]], vocab)
    except InputError as exc:
        return _Loaded(None, [], _findings(exc.problems, "PE107"))
    rules: list[Rule] = []
    rule_docs = []
    for path, doc in docs.items():
        if path in (special[VOCABULARY_FILE][0], special[REGISTRY_FILE][0]):
            continue
        try:
            rules += check_rule_file(doc, vocab, registry)
            rule_docs.append(doc)
        except InputError as exc:
            findings += _findings(exc.problems)
    if findings:
        return _Loaded(None, rule_docs, findings)
    try:
        check_rulebase(rules)
    except InputError as exc:
        return _Loaded(None, rule_docs, _findings(exc.problems))
    return _Loaded(Rulebase(root, vocab, registry, tuple(rules)), rule_docs, [])


def analyse(root: str | Path | None = None, explore: bool = True) -> Report:
    """Check a rules directory (default: the bundled rules) and return every finding."""
    root = Path(root) if root is not None else bundled.rules_dir()
    if not root.is_dir():
        raise InputError.at(str(root), None, "rules directory not found")
    loaded = _load(root)
    report = Report(display_name(root), list(loaded.findings))
    rb = loaded.rulebase
    if rb is None:
        report.bad_input = True
        return report
    report.rules_checked = len(rb.rules)
    report.findings += _structure(rb, loaded.docs)
    cyclic = {r for f in report.findings if f.code == "PE302" for r in f.rules}
    if explore and not cyclic:
        report.findings += Explorer(rb).run()
    return report


# ----------------------------------------------------------- pass 2: structure


def _overlap(a: Rule, b: Rule) -> tuple[dt.date, dt.date | None] | None:
    """The days both rules are in force, as [start, until), or None."""
    start = max(a.in_force.start, b.in_force.start)
    ends = [d for d in (a.in_force.until, b.in_force.until) if d is not None]
    until = min(ends) if ends else None
    return None if until is not None and until <= start else (start, until)


def _same_place(a: Rule, b: Rule) -> bool:
    """Whether some place can lie in both rules' geographic scope."""
    ja, jb = a.jurisdiction, b.jurisdiction
    if ja.county and jb.county and ja.level == jb.level == "county" and ja.county != jb.county:
        return False
    if ja.level == jb.level == "city" and ja.city != jb.city:
        return False
    return True


def _structure(rb: Rulebase, docs: list[Document]) -> list[Finding]:
    out: list[Finding] = []
    by_id = rb.by_id
    for rule in rb.rules:
        if not any(s.quote for s in rule.sources):
            out.append(
                Finding("PE202", rule.file, rule.line, f"'{rule.id}': no source quotes the words relied on", (rule.id,))
            )
        strong = sorted({c.value for c in rule.conclusions if c.value in ("required", "prohibited")})
        if rule.is_law and strong and rests_only_on_hearsay(rule):
            kinds = ", ".join(sorted({s.authority for s in rule.sources}))
            out.append(
                Finding(
                    "PE203",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' concludes {' and '.join(strong)} on {kinds} alone: no law, court or official "
                    "opinion behind it",
                    (rule.id,),
                )
            )
        for target in rule.overrides:
            other = by_id[target]
            actions = {c.action for c in rule.conclusions} & {c.action for c in other.conclusions}
            why = None
            if _overlap(rule, other) is None:
                why = "the two are never in force on the same day"
            elif not set(rule.binds) & set(other.binds):
                why = "they bind no agency in common"
            elif not actions:
                why = "they decide no action in common"
            elif not _same_place(rule, other):
                why = "they apply in different places"
            if why:
                out.append(
                    Finding(
                        "PE402",
                        rule.file,
                        rule.line,
                        f"'{rule.id}' overrides '{target}' but {why}",
                        (rule.id, target),
                    )
                )
    out += _override_cycles(rb)
    out += _review(rb, docs)
    out += _gaps(rb, docs)
    return out


def _override_cycles(rb: Rulebase) -> list[Finding]:
    out, seen = [], set()
    for rule in sorted(rb.rules, key=lambda r: r.id):
        trail = [rule.id]
        stack = [(rule.id, iter(sorted(rule.overrides)))]
        while stack:
            node, children = stack[-1]
            nxt = next(children, None)
            if nxt is None:
                stack.pop()
                trail.pop()
                continue
            if nxt == rule.id:
                cycle = frozenset(trail)
                if cycle not in seen:
                    seen.add(cycle)
                    text = " -> ".join([*trail, rule.id])
                    out.append(Finding("PE302", rule.file, rule.line, f"circular overrides: {text}", tuple(trail)))
                continue
            if nxt in trail or nxt not in rb.by_id:
                continue
            trail.append(nxt)
            stack.append((nxt, iter(sorted(rb.by_id[nxt].overrides))))
    return out


def _review(rb: Rulebase, docs: list[Document]) -> list[Finding]:
    out = []
    written = written_rules(docs)
    for rule in rb.rules:
        review = rule.review
        if review.status == "draft":
            continue
        current = written[rule.id].hash
        if review.hash is not None and review.hash != current:
            out.append(
                Finding(
                    "PE601",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' is {review.status} with hash {review.hash}, but its content now hashes to "
                    f"{current}: it changed after review",
                    (rule.id,),
                )
            )
        missing = [k for k in ("reviewer", "date", "hash") if getattr(review, k) is None]
        if missing:
            out.append(
                Finding(
                    "PE602",
                    rule.file,
                    rule.line,
                    f"'{rule.id}' is {review.status} but its review records no {', '.join(missing)}",
                    (rule.id,),
                )
            )
    return out


def _gaps(rb: Rulebase, docs: list[Document]) -> list[Finding]:
    vocab_file = _vocabulary_path(rb)
    vocab_doc = load_yaml(vocab_file, display=display_name(vocab_file))
    agencies = list(rb.vocabulary.facts["agency"].values or {})
    out = []
    for action in rb.actions:
        covered = {a for r in rb.rules if r.is_law for c in r.conclusions if c.action == action for a in r.binds}
        missing = [a for a in agencies if a not in covered]
        if not missing:
            continue
        who = "any agency" if len(missing) == len(agencies) else ", ".join(missing)
        out.append(
            Finding(
                "PE504",
                vocab_doc.file,
                vocab_doc.line(("actions", action)),
                f"no law rule decides '{action}' for {who}",
            )
        )
    return out


def _vocabulary_path(rb: Rulebase) -> Path:
    return next(f for f in yaml_files(rb.root) if f.name == VOCABULARY_FILE)


# --------------------------------------------------------- pass 3: exploration


def _tests(cond: Condition | None) -> Iterator[Test]:
    if cond is None:
        return
    if isinstance(cond, Test):
        yield cond
    elif isinstance(cond, AllOf | AnyOf):
        for item in cond.items:
            yield from _tests(item)


def _shift(value: Any, by: int) -> Any:
    if isinstance(value, str):  # an ISO date, as compiled conditions carry them
        return (dt.date.fromisoformat(value) + dt.timedelta(days=by)).isoformat()
    return value + by


def scenario_yaml(scenario: dict) -> str:
    """A counterexample scenario as YAML that `policyengine run` accepts."""
    return yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=100)


@dataclass(frozen=True)
class _Point:
    """One explored scenario: the varied facts, and the date, agency and county."""

    varied: tuple[tuple[str, Any], ...]
    day: dt.date
    agency: str
    county: str
    city: str


class Explorer:
    """Searches the finite fact domain for conflicts, rules that never apply, shadowed rules."""

    SCENARIO_FACTS = ("date", "agency", "place.county", "place.city")

    def __init__(self, rb: Rulebase):
        self.rb = rb
        self.vocab = rb.vocabulary
        self.engine = ReferenceEngine()
        self.compiled: dict[str, CompiledRule] = {c.id: c for c in rb.program.rules}
        self.definers: dict[str, list[Rule]] = {}
        for rule in rb.rules:
            for fact in rule.derives:
                self.definers.setdefault(fact, []).append(rule)
        self.cache: dict[_Point, Any] = {}
        self.views: dict[frozenset[str], Explorer] = {}
        scoped = {r.jurisdiction.county for r in rb.rules if r.jurisdiction.county}
        scoped |= {c.county for c in rb.registry.cities if any(r.jurisdiction.city == c.name for r in rb.rules)}
        plain = [c for c in rb.counties if c not in scoped]
        self.default_county = plain[0] if plain else rb.counties[0]

    # -- domains

    def facts_of(self, rules: list[Rule]) -> list[str]:
        """Scenario facts the rules' conditions test, following derived facts to their definitions."""
        seen: set[str] = set()
        todo = [t.fact for r in rules for t in _tests(self.compiled[r.id].condition)]
        out: set[str] = set()
        while todo:
            fact = todo.pop()
            if fact in seen:
                continue
            seen.add(fact)
            spec = self.vocab.facts[fact]
            if spec.source == "derived":
                for d in self.definers.get(fact, []):
                    todo += [t.fact for t in _tests(self.compiled[d.id].condition)]
            elif spec.source == "scenario" and fact not in self.SCENARIO_FACTS:
                out.add(fact)
        return [f for f in self.vocab.facts if f in out]  # vocabulary order

    def registry_relevant(self, rules: list[Rule]) -> bool:
        seen = set(self.facts_of(rules))
        tested = {t.fact for r in rules for t in _tests(self.compiled[r.id].condition)}
        for facts in (seen, tested):
            if any(self.vocab.facts[f].source == "registry" for f in facts):
                return True
        return any(
            self.vocab.facts[t.fact].source == "registry"
            for fact in tested
            if self.vocab.facts[fact].source == "derived"
            for d in self.definers.get(fact, [])
            for t in _tests(self.compiled[d.id].condition)
        )

    def values_of(self, fact: str) -> list[Any]:
        """The default first, then one representative of each other class of values the rules tell apart."""
        spec = self.vocab.facts[fact]
        default = spec.default
        tested = [t.value for r in self.rb.rules for t in _tests(self.compiled[r.id].condition) if t.fact == fact]
        if spec.type == "boolean":
            return [default, not default]
        if spec.type == "enum":
            allowed = list(spec.values or {})
            mentioned = [v for v in allowed if v in tested and v != default]
            other = [v for v in allowed if v not in tested and v != default][:1]
            return [default, *mentioned, *other]
        points = sorted({_shift(v, d) for v in tested for d in (-1, 0, 1)})
        default = default.isoformat() if isinstance(default, dt.date) else default
        return [default, *[p for p in points if p != default]]

    def dates(self, start: dt.date, until: dt.date | None) -> list[dt.date]:
        """Days in [start, until) where some rule, agreement or date test changes, first day first."""
        marks = {start}
        for r in self.rb.rules:
            marks |= {r.in_force.start, r.in_force.until} - {None}
            for t in _tests(self.compiled[r.id].condition):
                if t.fact == "date":
                    marks |= {dt.date.fromisoformat(_shift(t.value, d)) for d in (0, 1)}
        for a in self.rb.registry.agreements:
            marks |= {a.in_force.start, a.in_force.until} - {None}
        days = sorted(d for d in marks if d >= start and (until is None or d < until))
        out, seen = [], set()
        for day in days:
            sig = self._day_signature(day)
            if sig not in seen:
                seen.add(sig)
                out.append(day)
        return out

    def _day_signature(self, day: dt.date) -> tuple:
        iso = day.isoformat()
        in_force = tuple(r.id for r in self.rb.rules if r.in_force.covers(day))
        agreements = tuple(i for i, a in enumerate(self.rb.registry.agreements) if a.in_force.covers(day))
        tests = tuple(
            _holds_date(t, iso)
            for r in self.rb.rules
            for t in _tests(self.compiled[r.id].condition)
            if t.fact == "date"
        )
        return in_force, agreements, tests

    def agencies(self, binds: set[str]) -> list[str]:
        """One agency per class of agencies that every rule treats alike."""
        out, seen = [], set()
        for agency in self.vocab.facts["agency"].values or {}:
            if agency not in binds:
                continue
            sig = frozenset(r.id for r in self.rb.rules if agency in r.binds)
            if sig not in seen:
                seen.add(sig)
                out.append(agency)
        return out

    def places(self, rules: list[Rule], days: list[dt.date]) -> list[tuple[str, str]]:
        """(county, city) pairs: the rules' own scopes, the default county, and one county per
        distinct set of registry facts when the rules depend on the registry."""
        cities = {c.name: c.county for c in self.rb.registry.cities}
        out: list[tuple[str, str]] = []
        for r in rules:
            j = r.jurisdiction
            place = (cities[j.city], j.city) if j.level == "city" else (j.county, "none") if j.county else None
            if place and place not in out:
                out.append(place)
        if (self.default_county, "none") not in out:
            out.append((self.default_county, "none"))
        if self.registry_relevant(rules):
            seen = {tuple(repr(registry_facts(self.rb.registry, c, d)) for d in days) for c, _ in out}
            for county in self.rb.counties:
                sig = tuple(repr(registry_facts(self.rb.registry, county, d)) for d in days)
                if sig not in seen:
                    seen.add(sig)
                    out.append((county, "none"))
        return out

    def points(self, facts: list[str], days, agencies, places) -> Iterator[_Point]:
        """Every combination, fewest facts away from their defaults first."""
        choices = {f: self.values_of(f)[1:] for f in facts}
        for k in range(len(facts) + 1):
            for chosen in itertools.combinations(facts, k):
                for values in itertools.product(*(choices[f] for f in chosen)):
                    varied = tuple(zip(chosen, values, strict=True))
                    for county, city in places:
                        for day in days:
                            for agency in agencies:
                                yield _Point(varied, day, agency, county, city)

    # -- evaluation

    def scenario(self, point: _Point, ident: str, title: str) -> dict:
        """The point as a scenario file's content (facts grouped as scenarios write them)."""
        out: dict[str, Any] = {"id": ident, "title": title, "date": point.day, "agency": point.agency}
        place = {"county": point.county}
        if point.city != "none":
            place["city"] = point.city
        out["place"] = place
        for fact, value in point.varied:
            value = dt.date.fromisoformat(value) if self.vocab.facts[fact].type == "date" else value
            if "." in fact:
                group, name = fact.split(".", 1)
                out.setdefault(group, {})[name] = value
            else:
                out[fact] = value
        return out

    def evaluate(self, point: _Point):
        if point in self.cache:
            return self.cache[point]
        facts: dict[str, Any] = {"date": point.day, "agency": point.agency, "place.county": point.county}
        if point.city != "none":
            facts["place.city"] = point.city
        for fact, value in point.varied:
            facts[fact] = dt.date.fromisoformat(value) if self.vocab.facts[fact].type == "date" else value
        head = ScenarioHead(id="explored", title="explored", date=point.day)
        ev = evaluate(Scenario(head, facts, "<explored>"), self.rb, self.engine)
        self.cache[point] = ev
        return ev

    def search(self, rules: list[Rule], binds: set[str], window, found) -> tuple[_Point | None, bool]:
        """The first point (fewest changes) where `found(evaluation)` holds; and whether the search finished."""
        days = self.dates(*window)
        facts = self.facts_of(rules)
        count = 0
        for point in self.points(facts, days, self.agencies(binds), self.places(rules, days)):
            count += 1
            if count > MAX_EVALUATIONS:
                return None, False
            if found(self.evaluate(point)):
                return point, True
        return None, True

    # -- the three searches

    def run(self) -> list[Finding]:
        return self.conflicts() + self.usefulness()

    def view(self, actions: set[str]) -> Explorer:
        """An explorer over only the rules that decide these actions, plus every definition.

        A decision on an action depends only on the rules concluding it and on derived facts,
        so the answers are the same as with the whole rulebase, and the search is smaller
        (fewer dates where something changes, fewer classes of agencies)."""
        key = frozenset(actions)
        if key not in self.views:
            rules = tuple(r for r in self.rb.rules if r.kind == "definition" or key & {c.action for c in r.conclusions})
            self.views[key] = Explorer(Rulebase(self.rb.root, self.vocab, self.rb.registry, rules))
        return self.views[key]

    def pairs(self) -> Iterator[tuple[Rule, Rule, str, bool]]:
        """Same-level rule pairs that disagree on an action, could meet, and neither overrides the other."""
        rules = sorted((r for r in self.rb.rules if r.kind != "definition"), key=lambda r: r.id)
        for a, b in itertools.combinations(rules, 2):
            if a.level != b.level or a.is_law != b.is_law or not _same_place(a, b):
                continue
            if not set(a.binds) & set(b.binds) or _overlap(a, b) is None:
                continue
            if a.id in b.overrides or b.id in a.overrides:
                continue
            for ca in a.conclusions:
                for cb in b.conclusions:
                    if ca.action == cb.action and (ca.value, ca.leaning) != (cb.value, cb.leaning):
                        yield a, b, ca.action, a.is_law

    def conflicts(self) -> list[Finding]:
        out = []
        for a, b, action, is_law in self.pairs():

            def found(ev, a=a, b=b, action=action, is_law=is_law) -> bool:
                d = next(x for x in ev.decisions if x.action == action)
                group = d.conflict if is_law else d.practice_conflict
                return a.id in group and b.id in group

            view = self.view({action})
            point, finished = view.search([a, b], set(a.binds) & set(b.binds), _overlap(a, b), found)
            if point is None:
                if not finished:
                    out.append(self._limit(a, f"conflict between '{a.id}' and '{b.id}' on '{action}'"))
                continue
            ca = next(c for c in a.conclusions if c.action == action)
            cb = next(c for c in b.conclusions if c.action == action)
            what = "law" if is_law else "practice"
            ident = f"conflict.{action}.{a.id}.{b.id}".replace("_", "-")
            scenario = view.scenario(point, ident[:120], f"Counterexample: {a.id} and {b.id} disagree on {action}")
            changed = len(point.varied)
            message = (
                f"unresolved {what} conflict on '{action}': '{a.id}' ({_says(ca)}) and '{b.id}' ({_says(cb)}) "
                f"are both {a.level} and neither overrides the other; smallest scenario "
                f"({changed} fact{'s' if changed != 1 else ''} away from the defaults) below"
            )
            code = "PE501" if is_law else "PE502"
            out.append(Finding(code, a.file, a.line, message, (a.id, b.id), scenario))
        return out

    def usefulness(self) -> list[Finding]:
        """Rules that never apply (PE403) and rules never decisive where they apply (PE503)."""
        out = []
        for rule in sorted(self.rb.rules, key=lambda r: r.id):
            if rule.kind == "definition":
                point, finished = self.view(set()).search(
                    [rule],
                    set(rule.binds) or set(self.vocab.facts["agency"].values or {}),
                    (rule.in_force.start, rule.in_force.until),
                    lambda ev, rule=rule: any(rule.id in by for by in ev.firing.derived.values()),
                )
                if point is None and finished:
                    out.append(
                        Finding("PE403", rule.file, rule.line, f"'{rule.id}' never derives its fact", (rule.id,))
                    )
                elif not finished:
                    out.append(self._limit(rule, f"whether '{rule.id}' ever applies"))
                continue
            actions = {c.action for c in rule.conclusions}
            rivals = [
                r
                for r in self.rb.rules
                if r.id != rule.id
                and r.is_law == rule.is_law
                and r.kind != "definition"
                and actions & {c.action for c in r.conclusions}
                and set(r.binds) & set(rule.binds)
                and _overlap(r, rule) is not None
                and _same_place(r, rule)
            ]
            window = (rule.in_force.start, rule.in_force.until)
            view = self.view(actions)

            def decisive(ev, rule=rule, actions=actions) -> bool:
                if rule.id not in ev.firing.fired or ev.agency not in rule.binds:
                    return False
                for d in ev.decisions:
                    if d.action not in actions:
                        continue
                    if rule.is_law and rule.id in (*d.decided_by, *d.concurring, *d.conflict):
                        return True
                    if not rule.is_law and rule.id in (*d.practice_by, *d.practice_conflict):
                        return True
                return False

            fires = view.search([rule], set(rule.binds), window, lambda ev, rule=rule: rule.id in ev.firing.fired)
            if fires[0] is None:
                if fires[1]:
                    out.append(
                        Finding(
                            "PE403",
                            rule.file,
                            rule.line,
                            f"'{rule.id}' never applies: its conditions never hold while it is in force",
                            (rule.id,),
                        )
                    )
                else:
                    out.append(self._limit(rule, f"whether '{rule.id}' ever applies"))
                continue
            point, finished = view.search([rule, *rivals], set(rule.binds), window, decisive)
            if point is None and finished:
                out.append(
                    Finding(
                        "PE503",
                        rule.file,
                        rule.line,
                        f"'{rule.id}' is never decisive: wherever it applies, another rule defeats it "
                        f"({view._defeaters(rule)})",
                        (rule.id,),
                    )
                )
            elif point is None:
                out.append(self._limit(rule, f"whether '{rule.id}' is ever decisive"))
        return out

    def _defeaters(self, rule: Rule) -> str:
        seen: dict[tuple[str | None, str], None] = {}
        for ev in self.cache.values():
            for d in ev.decisions:
                for x in (*d.defeated, *d.practice_defeated):
                    if x.rule == rule.id and x.doctrine not in ("not in force", "does not bind this agency"):
                        seen[(x.by, x.doctrine)] = None
        shown = [
            f"{doctrine} by {by}" if by else doctrine for by, doctrine in sorted(seen, key=lambda k: (k[1], k[0] or ""))
        ]
        return "; ".join(shown[:3]) or "no explored scenario lets it decide"

    def _limit(self, rule: Rule, what: str) -> Finding:
        return Finding(
            "PE505",
            rule.file,
            rule.line,
            f"stopped after {MAX_EVALUATIONS} scenarios without settling {what}",
            (rule.id,),
        )


def _holds_date(test: Test, iso: str) -> bool:
    return {
        "eq": iso == test.value,
        "neq": iso != test.value,
        "lt": iso < test.value,
        "lte": iso <= test.value,
        "gt": iso > test.value,
        "gte": iso >= test.value,
    }[test.op]


def _says(c) -> str:
    if c.value == "contested":
        return f"contested, leaning {c.leaning}"
    return c.value


def level_rank(rule: Rule) -> int:
    return LEVEL_RANK[rule.level]
