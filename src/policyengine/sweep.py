"""One sweep, many views: a scenario evaluated over places and dates.

The matrix, the map, a timeline, a diff and the static site all ask the same question many
times: what are the decisions for (scenario x place x date)? `sweep` answers it once, through
the ordinary pipeline (`pipeline.evaluate`) and the JSON contract (`report.data`), and the
views only render its cells. `change_dates` says on which days anything can change: the
`in_force` boundaries of the rules, the dates of registry agreements, and dates a rule's
condition tests, so a view that steps through time visits every interval exactly once.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from policyengine.checked import InForce, Rule, Scenario
from policyengine.conditions import Condition, leaves
from policyengine.engine import Engine, Firing, get_engine
from policyengine.pipeline import Evaluation, Rulebase, evaluate
from policyengine.report.data import decision_dict, evaluation_dict
from policyengine.resolve import Decision

DOC = "doc"


@dataclass(frozen=True)
class Place:
    """A jurisdiction a sweep evaluates in: a county's own agencies, the DOC, or a city.

    `agency` None keeps the scenario's own agency (a county row asks the scenario's question of
    that county); the DOC row asks it of the Department of Corrections, a city row of the city
    police.
    """

    key: str  # stable: the county's FIPS code, "doc", or "city-<name>"
    name: str
    kind: str  # "county", "doc" or "city"
    county: str | None  # None: the scenario's own county (the DOC row)
    city: str = "none"
    agency: str | None = None
    fips: str | None = None

    @property
    def label(self) -> str:
        if self.kind == "county":
            return f"{self.name} County"
        if self.kind == "city":
            return f"City of {self.name}"
        return self.name

    @property
    def short(self) -> str:
        """A name for narrow tables: the county's name, `DOC`, or the city's name marked as a city."""
        return {"county": self.name, "doc": "DOC", "city": f"{self.name} (city)"}.get(self.kind, self.name)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def county_places(rulebase: Rulebase) -> list[Place]:
    return [Place(c.fips, c.name, "county", c.name, fips=c.fips) for c in rulebase.registry.counties]


def doc_place() -> Place:
    return Place(DOC, "Minnesota Department of Corrections", "doc", None, agency=DOC)


def city_places(rulebase: Rulebase) -> list[Place]:
    """Cities that have rules of their own, in registry order, asked of their police."""
    with_rules = {r.jurisdiction.city for r in rulebase.rules if r.jurisdiction.level == "city"}
    return [
        Place(f"city-{_slug(c.name)}", c.name, "city", c.county, city=c.name, agency="city_police")
        for c in rulebase.registry.cities
        if c.name in with_rules
    ]


def all_places(rulebase: Rulebase) -> list[Place]:
    """The 87 counties, then the DOC, then the cities with rules."""
    return [*county_places(rulebase), doc_place(), *city_places(rulebase)]


def find_place(rulebase: Rulebase, name: str) -> Place | None:
    """A place by county name, city name, FIPS code, `doc` or its key (case-insensitive)."""
    wanted = name.strip().lower().removesuffix(" county")
    for place in all_places(rulebase):
        names = {place.key.lower(), place.name.lower(), place.label.lower()}
        if place.kind == "doc":
            names |= {"doc", "department of corrections"}
        if wanted in names or name.strip().lower() in names:
            return place
    return None


# ------------------------------------------------------------------ change dates


def condition_dates(cond: Condition | None) -> set[dt.date]:
    """First days on which a condition's test of the `date` fact can change its answer (the
    value a date, as rules are written, or an ISO string, as they are compiled)."""
    out: set[dt.date] = set()
    for test in leaves(cond):
        value = test.value
        if test.fact == "date" and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                continue
        if test.fact != "date" or not isinstance(value, dt.date):
            continue
        day, nxt = value, value + dt.timedelta(days=1)
        out |= {"lt": {day}, "gte": {day}, "lte": {nxt}, "gt": {nxt}}.get(test.op, {day, nxt})
    return out


def in_force_bounds(in_force: InForce) -> set[dt.date]:
    return {in_force.start} | ({in_force.until} if in_force.until else set())


def rule_dates(rule: Rule) -> set[dt.date]:
    """The days on which this rule starts or stops governing, or is declared."""
    out = in_force_bounds(rule.in_force) | condition_dates(rule.when)
    declared = getattr(rule, "declared", None)  # issue 8: the day the authority was issued
    if isinstance(declared, dt.date):
        out.add(declared)
    return out


def rule_reaches(rule: Rule, place: Place | None) -> bool:
    """Whether a rule can take part in a decision at `place` (None: anywhere)."""
    if place is None or place.county is None:
        return True
    j = rule.jurisdiction
    if j.level == "county":
        return j.county == place.county
    if j.level == "city":
        return j.city == place.city
    return True


def change_dates(rulebase: Rulebase, county: str | None = None, place: Place | None = None) -> list[dt.date]:
    """Sorted days on which any verdict or practice can change (in `county`, or anywhere).

    Between two consecutive change dates every decision is the same, so evaluating on each
    change date (and one day before the first) visits every distinct state of the law.
    """
    if place is None and county is not None:
        place = Place(county, county, "county", county)
    days: set[dt.date] = set()
    for rule in rulebase.rules:
        if rule_reaches(rule, place):
            days |= rule_dates(rule)
    for agreement in rulebase.registry.agreements:
        if place is None or place.county is None or agreement.county == place.county:
            days |= in_force_bounds(agreement.in_force)
    return sorted(days)


def interval_dates(rulebase: Rulebase, place: Place | None = None) -> list[dt.date]:
    """One representative day per interval: the day before the first change, then each change."""
    days = change_dates(rulebase, place=place)
    if not days:
        return []
    return [days[0] - dt.timedelta(days=1), *days]


# ------------------------------------------------------------------------- cases


def equality_values(cond: Condition | None, fact: str, out: set[Any]) -> bool:
    """Collect the values `fact` is compared with for equality; False if it is ever ordered."""
    for test in leaves(cond):
        if test.fact == fact:
            if test.op not in ("eq", "neq"):
                return False
            out.add(test.value)
    return True


class Cases:
    """Answers remembered by case: the facts the rules can tell apart, and the date's interval.

    Two evaluations are the same case when their fact records agree except for the date
    within one interval between change dates, or for a county or city that no rule names
    (rules compare places only for equality). Within one case the engine fires the same
    rules and `resolve` gives the same decisions, so each case is evaluated once.
    """

    PLACE_FACTS = ("place.county", "place.city")

    def __init__(self, rulebase: Rulebase) -> None:
        self.rulebase = rulebase
        self.bounds: dict[tuple[Any, Any], list[dt.date]] = {}
        self.named: dict[str, set[Any] | None] = {}
        for fact in self.PLACE_FACTS:
            values: set[Any] = set()
            exact = all(equality_values(r.condition, fact, values) for r in rulebase.program.rules)
            self.named[fact] = values if exact else None
        self.memo: dict[tuple, tuple[Firing, list[Decision]]] = {}
        self.hits = 0

    def key(self, record: dict[str, Any], day: dt.date) -> tuple:
        items = []
        for name, value in sorted(record.items()):
            if name == "date":
                continue
            named = self.named.get(name)
            if name in self.named and named is not None and value not in named:
                value = "*"
            items.append((name, value))
        where = (record["place.county"], record["place.city"])
        bounds = self.bounds.get(where)
        if bounds is None:  # only the rules that can reach this county and city mark its intervals
            place = Place("", "", "case", where[0], city=where[1])
            reaching = (rule_dates(r) for r in self.rulebase.rules if rule_reaches(r, place))
            bounds = self.bounds[where] = sorted(set().union(*reaching))
        # the first day of the interval (agreements need no interval: their facts are in the record)
        i = bisect_right(bounds, day)
        return (bounds[i - 1] if i else None, tuple(items))

    def get(
        self,
        record: dict[str, Any],
        day: dt.date,
        known: dt.date,
        run: Callable[[], tuple[Firing, list[Decision]]],
    ) -> tuple[Firing, list[Decision]]:
        key = (known, self.key(record, day))
        found = self.memo.get(key)
        if found is None:
            found = self.memo[key] = run()
            return found
        self.hits += 1
        firing, decisions = found
        # same rules fired, same decisions; but the facts a trace or memo shows are this record's own
        facts = {**record, **{fact: firing.facts[fact] for fact in firing.derived}}
        return replace(firing, facts=facts), decisions


# ------------------------------------------------------------------------- sweep


class Sweep:
    """Every evaluated cell of (scenario x place x date).

    `result` gives a cell as the JSON contract's dictionary (`report.data.evaluation_dict`),
    `decision` one decision of it; both are built on first use and kept, and cells of one case
    share their decision dictionaries.
    """

    def __init__(
        self,
        rulebase: Rulebase,
        scenarios: tuple[Scenario, ...],
        places: tuple[Place, ...],
        dates: tuple[dt.date, ...],
        evaluations: dict[tuple[str, str, dt.date], Evaluation],
    ) -> None:
        self.rulebase = rulebase
        self.scenarios = scenarios
        self.places = places
        self.dates = dates
        self.evaluations = evaluations
        self._places = {p.key: p for p in places}
        self._results: dict[tuple[str, str, dt.date], dict[str, Any]] = {}
        self._decisions: dict[tuple[int, dt.date, str | None], dict[str, Any]] = {}

    def _key(self, scenario: Scenario | str, place: Place | str, day: dt.date) -> tuple[str, str, dt.date]:
        return (
            scenario if isinstance(scenario, str) else scenario.id,
            place if isinstance(place, str) else place.key,
            day,
        )

    def place(self, key: str) -> Place:
        return self._places[key]

    def result(self, scenario: Scenario | str, place: Place | str, day: dt.date) -> dict[str, Any]:
        key = self._key(scenario, place, day)
        found = self._results.get(key)
        if found is None:
            ev = self.evaluations[key]
            found = evaluation_dict(ev, self.rulebase)
            found["decisions"] = [self._decision_dict(ev, d) for d in ev.decisions]
            found["place"] = key[1]
            fips = self._places[key[1]].fips
            if fips:
                found["jurisdiction"]["fips"] = fips
            self._results[key] = found
        return found

    def _decision_dict(self, ev: Evaluation, d: Decision) -> dict[str, Any]:
        key = (id(d), ev.date, ev.scenario.head.time)  # the 48-hour reference depends on date and time
        found = self._decisions.get(key)
        if found is None:
            found = self._decisions[key] = decision_dict(d, self.rulebase, ev)
        return found

    def decision(self, scenario: Scenario | str, place: Place | str, day: dt.date, action: str) -> dict[str, Any]:
        ev = self.evaluations[self._key(scenario, place, day)]
        for d in ev.decisions:
            if d.action == action:
                return self._decision_dict(ev, d)
        raise KeyError(action)


AS_OF = "as-of"  # known_on: each date judged with the knowledge of that date


def sweep(
    rulebase: Rulebase,
    scenarios: Sequence[Scenario],
    places: Iterable[Place],
    dates: Iterable[dt.date],
    engine: Engine | None = None,
    cases: Cases | None = None,
    known_on: dt.date | str | None = None,
) -> Sweep:
    """Evaluate each scenario at each place on each date, in that order (deterministic).

    Each distinct case is evaluated once (`Cases`); pass `cases` to share them between sweeps
    of one rulebase and engine. `known_on` is the date of knowledge (default: each scenario's
    own, else today), as in `pipeline.evaluate`; `AS_OF` judges each date with the knowledge of
    that date (what was known then), which is what a history of changes asks.
    """
    engine = engine or get_engine()
    cases = cases if cases is not None else Cases(rulebase)
    places, dates = tuple(places), tuple(sorted(set(dates)))
    evaluations: dict[tuple[str, str, dt.date], Evaluation] = {}
    for scenario in scenarios:
        for place in places:
            for day in dates:
                evaluations[(scenario.id, place.key, day)] = evaluate(
                    scenario,
                    rulebase,
                    engine,
                    as_of=day,
                    county=place.county,
                    city=place.city,
                    agency=place.agency,
                    cases=cases,
                    known_on=day if known_on == AS_OF else known_on,  # type: ignore[arg-type]
                )
    return Sweep(rulebase, tuple(scenarios), places, dates, evaluations)
