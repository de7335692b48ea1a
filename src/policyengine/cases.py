"""Cases, not records: the key under which records share one answer.

A record's decisions depend only on the facts the rules test (plus the agency, which `binds`
selects by, and the county, which selects the registry's agreements) and on which interval
between change dates its date falls in: the days on which a rule starts or stops being in
force, a rule's condition compares the date with, or a registry agreement starts or ends.
Records with the same key are the same case, so a batch evaluates each case once.
The 48-hour reference is not part of the key: it depends on the date and time themselves and
is computed (and cached) per date and time.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

from policyengine import sweep
from policyengine.conditions import facts_tested
from policyengine.engine import Firing
from policyengine.pipeline import Rulebase
from policyengine.resolve import Decision
from policyengine.sweep import equality_values

ALWAYS_KEYED = ("agency", "place.county", "place.city")
FIRINGS_KEPT = 1 << 16  # engine runs a `Firings` remembers


def change_dates(rulebase: Rulebase, county: str | None = None, city: str | None = None) -> list[dt.date]:
    """Every day on which some decision can change (rules and registry agreements), anywhere or,
    given a county (and city), only there: county and city rules elsewhere cannot change it
    (`sweep.change_dates` for that place)."""
    if county is None:
        return sweep.change_dates(rulebase)
    return sweep.change_dates(rulebase, place=sweep.Place(county, county, "county", county, city=city or "none"))


class CaseKeys:
    """Computes case keys for one rulebase: `key(facts, day)`."""

    def __init__(self, rulebase: Rulebase) -> None:
        vocab = rulebase.vocabulary.facts
        tested: set[str] = set()
        for rule in rulebase.program.rules:
            tested |= facts_tested(rule.condition)
        keyed = tested | set(ALWAYS_KEYED)
        #: the scenario facts that can change an answer, in vocabulary order (date aside)
        self.facts: tuple[str, ...] = tuple(
            name for name, spec in vocab.items() if name in keyed and name != "date" and spec.source == "scenario"
        )
        #: per place fact, the values some rule or agreement names; any other value is one case ("*")
        self.named: dict[str, frozenset[Any]] = {}
        for place in ("place.county", "place.city"):
            values: set[Any] = set()
            if all(equality_values(r.condition, place, values) for r in rulebase.program.rules):
                if place == "place.county":
                    values |= {a.county for a in rulebase.registry.agreements}
                self.named[place] = frozenset(values)
        self.rulebase = rulebase
        self._bounds: dict[tuple[Any, Any], list[str]] = {}
        #: the most intervals any place has (change dates anywhere, plus one)
        self.most_intervals = len(change_dates(rulebase)) + 1

    def bounds(self, county: Any = None, city: Any = "none") -> list[str]:
        """The change dates (ISO) that reach `county` and `city` (as `value` gives them; None:
        anywhere); "*" is a county (or city) no rule names, which no county (or city) rule reaches."""
        where = (county, city)
        found = self._bounds.get(where)
        if found is None:
            found = self._bounds[where] = [d.isoformat() for d in change_dates(self.rulebase, county, city)]
        return found

    def interval(self, day: dt.date | str, county: Any = None, city: Any = "none") -> int:
        """Which interval between change dates `day` (a date or ISO string) falls in, counting
        only the changes that reach `county` and `city` (as `value` gives them; None: anywhere)."""
        return bisect_right(self.bounds(county, city), day if isinstance(day, str) else day.isoformat())

    def value(self, fact: str, value: Any) -> Any:
        """The value as far as the rules can tell it apart: an unnamed county or city is "*"."""
        named = self.named.get(fact)
        return "*" if named is not None and value not in named else value

    def key(self, facts: dict[str, Any], day: dt.date) -> tuple:
        """The case of a record: its keyed facts (stated or default) and its date's interval."""
        values = {n: self.value(n, facts.get(n, "none" if n == "place.city" else None)) for n in self.facts}
        where = (values.get("place.county"), values.get("place.city", "none"))
        return (tuple(values.values()), self.interval(day, *where))


class Firings:
    """What the engine concluded, remembered by what the engine sees (a `pipeline.CaseMemo`).

    The engine reads a fact record, but its compiled conditions test only some facts; they compare
    the date only with the dates they name (a definition's in-force bounds included) and a place
    fact, where `CaseKeys.named` lists values, only for equality. So two records that agree on
    every other tested fact (registry facts included), whose dates fall in one interval between
    those dates, and that differ at most in a county or city no rule names, fire the same rules
    (what is kept of the first one's firing is only which rules fired: a later record's
    `Evaluation.firing` carries no facts or derivations). Their decisions can still differ (which
    fired rules are in force depends on the day): they are resolved for each record, by
    `Rulebase.resolve`, which remembers resolutions by exactly what they depend on.
    """

    def __init__(self, rulebase: Rulebase, named: dict[str, frozenset[Any]]) -> None:
        self.rulebase = rulebase
        self.named = named
        days: set[dt.date] = set()
        tested: set[str] = set()
        for rule in rulebase.program.rules:
            days |= sweep.condition_dates(rule.condition)
            tested |= facts_tested(rule.condition)
        self.bounds = sorted(d.isoformat() for d in days)
        #: the facts the engine tests (other than the date), in vocabulary order
        self.tested = tuple(name for name in rulebase.vocabulary.facts if name in tested and name != "date")
        self.memo: dict[tuple[Any, ...], Firing] = {}
        self._fired: dict[tuple[str, ...], Firing] = {}

    def get(
        self,
        record: dict[str, Any],
        day: dt.date,
        known: dt.date,
        run: Callable[[], tuple[Firing, list[Decision]]],
    ) -> tuple[Firing, list[Decision]]:
        named = self.named
        seen = tuple("*" if name in named and record[name] not in named[name] else record[name] for name in self.tested)
        key = (bisect_right(self.bounds, record["date"]), seen)
        firing = self.memo.get(key)
        if firing is None:
            firing, decisions = run()
            if len(self.memo) >= FIRINGS_KEPT:  # a bound on memory: forget, and run the engine again when met
                self.memo.clear()
            self.memo[key] = self._bare(firing)
            return firing, decisions
        return firing, self.rulebase.resolve(firing, day, record["agency"], known)

    def _bare(self, firing: Firing) -> Firing:
        """What is remembered of a firing: the rules that fired (all `Rulebase.resolve` reads),
        one object per set of fired rules, without the record's facts and derivations."""
        bare = self._fired.get(firing.fired)
        if bare is None:
            if len(self._fired) >= FIRINGS_KEPT:
                self._fired.clear()
            bare = self._fired[firing.fired] = Firing(firing.engine, firing.fired, {}, {})
        return bare
