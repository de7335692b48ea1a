"""Exploration of the finite fact domain: conflicts, rules that never apply, shadowed rules.

For two same-level rules that disagree, every combination of the facts their conditions
test (through definitions: derived facts are computed, never varied), the dates where
anything changes, the agencies both bind and the counties whose registry facts differ,
fewest changes from the defaults first, until a scenario shows the conflict (PE501,
PE502) or the search ends. The same search shows which rules never apply (PE403) and
which are never decisive (PE503); a search cut short says so (PE505).

The search visits the scenarios in that order, but evaluates classes of them: the engine reads
only the facts the rules test and answers each test of the date, so scenarios that agree on
those fire the same rules (one engine run for them all), and what fired, the day and the
agency fix the decisions and so the answer to the search's question. `exhaustive=True`
evaluates every scenario through the pipeline instead; a test checks both give the same
findings.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, Protocol

from policyengine import pipeline
from policyengine.analysis.codes import Finding
from policyengine.analysis.structure import overlap, same_place
from policyengine.checked import Conclusion, Rule, Scenario, ScenarioHead
from policyengine.compile import CompiledRule
from policyengine.conditions import Test, leaves
from policyengine.engine import Firing, ReferenceEngine
from policyengine.facts import fact_record, registry_facts
from policyengine.pipeline import Evaluation, evaluate
from policyengine.resolve import Decision
from policyengine.rulebase import Rulebase
from policyengine.terms import LEVEL_RANK, Doctrine, Verdict

MAX_EVALUATIONS = 20_000  # per search; beyond it a PE505 says the answer is unknown


def _shift(value: Any, by: int) -> Any:
    if isinstance(value, str):  # an ISO date, as compiled conditions carry them
        return (dt.date.fromisoformat(value) + dt.timedelta(days=by)).isoformat()
    return value + by


@dataclass(frozen=True)
class _Point:
    """One explored scenario: the varied facts, and the date, agency and county."""

    varied: tuple[tuple[str, Any], ...]
    day: dt.date
    agency: str
    county: str
    city: str


class Outcome(Protocol):
    """What a search asks of one explored scenario: what fired, the decisions, the agency."""

    @property
    def firing(self) -> Firing: ...

    @property
    def decisions(self) -> Sequence[Decision]: ...

    @property
    def agency(self) -> str: ...


class _Outcome(NamedTuple):
    """The outcome shared by every explored scenario of one class (see `Explorer.search`)."""

    firing: Firing
    decisions: tuple[Decision, ...]
    agency: str


Varied = tuple[tuple[str, Any], ...]


class _Cell(NamedTuple):
    """A place, day and agency of a search, with what the engine sees there (`Explorer._sees`)."""

    county: str
    city: str
    day: dt.date
    agency: str
    seen: int
    slot: int  # the number of (day, agency) in the search


class Explorer:
    """Searches the finite fact domain for conflicts, rules that never apply, shadowed rules."""

    SCENARIO_FACTS = ("date", "agency", "place.county", "place.city")

    def __init__(self, rb: Rulebase, exhaustive: bool = False):
        self.rb = rb
        self.exhaustive = exhaustive
        self.vocab = rb.vocabulary
        self.engine = ReferenceEngine()
        self.compiled: dict[str, CompiledRule] = {c.id: c for c in rb.program.rules}
        self.definers: dict[str, list[Rule]] = {}
        for rule in rb.rules:
            for fact in rule.derives:
                self.definers.setdefault(fact, []).append(rule)
        self.cache: dict[_Point, Evaluation] = {}
        self.views: dict[frozenset[str], Explorer] = {}
        # the date of knowledge of every explored scenario: today, taken once
        self.known_on = pipeline.today()
        # remembered per explorer (each depends only on its rules): scenario heads by day, the
        # days where something changes by window, each day's signature, each fact's values
        self._heads: dict[dt.date, ScenarioHead] = {}
        self._dates: dict[tuple[dt.date, dt.date | None], list[dt.date]] = {}
        self._signatures: dict[dt.date, tuple[Any, ...]] = {}
        self._values: dict[str, list[Any]] = {}
        self._registry: dict[tuple[dt.date, ...], dict[str, tuple[str, ...]]] = {}
        # the classes of explored scenarios (see `search`): what the engine sees of each (county,
        # city, day, agency) and the fact record there; per variation of the facts, the firing
        # seen there; each distinct firing once; the outcome of each (firing, day, agency)
        tested = {t.fact for c in rb.program.rules for t in leaves(c.condition)}
        self._tested = tuple(f for f in self.vocab.facts if f in tested and f != "date")
        self._records: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
        self._grids: dict[tuple[Any, ...], tuple[list[_Cell], list[tuple[dt.date, str]]]] = {}
        self._seen: dict[tuple[Any, ...], int] = {}
        self._sights: dict[tuple[str, str, dt.date, str], int] = {}
        self._fired: dict[Varied, dict[int, int]] = {}
        self._firings: list[Firing] = []
        self._firing_ids: dict[tuple[Any, ...], int] = {}
        self._outcomes: dict[tuple[int, dt.date, str], _Outcome] = {}
        scoped = {r.jurisdiction.county for r in rb.rules if r.jurisdiction.county}
        scoped |= {c.county for c in rb.registry.cities if any(r.jurisdiction.city == c.name for r in rb.rules)}
        plain = [c for c in rb.counties if c not in scoped]
        self.default_county = plain[0] if plain else rb.counties[0]

    # -- domains

    def facts_of(self, rules: list[Rule]) -> list[str]:
        """Scenario facts the rules' conditions test, following derived facts to their definitions."""
        seen: set[str] = set()
        todo = [t.fact for r in rules for t in leaves(self.compiled[r.id].condition)]
        out: set[str] = set()
        while todo:
            fact = todo.pop()
            if fact in seen:
                continue
            seen.add(fact)
            spec = self.vocab.facts[fact]
            if spec.source == "derived":
                for d in self.definers.get(fact, []):
                    todo += [t.fact for t in leaves(self.compiled[d.id].condition)]
            elif spec.source == "scenario" and fact not in self.SCENARIO_FACTS:
                out.add(fact)
        return [f for f in self.vocab.facts if f in out]  # vocabulary order

    def registry_relevant(self, rules: list[Rule]) -> bool:
        seen = set(self.facts_of(rules))
        tested = {t.fact for r in rules for t in leaves(self.compiled[r.id].condition)}
        for facts in (seen, tested):
            if any(self.vocab.facts[f].source == "registry" for f in facts):
                return True
        return any(
            self.vocab.facts[t.fact].source == "registry"
            for fact in tested
            if self.vocab.facts[fact].source == "derived"
            for d in self.definers.get(fact, [])
            for t in leaves(self.compiled[d.id].condition)
        )

    def values_of(self, fact: str) -> list[Any]:
        """The default first, then one representative of each other class of values the rules tell apart."""
        found = self._values.get(fact)
        if found is None:
            found = self._values[fact] = self._values_of(fact)
        return found

    def _values_of(self, fact: str) -> list[Any]:
        spec = self.vocab.facts[fact]
        default = spec.default
        tested = [t.value for r in self.rb.rules for t in leaves(self.compiled[r.id].condition) if t.fact == fact]
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
        found = self._dates.get((start, until))
        if found is None:
            found = self._dates[(start, until)] = self._find_dates(start, until)
        return list(found)

    def _find_dates(self, start: dt.date, until: dt.date | None) -> list[dt.date]:
        marks = {start}
        for r in self.rb.rules:
            marks |= {d for d in (r.in_force.start, r.in_force.until) if d is not None}
            for t in leaves(self.compiled[r.id].condition):
                if t.fact == "date":
                    marks |= {dt.date.fromisoformat(_shift(t.value, d)) for d in (0, 1)}
        for a in self.rb.registry.agreements:
            marks |= {d for d in (a.in_force.start, a.in_force.until) if d is not None}
        days = sorted(d for d in marks if d >= start and (until is None or d < until))
        out, seen = [], set()
        for day in days:
            sig = self._day_signature(day)
            if sig not in seen:
                seen.add(sig)
                out.append(day)
        return out

    def _day_signature(self, day: dt.date) -> tuple[Any, ...]:
        found = self._signatures.get(day)
        if found is None:
            found = self._signatures[day] = self._find_day_signature(day)
        return found

    def _find_day_signature(self, day: dt.date) -> tuple[Any, ...]:
        iso = day.isoformat()
        in_force = tuple(r.id for r in self.rb.rules if r.in_force.covers(day))
        agreements = tuple(i for i, a in enumerate(self.rb.registry.agreements) if a.in_force.covers(day))
        tests = tuple(
            _holds_date(t, iso)
            for r in self.rb.rules
            for t in leaves(self.compiled[r.id].condition)
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
            place: tuple[str, str] | None = None
            if j.level == "city" and j.city:
                place = (cities[j.city], j.city)
            elif j.county:
                place = (j.county, "none")
            if place and place not in out:
                out.append(place)
        if (self.default_county, "none") not in out:
            out.append((self.default_county, "none"))
        if self.registry_relevant(rules):
            signatures = self._registry_signatures(tuple(days))
            seen = {signatures[c] for c, _ in out}
            for county in self.rb.counties:
                sig = signatures[county]
                if sig not in seen:
                    seen.add(sig)
                    out.append((county, "none"))
        return out

    def _registry_signatures(self, days: tuple[dt.date, ...]) -> dict[str, tuple[str, ...]]:
        """Per county, its registry facts on each of the days (remembered per list of days)."""
        found = self._registry.get(days)
        if found is None:
            registry = self.rb.registry
            found = self._registry[days] = {
                county: tuple(repr(registry_facts(registry, county, d)) for d in days) for county in self.rb.counties
            }
        return found

    def variations(self, facts: list[str]) -> Iterator[Varied]:
        """Every combination of the facts' values, fewest facts away from their defaults first."""
        choices = {f: self.values_of(f)[1:] for f in facts}
        for k in range(len(facts) + 1):
            for chosen in itertools.combinations(facts, k):
                for values in itertools.product(*(choices[f] for f in chosen)):
                    yield tuple(zip(chosen, values, strict=True))

    def points(
        self, facts: list[str], days: list[dt.date], agencies: list[str], places: list[tuple[str, str]]
    ) -> Iterator[_Point]:
        """Every combination, fewest facts away from their defaults first; within one, each
        place, each day, each agency."""
        for varied in self.variations(facts):
            for county, city in places:
                for day in days:
                    for agency in agencies:
                        yield _Point(varied, day, agency, county, city)

    # -- evaluation

    def scenario(self, point: _Point, ident: str, title: str) -> dict[str, Any]:
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

    def evaluate(self, point: _Point) -> Evaluation:
        found = self.cache.get(point)
        if found is not None:
            return found
        facts: dict[str, Any] = {"date": point.day, "agency": point.agency, "place.county": point.county}
        if point.city != "none":
            facts["place.city"] = point.city
        for fact, value in point.varied:
            facts[fact] = dt.date.fromisoformat(value) if self.vocab.facts[fact].type == "date" else value
        ev = evaluate(
            Scenario(self._head(point.day), facts, "<explored>"), self.rb, self.engine, known_on=self.known_on
        )
        self.cache[point] = ev
        return ev

    def _head(self, day: dt.date) -> ScenarioHead:
        head = self._heads.get(day)
        if head is None:
            head = self._heads[day] = ScenarioHead(id="explored", title="explored", date=day)
        return head

    def search(
        self,
        rules: list[Rule],
        binds: set[str],
        window: tuple[dt.date, dt.date | None],
        found: Callable[[Outcome], bool],
    ) -> tuple[_Point | None, bool]:
        """The first point (fewest changes) where `found(outcome)` holds; and whether the search
        finished (at most MAX_EVALUATIONS points are visited).

        Every point is visited in the order of `points`, but not every point is evaluated: what
        the engine fires depends only on the values of the facts the rules test and on the answer
        of each test of the date (`_sees`), so each variation of the facts runs the engine once
        per class of (county, city, day, agency); and the outcome depends only on what fired,
        the day and the agency (`Rulebase.resolution`), so `found` is asked once per class."""
        days = self.dates(*window)
        facts = self.facts_of(rules)
        agencies = self.agencies(binds)
        places = self.places(rules, days)
        limit = MAX_EVALUATIONS
        if self.exhaustive:
            count = 0
            for point in self.points(facts, days, agencies, places):
                count += 1
                if count > limit:
                    return None, False
                if found(self.evaluate(point)):
                    return point, True
            return None, True
        cells, slots = self._grid(places, days, agencies)
        width = len(slots)
        answers: dict[int, bool] = {}  # per firing and (day, agency): found or not
        budget = limit  # points left to visit
        for varied in self.variations(facts):
            for cell in cells if budget >= len(cells) else cells[:budget]:
                firing = self._firing_at(varied, cell)
                key = firing * width + cell.slot
                answer = answers.get(key)
                if answer is None:
                    answer = answers[key] = found(self._outcome(firing, *slots[cell.slot]))
                if answer:
                    return _Point(varied, cell.day, cell.agency, cell.county, cell.city), True
            if budget < len(cells):
                return None, False  # the next point would be one too many
            budget -= len(cells)
        return None, True

    def outcome(self, point: _Point) -> Outcome:
        """One point's outcome, through its class (what `search` asks `found` about)."""
        seen = self._sees(point.county, point.city, point.day, point.agency)
        cell = _Cell(point.county, point.city, point.day, point.agency, seen, 0)
        return self._outcome(self._firing_at(point.varied, cell), point.day, point.agency)

    def _firing_at(self, varied: Varied, cell: _Cell) -> int:
        """What fires (by number) for this variation of the facts in this cell, run once per
        variation and what the engine sees (`cell.seen`)."""
        fired = self._fired.setdefault(varied, {})
        found = fired.get(cell.seen)
        if found is None:
            found = fired[cell.seen] = self._fire(varied, cell)
        return found

    def _grid(
        self, places: list[tuple[str, str]], days: list[dt.date], agencies: list[str]
    ) -> tuple[list[_Cell], list[tuple[dt.date, str]]]:
        """Each place, day and agency in the order `points` visits them, with what the engine sees
        there; and the (day, agency) pairs, which each cell names by number (`slot`)."""
        where = (tuple(places), tuple(days), tuple(agencies))
        found = self._grids.get(where)
        if found is None:
            slots = [(day, agency) for day in days for agency in agencies]
            cells = [
                _Cell(county, city, day, agency, self._sees(county, city, day, agency), d * len(agencies) + a)
                for county, city in places
                for d, day in enumerate(days)
                for a, agency in enumerate(agencies)
            ]
            found = self._grids[where] = (cells, slots)
        return found

    def _record(self, county: str, city: str, day: dt.date) -> dict[str, Any]:
        """The fact record of an explored scenario in this place on this day, no fact varied and
        the agency left out (a stated fact, it changes nothing else: `_sees` and `_fire` set it)."""
        where = (county, city, day)
        found = self._records.get(where)
        if found is None:
            facts: dict[str, Any] = {"date": day, "place.county": county}
            if city != "none":
                facts["place.city"] = city
            head = self._head(day)
            found = self._records[where] = fact_record(
                Scenario(head, facts, "<explored>"), self.vocab, self.rb.registry
            )
        return found

    def _sees(self, county: str, city: str, day: dt.date, agency: str) -> int:
        """What the engine sees of a place, day and agency, by number: the values of the facts the
        rules test (no fact varied) and the answer of each test of the date."""
        where = (county, city, day, agency)
        found = self._sights.get(where)
        if found is None:
            record = self._record(county, city, day)
            tested = tuple(agency if f == "agency" else record[f] for f in self._tested)
            found = self._sights[where] = self._seen.setdefault((self._day_signature(day)[2], tested), len(self._seen))
        return found

    def _fire(self, varied: Varied, cell: _Cell) -> int:
        """The engine run on one explored scenario's fact record: the number of what fired."""
        record = dict(self._record(cell.county, cell.city, cell.day))
        record["agency"] = cell.agency
        record.update(varied)  # values as the engine takes them (dates are ISO strings already)
        firing = self.engine.run(self.rb.program, record)
        what = (firing.fired, tuple(firing.derived.items()))
        number = self._firing_ids.get(what)
        if number is None:
            number = self._firing_ids[what] = len(self._firings)
            self._firings.append(firing)
        return number

    def _outcome(self, number: int, day: dt.date, agency: str) -> _Outcome:
        """The decisions for what fired (by number) on a day for an agency, resolved once."""
        key = (number, day, agency)
        found = self._outcomes.get(key)
        if found is None:
            firing = self._firings[number]
            decisions = self.rb.resolution(firing, day, agency, self.known_on)
            found = self._outcomes[key] = _Outcome(firing, decisions, agency)
        return found

    # -- the three searches

    def run(self) -> list[Finding]:
        """Every finding of the three searches.

        The cyclic garbage collector is paused meanwhile: the searches keep tens of thousands of
        evaluations (none of them cyclic garbage), and each collection would walk them all
        again, a fifth of the time of a search for nothing (measured)."""
        paused = gc.isenabled()
        gc.disable()
        try:
            return self.conflicts() + self.usefulness()
        finally:
            if paused:
                gc.enable()

    def view(self, actions: set[str]) -> Explorer:
        """An explorer over only the rules that decide these actions, plus every definition.

        A decision on an action depends only on the rules concluding it and on derived facts,
        so the answers are the same as with the whole rulebase, and the search is smaller
        (fewer dates where something changes, fewer classes of agencies)."""
        key = frozenset(actions)
        if key not in self.views:
            rules = tuple(r for r in self.rb.rules if r.kind == "definition" or key & {c.action for c in r.conclusions})
            view = Rulebase(self.rb.root, self.vocab, self.rb.registry, rules)
            self.views[key] = Explorer(view, self.exhaustive)
        return self.views[key]

    def pairs(self) -> Iterator[tuple[Rule, Rule, str, bool]]:
        """Same-level rule pairs that disagree on an action, could meet, and neither overrides the other."""
        rules = sorted((r for r in self.rb.rules if r.kind != "definition"), key=lambda r: r.id)
        for a, b in itertools.combinations(rules, 2):
            if a.level != b.level or a.is_law != b.is_law or not same_place(a, b):
                continue
            if not set(a.binds) & set(b.binds) or overlap(a, b) is None:
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

            def found(ev: Outcome, a: Rule = a, b: Rule = b, action: str = action, is_law: bool = is_law) -> bool:
                d = next(x for x in ev.decisions if x.action == action)
                group = d.conflict if is_law else d.practice_conflict
                return a.id in group and b.id in group

            view = self.view({action})
            window = overlap(a, b)
            assert window is not None  # pairs() yields only rules in force together
            point, finished = view.search([a, b], set(a.binds) & set(b.binds), window, found)
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
                    partial(_derives, rule),
                )
                if point is None and finished:
                    out.append(
                        Finding("PE403", rule.file, rule.line, f"'{rule.id}' never derives its fact", (rule.id,))
                    )
                elif not finished:
                    out.append(self._limit(rule, f"whether '{rule.id}' ever applies"))
                continue
            actions = {c.action for c in rule.conclusions}
            rivals = self.rivals(rule)
            window = (rule.in_force.start, rule.in_force.until)
            view = self.view(actions)

            def decisive(ev: Outcome, rule: Rule = rule, actions: set[str] = actions) -> bool:
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

            fires = view.search([rule], set(rule.binds), window, partial(_fires, rule))
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

    def rivals(self, rule: Rule) -> list[Rule]:
        """The rules that can take part with `rule` in deciding one of its actions: law with law,
        practice with practice, binding a same agency, in force together, in a same place."""
        actions = {c.action for c in rule.conclusions}
        return [
            r
            for r in self.rb.rules
            if r.id != rule.id
            and r.is_law == rule.is_law
            and r.kind != "definition"
            and actions & {c.action for c in r.conclusions}
            and set(r.binds) & set(rule.binds)
            and overlap(r, rule) is not None
            and same_place(r, rule)
        ]

    def _defeaters(self, rule: Rule) -> str:
        seen: dict[tuple[str | None, str], None] = {}
        # every scenario the searches of this explorer visited (each class once)
        visited: Iterable[Outcome] = self.cache.values() if self.exhaustive else self._outcomes.values()
        for ev in visited:
            for d in ev.decisions:
                for x in (*d.defeated, *d.practice_defeated):
                    if x.rule == rule.id and x.doctrine not in (Doctrine.NOT_IN_FORCE, Doctrine.NOT_BINDING):
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


def _derives(rule: Rule, ev: Outcome) -> bool:
    return any(rule.id in by for by in ev.firing.derived.values())


def _fires(rule: Rule, ev: Outcome) -> bool:
    return rule.id in ev.firing.fired


def _holds_date(test: Test, iso: str) -> bool:
    return bool(
        {
            "eq": iso == test.value,
            "neq": iso != test.value,
            "lt": iso < test.value,
            "lte": iso <= test.value,
            "gt": iso > test.value,
            "gte": iso >= test.value,
        }[test.op]
    )


def _says(c: Conclusion) -> str:
    if c.value == Verdict.CONTESTED:
        return f"contested, leaning {c.leaning}"
    return c.value


def level_rank(rule: Rule) -> int:
    return LEVEL_RANK[rule.level]
